"""The mediators' room, pure: commands (`!prendre 12`...) and replies relayed to the agent.

    message in the room ──► parse_command (number from the text, or from the replied card)
       not a command, not a reply to a ticket message ──► chat between mediators: ignored
       sender not a mediator ──► a polite refusal (and a warning in the log)
       a plain rich reply to a ticket message ──► `!r` on that ticket: relayed to the agent
       a command ──► its handler below; a TicketError or an unknown ticket is answered as is

Mediators are `config.mediators`, plus the room's members when `mediators_from_room` is set.
What the agent reads is signed with the mediator's display name, without Tchap's " [Organisation]".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

from ..config import Config
from .hours import age_text, date_text
from .ledger import SEARCH_LIMIT, AuditEntry, Decision, Ledger
from ..messages import Action, Incoming, RelayToAgent, Reply, StoreNote
from ..safetext import safe_text, safe_value
from ..answering.gaps import find_gaps, render_short
from ..texts import say
from ..verbatim import verbatim
from .commands import Command, Verb, plain, parse_command
from .tickets import (Status, Ticket, TicketError, assign, card_text, close, display_name, note, overdue, reopen,
                      reply, stats, take, waited)


class Desk(Protocol):
    """What the handlers read of the desk (bot/desk/desk.py's Desk passes itself): declared here, not imported,
    so that the desk depends on this module and not the reverse."""

    config: Config
    canned: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class MediatorsRoom:
    """What the Matrix layer knows of the mediators' room: its members and their display names."""

    members: frozenset[str] = frozenset()
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:  # display names are anyone's text: safe at the edge (bot/safetext.py)
        object.__setattr__(self, "members", frozenset(map(safe_text, self.members)))
        object.__setattr__(self, "names", safe_value(self.names))


class NotFound(Exception):
    """A command named a ticket that does not exist; the message is the French answer."""


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One mediator's message being handled, with what every handler needs."""

    desk: Desk
    ledger: Ledger
    incoming: Incoming
    room: MediatorsRoom

    @property
    def name(self) -> str:
        return display_name(self.incoming.sender_name, self.incoming.sender)

    def ticket(self, number: int | None) -> Ticket:
        ticket = self.ledger.tickets.get(number or 0)
        if ticket is None:
            raise NotFound(say("tickets.not_found", number=number))
        return ticket

    def answer(self, text: str) -> Reply:
        return Reply(room=self.incoming.room, text=text, reply_to=self.incoming.event_id)

    def audit(self, ticket: Ticket, move: str, detail: str = "") -> AuditEntry:
        return AuditEntry(ticket=ticket.number, who=self.incoming.sender, move=move, detail=detail,
                          time=self.incoming.time)

    def is_mediator(self, user: str) -> bool:
        config = self.desk.config
        return user in config.mediators or (config.mediators_from_room and user in self.room.members)


def handle(desk: Desk, ledger: Ledger, incoming: Incoming, room: MediatorsRoom) -> Decision:
    turn = Turn(desk=desk, ledger=ledger, incoming=incoming, room=room)
    command = parse_command(incoming.text, ledger.replied) if incoming.media is None else None
    if command is None and ledger.replied is None:
        return Decision()
    if not turn.is_mediator(incoming.sender):
        return Decision(actions=(turn.answer(say("tickets.refused")),),
                        warnings=(f"{incoming.sender} is not a mediator: refused their "  # never their words
                                  f"{'!' + command.verb.value if command else 'reply'} in {incoming.event_id}",))
    if command is None:
        command = Command(verb=Verb.REPLY, ticket=ledger.replied, text=incoming.text)
    try:
        return HANDLERS[command.verb](turn, command)
    except (TicketError, NotFound) as error:
        return Decision(actions=(turn.answer(str(error)),))


# --- Handlers, one per verb ----------------------------------------------------------------------

def _help(turn: Turn, command: Command) -> Decision:
    text = say("tickets.help")
    return Decision(actions=(turn.answer(f"{command.problem}\n\n{text}" if command.problem else text),))


def _take(turn: Turn, command: Command) -> Decision:
    ticket = turn.ticket(command.ticket)
    moved = take(ticket, mediator=turn.incoming.sender, name=turn.name, now=turn.incoming.time)
    return Decision(tickets=(moved,), audit=(turn.audit(ticket, "take"),),
                    actions=(turn.answer(say("tickets.taken_room", number=ticket.number, name=turn.name)),
                             Reply(room=ticket.room, text=say("tickets.taken_agent", number=ticket.number,
                                                              name=turn.name))))


def _reply(turn: Turn, command: Command, text: str | None = None) -> Decision:
    ticket = turn.ticket(command.ticket)
    incoming = turn.incoming
    moved = reply(ticket, mediator=incoming.sender, name=turn.name, now=incoming.time)
    body = text if text is not None else command.text
    relay = RelayToAgent(ticket=ticket.number, room=ticket.room, author=incoming.sender, body=body,
                         media=incoming.media, text=say("tickets.relay_to_agent", name=turn.name, text=body),
                         source_event=incoming.event_id)
    actions: list[Action] = [relay]
    audit = []
    if ticket.status is Status.OPEN:  # answering a free ticket takes it: say so, nobody answers twice
        audit.append(turn.audit(ticket, "reply"))
        actions.append(turn.answer(say("tickets.taken_room", number=ticket.number, name=turn.name)))
    return Decision(tickets=(moved,), audit=tuple(audit), links=((incoming.event_id, ticket.number),),
                    actions=tuple(actions))


def _reply_canned(turn: Turn, command: Command) -> Decision:
    text = turn.desk.canned.get(command.canned or "")
    if text is None:
        return Decision(actions=(turn.answer(say("tickets.canned_unknown", name=command.canned)),))
    return _reply(turn, command, text)


def _note(turn: Turn, command: Command) -> Decision:
    ticket = turn.ticket(command.ticket)
    incoming = turn.incoming
    moved = note(ticket, now=incoming.time)
    stored = StoreNote(ticket=ticket.number, author=incoming.sender, text=command.text, time=incoming.time,
                       source_event=incoming.event_id)
    return Decision(tickets=(moved,), links=((incoming.event_id, ticket.number),),
                    actions=(stored, turn.answer(say("tickets.note_saved", number=ticket.number))))


def _close(turn: Turn, command: Command) -> Decision:
    ticket = turn.ticket(command.ticket)
    moved = close(ticket, now=turn.incoming.time)
    return Decision(tickets=(moved,), audit=(turn.audit(ticket, "close"),),
                    actions=(turn.answer(say("tickets.closed_room", number=ticket.number, name=turn.name)),
                             Reply(room=ticket.room, text=say("tickets.closed_agent", number=ticket.number))))


def _reopen(turn: Turn, command: Command) -> Decision:
    ticket = turn.ticket(command.ticket)
    moved = reopen(ticket, now=turn.incoming.time)
    return Decision(tickets=(moved,), audit=(turn.audit(ticket, "reopen"),),
                    actions=(turn.answer(say("tickets.reopened_room", number=ticket.number, name=turn.name)),
                             Reply(room=ticket.room, text=say("tickets.reopened_by_mediator_agent",
                                                              number=ticket.number, name=turn.name))))


def _assign(turn: Turn, command: Command) -> Decision:
    ticket = turn.ticket(command.ticket)
    target = command.user or ""
    if not turn.is_mediator(target):
        return Decision(actions=(turn.answer(say("tickets.assign_not_mediator", user=target, number=ticket.number)),))
    name = display_name(turn.room.names.get(target), target)
    moved = assign(ticket, to=target, name=name, now=turn.incoming.time)
    return Decision(tickets=(moved,), audit=(turn.audit(ticket, "assign", target),),
                    actions=(turn.answer(say("tickets.assigned_room", number=ticket.number, name=name, by=turn.name)),
                             Reply(room=ticket.room, text=say("tickets.assigned_agent", number=ticket.number,
                                                              name=name))))


def _list(turn: Turn, command: Command) -> Decision:
    active = turn.ledger.active()
    if not active:
        return Decision(actions=(turn.answer(say("tickets.list_none")),))
    lines = [say("tickets.list_intro"), *active_lines(active, turn.incoming.time, turn.desk.config)]
    return Decision(actions=(turn.answer("\n".join(lines)),))


def _mine(turn: Turn, command: Command) -> Decision:
    """`!mes-tickets`: what the mediator who asks has taken and not closed."""
    mine = [t for t in turn.ledger.active() if t.assignee == turn.incoming.sender]
    if not mine:
        return Decision(actions=(turn.answer(say("tickets.mine_none")),))
    lines = [say("tickets.mine_intro"), *active_lines(mine, turn.incoming.time, turn.desk.config)]
    return Decision(actions=(turn.answer("\n".join(lines)),))


def active_lines(active: list[Ticket], now: datetime, config: Config) -> list[str]:
    """One line per open or taken ticket, the longest waiting first: its wait in working time,
    agent, topic, owner; a ticket nobody took past the reminder delay is marked."""
    lines = []
    for t in sorted(active, key=lambda t: t.reopened_at or t.opened_at):
        owner = (say("tickets.owner_taken", name=t.assignee_name or t.assignee) if t.assignee
                 else say("tickets.owner_free"))
        line = say("tickets.list_line", number=t.number, age=age_text(waited(t, now, config)),
                   name=display_name(t.agent_name, t.agent), topic=t.topic or t.reason, owner=owner)
        lines.append(say("tickets.list_overdue", line=line) if overdue(t, now, config) else line)
    return lines


def _search(turn: Turn, command: Command) -> Decision:
    """`!cherche MOTS`: tickets whose messages, agent or topic hold every word (the store's index),
    and those whose topic title holds them (« !cherche pointage » finds badge.forgot_punch)."""
    words = [w for w in (plain(w) for w in command.text.split()) if len(w) >= 2]
    tickets = turn.ledger.tickets
    found = {hit.ticket: hit.extract for hit in turn.ledger.found if hit.ticket in tickets}
    for ticket in tickets.values():
        title = plain(turn.desk.titles.get(ticket.topic or "", ""))
        if words and ticket.number not in found and all(w in title for w in words):
            found[ticket.number] = ""
    if not found:
        return Decision(actions=(turn.answer(say("tickets.search_none", words=command.text)),))
    lines = [say("tickets.search_intro", words=command.text)]
    for number in sorted(found, reverse=True)[:SEARCH_LIMIT]:
        t = tickets[number]
        line = say("tickets.search_line", number=number, date=date_text(t.opened_at),
                   name=display_name(t.agent_name, t.agent), topic=t.topic or t.reason,
                   status=say(f"tickets.show_status_{t.status.value}", name=t.assignee_name or t.assignee))
        lines.append(f"{line}\n  « {found[number]} »" if found[number] else line)
    return Decision(actions=(turn.answer("\n".join(lines)),))


def _show(turn: Turn, command: Command) -> Decision:
    ticket = turn.ticket(command.ticket)
    status = say(f"tickets.show_status_{ticket.status.value}", name=ticket.assignee_name or ticket.assignee)
    lines = [card_text(ticket), say("tickets.show_summary", status=status, date=date_text(ticket.opened_at))]
    if ticket.mark is not None:
        lines.append(say("tickets.show_mark", mark=ticket.mark))
    if turn.ledger.history:
        lines.append(say("tickets.show_history"))
    lines += [say("tickets.history_line", date=date_text(line.time), who=_who(turn, ticket, line.kind, line.author),
                  text=verbatim(_history_text(line.kind, line.text))) for line in turn.ledger.history]
    # linked: the answer shows the agent's words, so erasing the ticket finds it (bot/storage/erasure.py)
    return Decision(links=((turn.incoming.event_id, ticket.number),), actions=(turn.answer("\n".join(lines)),))


def _history_text(kind: str, text: str) -> str:
    """An audit line is stored as "move detail": the move is read out in French."""
    if kind != "audit":
        return text
    move, _, detail = text.partition(" ")
    return f"{say(f'tickets.move_{move}')} {detail}".strip()


def _who(turn: Turn, ticket: Ticket, kind: str, author: str | None) -> str:
    """Names, not ids: the agent's from the ticket, the mediators' as the room shows them."""
    author = author or ""
    known = ticket.agent_name if author == ticket.agent else turn.room.names.get(author)
    name = display_name(known, author)
    if kind == "note":
        return say("tickets.history_note", name=name)
    if kind == "audit":
        return say("tickets.history_audit", name=name)
    if kind == "transcript":
        return say(f"tickets.author_{author}")
    return name


def _canned(turn: Turn, command: Command) -> Decision:
    canned = turn.desk.canned
    if not canned:
        return Decision(actions=(turn.answer(say("tickets.canned_none")),))
    lines = [say("tickets.canned_intro")]
    lines += [say("tickets.canned_line", name=name, preview=_preview(text)) for name, text in canned.items()]
    return Decision(actions=(turn.answer("\n".join(lines)),))


def _preview(text: str, chars: int = 70) -> str:
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= chars else first[: chars - 1] + "…"


def _stats(turn: Turn, command: Command) -> Decision:
    values = stats(turn.ledger.tickets.values(), turn.incoming.time, turn.ledger.agents_seen)
    agents, helped = values["agents_week"], values["agents_helped_week"]
    values["human_share"] = (say("tickets.human_share", percent=round(100 * helped / agents), helped=helped, agents=agents)
                             if agents else say("tickets.nothing_yet"))
    for key in ("median_first_reply", "median_close"):
        values[key] = age_text(values[key]) if isinstance(values[key], timedelta) else say("tickets.nothing_yet")
    mean = values["mean_mark"]
    values["mean_mark"] = f"{mean:.1f}/5".replace(".", ",") if mean is not None else say("tickets.nothing_yet")
    return Decision(actions=(turn.answer(say("tickets.stats", **values)),))


def _gaps(turn: Turn, command: Command) -> Decision:
    return Decision(actions=(turn.answer(render_short(find_gaps(turn.ledger.decisions, terms=turn.desk.terms))),))


HANDLERS: dict[Verb, Callable[[Turn, Command], Decision]] = {
    Verb.HELP: _help, Verb.TAKE: _take, Verb.NOTE: _note, Verb.CLOSE: _close, Verb.REOPEN: _reopen,
    Verb.ASSIGN: _assign, Verb.LIST: _list, Verb.SHOW: _show, Verb.CANNED: _canned,
    Verb.REPLY_CANNED: _reply_canned, Verb.REPLY: _reply, Verb.STATS: _stats, Verb.MINE: _mine,
    Verb.SEARCH: _search,
    Verb.GAPS: _gaps,
}
