"""The agent on Element's SDK (matrix-js-sdk + Rust crypto), cross-signed, sharing keys only with
devices signed by their owner: the bot must read the question and its answer must show no shield."""
from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from bot.matrix import runner, start

from ..conftest import FAST
from ..synapse import RecordingEngine

JS = Path(__file__).parents[1] / "js"
SHIELD_NONE = 0  # EventShieldColour.NONE in matrix-js-sdk


async def ask_from_element(homeserver, bot, question: str) -> dict:
    """Run the js agent against `bot`; its one JSON line, parsed."""
    if shutil.which("node") is None or not (JS / "node_modules" / "matrix-js-sdk").exists():
        pytest.fail("node 20 and `npm install` in tests/js are required (see .ci/run)")
    agent, password = homeserver.new_user("element")
    process = await asyncio.create_subprocess_exec(
        "node", str(JS / "agent.mjs"), homeserver.url, agent, password, bot.user_id, question,
        cwd=JS, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    lines = [line for line in stdout.decode().splitlines() if line.startswith("{")]
    assert lines, stderr.decode()[-3000:]
    result = json.loads(lines[-1])
    assert result["ok"], result
    return result


async def test_element_agent_in_only_signed_mode_reads_the_answer_without_a_shield(homeserver, tmp_path):
    engine = RecordingEngine()
    bot = await start(homeserver.bot_config(tmp_path / "bot"), engine=engine, timing=FAST)
    try:
        result = await ask_from_element(homeserver, bot, "Où trouver ma fiche de paie ?")
    finally:
        await bot.stop()
    assert result["body"] == "Réponse 1 : Où trouver ma fiche de paie ?"
    assert result["encrypted"] and not result["decryption_failure"]
    assert result["msgtype"] == "m.notice"
    assert result["in_reply_to"] == result["question"]
    assert result["bot_device_signed_by_owner"] is True
    assert (result["shield_colour"], result["shield_reason"]) == (SHIELD_NONE, None)
    assert [i.text for i in engine.seen] == ["Où trouver ma fiche de paie ?"]


async def test_without_cross_signing_the_bot_cannot_read_and_is_flagged(homeserver, tmp_path, monkeypatch):
    """The control experiment: the same agent, a bot whose device is not cross-signed."""
    async def not_cross_signed(*args, **kwargs):
        return None

    monkeypatch.setattr(runner, "ensure_cross_signed", not_cross_signed)
    engine = RecordingEngine()
    bot = await start(homeserver.bot_config(tmp_path / "bot"), engine=engine, timing=FAST)
    try:
        result = await ask_from_element(homeserver, bot, "Où trouver ma fiche de paie ?")
    finally:
        await bot.stop()
    assert engine.seen == []  # no room key for an unsigned device: the question stays unreadable
    assert result["bot_device_signed_by_owner"] is False
    assert result["decryption_failure"]  # and the bot's "please resend" notice is refused in turn
    assert "not cross-signed" in result["body"]
