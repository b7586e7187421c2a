"""A message waiting for its key outlives a restart of the bot: the sync token has moved past it,
so only the bot's own record (undecryptable.json beside the crypto store) can bring it back."""
from __future__ import annotations

import json
import time

from nio import AsyncClient

from bot import texts
from bot.matrix import start
from bot.matrix.session import store_dir
from bot.matrix.undecryptable import FILE_NAME, MAX_AGE, UndecryptableMessages, write_atomically

from ..conftest import FAST
from ..synapse import Agent, RecordingEngine
from .test_resilience import _send_without_key


async def test_a_message_waiting_for_its_key_is_answered_after_a_restart(homeserver, tmp_path):
    engine = RecordingEngine()
    config = homeserver.bot_config(tmp_path / "bot")
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(config, engine=engine, timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        _, give_key = await _send_without_key(agent, room, "message secret")
        assert (await agent.next_notice(timeout=10)).body == texts.say("matrix.undecryptable")
        await bot.stop()

        saved = json.loads((store_dir(config.data_dir) / FILE_NAME).read_text())["pending"]
        assert [(p["room_id"], p["noticed"]) for p in saved] == [(room, True)]
        await give_key()  # the key arrives while the bot is down

        bot = await start(config, engine=engine, timing=FAST)
        assert (await agent.next_notice()).body == "Réponse 1 : message secret"
        await agent.no_notice(FAST.undecryptable_notice_after + 0.5)  # the notice is not said again
        assert json.loads((store_dir(config.data_dir) / FILE_NAME).read_text())["pending"] == []
    finally:
        await bot.stop()
        await agent.close()


def _megolm_source(event_id: str) -> dict:
    return {"type": "m.room.encrypted", "event_id": event_id, "sender": "@agent:localhost",
            "origin_server_ts": 1_700_000_000_000,
            "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEn...", "sender_key": "key",
                        "session_id": "session", "device_id": "PHONE"}}


async def test_the_file_keeps_recent_events_and_forgets_old_or_unreadable_ones(tmp_path, caplog):
    client = AsyncClient("http://127.0.0.1:9", "@bot:localhost")  # never connects: nothing is sent here
    path = tmp_path / FILE_NAME

    async def notify(room_id, event):
        raise AssertionError("no notice: both were noticed already")

    try:
        now = time.time()
        entries = [{"room_id": "!r:localhost", "event": _megolm_source(event_id), "tell_sender": True,
                    "added": added, "noticed": True}
                   for event_id, added in (("$recent", now - 60), ("$old", now - MAX_AGE - 60))]
        write_atomically(path, json.dumps({"pending": entries}))
        pending = UndecryptableMessages(client, delay=0.01, notify=notify, path=path)
        assert len(pending) == 1 and pending._pending["$recent"].event.room_id == "!r:localhost"
        pending.close()

        path.write_text("{not json")
        assert len(UndecryptableMessages(client, delay=0.01, notify=notify, path=path)) == 0
        assert "is unreadable" in caplog.text
    finally:
        await client.close()
