"""The bot's memory: one SQLite file in `data_dir`, opened with WAL, foreign keys and a busy timeout.

What it keeps, and why it must survive a crash:
- each agent's conversation state (JSON), so a restart resumes a flow where it was;
- the ids of handled events, so an event replayed by the homeserver is never answered twice;
- an outbox of actions, written in the SAME transaction as the state and the handled id
  (`commit_turn`). After a crash the outbox is drained again with each item's stable
  transaction id, which the homeserver deduplicates: nothing lost, nothing twice;
- the sync token and a few facts (`meta`), e.g. the bot's very first start, and per room the
  newest event of the last fully handled batch (`room_marks`: where a catch-up stops);
- feedback records (👍 / 👎 or oui / non), for statistics;
- which agent each outbox item and each sent event is about (`outbox.agent`, `sent_events`), so an
  erasure (bot/storage/erasure.py) finds every row and every event of one agent; freed pages are
  zeroed (`secure_delete`) and the WAL truncated after an erasure, so no erased word lingers.
- events that failed while being handled (`failed_events`): the agent's cleaned words, kept for a
  mediator, with the type of the error (bot/helpdesk.py says when an event counts as failed).

Private by construction: `data_dir` is made 0700 and the database files 0600 at open, whatever
the umask; `secure_delete` zeroes what is deleted, and the WAL is truncated after each purge,
so erased words do not linger in free pages or in the log (bot/retention.py).

Actions are stored generically (type name + fields, datetimes in ISO), so a new action type of
bot/messages.py needs no change here.
The schema grows by numbered migrations run at open; `PRAGMA user_version` holds the number.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import sqlite3
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable, Sequence

import aiosqlite

from .. import messages
from . import decision_log, erasure, retention, tickets as ticket_store
from ..desk.ledger import Decision, Ledger
from ..messages import Action, EraseAgentData, RecordDecision, RecordFeedback, ShowMyData
from ..desk.tickets import Ticket, TicketNumber
from ..answering.gaps import Logged

FILE_NAME = "helpdesk.sqlite3"
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600

log = logging.getLogger(__name__)

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
    # 3: tickets, their messages, the events that point to them, their audit trail (bot/storage/tickets.py)
    ticket_store.MIGRATION,
    # 4: whose data each outbox item and sent event is (erasure and redaction, bot/storage/erasure.py),
    # and one line per erasure; existing rows are attributed from their payload, ticket and event
    """
    ALTER TABLE outbox ADD COLUMN agent TEXT;
    ALTER TABLE outbox ADD COLUMN ticket INTEGER;
    CREATE INDEX outbox_agent ON outbox(agent);
    CREATE TABLE sent_events (
        event_id TEXT PRIMARY KEY,
        room TEXT,
        agent TEXT,
        ticket INTEGER,
        time TEXT NOT NULL
    );
    CREATE INDEX sent_events_agent ON sent_events(agent);
    CREATE INDEX sent_events_ticket ON sent_events(ticket);
    CREATE TABLE erasures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        asked_by TEXT NOT NULL,
        subject TEXT NOT NULL,
        rows INTEGER NOT NULL,
        events INTEGER NOT NULL
    );
    UPDATE outbox SET ticket = json_extract(payload, '$.ticket');
    UPDATE outbox SET agent = COALESCE((SELECT agent FROM tickets WHERE number = outbox.ticket),
                                       json_extract(payload, '$.agent'),
                                       (SELECT agent FROM handled WHERE handled.event_id = outbox.event_id));
    INSERT OR IGNORE INTO sent_events (event_id, room, agent, ticket, time)
        SELECT sent_event_id, CASE WHEN kind IN ('PostCard', 'ToMediators', 'OpenTicket') THEN NULL
                                   ELSE json_extract(payload, '$.room') END, agent, ticket, created_at
        FROM outbox WHERE sent_event_id IS NOT NULL AND (agent IS NOT NULL OR ticket IS NOT NULL);
    INSERT OR IGNORE INTO sent_events (event_id, room, agent, ticket, time)
        SELECT e.event_id, NULL, t.agent, e.ticket, t.opened_at FROM ticket_events e
        JOIN tickets t ON t.number = e.ticket WHERE e.kind = 'card'
    """,
    # 5: events that failed while being handled: what the agent wrote, kept for a mediator (bot/helpdesk.py)
    """
    CREATE TABLE failed_events (
        event_id TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        room TEXT NOT NULL,
        time TEXT NOT NULL,
        text TEXT NOT NULL,
        error TEXT NOT NULL
    );
    """,
    # 6: the decision log: one row per message, agents as pseudonyms (bot/storage/decision_log.py)
    decision_log.MIGRATION,
    # 7: the full-text index of tickets' words, kept in step by triggers (`!cherche`, bot/storage/tickets.py)
    ticket_store.SEARCH_MIGRATION,
    # 8: per room, the newest timeline event of the last fully handled sync batch: catch-up pages back to
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
class FailedEvent:
    """An event the bot could not handle: who wrote what, when, and the type of the error."""

    event_id: str
    agent: str
    room: str
    time: datetime
    text: str
    error: str


def unavailable(error: BaseException) -> bool:
    """Whether `error` is the store itself failing (disk full or I/O error, database locked, not a
    database, connection closed), as opposed to something wrong with what was being written."""
    if isinstance(error, (sqlite3.OperationalError, sqlite3.InternalError)) or type(error) is sqlite3.DatabaseError:
        return True
    if isinstance(error, sqlite3.ProgrammingError):
        return "closed" in str(error)
    return type(error) is ValueError and str(error) in ("no active connection", "Connection closed")  # aiosqlite


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


def _statements(script: str) -> list[str]:
    """A migration's statements, one by one: split at each ';' that ends a statement, not at those
    inside a trigger's BEGIN ... END (sqlite3 knows where a statement is complete)."""
    statements, current = [], ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                statements.append(current)
            current = ""
    if current.strip(" \n;"):
        statements.append(current)
    return statements


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


async def _first_handling(db: aiosqlite.Connection, event_id: str, agent: str) -> bool:
    """Mark the event handled; False when it already was (a replay: the caller changes nothing)."""
    cursor = await db.execute("INSERT OR IGNORE INTO handled (event_id, agent, handled_at) VALUES (?, ?, ?)",
                              (event_id, agent, _now()))
    return cursor.rowcount != 0


class Store:
    """The async interface over the SQLite file; build it with `await Store.open(data_dir)`."""

    def __init__(self, db: aiosqlite.Connection, path: Path):
        self._db = db
        self.path = path
        self._writing = asyncio.Lock()  # one connection: a second BEGIN must wait for the first COMMIT
        self._erased = False  # an erasure was committed: checkpoint the WAL so its words leave the disk

    @classmethod
    async def open(cls, data_dir: Path | str) -> Store:
        """Open (creating if needed) the store file and bring its schema up to date."""
        directory = Path(data_dir)
        path = directory / FILE_NAME
        _make_private(directory, path)
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        for pragma in ("journal_mode = WAL", "foreign_keys = ON", "busy_timeout = 5000", "synchronous = NORMAL",
                       "secure_delete = ON"):
            await db.execute(f"PRAGMA {pragma}")
        store = cls(db, path)
        await store._migrate()
        async with store.transaction() as db:
            await erasure.install(db)
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
                self._erased = False
                raise
            await self._db.execute("COMMIT")
            if self._erased:
                self._erased = False
                await self.checkpoint()

    async def checkpoint(self) -> tuple[int, int, int]:
        """Copy the WAL into the file and truncate it (erased words must not wait in the WAL);
        (busy, log pages, checkpointed pages): busy 1 when another connection was reading."""
        async with self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
            busy, pages, done = await cursor.fetchone()
        if busy:
            logging.getLogger(__name__).warning("WAL checkpoint incomplete (another connection is reading): "
                                                "erased rows stay in %s-wal until the next one", self.path)
        return busy, pages, done

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            (version,) = await cursor.fetchone()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self.transaction() as db:
                for statement in _statements(script):
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
            if not await _first_handling(db, event_id, agent):
                return False
            if new_state is not None:
                await db.execute(
                    "INSERT INTO agents (agent, state, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(agent) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                    (agent, json.dumps(new_state, ensure_ascii=False), _now()))
            await self._enqueue(db, actions, event_id, agent=agent)
        return True

    async def mark_handled(self, event_id: str, agent: str) -> bool:
        """Remember an event the bot chose not to answer, so a replay skips it too."""
        return await self.commit_turn(event_id=event_id, agent=agent, new_state=None, actions=())

    async def record_failure(self, *, event_id: str, agent: str, room: str, time: datetime, text: str,
                             error: str, actions: Sequence[Action] = ()) -> bool:
        """Mark an event handled as failed, keep its text and queue `actions` (the notice), all or nothing.

        False (nothing changed) when the event was already handled: its notice is never said twice."""
        async with self.transaction() as db:
            if not await _first_handling(db, event_id, agent):
                return False
            await db.execute(
                "INSERT OR REPLACE INTO failed_events (event_id, agent, room, time, text, error) VALUES (?, ?, ?, ?, ?, ?)",
                (event_id, agent, room, time.astimezone(timezone.utc).isoformat(), text, error))
            await self._enqueue(db, actions, event_id, agent=agent)  # tied to the agent: erasure redacts them
        return True

    async def failed_events(self) -> list[FailedEvent]:
        """The events kept as failed, oldest first (a mediator's or an admin's reading)."""
        async with self._db.execute(
                "SELECT event_id, agent, room, time, text, error FROM failed_events ORDER BY time") as cursor:
            rows = await cursor.fetchall()
        return [FailedEvent(event_id=r["event_id"], agent=r["agent"], room=r["room"],
                            time=datetime.fromisoformat(r["time"]), text=r["text"], error=r["error"]) for r in rows]

    async def enqueue(self, actions: Iterable[Action]) -> None:
        """Put actions that answer no event (e.g. the "unreadable message" notice) in the outbox."""
        async with self.transaction() as db:
            await self._enqueue(db, list(actions), None)

    async def _enqueue(self, db: aiosqlite.Connection, actions: Iterable[Action], event_id: str | None,
                       time: datetime | None = None, agent: str | None = None) -> None:
        """`agent`: whose turn it is; each item is tied to the agent it is about (bot/storage/erasure.py)."""
        for action in actions:
            if isinstance(action, (ShowMyData, EraseAgentData)):  # the store's own work, then what to say
                produced, erased = await erasure.carry_out(db, action)
                self._erased = self._erased or erased is not None
                await self._enqueue(db, produced, event_id, time)
                continue
            if isinstance(action, RecordDecision):  # for the log, not for the sender
                await decision_log.write(db, action)
                continue
            kind, payload = encode_action(action)
            txn_id = f"hd{uuid.uuid4().hex}"
            about, ticket = await erasure.owner(db, action, agent)
            await db.execute(
                "INSERT INTO outbox (txn_id, event_id, kind, payload, created_at, agent, ticket) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (txn_id, event_id, kind, payload, time.isoformat() if time else _now(), about, ticket))
            await ticket_store.record_action(db, action, txn_id, time or datetime.now(timezone.utc))
            if isinstance(action, RecordFeedback):
                await db.execute(
                    "INSERT INTO feedback (event_id, agent, topic, helpful, time) VALUES (?, ?, ?, ?, ?)",
                    (event_id, action.agent, action.topic, int(action.helpful), action.time.isoformat()))

    # --- outbox

    async def pending_outbox(self) -> list[OutboxItem]:
        """Actions not yet carried out, oldest first (the order the core decided them).

        An item that no longer decodes (its action type was renamed) would block every later one:
        it is logged and set aside (marked done, its payload kept until retention erases it)."""
        async with self._db.execute(
                "SELECT id, txn_id, event_id, kind, payload FROM outbox WHERE sent_at IS NULL ORDER BY id") as cursor:
            rows = await cursor.fetchall()
        items = []
        for r in rows:
            try:
                action = decode_action(r["kind"], r["payload"])
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                log.error("outbox item %d (%s) cannot be decoded (%s): set aside unsent", r["id"], r["kind"], exc)
                async with self.transaction() as db:
                    await db.execute("UPDATE outbox SET sent_at = ? WHERE id = ?", (_now(), r["id"]))
                continue
            items.append(OutboxItem(id=r["id"], txn_id=r["txn_id"], event_id=r["event_id"], action=action))
        return items

    async def mark_sent(self, item: OutboxItem, sent_event_id: str | None) -> None:
        async with self.transaction() as db:
            now = _now()
            await db.execute("UPDATE outbox SET sent_at = ?, sent_event_id = ? WHERE id = ?",
                             (now, sent_event_id, item.id))
            await self._enqueue(db, await erasure.record_sent(db, item.id, item.action, sent_event_id, now), None)
            await ticket_store.record_sent(db, item.action, item.txn_id, sent_event_id)

    async def sent_event_ids(self) -> list[str]:
        """Event ids of what the bot sent, newest last (tests and the demo read the transcript)."""
        async with self._db.execute(
                "SELECT sent_event_id FROM outbox WHERE sent_event_id IS NOT NULL ORDER BY id") as cursor:
            return [r[0] for r in await cursor.fetchall()]

    # --- tickets (the desk's turns; tables in bot/storage/tickets.py)

    async def desk_turn(self, *, decide: Callable[[Ledger], Decision], event_id: str | None = None,
                        agent: str = "", reply_to: str | None = None,
                        history_of: Callable[[TicketNumber | None], TicketNumber | None] | None = None,
                        with_state: bool = False, with_activity: bool = False,
                        search: tuple[str, ...] | None = None, with_decisions: bool = False) -> Decision | None:
        """Read the ledger, decide, and write the decision, in ONE write transaction.

        `decide` is pure and runs while the transaction holds the write lock, so what it read is
        still true when its decision is written (two `!prendre` on one ticket: one owner).
        With `event_id`, the event is marked handled in the same transaction; None (nothing
        changed) when it already was. `with_state` loads the agent's conversation state into
        the ledger, and the decision's `state` replaces it; `search` (a `!cherche`'s words) fills
        the ledger's `found` from the search index.
        """
        async with self.transaction() as db:
            if event_id is not None and not await _first_handling(db, event_id, agent):
                return None
            state = await self.load_state(agent) if with_state else None
            ledger = await ticket_store.load_ledger(db, reply_to=reply_to, history_of=history_of, state=state,
                                                    with_activity=with_activity, search=search)
            if with_decisions:  # `!lacunes`: the logged words, which retention keeps only retention_days
                ledger = dataclasses.replace(ledger, decisions=tuple(await decision_log.rows(db, None)))
            decision = decide(ledger)
            if decision.state is not None:
                await db.execute(
                    "INSERT INTO agents (agent, state, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(agent) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                    (agent, json.dumps(decision.state, ensure_ascii=False),
                     decision.time.isoformat() if decision.time else _now()))  # the message's time: !stats counts it
            await ticket_store.write_decision(db, decision)
            await self._enqueue(db, decision.actions, event_id, decision.time, agent=agent or None)
        return decision

    async def purge(self, now: datetime, retention_days: int) -> dict[str, int]:
        """Erase agents' words older than the retention period (bot/storage/retention.py), in one transaction:
        closed tickets lose their words and names, their cards and relays are redacted (outbox)."""
        async with self.transaction() as db:
            counts = await retention.purge(db, now, retention_days)
            anonymised, redacts = await erasure.past_retention(db, now - timedelta(days=retention_days))
            await self._enqueue(db, redacts, None, now)
            self._erased = any(counts.values()) or any(anonymised.values())
        return {**counts, **anonymised}

    async def forget(self, agent: str, now: datetime, asked_by: str) -> erasure.Erased:
        """`helpdesk-bot forget`: the agent's erasure, its redactions queued for the bot to send."""
        async with self.transaction() as db:
            erased = await erasure.erase(db, agent, now, asked_by)
            await self._enqueue(db, erased.actions, None, now)
            self._erased = True
        return erased

    async def data_summary(self, agent: str) -> erasure.Summary:
        return await erasure.summary(self._db, agent)

    async def gauges(self) -> dict[str, Any]:
        """Outbox depth and open tickets, for /metrics and /healthz: cheap reads on indexed columns."""
        async with self._db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL") as cursor:
            (depth,) = await cursor.fetchone()
        return {"outbox_depth": depth, **await ticket_store.open_summary(self._db)}

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

    # --- the decision log and feedback

    async def decisions(self, since: datetime) -> list[Logged]:
        """The log from `since` on, oldest first (texts and vectors only inside retention)."""
        return await decision_log.rows(self._db, since)

    async def pseudonym(self, user: str) -> str:
        """The decision log's name for `user` (erasure finds an agent's rows with it)."""
        return await decision_log.pseudonym(self._db, user)


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


def _make_private(directory: Path, path: Path) -> None:
    """data_dir 0700 and the database files 0600, created so (not chmod-ed after) when new.

    SQLite gives its -wal and -shm files the mode of the database file, so creating that one
    0600 before SQLite opens it covers all three, whatever the umask."""
    directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    try:
        os.chmod(directory, PRIVATE_DIR)
    except PermissionError:  # a folder the bot's user does not own: say so, the files stay 0600
        log.warning("cannot make %s private (chmod 700): it is not the bot's own folder", directory)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            os.chmod(file, PRIVATE_FILE)
