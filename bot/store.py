"""The bot's memory: one SQLite file in `data_dir`, opened with WAL, foreign keys and a busy timeout.

What it keeps, and why it must survive a crash:
- each agent's conversation state (JSON), so a restart resumes a flow where it was;
- the ids of handled events, so an event replayed by the homeserver is never answered twice;
- an outbox of actions, written in the SAME transaction as the state and the handled id
  (`commit_turn`). After a crash the outbox is drained again with each item's stable
  transaction id, which the homeserver deduplicates: nothing lost, nothing twice;
- the sync token and a few facts (`meta`), e.g. the bot's very first start, and per room the
  newest event of the last fully handled batch (`room_marks`: where a catch-up stops);
- feedback records (👍 / 👎 or oui / non), for statistics.

Actions are stored generically (type name + fields, datetimes in ISO), so a new action type of
bot/messages.py needs no change here.
The schema grows by numbered migrations run at open; `PRAGMA user_version` holds the number.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable, Sequence

import aiosqlite

from . import messages, retention, ticket_store
from .ledger import Decision, Ledger
from .messages import Action, RecordFeedback
from .tickets import Ticket, TicketNumber

FILE_NAME = "helpdesk.sqlite3"

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE agents (
        agent TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE handled (
        event_id TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        handled_at TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        txn_id TEXT NOT NULL UNIQUE,
        event_id TEXT REFERENCES handled(event_id) ON DELETE SET NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        sent_event_id TEXT
    );
    CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL;
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT REFERENCES handled(event_id) ON DELETE SET NULL,
        agent TEXT NOT NULL,
        topic TEXT NOT NULL,
        helpful INTEGER NOT NULL,
        time TEXT NOT NULL
    );
    """,
    # 2: direct rooms, remembered from the invite's is_direct (the access rule is unreadable before joining)
    """
    CREATE TABLE rooms (
        room_id TEXT PRIMARY KEY,
        direct INTEGER NOT NULL,
        inviter TEXT
    );
    """,
    # 3: tickets, their messages, the events that point to them, their audit trail (bot/ticket_store.py)
    ticket_store.MIGRATION,
    # 4: per room, the newest timeline event of the last fully handled sync batch: catch-up pages back to
    # it. Saved with the sync token; never purged (the handled ids are), so an old room is not answered again
    """
    CREATE TABLE room_marks (
        room_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
)


@dataclass(frozen=True, kw_only=True)
class OutboxItem:
    """One action waiting to be carried out; `txn_id` never changes, so a retried send is deduplicated."""

    id: int
    txn_id: str
    event_id: str | None
    action: Action


@dataclass(frozen=True, kw_only=True)
class Feedback:
    """One stored 👍 / 👎: which answer (topic) helped or not."""

    agent: str
    topic: str
    helpful: bool
    time: datetime


def encode_action(action: Action) -> tuple[str, str]:
    """(type name, JSON of its fields): generic, so the store never lists the action types."""
    return type(action).__name__, json.dumps(_encode(action), ensure_ascii=False)


def decode_action(kind: str, payload: str) -> Action:
    cls = getattr(messages, kind, None)
    if cls is None or not dataclasses.is_dataclass(cls):
        raise ValueError(f"outbox: unknown action type {kind!r} (was bot/messages.py changed?)")
    return _decode(json.loads(payload))


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__type__" in value:
        cls = getattr(messages, value["__type__"])
        return cls(**{k: _decode(v) for k, v in value.items() if k != "__type__"})
    return {k: _decode(v) for k, v in value.items()}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Store:
    """The async interface over the SQLite file; build it with `await Store.open(data_dir)`."""

    def __init__(self, db: aiosqlite.Connection, path: Path):
        self._db = db
        self.path = path
        self._writing = asyncio.Lock()  # one connection: a second BEGIN must wait for the first COMMIT

    @classmethod
    async def open(cls, data_dir: Path | str) -> Store:
        """Open (creating if needed) the store file and bring its schema up to date."""
        directory = Path(data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE_NAME
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        for pragma in ("journal_mode = WAL", "foreign_keys = ON", "busy_timeout = 5000", "synchronous = NORMAL"):
            await db.execute(f"PRAGMA {pragma}")
        store = cls(db, path)
        await store._migrate()
        return store

    async def close(self) -> None:
        await self._db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error: every write goes through here.

        Transactions of one Store are serialised (the sync loop and the ticket ticker share its
        connection); other connections wait on SQLite's lock (busy_timeout)."""
        async with self._writing:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            (version,) = await cursor.fetchone()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self.transaction() as db:
                for statement in filter(str.strip, script.split(";")):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            return (await cursor.fetchone())[0]

    # --- conversation state and turns

    async def load_state(self, agent: str) -> dict | None:
        """The agent's conversation state, or None for an agent never seen."""
        async with self._db.execute("SELECT state FROM agents WHERE agent = ?", (agent,)) as cursor:
            row = await cursor.fetchone()
        return json.loads(row["state"]) if row else None

    async def is_handled(self, event_id: str) -> bool:
        async with self._db.execute("SELECT 1 FROM handled WHERE event_id = ?", (event_id,)) as cursor:
            return await cursor.fetchone() is not None

    async def commit_turn(self, *, event_id: str, agent: str, new_state: dict | None,
                          actions: Sequence[Action]) -> bool:
        """Store one handled event, the agent's new state and what to do, all or nothing.

        Returns False (and changes nothing) when the event was already handled: the caller
        then drops the turn it computed, so a replayed event is never answered twice.
        """
        async with self.transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO handled (event_id, agent, handled_at) VALUES (?, ?, ?)",
                (event_id, agent, _now()))
            if cursor.rowcount == 0:
                return False
            if new_state is not None:
                await db.execute(
                    "INSERT INTO agents (agent, state, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(agent) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                    (agent, json.dumps(new_state, ensure_ascii=False), _now()))
            await self._enqueue(db, actions, event_id)
        return True

    async def mark_handled(self, event_id: str, agent: str) -> bool:
        """Remember an event the bot chose not to answer, so a replay skips it too."""
        return await self.commit_turn(event_id=event_id, agent=agent, new_state=None, actions=())

    async def enqueue(self, actions: Iterable[Action]) -> None:
        """Put actions that answer no event (e.g. the "unreadable message" notice) in the outbox."""
        async with self.transaction() as db:
            await self._enqueue(db, list(actions), None)

    async def _enqueue(self, db: aiosqlite.Connection, actions: Iterable[Action], event_id: str | None,
                       time: datetime | None = None) -> None:
        for action in actions:
            kind, payload = encode_action(action)
            txn_id = f"hd{uuid.uuid4().hex}"
            await db.execute(
                "INSERT INTO outbox (txn_id, event_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                (txn_id, event_id, kind, payload, time.isoformat() if time else _now()))
            await ticket_store.record_action(db, action, txn_id, time or datetime.now(timezone.utc))
            if isinstance(action, RecordFeedback):
                await db.execute(
                    "INSERT INTO feedback (event_id, agent, topic, helpful, time) VALUES (?, ?, ?, ?, ?)",
                    (event_id, action.agent, action.topic, int(action.helpful), action.time.isoformat()))

    # --- outbox

    async def pending_outbox(self) -> list[OutboxItem]:
        """Actions not yet carried out, oldest first (the order the core decided them)."""
        async with self._db.execute(
                "SELECT id, txn_id, event_id, kind, payload FROM outbox WHERE sent_at IS NULL ORDER BY id") as cursor:
            rows = await cursor.fetchall()
        return [OutboxItem(id=r["id"], txn_id=r["txn_id"], event_id=r["event_id"],
                           action=decode_action(r["kind"], r["payload"])) for r in rows]

    async def mark_sent(self, item: OutboxItem, sent_event_id: str | None) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE outbox SET sent_at = ?, sent_event_id = ? WHERE id = ?",
                             (_now(), sent_event_id, item.id))
            await ticket_store.record_sent(db, item.action, item.txn_id, sent_event_id)

    async def sent_event_ids(self) -> list[str]:
        """Event ids of what the bot sent, newest last (tests and the demo read the transcript)."""
        async with self._db.execute(
                "SELECT sent_event_id FROM outbox WHERE sent_event_id IS NOT NULL ORDER BY id") as cursor:
            return [r[0] for r in await cursor.fetchall()]

    # --- tickets (the desk's turns; tables in bot/ticket_store.py)

    async def desk_turn(self, *, decide: Callable[[Ledger], Decision], event_id: str | None = None,
                        agent: str = "", reply_to: str | None = None,
                        history_of: Callable[[TicketNumber | None], TicketNumber | None] | None = None,
                        with_state: bool = False, with_activity: bool = False) -> Decision | None:
        """Read the ledger, decide, and write the decision, in ONE write transaction.

        `decide` is pure and runs while the transaction holds the write lock, so what it read is
        still true when its decision is written (two `!prendre` on one ticket: one owner).
        With `event_id`, the event is marked handled in the same transaction; None (nothing
        changed) when it already was. `with_state` loads the agent's conversation state into
        the ledger, and the decision's `state` replaces it.
        """
        async with self.transaction() as db:
            if event_id is not None:
                cursor = await db.execute(
                    "INSERT OR IGNORE INTO handled (event_id, agent, handled_at) VALUES (?, ?, ?)",
                    (event_id, agent, _now()))
                if cursor.rowcount == 0:
                    return None
            state = await self.load_state(agent) if with_state else None
            ledger = await ticket_store.load_ledger(db, reply_to=reply_to, history_of=history_of, state=state,
                                                    with_activity=with_activity)
            decision = decide(ledger)
            if decision.state is not None:
                await db.execute(
                    "INSERT INTO agents (agent, state, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(agent) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                    (agent, json.dumps(decision.state, ensure_ascii=False),
                     decision.time.isoformat() if decision.time else _now()))  # the message's time: !stats counts it
            await ticket_store.write_decision(db, decision)
            await self._enqueue(db, decision.actions, event_id, decision.time)
        return decision

    async def purge(self, now: datetime, retention_days: int) -> dict[str, int]:
        """Erase agents' words older than the retention period (bot/retention.py), in one transaction."""
        async with self.transaction() as db:
            return await retention.purge(db, now, retention_days)

    async def tickets(self) -> list[Ticket]:
        """Every ticket, by number (light rows: no transcript)."""
        ledger = await ticket_store.load_ledger(self._db)
        return [ledger.tickets[n] for n in sorted(ledger.tickets)]

    async def ticket_history(self, number: TicketNumber) -> list:
        return list(await ticket_store.load_history(self._db, number))

    async def card_event(self, number: TicketNumber) -> str | None:
        return await ticket_store.card_event(self._db, number)

    async def ticket_of_event(self, event_id: str) -> TicketNumber | None:
        return await ticket_store.ticket_of_event(self._db, event_id)

    # --- feedback

    async def feedback(self) -> list[Feedback]:
        async with self._db.execute("SELECT agent, topic, helpful, time FROM feedback ORDER BY id") as cursor:
            rows = await cursor.fetchall()
        return [Feedback(agent=r["agent"], topic=r["topic"], helpful=bool(r["helpful"]),
                         time=datetime.fromisoformat(r["time"])) for r in rows]

    # --- sync token, rooms and other facts

    async def get_meta(self, key: str) -> str | None:
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return row["value"] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as db:
            await db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    async def sync_token(self) -> str | None:
        return await self.get_meta("sync_token")

    async def save_sync_token(self, token: str, marks: dict[str, str] | None = None) -> None:
        """Called only once every event of the batch that led to `token` is stored; `marks` (room id ->
        newest event of that batch in the room) in the same transaction, so both always agree."""
        async with self.transaction() as db:
            await db.execute("INSERT INTO meta (key, value) VALUES ('sync_token', ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (token,))
            for room_id, event_id in (marks or {}).items():
                await db.execute("INSERT INTO room_marks (room_id, event_id, updated_at) VALUES (?, ?, ?) "
                                 "ON CONFLICT(room_id) DO UPDATE SET event_id = excluded.event_id, "
                                 "updated_at = excluded.updated_at", (room_id, event_id, _now()))

    async def room_mark(self, room_id: str) -> str | None:
        """The newest event of `room_id` the bot is done with (None: none recorded yet)."""
        async with self._db.execute("SELECT event_id FROM room_marks WHERE room_id = ?", (room_id,)) as cursor:
            row = await cursor.fetchone()
        return row["event_id"] if row else None

    async def first_start(self, now: datetime) -> datetime:
        """The bot's very first start, set once: older events are history, never answered."""
        value = await self.get_meta("first_start")
        if value is None:
            await self.set_meta("first_start", now.isoformat())
            return now
        return datetime.fromisoformat(value)

    async def remember_room(self, room_id: str, *, direct: bool, inviter: str | None) -> None:
        async with self.transaction() as db:
            await db.execute("INSERT INTO rooms (room_id, direct, inviter) VALUES (?, ?, ?) "
                             "ON CONFLICT(room_id) DO UPDATE SET direct = excluded.direct, inviter = excluded.inviter",
                             (room_id, int(direct), inviter))

    async def is_direct(self, room_id: str) -> bool | None:
        """True / False as the invite said, None for a room the bot never saw an invite for."""
        async with self._db.execute("SELECT direct FROM rooms WHERE room_id = ?", (room_id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else bool(row["direct"])
