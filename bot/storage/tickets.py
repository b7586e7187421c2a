"""The tickets' part of the store: their tables, rows <-> `Ticket`, and the desk's read and write.

Called by bot/storage/store.py inside its transactions, never on its own, so a ticket, its audit trail,
its messages and the outbox items announcing them are written together or not at all.

    tickets          one row per ticket (number, agent, status, topic, reason, fields, assignee, times, mark)
    ticket_messages  every message of a ticket: the transcript it opened with, the agent's and the
                     mediators' messages (with the incoming event and the relayed event), notes
    ticket_events    event id -> ticket: the card, every relay, every incoming message of a ticket,
                     so a mediator's rich reply to any of them finds its ticket
    ticket_audit     every status change: who, what, when
The ledger loads every ticket as a light row (no transcript): a helpdesk has thousands of
tickets, not millions, and the stats and the lists need them all.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

import aiosqlite

from ..desk.ledger import Decision, HistoryLine, Ledger
from ..messages import Action, RelayToAgent, StoreNote, ToMediators
from ..desk.tickets import Status, Ticket, TicketNumber

MIGRATION = """
    CREATE TABLE tickets (
        number INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        agent_name TEXT,
        room TEXT NOT NULL,
        status TEXT NOT NULL,
        topic TEXT,
        reason TEXT NOT NULL,
        fields TEXT NOT NULL,
        assignee TEXT,
        assignee_name TEXT,
        opened_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        closed_at TEXT,
        reopened_at TEXT,
        first_reply_at TEXT,
        last_reminder TEXT,
        mark INTEGER
    );
    CREATE INDEX tickets_agent ON tickets(agent, number);
    CREATE TABLE ticket_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket INTEGER NOT NULL REFERENCES tickets(number),
        kind TEXT NOT NULL,
        author TEXT,
        text TEXT NOT NULL,
        time TEXT NOT NULL,
        source_event TEXT,
        txn_id TEXT,
        relayed_event TEXT
    );
    CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket, id);
    CREATE TABLE ticket_events (
        event_id TEXT PRIMARY KEY,
        ticket INTEGER NOT NULL REFERENCES tickets(number),
        kind TEXT NOT NULL
    );
    CREATE TABLE ticket_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket INTEGER NOT NULL REFERENCES tickets(number),
        who TEXT NOT NULL,
        move TEXT NOT NULL,
        detail TEXT NOT NULL,
        time TEXT NOT NULL
    )
"""

COLUMNS = ("number", "agent", "agent_name", "room", "status", "topic", "reason", "fields", "assignee",
           "assignee_name", "opened_at", "updated_at", "closed_at", "reopened_at", "first_reply_at",
           "last_reminder", "mark")
TIMES = ("opened_at", "updated_at", "closed_at", "reopened_at", "first_reply_at", "last_reminder")


def _row(ticket: Ticket) -> tuple:
    values = {name: getattr(ticket, name) for name in COLUMNS if name != "fields"}
    values["status"] = ticket.status.value
    values["fields"] = json.dumps(ticket.fields, ensure_ascii=False)
    for name in TIMES:
        values[name] = values[name].isoformat() if values[name] else None
    return tuple(values[name] for name in COLUMNS)


def _ticket(row: aiosqlite.Row) -> Ticket:
    values = {name: row[name] for name in COLUMNS}
    values["status"] = Status(values["status"])
    values["fields"] = json.loads(values["fields"])
    for name in TIMES:
        values[name] = datetime.fromisoformat(values[name]) if values[name] else None
    return Ticket(**values)


async def _all(db: aiosqlite.Connection, sql: str, args: tuple = ()) -> list[aiosqlite.Row]:
    async with db.execute(sql, args) as cursor:
        return list(await cursor.fetchall())


async def ticket_of_event(db: aiosqlite.Connection, event_id: str) -> TicketNumber | None:
    rows = await _all(db, "SELECT ticket FROM ticket_events WHERE event_id = ?", (event_id,))
    return rows[0]["ticket"] if rows else None


async def card_event(db: aiosqlite.Connection, number: TicketNumber) -> str | None:
    rows = await _all(db, "SELECT event_id FROM ticket_events WHERE ticket = ? AND kind = 'card' LIMIT 1", (number,))
    return rows[0]["event_id"] if rows else None


async def load_ledger(db: aiosqlite.Connection, *, reply_to: str | None = None,
                      history_of: Callable[[TicketNumber | None], TicketNumber | None] | None = None,
                      state: dict | None = None, with_activity: bool = False) -> Ledger:
    tickets = {t.number: t for t in map(_ticket, await _all(db, f"SELECT {', '.join(COLUMNS)} FROM tickets"))}
    replied = await ticket_of_event(db, reply_to) if reply_to else None
    wanted = history_of(replied) if history_of else None
    history = await load_history(db, wanted) if wanted in tickets else ()
    seen = tuple(datetime.fromisoformat(row[0]) for row in await _all(db, "SELECT updated_at FROM agents")) \
        if with_activity else ()
    return Ledger(tickets=tickets, next_number=max(tickets, default=0) + 1, replied=replied,
                  history=history, state=state, agents_seen=seen)


async def load_history(db: aiosqlite.Connection, number: TicketNumber) -> tuple[HistoryLine, ...]:
    """Messages, notes and status changes of one ticket, in time order."""
    messages = [HistoryLine(time=datetime.fromisoformat(r["time"]), kind=r["kind"], author=r["author"], text=r["text"])
                for r in await _all(db, "SELECT kind, author, text, time FROM ticket_messages WHERE ticket = ? "
                                        "ORDER BY id", (number,))]
    audit = [HistoryLine(time=datetime.fromisoformat(r["time"]), kind="audit", author=r["who"],
                         text=f"{r['move']} {r['detail']}".strip())
             for r in await _all(db, "SELECT who, move, detail, time FROM ticket_audit WHERE ticket = ? ORDER BY id",
                                 (number,))]
    return tuple(sorted(messages + audit, key=lambda line: line.time))


async def write_decision(db: aiosqlite.Connection, decision: Decision) -> None:
    """Tickets, the transcript of new ones, audit entries and event links of one decision.

    Only a ticket built by the desk carries a transcript (loaded rows have none), so a transcript
    is written once, when its ticket opens."""
    marks = ", ".join("?" * len(COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "number")
    for ticket in decision.tickets:
        await db.execute(f"INSERT INTO tickets ({', '.join(COLUMNS)}) VALUES ({marks}) "
                         f"ON CONFLICT(number) DO UPDATE SET {updates}", _row(ticket))
    for ticket in decision.tickets:
        for line in ticket.transcript:
            await _message(db, ticket.number, "transcript", line.author, line.text, line.time)
    for entry in decision.audit:
        await db.execute("INSERT INTO ticket_audit (ticket, who, move, detail, time) VALUES (?, ?, ?, ?, ?)",
                         (entry.ticket, entry.who, entry.move, entry.detail, entry.time.isoformat()))
    for event_id, number in decision.links:
        await link(db, event_id, number, "source")


async def link(db: aiosqlite.Connection, event_id: str, number: TicketNumber, kind: str) -> None:
    await db.execute("INSERT OR IGNORE INTO ticket_events (event_id, ticket, kind) VALUES (?, ?, ?)",
                     (event_id, number, kind))


async def _message(db: aiosqlite.Connection, number: TicketNumber, kind: str, author: str | None, text: str,
                   time: datetime, source: str | None = None, txn_id: str | None = None) -> None:
    await db.execute("INSERT INTO ticket_messages (ticket, kind, author, text, time, source_event, txn_id) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (number, kind, author, text, time.isoformat(), source, txn_id))


async def record_action(db: aiosqlite.Connection, action: Action, txn_id: str, time: datetime) -> None:
    """A relay or a note put in the outbox is also a message of its ticket."""
    if isinstance(action, RelayToAgent):
        await _message(db, action.ticket, "mediator", action.author, action.body or action.text, time,
                       action.source_event, txn_id)
    elif isinstance(action, ToMediators) and action.author and action.ticket is not None:
        await _message(db, action.ticket, "agent", action.author, action.body or action.text, time,
                       action.source_event, txn_id)
    elif isinstance(action, StoreNote):
        await _message(db, action.ticket, "note", action.author, action.text, action.time, action.source_event)


async def record_sent(db: aiosqlite.Connection, action: Action, txn_id: str, event_id: str | None) -> None:
    """The event an action produced: linked to its ticket (the card's is the card)."""
    number = getattr(action, "ticket", None)
    if event_id is None or number is None:
        return
    await link(db, event_id, number, "card" if type(action).__name__ == "PostCard" else "relay")
    await db.execute("UPDATE ticket_messages SET relayed_event = ? WHERE txn_id = ?", (event_id, txn_id))


