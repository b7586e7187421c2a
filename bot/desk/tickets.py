"""Tickets: an agent handed to a human mediator, and the moves a ticket can make (bot/desk/commands.py reads
the mediators' commands that ask for them).

Pure core, like the rest of the conversation logic: every function takes `now` and returns a new
`Ticket` (or a value); the store persists it and the Matrix layer posts cards and replies.

States and moves. A ticket is `open` (waiting for a mediator), `taken` (a mediator has it) or
`closed`. `TRANSITIONS` below is the whole state machine, one row per legal (state, move):

    open   --take/assign/reply--> taken      taken  --assign/reply/note--> taken
    open   --close/autoclose----> closed     taken  --close/autoclose----> closed
    closed --reopen-------------> open       closed --agent writes-------> open  (within reopen_days)
    open   --agent writes/note--> open       closed --note---------------> closed

Any other pair raises `TicketError`, whose message names the ticket, and is French because it is
shown as is to the mediator who typed the command ("Le ticket #12 est déjà pris par Marie.").

Two mediators typing `!prendre 12` at once: the store applies `take` to the ticket it has just read
inside one write transaction, so the second call sees `taken` and gets that same error.

An agent writing to a closed ticket older than `reopen_days` is not an error: `agent_wrote`
returns None and the caller opens a new ticket.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Iterable

from ..config import Config
from .hours import is_open, paris, working_time
from ..messages import RoomID, TranscriptLine, UserID
from ..safetext import safe_text
from ..texts import say
from ..verbatim import verbatim

TicketNumber = int


class Status(str, Enum):
    OPEN = "open"
    TAKEN = "taken"
    CLOSED = "closed"


class Move(str, Enum):
    """What can happen to a ticket: a mediator's command, the agent writing, or the clock."""

    TAKE = "take"
    ASSIGN = "assign"
    REPLY = "reply"
    NOTE = "note"
    CLOSE = "close"
    REOPEN = "reopen"
    AGENT_WROTE = "agent_wrote"
    AUTOCLOSE = "autoclose"


TRANSITIONS: dict[tuple[Status, Move], Status] = {
    (Status.OPEN, Move.TAKE): Status.TAKEN,
    (Status.OPEN, Move.ASSIGN): Status.TAKEN,
    (Status.OPEN, Move.REPLY): Status.TAKEN,
    (Status.OPEN, Move.NOTE): Status.OPEN,
    (Status.OPEN, Move.CLOSE): Status.CLOSED,
    (Status.OPEN, Move.AGENT_WROTE): Status.OPEN,
    (Status.OPEN, Move.AUTOCLOSE): Status.CLOSED,
    (Status.TAKEN, Move.ASSIGN): Status.TAKEN,
    (Status.TAKEN, Move.REPLY): Status.TAKEN,
    (Status.TAKEN, Move.NOTE): Status.TAKEN,
    (Status.TAKEN, Move.CLOSE): Status.CLOSED,
    (Status.TAKEN, Move.AGENT_WROTE): Status.TAKEN,
    (Status.TAKEN, Move.AUTOCLOSE): Status.CLOSED,
    (Status.CLOSED, Move.REOPEN): Status.OPEN,
    (Status.CLOSED, Move.NOTE): Status.CLOSED,
    (Status.CLOSED, Move.AGENT_WROTE): Status.OPEN,
}


class TicketError(Exception):
    """An illegal move; `str(error)` is the French sentence for the mediator who asked."""

    def __init__(self, *, number: TicketNumber, status: Status, move: Move, message: str):
        self.number, self.status, self.move = number, status, move
        super().__init__(message)


@dataclass(frozen=True, kw_only=True)
class Ticket:
    """One request handed to mediators. Times are aware datetimes; `mark` is the agent's 1-5."""

    number: TicketNumber
    agent: UserID
    agent_name: str | None
    room: RoomID
    status: Status
    topic: str | None
    reason: str
    fields: dict[str, str] = field(default_factory=dict)
    transcript: tuple[TranscriptLine, ...] = ()
    assignee: UserID | None = None
    assignee_name: str | None = None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    reopened_at: datetime | None = None
    first_reply_at: datetime | None = None
    mark: int | None = None
    last_reminder: datetime | None = None


def new_ticket(*, number: TicketNumber, agent: UserID, room: RoomID, reason: str, now: datetime,
               agent_name: str | None = None, topic: str | None = None,
               fields: dict[str, str] | None = None,
               transcript: tuple[TranscriptLine, ...] = ()) -> Ticket:
    return Ticket(number=number, agent=agent, agent_name=agent_name, room=room, status=Status.OPEN,
                  topic=topic, reason=reason, fields=dict(fields or {}), transcript=transcript,
                  opened_at=now, updated_at=now)


# --- Moves ------------------------------------------------------------------------------------

def _check(ticket: Ticket, move: Move, by: UserID | None = None) -> Status:
    """The state after `move`, or the TicketError a mediator reads."""
    new = TRANSITIONS.get((ticket.status, move))
    if new is not None:
        return new
    if ticket.status is Status.TAKEN and move is Move.TAKE and by == ticket.assignee:
        key = "illegal_taken_take_self"
    else:
        key = f"illegal_{ticket.status.value}_{move.value}"
    message = say(f"tickets.{key}", number=ticket.number, name=_assignee(ticket))
    raise TicketError(number=ticket.number, status=ticket.status, move=move, message=message)


def _assignee(ticket: Ticket) -> str:
    return ticket.assignee_name or ticket.assignee or say("tickets.someone")


def take(ticket: Ticket, *, mediator: UserID, name: str | None, now: datetime) -> Ticket:
    status = _check(ticket, Move.TAKE, by=mediator)
    return replace(ticket, status=status, assignee=mediator, assignee_name=name, updated_at=now)


def assign(ticket: Ticket, *, to: UserID, name: str | None, now: datetime) -> Ticket:
    status = _check(ticket, Move.ASSIGN)
    return replace(ticket, status=status, assignee=to, assignee_name=name, updated_at=now)


def reply(ticket: Ticket, *, mediator: UserID, name: str | None, now: datetime) -> Ticket:
    """A mediator answers the agent: answering an open ticket takes it, so nobody answers twice."""
    status = _check(ticket, Move.REPLY)
    first = ticket.first_reply_at or now
    if ticket.assignee is None:
        ticket = replace(ticket, assignee=mediator, assignee_name=name)
    return replace(ticket, status=status, first_reply_at=first, updated_at=now)


def note(ticket: Ticket, *, now: datetime) -> Ticket:
    """A note is for mediators only; it keeps the state but counts as activity."""
    return replace(ticket, status=_check(ticket, Move.NOTE), updated_at=now)


def close(ticket: Ticket, *, now: datetime) -> Ticket:
    return replace(ticket, status=_check(ticket, Move.CLOSE), closed_at=now, updated_at=now)


def reopen(ticket: Ticket, *, now: datetime) -> Ticket:
    """Back to `open` with no assignee, so the reminders pick it up again; the next close asks
    for a new mark (the audit trail keeps the old one)."""
    status = _check(ticket, Move.REOPEN)
    return replace(ticket, status=status, assignee=None, assignee_name=None, mark=None,
                   closed_at=None, reopened_at=now, updated_at=now)


def agent_wrote(ticket: Ticket, *, now: datetime, reopen_days: int) -> Ticket | None:
    """The agent wrote again. A closed ticket reopens within `reopen_days` of its closing;
    after that None: the message is a new request and deserves a new ticket."""
    if ticket.status is Status.CLOSED:
        if ticket.closed_at is None or now - ticket.closed_at > timedelta(days=reopen_days):
            return None
        status = _check(ticket, Move.AGENT_WROTE)
        return replace(ticket, status=status, assignee=None, assignee_name=None, mark=None,
                       closed_at=None, reopened_at=now, updated_at=now)
    return replace(ticket, status=_check(ticket, Move.AGENT_WROTE), updated_at=now)


def autoclose(ticket: Ticket, *, now: datetime, autoclose_days: int) -> Ticket | None:
    """Closed after `autoclose_days` without any move; None while it is still alive or closed."""
    if ticket.status is Status.CLOSED or now - ticket.updated_at < timedelta(days=autoclose_days):
        return None
    return replace(ticket, status=_check(ticket, Move.AUTOCLOSE), closed_at=now, updated_at=now)


# --- Reminders --------------------------------------------------------------------------------

def needs_reminder(ticket: Ticket, now: datetime, last_reminder: datetime | None, config: Config) -> bool:
    """Remind the mediators' room of an open ticket nobody took: first after
    `reminder_after_minutes` of waiting, then every `reminder_every_minutes`, both counted in
    working time, and only during working hours (nobody reads a reminder at night; a ticket
    opened at 17:20 is reminded of the next morning at 8:50, not at 8:30)."""
    hours = config.working_hours
    if ticket.status is not Status.OPEN or not is_open(now, hours):
        return False
    waiting_since = ticket.reopened_at or ticket.opened_at
    if not overdue(ticket, now, config):
        return False
    if last_reminder is None or last_reminder < waiting_since:
        return True
    return working_time(last_reminder, now, hours) >= timedelta(minutes=config.reminder_every_minutes)


def waited(ticket: Ticket, now: datetime, config: Config) -> timedelta:
    """Working time since the ticket (re)opened: what `!tickets` shows and the reminders count."""
    return working_time(ticket.reopened_at or ticket.opened_at, now, config.working_hours)


def overdue(ticket: Ticket, now: datetime, config: Config) -> bool:
    """Nobody took it and it waited past `reminder_after_minutes` of working time."""
    return (ticket.status is Status.OPEN
            and waited(ticket, now, config) >= timedelta(minutes=config.reminder_after_minutes))


# --- Card -------------------------------------------------------------------------------------

ORGANISATION = re.compile(r"\s*\[[^\]]*\]\s*$")


NAME_CHARS = 60


def display_name(name: str | None, user: UserID) -> str:
    """Tchap names end with " [Organisation]"; mediators know the people, not the suffix.
    A name is one short line: anyone can set theirs, so it must not pass for a line of a card."""
    cleaned = ORGANISATION.sub("", " ".join(safe_text(name or "").split())).strip()
    return cleaned[:NAME_CHARS] or user


def card_text(ticket: Ticket) -> str:
    """What the mediators' room shows for a ticket: a header line, the transcript, the fields."""
    header = say("tickets.card_header", number=ticket.number,
                 name=verbatim(display_name(ticket.agent_name, ticket.agent)), user=verbatim(ticket.agent),
                 topic=ticket.topic or say("tickets.no_topic"), reason=verbatim(ticket.reason))
    lines = [header]
    lines += [say("tickets.card_line", time=paris(line.time).strftime("%H:%M"),
                  author=say(f"tickets.author_{line.author}"),
                  text=verbatim(line.text) if line.author == "agent" else _gist(line.text))
              for line in ticket.transcript]
    lines += [say("tickets.card_field", name=name, value=verbatim(value)) for name, value in ticket.fields.items()]
    return "\n".join(lines)


def _gist(text: str, chars: int = 90) -> str:
    """The bot's own lines on a card: their first line is enough to follow (mediators read on phones);
    the agent's words are always shown whole."""
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= chars and first == text.strip() else first[:chars].rstrip() + " …"


# --- Statistics -------------------------------------------------------------------------------

def stats(tickets: Iterable[Ticket], now: datetime, agents_seen: Iterable[datetime] = ()) -> dict[str, object]:
    """Counts for today and this week (Paris days, weeks from Monday), medians as timedeltas,
    the mean mark; None where there is nothing to measure yet. `agents_seen` is each agent's last
    message: this week's agents against those of them who needed a human gives the share."""
    tickets = list(tickets)
    today = paris(now).date()
    monday = today - timedelta(days=today.weekday())

    def since(moment: datetime | None, start) -> bool:
        return moment is not None and start <= paris(moment).date() <= today

    replies = [t.first_reply_at - t.opened_at for t in tickets if t.first_reply_at]
    closes = [t.closed_at - t.opened_at for t in tickets if t.closed_at]
    marks = [t.mark for t in tickets if t.mark is not None]
    return {
        "opened_today": sum(since(t.opened_at, today) for t in tickets),
        "opened_week": sum(since(t.opened_at, monday) for t in tickets),
        "closed_today": sum(since(t.closed_at, today) for t in tickets),
        "closed_week": sum(since(t.closed_at, monday) for t in tickets),
        "open_now": sum(t.status is not Status.CLOSED for t in tickets),
        "median_first_reply": statistics.median(replies) if replies else None,
        "median_close": statistics.median(closes) if closes else None,
        "mean_mark": statistics.fmean(marks) if marks else None,
        "agents_week": sum(since(seen, monday) for seen in agents_seen),
        "agents_helped_week": len({t.agent for t in tickets if since(t.opened_at, monday)}),
    }
