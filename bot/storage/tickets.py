"""The tickets' part of the store: their tables, rows <-> `Ticket`, and the desk's read and write.

Called by bot/storage/store.py inside its transactions, never on its own, so a ticket, its audit trail,
its messages and the outbox items announcing them are written together or not at all.

    tickets          one row per ticket (number, agent, status, topic, reason, fields, assignee, times, mark)
    ticket_messages  every message of a ticket: the transcript it opened with, the agent's and the
                     mediators' messages (with the incoming event and the relayed event), notes
    ticket_events    event id -> ticket: the card, every relay, every incoming message of a ticket,
                     so a mediator's rich reply to any of them finds its ticket
    ticket_audit     every status change: who, what, when
    ticket_search    FTS5 index for `!cherche`: one row per ticket message (rowid = its id) and one per
                     ticket for the agent's name and id and the topic (rowid = minus the ticket's number),
                     kept in step by triggers, so whatever deletes or rewrites a message (retention,
                     erasure) takes its words out of the index in the same statement
The ledger loads every ticket as a light row (no transcript): a helpdesk has thousands of
tickets, not millions, and the stats and the lists need them all.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

import aiosqlite

from ..desk.ledger import SEARCH_LIMIT, Decision, HistoryLine, Ledger, SearchHit
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

_HEADER = "coalesce(new.agent_name, '') || ' ' || new.agent || ' ' || coalesce(new.topic, '')"
SEARCH_MIGRATION = f"""
    CREATE VIRTUAL TABLE ticket_search USING fts5(ticket UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2');
    INSERT INTO ticket_search (rowid, ticket, body) SELECT id, ticket, text FROM ticket_messages;
    INSERT INTO ticket_search (rowid, ticket, body)
        SELECT -number, number, coalesce(agent_name, '') || ' ' || agent || ' ' || coalesce(topic, '') FROM tickets;
    CREATE TRIGGER ticket_search_message_in AFTER INSERT ON ticket_messages BEGIN
        INSERT INTO ticket_search (rowid, ticket, body) VALUES (new.id, new.ticket, new.text);
    END;
    CREATE TRIGGER ticket_search_message_edit AFTER UPDATE OF text ON ticket_messages BEGIN
        UPDATE ticket_search SET body = new.text WHERE rowid = old.id;
    END;
    CREATE TRIGGER ticket_search_message_out AFTER DELETE ON ticket_messages BEGIN
        DELETE FROM ticket_search WHERE rowid = old.id;
    END;
    CREATE TRIGGER ticket_search_ticket_in AFTER INSERT ON tickets BEGIN
        INSERT INTO ticket_search (rowid, ticket, body) VALUES (-new.number, new.number, {_HEADER});
    END;
    CREATE TRIGGER ticket_search_ticket_edit AFTER UPDATE OF agent_name, agent, topic ON tickets BEGIN
        UPDATE ticket_search SET body = {_HEADER} WHERE rowid = -old.number;
    END;
    CREATE TRIGGER ticket_search_ticket_out AFTER DELETE ON tickets BEGIN
        DELETE FROM ticket_search WHERE rowid = -old.number;
    END
"""
# deleted rows leave their words in the index's old segments on disk until it is merged
SEARCH_OPTIMIZE = "INSERT INTO ticket_search (ticket_search) VALUES ('optimize')"
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
                      state: dict | None = None, with_activity: bool = False,
                      search: tuple[str, ...] | None = None) -> Ledger:
    tickets = {t.number: t for t in map(_ticket, await _all(db, f"SELECT {', '.join(COLUMNS)} FROM tickets"))}
    replied = await ticket_of_event(db, reply_to) if reply_to else None
    wanted = history_of(replied) if history_of else None
    history = await load_history(db, wanted) if wanted in tickets else ()
    seen = tuple(datetime.fromisoformat(row[0]) for row in await _all(db, "SELECT updated_at FROM agents")) \
        if with_activity else ()
    found = await search_tickets(db, search) if search else ()
    return Ledger(tickets=tickets, next_number=max(tickets, default=0) + 1, replied=replied,
                  history=history, state=state, agents_seen=seen, found=found)


def _term(word: str) -> str:
    """One typed word as an FTS5 prefix term; quoting makes any punctuation plain text."""
    return '"' + word.replace('"', "") + '"*'


async def search_tickets(db: aiosqlite.Connection, words: tuple[str, ...]) -> tuple[SearchHit, ...]:
    """Tickets holding EVERY word somewhere (a message, the agent's name, the topic), best first,
    each with an extract of its best-matching row. Words are prefixes: « badg » finds « badge »."""
    words = tuple(w for w in (w.replace('"', "") for w in words) if len(w) >= 2)
    if not words:
        return ()
    matching: set[int] | None = None
    for word in words:
        rows = await _all(db, "SELECT DISTINCT ticket FROM ticket_search WHERE ticket_search MATCH ?", (_term(word),))
        found = {row[0] for row in rows}
        matching = found if matching is None else matching & found
        if not matching:
            return ()
    rows = await _all(db, "SELECT ticket, rowid, snippet(ticket_search, 1, '**', '**', '…', 10) AS extract "
                          "FROM ticket_search WHERE ticket_search MATCH ? ORDER BY rank",
                      (" OR ".join(map(_term, words)),))
    hits: dict[int, SearchHit] = {}
    for row in rows:
        if row["ticket"] in matching and row["ticket"] not in hits:
            hits[row["ticket"]] = SearchHit(ticket=row["ticket"], extract=row["extract"] if row["rowid"] > 0 else "")
    return tuple(hits.values())[:SEARCH_LIMIT]


async def open_summary(db: aiosqlite.Connection) -> dict[str, object]:
    """How many tickets are open (nobody took them) and taken, and since when the oldest open one waits."""
    rows = await _all(db, "SELECT status, count(*) AS n, min(coalesce(reopened_at, opened_at)) AS since "
                          "FROM tickets WHERE status != 'closed' GROUP BY status")
    by_status = {row["status"]: row for row in rows}
    untaken = by_status.get(Status.OPEN.value)
    return {"tickets_open": untaken["n"] if untaken else 0,
            "tickets_taken": by_status[Status.TAKEN.value]["n"] if Status.TAKEN.value in by_status else 0,
            "oldest_untaken": datetime.fromisoformat(untaken["since"]) if untaken else None}


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


