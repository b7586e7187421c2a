"""What the mediators' desk reads before a decision (`Ledger`) and what it decides (`Decision`).

The store builds a `Ledger` inside its write transaction, the pure desk (bot/desk/desk.py) turns it
and one incoming message (or the clock) into a `Decision`, and the store writes that decision in
the same transaction: a fresh read and its write cannot be split by another turn, so two
mediators typing `!prendre 12` at once give one owner and one "déjà pris".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..messages import Action, EventID, UserID
from .tickets import Status, Ticket, TicketNumber


@dataclass(frozen=True, kw_only=True)
class HistoryLine:
    """One line of a ticket's history (`!ticket 12`): a message, a note or a status change."""

    time: datetime
    kind: str  # transcript | agent | mediator | note | audit
    author: str | None
    text: str


SEARCH_LIMIT = 10  # tickets one `!cherche` lists: the store's best-ranked, then the newest


@dataclass(frozen=True, kw_only=True)
class SearchHit:
    """A ticket `!cherche` found, with the words around the match ("" when the match is its agent or topic)."""

    ticket: TicketNumber
    extract: str


@dataclass(frozen=True, kw_only=True)
class Ledger:
    """Every ticket (light rows: no transcript), and what the turn at hand needs besides."""

    tickets: dict[TicketNumber, Ticket] = field(default_factory=dict)
    next_number: TicketNumber = 1
    replied: TicketNumber | None = None  # the ticket of the message the incoming one replies to
    history: tuple[HistoryLine, ...] = ()  # of the ticket a `!ticket N` asks for
    state: dict | None = None  # the agent's conversation state (agent turns only)
    agents_seen: tuple[datetime, ...] = ()  # each agent's last message (only for `!stats`)
    found: tuple[SearchHit, ...] = ()  # what the store's search index found (only for `!cherche`)
    decisions: tuple = ()  # the decision log's rows still holding words (only for `!lacunes`)

    def of_agent(self, agent: UserID) -> list[Ticket]:
        """The agent's tickets, newest first."""
        return sorted((t for t in self.tickets.values() if t.agent == agent), key=lambda t: -t.number)

    def active(self) -> list[Ticket]:
        """Open and taken tickets, oldest first."""
        return sorted((t for t in self.tickets.values() if t.status is not Status.CLOSED), key=lambda t: t.number)


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One status change of a ticket: who did what, when (the audit trail)."""

    ticket: TicketNumber
    who: str
    move: str
    time: datetime
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Decision:
    """Everything one turn changes: tickets to write, the audit trail, links, actions, state.

    `links` ties incoming events (a mediator's reply, an agent's message) to their ticket, so a
    later rich reply to them finds it. `warnings` are logged by the caller (refused commands).
    """

    tickets: tuple[Ticket, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    links: tuple[tuple[EventID, TicketNumber], ...] = ()
    actions: tuple[Action, ...] = ()
    state: dict | None = None
    warnings: tuple[str, ...] = ()
    time: datetime | None = None  # when it happened (the message's time): the time of its messages
