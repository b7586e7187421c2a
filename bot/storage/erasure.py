"""Where an agent's data lives, and how it goes: on request (« effacer mes données », `forget`) or at
the end of retention. One declared list, `PLACES`, serves both, so a new table holding an agent's
words is one entry here and is then covered by the erasure, the retention purge and the summary.

    PLACES    table, the column naming the agent and/or the column naming one of their tickets,
              and what happens there: the rows are deleted, or (`kept`) kept for the counts with
              their words emptied and the people in them replaced by a keyed pseudonym
    FILES     globs in data_dir of caches that may hold agents' words: deleted on erasure
    sent_events  the bot's own Matrix events carrying an agent's words (cards, relays, answers):
              each becomes a `Redact` in the outbox, sent with its own txn id, so a crash loses none

An erasure runs inside the store transaction of the turn that asked for it (the agent's « oui »)
or of `Store.forget` (the admin): the agent's tickets in progress are closed first (their mediator
is told in the mediators' room), then every place is emptied, then one line goes to `erasures`
(who asked, when, how many rows and events; never any content). The store then checkpoints the
WAL (TRUNCATE) and SQLite's `secure_delete` has zeroed the freed pages.

The pseudonym is HMAC-SHA256 of the user id under a random key kept in `meta`: distinct agents
stay distinct in the statistics (how many people needed a human) without naming anyone.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from ..desk.hours import paris
from ..messages import Action, EraseAgentData, OpenTicket, PostCard, Redact, Reply, ShowMyData, ToMediators
from ..texts import say, speaking
from .tickets import SEARCH_OPTIMIZE

PSEUDONYM_KEY = "pseudonym_key"
PSEUDONYM_PREFIX = "anon:"
ANONYMOUS = "''"  # SQL: an emptied text


@dataclass(frozen=True, kw_only=True)
class Place:
    """One table where an agent's data lives. `agent` / `ticket`: the columns that tie a row to the
    agent, directly or through one of their tickets. `kept` None: the rows are deleted; otherwise the
    rows stay (for counts) with each named column set to its SQL expression."""

    table: str
    agent: str | None = None
    ticket: str | None = None
    kept: dict[str, str] | None = None
    pseudonymous: bool = False    # the agent column holds pseudonym(user id), not the id
    after: tuple[str, ...] = ()   # SQL run once the rows went (an FTS5 index: 'optimize' rewrites its segments)


PLACES: tuple[Place, ...] = (
    Place(table="agents", agent="agent"),                                   # conversation state, transcript
    Place(table="handled", agent="agent", kept={"agent": ANONYMOUS}),       # ids only: a replay stays skipped
    Place(table="outbox", agent="agent", ticket="ticket"),                  # texts sent or to send
    Place(table="sent_events", agent="agent", ticket="ticket"),             # ids of events to redact
    Place(table="failed_events", agent="agent"),                           # words of events that failed
    Place(table="decisions", agent="agent", pseudonymous=True),             # the decision log: words, vectors
    Place(table="rooms", agent="inviter"),                                  # the DM and who opened it
    Place(table="feedback", agent="agent", kept={"agent": "pseudonym(agent)", "event_id": "NULL"}),
    Place(table="tickets", agent="agent", ticket="number",
          kept={"agent": "pseudonym(agent)", "agent_name": "NULL", "room": ANONYMOUS, "reason": ANONYMOUS,
                "fields": "'{}'", "assignee": "pseudonym(assignee)", "assignee_name": "NULL"},
          after=(SEARCH_OPTIMIZE,)),
    Place(table="ticket_messages", ticket="ticket",                         # transcript, relays, notes; the
          after=(SEARCH_OPTIMIZE,)),                                        # search index loses them by triggers
    Place(table="ticket_events", ticket="ticket"),                          # event -> ticket links
    Place(table="ticket_audit", ticket="ticket", kept={"who": "pseudonym(who)", "detail": ANONYMOUS}),
)

# Caches under data_dir that may hold agents' words (none today: the encoder's vector cache is
# keyed by FAQ text; the decision log's vectors are rows of SQLite, a Place).
FILES: tuple[str, ...] = ()


# --- the pseudonym -------------------------------------------------------------------------------

async def install(db: aiosqlite.Connection) -> None:
    """Give the connection `pseudonym(text)`; the key is made once and kept in `meta`."""
    async with db.execute("SELECT value FROM meta WHERE key = ?", (PSEUDONYM_KEY,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        key = secrets.token_hex(32)
        await db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (PSEUDONYM_KEY, key))
        async with db.execute("SELECT value FROM meta WHERE key = ?", (PSEUDONYM_KEY,)) as cursor:
            row = await cursor.fetchone()
    secret = bytes.fromhex(row[0])
    await db.create_function("pseudonym", 1, lambda value: pseudonym(secret, value), deterministic=True)


def pseudonym(secret: bytes, value: str | None) -> str | None:
    """The same person always gets the same pseudonym; an empty or already pseudonymous value stays."""
    if not value or value.startswith(PSEUDONYM_PREFIX):
        return value
    return PSEUDONYM_PREFIX + hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:16]


# --- who an outbox item is about -----------------------------------------------------------------

async def owner(db: aiosqlite.Connection, action: Action, turn_agent: str | None) -> tuple[str | None, int | None]:
    """(agent, ticket) whose words or conversation the action carries, for erasing it later.

    Its ticket's agent; else the ticket of the event it answers; else the agent it names; else the
    agent of the room it goes to; else whoever's turn it was. Redactions belong to nobody."""
    if isinstance(action, Redact):
        return None, None
    number = getattr(action, "ticket", None)
    if number is None and getattr(action, "reply_to", None):
        number = await _one(db, "SELECT ticket FROM ticket_events WHERE event_id = ?", (action.reply_to,))
    if number is not None:
        return await _one(db, "SELECT agent FROM tickets WHERE number = ?", (number,)) or turn_agent, number
    named = getattr(action, "agent", None)
    if named:
        return named, None
    room = getattr(action, "room", None)
    if room:
        return await _one(db, "SELECT agent FROM tickets WHERE room = ? ORDER BY number DESC LIMIT 1",
                          (room,)) or turn_agent, None
    return turn_agent, None


async def record_sent(db: aiosqlite.Connection, outbox_id: int, action: Action, event_id: str | None,
                      time: str) -> list[Action]:
    """Remember which agent a sent event is about (cards and relays live in the mediators' room: room NULL).

    An item whose row is gone was erased while it was being sent: its event is redacted at once."""
    if event_id is None or isinstance(action, Redact):
        return []
    room = getattr(action, "room", None) if not isinstance(action, (OpenTicket, PostCard, ToMediators)) else None
    async with db.execute("SELECT agent, ticket FROM outbox WHERE id = ?", (outbox_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return [Redact(event_id=event_id, room=room)]
    if row[0] is None and row[1] is None:
        return []
    await db.execute("INSERT OR IGNORE INTO sent_events (event_id, room, agent, ticket, time) VALUES (?, ?, ?, ?, ?)",
                     (event_id, room, row[0], row[1], time))
    return []


# --- erasing --------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Erased:
    """What one erasure did: counts for the audit line and the answer, and what is left to send."""

    rows: dict[str, int] = field(default_factory=dict)
    events: int = 0
    closed: int = 0
    actions: tuple[Action, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def erase(db: aiosqlite.Connection, agent: str, now: datetime, asked_by: str) -> Erased:
    """Everything of `agent`, in the caller's transaction: close, redact, empty every place, audit."""
    tickets = [r[0] for r in await _all(db, "SELECT number FROM tickets WHERE agent = ?", (agent,))]
    active = [r[0] for r in await _all(db, "SELECT number FROM tickets WHERE agent = ? AND status != 'closed' "
                                           "ORDER BY number", (agent,))]
    for number in active:  # closed first, so the counts see a closed ticket and its mediator is told
        await db.execute("UPDATE tickets SET status = 'closed', closed_at = ?, updated_at = ? WHERE number = ?",
                         (now.isoformat(), now.isoformat(), number))
        await db.execute("INSERT INTO ticket_audit (ticket, who, move, detail, time) VALUES (?, 'bot', 'close', '', ?)",
                         (number, now.isoformat()))
    redacts = await _redactions(db, "agent = :agent OR ticket IN (SELECT value FROM json_each(:tickets))",
                                {"agent": agent, "tickets": json.dumps(tickets)})
    rows = {}
    for place in PLACES:
        rows[place.table] = await _apply(db, place, _agent_rows(place), {"agent": agent, "tickets": json.dumps(tickets)})
        for statement in place.after if rows[place.table] else ():
            await db.execute(statement)
    await db.execute("INSERT INTO erasures (time, asked_by, subject, rows, events) VALUES (?, ?, pseudonym(?), ?, ?)",
                     (now.isoformat(), asked_by, agent, sum(rows.values()), len(redacts)))
    told = [ToMediators(text=say("privacy.closed_room", number=number)) for number in active]
    return Erased(rows=rows, events=len(redacts), closed=len(active), actions=(*told, *redacts))


def delete_files(data_dir: Path) -> int:
    """The caches of `FILES` (rebuilt when needed); run after the transaction that erased the rows."""
    gone = 0
    for pattern in FILES:
        for path in data_dir.glob(pattern):
            path.unlink(missing_ok=True)
            gone += 1
    return gone


async def past_retention(db: aiosqlite.Connection, cutoff: datetime) -> tuple[dict[str, int], list[Action]]:
    """Tickets closed before `cutoff` lose their words and names (the ticket-scoped places), their
    events in the mediators' room are redacted, and feedback older than `cutoff` is pseudonymised."""
    tickets = [r[0] for r in await _all(db, "SELECT number FROM tickets WHERE status = 'closed' AND closed_at < ? "
                                            "AND NOT agent LIKE 'anon:%'", (cutoff.isoformat(),))]
    args = {"tickets": json.dumps(tickets), "cutoff": cutoff.isoformat()}
    # the agent's own conversation (their DM) is theirs: only what colleagues read is redacted
    old = "ticket IN (SELECT value FROM json_each(:tickets)) OR (ticket IS NULL AND time < :cutoff)"
    redacts = await _redactions(db, f"({old}) AND (room IS NULL OR room NOT IN "
                                    "(SELECT room_id FROM rooms WHERE direct = 1))", args)
    counts = {"sent events redacted": len(redacts),
              "sent events": (await db.execute(f"DELETE FROM sent_events WHERE {old}", args)).rowcount}
    for place in PLACES:
        if place.ticket is not None and place.table != "sent_events":
            counts[place.table] = await _apply(db, place, f"{place.ticket} IN (SELECT value FROM json_each(:tickets))",
                                               args)
            for statement in place.after if counts[place.table] else ():
                await db.execute(statement)
    counts["feedback"] = await _apply(db, _place("feedback"), "time < :cutoff AND NOT agent LIKE 'anon:%'", args)
    return counts, redacts


async def _redactions(db: aiosqlite.Connection, where: str, args: dict[str, Any]) -> list[Action]:
    rows = await _all(db, f"SELECT event_id, room FROM sent_events WHERE {where} ORDER BY time", args)
    return [Redact(event_id=r[0], room=r[1]) for r in rows]


def _agent_rows(place: Place) -> str:
    who = "pseudonym(:agent)" if place.pseudonymous else ":agent"
    tied = [f"{place.agent} = {who}"] if place.agent else []
    if place.ticket:
        tied.append(f"{place.ticket} IN (SELECT value FROM json_each(:tickets))")
    return " OR ".join(tied)


async def _apply(db: aiosqlite.Connection, place: Place, where: str, args: dict[str, Any]) -> int:
    if place.kept is None:
        cursor = await db.execute(f"DELETE FROM {place.table} WHERE {where}", args)
    else:
        sets = ", ".join(f"{column} = {value}" for column, value in place.kept.items())
        cursor = await db.execute(f"UPDATE {place.table} SET {sets} WHERE {where}", args)
    return cursor.rowcount


def _place(table: str) -> Place:
    return next(p for p in PLACES if p.table == table)


# --- « mes données » -------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Summary:
    """What the store keeps about one agent, and since when."""

    first_seen: datetime | None = None
    conversation_at: datetime | None = None
    messages: int = 0
    messages_since: datetime | None = None
    open_tickets: tuple[int, ...] = ()
    closed_tickets: tuple[int, ...] = ()
    last_closed: datetime | None = None
    feedback: int = 0


async def summary(db: aiosqlite.Connection, agent: str) -> Summary:
    conversation = await _one(db, "SELECT updated_at FROM agents WHERE agent = ?", (agent,))
    first = await _one(db, "SELECT MIN(t) FROM (SELECT MIN(handled_at) AS t FROM handled WHERE agent = :a "
                           "UNION ALL SELECT MIN(created_at) FROM outbox WHERE agent = :a "
                           "UNION ALL SELECT MIN(opened_at) FROM tickets WHERE agent = :a)", {"a": agent})
    sent = await _all(db, "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE agent = ? AND sent_at IS NOT NULL",
                      (agent,))
    tickets = await _all(db, "SELECT number, status, closed_at FROM tickets WHERE agent = ? ORDER BY number", (agent,))
    closed = [t for t in tickets if t[1] == "closed"]
    return Summary(first_seen=_time(first), conversation_at=_time(conversation), messages=sent[0][0],
                   messages_since=_time(sent[0][1]),
                   open_tickets=tuple(t[0] for t in tickets if t[1] != "closed"),
                   closed_tickets=tuple(t[0] for t in closed),
                   last_closed=max((_time(t[2]) for t in closed if t[2]), default=None),
                   feedback=await _one(db, "SELECT COUNT(*) FROM feedback WHERE agent = ?", (agent,)) or 0)


def summary_text(data: Summary, days: int) -> str:
    """« mes données », in plain words (French, or English for an agent who writes it): each kind of data, since when, erased when."""
    keep = timedelta(days=days)
    lines = []
    if data.conversation_at:
        lines.append(say("privacy.summary_conversation", since=_date(data.first_seen or data.conversation_at),
                         until=_date(data.conversation_at + keep)))
    if data.messages:
        lines.append(_counted("privacy.summary_messages", n=data.messages, since=_date(data.messages_since), days=days))
    if data.open_tickets:
        lines.append(_counted("privacy.summary_tickets_open", n=len(data.open_tickets), numbers=_numbers(data.open_tickets),
                         days=days))
    if data.closed_tickets:
        lines.append(_counted("privacy.summary_tickets_closed", n=len(data.closed_tickets),
                         numbers=_numbers(data.closed_tickets), until=_date((data.last_closed or data.first_seen) + keep)))
    if data.feedback:
        lines.append(_counted("privacy.summary_feedback", n=data.feedback, days=days))
    if not lines:
        return "\n".join([say("privacy.summary_nothing"), say("privacy.summary_app")])
    return "\n".join([say("privacy.summary_intro"), *lines, say("privacy.summary_stays"), say("privacy.summary_app"),
                      say("privacy.summary_erase_hint")])


async def carry_out(db: aiosqlite.Connection, action: ShowMyData | EraseAgentData) -> tuple[list[Action], Erased | None]:
    """The store's side of the two actions: (what to send, the erasure done if any)."""
    if isinstance(action, ShowMyData):
        data = await summary(db, action.agent)
        with speaking(action.language):
            return [Reply(room=action.room, text=summary_text(data, action.retention_days))], None
    erased = await erase(db, action.agent, action.time, action.asked_by)
    with speaking(action.language):
        answer = ([Reply(room=action.room, text=say("privacy.erased", rows=erased.total, events=erased.events))]
                  if action.room else [])
    return [*answer, *erased.actions], erased


def _counted(key: str, *, n: int, **values: object) -> str:
    return say(f"{key}_one" if n == 1 else key, n=n, **values)


def _numbers(numbers: tuple[int, ...]) -> str:
    return ", ".join(f"n° {n}" for n in numbers)


def _date(moment: datetime | None) -> str:
    return paris(moment).strftime("%d/%m/%Y") if moment else "?"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def _all(db: aiosqlite.Connection, sql: str, args: Any = ()) -> list:
    async with db.execute(sql, args) as cursor:
        return list(await cursor.fetchall())


async def _one(db: aiosqlite.Connection, sql: str, args: Any = ()) -> Any:
    rows = await _all(db, sql, args)
    return rows[0][0] if rows else None
