"""The store on a real SQLite file: turns, outbox, crash points, migrations, and the helpdesk turn."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from bot.helpdesk import Helpdesk
from bot.messages import FlowEvent, Incoming, OpenTicket, RecordFeedback, Reply, TranscriptLine
from bot.storage.store import FILE_NAME, MIGRATIONS, OutboxItem, Store, decode_action, encode_action

T = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
AGENT = "@marie.dupont-mairie.fr:agent.collectivites.tchap.gouv.fr"
ROOM = "!dm:localhost"


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(tmp_path)
    yield s
    await s.close()


def incoming(event_id: str, text: str = "bonjour") -> Incoming:
    return Incoming(sender=AGENT, room=ROOM, text=text, event_id=event_id, time=T)


class EchoEngine:
    """A tiny stand-in for bot.conversation: counts turns and echoes the text."""

    def handle(self, state, message):
        count = (state or {}).get("count", 0) + 1
        return {"count": count}, [Reply(room=message.room, text=f"{count}: {message.text}", reply_to=message.event_id)]


class ListSender:
    def __init__(self, fail_after: int | None = None):
        self.sent: list[OutboxItem] = []
        self.fail_after = fail_after

    async def send(self, item):
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionError("network down")
        self.sent.append(item)
        return f"$sent{len(self.sent)}"


ACTIONS = [
    Reply(room=ROOM, text="Voici **la réponse**", reply_to="$e1"),
    OpenTicket(agent=AGENT, room=ROOM, reason="pas de réponse", topic="congés", fields={"service": "RH"},
               transcript=(TranscriptLine(time=T, author="agent", text="j'ai un souci"),), agent_name="Marie"),
    RecordFeedback(agent=AGENT, topic="congés", helpful=False, time=T),
    FlowEvent(agent=AGENT, flow="absence", event="started"),
]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: type(a).__name__)
def test_every_action_survives_the_json_round_trip(action):
    assert decode_action(*encode_action(action)) == action


async def test_open_creates_the_schema_with_wal_and_foreign_keys(store, tmp_path):
    assert (tmp_path / FILE_NAME).exists()
    assert await store.schema_version() == len(MIGRATIONS)
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_turn_stores_state_handled_id_and_outbox_together(store):
    assert await store.load_state(AGENT) is None
    assert await store.commit_turn(event_id="$e1", agent=AGENT, new_state={"step": "a"}, actions=ACTIONS)
    assert await store.load_state(AGENT) == {"step": "a"}
    assert await store.is_handled("$e1")
    pending = await store.pending_outbox()
    assert [item.action for item in pending] == ACTIONS
    assert len({item.txn_id for item in pending}) == len(ACTIONS)
    assert [(f.topic, f.helpful) for f in await store.feedback()] == [("congés", False)]


async def test_the_same_event_is_never_committed_twice(store):
    assert await store.commit_turn(event_id="$e1", agent=AGENT, new_state={"n": 1}, actions=ACTIONS[:1])
    assert not await store.commit_turn(event_id="$e1", agent=AGENT, new_state={"n": 2}, actions=ACTIONS[:1])
    assert await store.load_state(AGENT) == {"n": 1}
    assert len(await store.pending_outbox()) == 1


async def test_a_failing_turn_leaves_nothing_behind(store):
    class Boom:  # an action the codec cannot serialise, raised inside the transaction
        pass
    with pytest.raises(TypeError):
        await store.commit_turn(event_id="$e1", agent=AGENT, new_state={"n": 1}, actions=[ACTIONS[0], Boom()])
    assert not await store.is_handled("$e1")
    assert await store.load_state(AGENT) is None
    assert await store.pending_outbox() == []


async def test_crash_after_commit_keeps_the_outbox_with_the_same_txn_ids(tmp_path):
    store = await Store.open(tmp_path)
    await store.commit_turn(event_id="$e1", agent=AGENT, new_state={"n": 1}, actions=ACTIONS[:2])
    before = await store.pending_outbox()
    await store.mark_sent(before[0], "$reply1")
    await store.close()  # the process dies here, before the second send

    store = await Store.open(tmp_path)
    after = await store.pending_outbox()
    assert [(i.txn_id, i.action) for i in after] == [(before[1].txn_id, before[1].action)]
    assert not await store.commit_turn(event_id="$e1", agent=AGENT, new_state={"n": 9}, actions=ACTIONS[:1])
    assert await store.sent_event_ids() == ["$reply1"]
    await store.close()


async def test_sync_token_first_start_and_rooms_persist(tmp_path):
    store = await Store.open(tmp_path)
    assert await store.sync_token() is None
    await store.save_sync_token("s1_2")
    assert await store.first_start(T) == T
    await store.remember_room(ROOM, direct=True, inviter=AGENT)
    await store.close()

    store = await Store.open(tmp_path)
    assert await store.sync_token() == "s1_2"
    assert await store.first_start(datetime(2030, 1, 1, tzinfo=timezone.utc)) == T
    assert await store.is_direct(ROOM) is True
    assert await store.is_direct("!other:localhost") is None
    await store.close()


async def test_migrations_resume_from_an_older_schema(tmp_path):
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        db.executescript(MIGRATIONS[0])
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO meta VALUES ('sync_token', 'old')")
    store = await Store.open(tmp_path)
    assert await store.schema_version() == len(MIGRATIONS)
    assert await store.sync_token() == "old"
    await store.close()


async def test_helpdesk_turn_then_drain_sends_in_order(store):
    sender = ListSender()
    desk = Helpdesk(engine=EchoEngine(), store=store, sender=sender)
    await desk.handle(incoming("$a", "un"))
    await desk.handle(incoming("$b", "deux"))
    await desk.handle(incoming("$a", "un"))  # replayed by the homeserver
    assert [item.action.text for item in sender.sent] == ["1: un", "2: deux"]
    assert await store.pending_outbox() == []


async def test_helpdesk_keeps_unsent_items_when_the_sender_fails(tmp_path):
    store = await Store.open(tmp_path)
    desk = Helpdesk(engine=EchoEngine(), store=store, sender=ListSender(fail_after=0))
    await desk.handle(incoming("$a", "un"))
    assert len(await store.pending_outbox()) == 1
    await store.close()

    store = await Store.open(tmp_path)  # restart: the answer still goes out, once
    sender = ListSender()
    desk = Helpdesk(engine=EchoEngine(), store=store, sender=sender)
    await desk.drain()
    await desk.handle(incoming("$a", "un"))
    assert [item.action.text for item in sender.sent] == ["1: un"]
    await store.close()
