"""Retention covers every column that can hold an agent's words: after the purge, the raw bytes of
every file in data_dir (the database, its -wal and -shm, the JSON of undecryptable messages) no
longer contain a word the agent wrote, however it travelled (ticket reason, relay, note, reply,
failed event, transcript, outbox)."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

from nio import AsyncClient

from bot.desk.desk import Desk
from bot.desk.room import MediatorsRoom
from bot.helpdesk import Helpdesk
from bot.matrix.undecryptable import FILE_NAME as PENDING_FILE
from bot.matrix.undecryptable import UndecryptableMessages, write_atomically
from bot.storage.store import Store

from ..test_reliability_core import AGENT, DM, MARIE, engine, said  # noqa: F401  (engine: a fixture)
from ..storage.test_tickets import ListSender

MARKER = "zorglubquux"
DAY = 86400.0


def files_holding(directory: Path, word: str) -> list[str]:
    """Every file under `directory` whose raw bytes contain `word` (UTF-8)."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                  if p.is_file() and word.encode() in p.read_bytes())


def pending_entry(event_id: str, added: float) -> dict:
    return {"room_id": DM, "tell_sender": True, "added": added, "noticed": True,
            "event": {"type": "m.room.encrypted", "event_id": event_id, "sender": AGENT,
                      "origin_server_ts": 1_700_000_000_000,
                      "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": f"{MARKER}AwgAEn",
                                  "sender_key": "key", "session_id": "session", "device_id": "PHONE"}}}


async def test_after_the_purge_no_file_of_data_dir_holds_the_agents_word(tmp_path, engine):  # noqa: F811
    data = tmp_path / "data"
    store = await Store.open(data)
    helpdesk = Helpdesk(engine=engine, store=store, sender=ListSender(), desk=Desk(engine.config, {}))
    room = MediatorsRoom(members=frozenset({MARIE}))
    try:
        await helpdesk.turn(said(1, f"ma demande {MARKER} sur le parking"))  # no answer: a mediator is offered
        await helpdesk.turn(said(2, "oui"))                                      # the ticket quotes the question
        await helpdesk.turn(said(3, f"encore {MARKER}"))                         # relayed to the mediators
        await helpdesk.mediator_turn(said(4, f"!note 1 {MARKER} interne", sender=MARIE), room)
        await helpdesk.mediator_turn(said(5, f"!r 1 {MARKER} réponse", sender=MARIE), room)
        await helpdesk.mediator_turn(said(6, "!clore 1", sender=MARIE), room)
        await helpdesk.record_failure(event_id="$raw", agent=AGENT, room=DM, text=f"{MARKER} brut", error="Bomb",
                                      time=said(7, "").time)
        await helpdesk.drain()
        [ticket] = await store.tickets()
        assert MARKER in ticket.reason
        assert files_holding(data, MARKER)  # the word is there before: the search can fail

        erased = await store.purge(said(0, "").time + timedelta(days=400), 90)
        assert erased["tickets"] == 1 and erased["failed events"] == 1
        assert files_holding(data, MARKER) == []
        [ticket] = await store.tickets()
        assert ticket.reason == "" and ticket.topic is None or MARKER not in (ticket.topic or "")
    finally:
        await store.close()
    assert files_holding(data, MARKER) == []  # closing does not bring anything back either


async def test_an_agent_who_keeps_writing_keeps_only_recent_lines_of_their_transcript(tmp_path, engine):  # noqa: F811
    store = await Store.open(tmp_path)
    helpdesk = Helpdesk(engine=engine, store=store, sender=ListSender(), desk=Desk(engine.config, {}))
    try:
        await helpdesk.turn(said(1, f"{MARKER} ancien"))
        later = said(2, "ma boite mail est pleine")
        later = type(later)(**{**later.__dict__, "time": later.time + timedelta(days=200)})
        await helpdesk.turn(later)
        await helpdesk.drain()
        assert MARKER in json.dumps(await store.load_state(AGENT))
        await store.purge(later.time + timedelta(days=1), 90)
        state = await store.load_state(AGENT)
        assert state is not None and state["transcript"]  # the recent lines stay
        assert MARKER not in json.dumps(state) and files_holding(tmp_path, MARKER) == []
    finally:
        await store.close()


async def test_messages_waiting_for_their_key_are_forgotten_after_retention_days(tmp_path):
    client = AsyncClient("http://127.0.0.1:9", "@bot:localhost")  # never connects
    path = tmp_path / PENDING_FILE
    now = time.time()
    write_atomically(path, json.dumps({"pending": [pending_entry("$old", now - 3 * DAY),
                                                   pending_entry("$new", now - 60)]}))

    async def notify(room_id, event):
        raise AssertionError("both were noticed already")
    try:
        pending = UndecryptableMessages(client, delay=60, notify=notify, path=path, max_age=2 * DAY)
        assert list(pending._pending) == ["$new"]  # retention_days (2) is shorter than a week
        pending._pending["$new"].added = now - 2 * DAY - 1  # the bot kept running two days
        pending.retry()
        assert len(pending) == 0 and MARKER.encode() not in path.read_bytes()
        pending.close()
    finally:
        await client.close()
