"""/metrics and /healthz of a running bot, on a Synapse of its own that the test stops and restarts:
the figures an admin's Prometheus reads after a real exchange, and /healthz turning 503 when the
homeserver goes and 200 when it is back. The Docker image's HEALTHCHECK command is run against it."""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bot.matrix import start
from bot.matrix.localserver import free_port, start_synapse

from ..conftest import FAST, Homeserver
from ..synapse import Agent, RecordingEngine

ROOT = Path(__file__).parents[2]


def healthcheck_command(port: int) -> list[str]:
    """The Dockerfile's HEALTHCHECK, exactly as written, aimed at `port`."""
    text = (ROOT / "Dockerfile").read_text()
    command = json.loads(re.search(r"HEALTHCHECK(?:[^\n]*\\\n)*?\s*CMD (\[[^\n]*\])", text)[1])
    assert command[0] == "python"
    return [sys.executable, *command[1:]] if command[-1].count("9464") == 1 else []


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    assert match, f"{name} missing from /metrics"
    return float(match[1])


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
        return response.status, await response.text()


async def wait_status(session, url: str, status: int, within: float) -> tuple[float, str]:
    start_at = time.monotonic()
    while True:
        got, text = await get(session, url)
        if got == status:
            return time.monotonic() - start_at, text
        assert time.monotonic() - start_at < within, f"/healthz still {got} {text!r} after {within} s"
        await asyncio.sleep(0.25)


async def test_metrics_and_health_follow_a_real_run_and_the_homeserver_going_away(tmp_path):
    server = await asyncio.to_thread(start_synapse, tmp_path / "synapse")
    homeserver = Homeserver(server)
    port = free_port()
    agent = await Agent.create(homeserver, tmp_path / "agent")
    config = homeserver.bot_config(tmp_path / "bot", metrics={"port": port})
    bot = await start(config, engine=RecordingEngine(), timing=FAST)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            room = await agent.open_dm(bot.user_id)
            await agent.say(room, "un")
            assert (await agent.next_notice()).body == "Réponse 1 : un"

            status, text = await get(session, f"{base}/healthz")
            assert status == 200 and text.startswith("ok: last sync")
            status, text = await get(session, f"{base}/metrics")
            assert status == 200
            assert metric(text, 'helpdesk_messages_received_total{room="agent"}') >= 1
            assert metric(text, "helpdesk_messages_answered_total") >= 1
            assert metric(text, 'helpdesk_decisions_total{kind="Reply"}') >= 1
            assert metric(text, "helpdesk_turn_seconds_count") >= 1
            assert metric(text, "helpdesk_homeserver_reachable") == 1
            assert metric(text, "helpdesk_outbox_depth") == 0
            assert metric(text, 'helpdesk_tickets_open{status="open"}') == 0
            for name in ("helpdesk_encoder_seconds_count", "helpdesk_send_retries_total",
                         "helpdesk_events_failed_total", "helpdesk_undecryptable_waiting",
                         "helpdesk_oldest_untaken_ticket_age_seconds", "process_resident_memory_bytes"):
                metric(text, name)
            check = healthcheck_command(port)
            assert check, "the Dockerfile's HEALTHCHECK does not ask 127.0.0.1:9464/healthz"
            check = [part.replace("9464", str(port)) for part in check]
            assert (await asyncio.to_thread(subprocess.run, check, capture_output=True)).returncode == 0

            await asyncio.to_thread(server.stop)
            took, reason = await wait_status(session, f"{base}/healthz", 503, within=30)
            print(f"/healthz 503 after {took:.1f} s: {reason.strip()}")
            assert reason.strip() == "homeserver unreachable"
            assert (await asyncio.to_thread(subprocess.run, check, capture_output=True)).returncode != 0
            _, text = await get(session, f"{base}/metrics")
            assert metric(text, "helpdesk_homeserver_reachable") == 0

            await asyncio.to_thread(server.restart)
            took, text = await wait_status(session, f"{base}/healthz", 200, within=30)
            print(f"/healthz 200 again {took:.1f} s after the restart: {text.strip()}")
            await agent.say(room, "deux")
            assert (await agent.next_notice(timeout=30)).body == "Réponse 2 : deux"
    finally:
        await bot.stop()
        await agent.close()
        server.stop()


async def test_metrics_are_off_by_default_and_a_taken_port_is_a_clear_error(homeserver, tmp_path):
    import socket
    config = homeserver.bot_config(tmp_path / "bot")
    assert config.metrics.port is None and config.metrics.host == "127.0.0.1"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = homeserver.bot_config(tmp_path / "busy", metrics={"port": port})
        from bot.errors import ConfigError
        try:
            await start(busy, engine=RecordingEngine(), timing=FAST)
        except ConfigError as exc:
            assert f"127.0.0.1:{port}" in str(exc) and "metrics" in str(exc)
        else:
            raise AssertionError("the bot started on a port already taken")
