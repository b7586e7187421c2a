"""The log an admin collects: JSON lines with a stable `event`, and no secret in it at any level.
The last test runs the real `helpdesk-bot run` at DEBUG (nio's and aiohttp's loggers included)
through a whole exchange and greps everything it wrote for the password and the access token."""
from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
from pathlib import Path

import yaml

from bot.config import config_from_dict
from bot.logs import JsonFormatter, TextFormatter, add_secret, event_name, redact, setup_logging

from .synapse import Agent

ROOT = Path(__file__).parent.parent
CLI = ROOT / ".venv" / "bin" / "helpdesk-bot"


def record(msg: str, *args, level=logging.INFO, **extra) -> logging.LogRecord:
    made = logging.LogRecord("bot.matrix.bot", level, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_json_line_has_time_level_logger_a_stable_event_the_message_and_the_extras():
    first = json.loads(JsonFormatter().format(record("homeserver %s unreachable (%s): waiting", "http://a", "boom")))
    second = json.loads(JsonFormatter().format(record("homeserver %s unreachable (%s): waiting", "http://b", "x",
                                                      room="!r:srv")))
    assert first["event"] == second["event"] == "homeserver_unreachable_waiting"
    assert first["message"] == "homeserver http://a unreachable (boom): waiting"
    assert (first["level"], first["logger"]) == ("INFO", "bot.matrix.bot") and first["time"].endswith("+00:00")
    assert second["room"] == "!r:srv"
    assert json.loads(JsonFormatter().format(record("joined %s", "r", event="room_joined")))["event"] == "room_joined"


def test_secrets_are_redacted_in_both_formats_whatever_logged_them():
    add_secret("s3cret-password-value")
    lines = [
        record("login with %s", "s3cret-password-value"),
        record("GET /sync?access_token=abcdef123456&since=x"),
        record("sending %s", {"password": "other-pass-123", "user": "@bot:srv"}),
        record("Authorization: Bearer xyz-token-987"),
        record("token %s", "syt_Ym90_abcDEF_123"),
    ]
    for formatter in (TextFormatter(), JsonFormatter()):
        out = "\n".join(formatter.format(line) for line in lines)
        for secret in ("s3cret-password-value", "abcdef123456", "other-pass-123", "xyz-token-987", "syt_Ym90"):
            assert secret not in out
        assert "@bot:srv" in out and "since=x" in out  # only the secrets go
    assert redact("rien à cacher") == "rien à cacher"


def test_event_names_ignore_the_values():
    assert event_name(record("backfilled %d events missed in %s", 3, "!r")) == "backfilled_events_missed_in"


def test_setup_logging_writes_json_to_the_stream_with_the_configured_level():
    stream = io.StringIO()
    config = config_from_dict({"log_format": "json", "log_level": "WARNING", "password": "pw-never-shown"},
                              base=Path("."))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging(config, stream)
        logging.getLogger("ops.test").info("not shown")  # not under "bot": the suite's caplog sets that one
        logging.getLogger("ops.test").warning("shown with %s", "pw-never-shown")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["shown with [secret]"]


async def test_a_whole_run_at_debug_level_never_logs_the_password_nor_the_access_token(homeserver, tmp_path):
    user_id, password = homeserver.new_user("bot")
    example = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))
    config = {**example, "homeserver": homeserver.url, "user_id": user_id, "password": password,
              "data_dir": str(tmp_path / "data"), "faq_dir": str(ROOT / "faq"), "flows_dir": str(ROOT / "flows"),
              "canned_replies": str(ROOT / "reponses.yaml"), "log_format": "json", "log_level": "DEBUG"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    log_file = (tmp_path / "bot.log").open("w+")
    process = subprocess.Popen([str(CLI), "run", "-c", str(path)], stdout=log_file, stderr=subprocess.STDOUT,
                               cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    agent = await Agent.create(homeserver, tmp_path / "agent")
    try:
        room = await agent.open_dm(user_id, timeout=60)
        await agent.say(room, "j'ai perdu mon badge")
        assert "badge" in (await agent.next_notice(timeout=30)).body.lower()
    finally:
        await agent.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    log_file.seek(0)
    text = log_file.read()
    token = json.loads((tmp_path / "data" / "session.json").read_text())["access_token"]
    assert password not in text and token not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert all({"time", "level", "logger", "event", "message"} <= set(line) for line in lines)
    loggers = {line["logger"].split(".")[0] for line in lines if line["level"] == "DEBUG"}
    assert {"nio", "bot"} <= loggers or {"nio", "aiohttp"} & loggers, loggers  # debug really was on
    assert any(line["event"] == "stopping" for line in lines)


def test_every_config_value_named_like_a_secret_is_registered():
    from dataclasses import dataclass

    from bot.logs import _config_secrets

    @dataclass(frozen=True)
    class Encoder:
        url: str
        api_key: str

    @dataclass(frozen=True)
    class Settings:
        password: str
        access_token: str
        device_name: str
        encoder: Encoder

    settings = Settings("pw-1", "syt_tok", "helpdesk-bot", Encoder("http://127.0.0.1:1", "k-123"))
    assert _config_secrets(settings) == ["pw-1", "syt_tok", "k-123"]
