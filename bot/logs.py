"""The bot's log: text for a terminal or JSON lines for a collector, and never a secret in either.

`setup_logging(config)` is called once by `helpdesk-bot run` and the demo:
- `log_format: text` (default): `time LEVEL logger: message`;
- `log_format: json`: one object per line, `{"time", "level", "logger", "event", "message", ...}`
  plus the record's extra fields (`log.info(..., extra={"room": r})`) and `exc` for a traceback.
  `event` is stable: the `event` extra when the call gives one, else the message's template with
  its %-placeholders taken out (`homeserver_unreachable_waiting_and_retrying`), the same for every
  occurrence whatever the values, so a collector can count and alert on it;
- `log_level` (default INFO) is the root's; at INFO, nio and aiohttp say only warnings (they
  are chatty), at DEBUG they say everything.
Secrets: every line is redacted as a whole once formatted (message, extras and traceback): the
values registered with `add_secret` (every config value whose key names a secret: password,
access token, API keys; the token a login returns) and anything shaped like one (`syt_...` Matrix tokens, `"password": "..."`,
`access_token=...`, `Authorization: Bearer ...`), whichever library logged it.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from .config import Config

REDACTED = "[secret]"
_SECRETS: set[str] = set()
_PATTERNS = (
    re.compile(r"\bsy[tn]_[A-Za-z0-9_\-]+"),  # Synapse access and refresh tokens
    re.compile(r"""(?i)(["']?(?:password|access_token|refresh_token|api_key|token|secret)["']?\s*[:=]\s*["']?)"""
               r"""[^"'\s&,}]+"""),
    re.compile(r"(?i)(authorization\s*[:=]\s*['\"]?bearer\s+)[^\s'\"]+"),
)
_NOISY = ("nio", "aiohttp", "peewee", "asyncio")
# Attributes every LogRecord has: whatever else a record carries came as `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def add_secret(value: str | None) -> None:
    """Never write `value` in the log (short values would blank ordinary words: ignored)."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _PATTERNS[0].sub(REDACTED, text)
    for pattern in _PATTERNS[1:]:
        text = pattern.sub(lambda m: m[1] + REDACTED, text)
    return text


def event_name(record: logging.LogRecord) -> str:
    """The record's stable name: its `event` extra, else its template's words."""
    given = getattr(record, "event", None)
    if isinstance(given, str) and given:
        return given
    template = re.sub(r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]", " ", redact(str(record.msg)))
    words = re.findall(r"[a-z]+", template.lower())  # no digits: a library's formatted id must not make a new event
    return "_".join(words[:8]) or "log"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": event_name(record),
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and k != "event"})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # strings redacted before encoding (JSON escapes would hide a quoted secret from the
        # patterns), the line once more after, for secrets inside extras that are not strings
        entry = {k: redact(v) if isinstance(v, str) else v for k, v in entry.items()}
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


SECRET_NAME = re.compile(r"password|token|secret|api_key|(?:^|_)key$")


def _config_secrets(config: Any) -> list[str]:
    """Every text value of the config (and of its sub-objects) whose key names a secret: a key an
    other part adds later (an encoder's `api_key`) is covered without a change here."""
    found = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            found += _config_secrets(value)
        elif isinstance(value, str) and SECRET_NAME.search(field.name):
            found.append(value)
    return found


def setup_logging(config: Config, stream: TextIO | None = None) -> None:
    """The root logger writes to stderr in the configured format, secrets redacted."""
    for value in _config_secrets(config):
        add_secret(value)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if config.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(config.log_level)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if config.log_level == "DEBUG" else logging.WARNING)
