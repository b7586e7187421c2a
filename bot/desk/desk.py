"""The mediators' desk, pure: tickets, the agent's side of them, and the clock's moves.

    agent message ──► "mes demandes"?            ──► the agent's own tickets
                  ──► latest ticket open/taken?  ──► relayed to the mediators (reply to the card)
                  ──► closed within reopen_days? ──► a lone 1-5 is the mark, anything else reopens
                  ──► otherwise the conversation engine; an OpenTicket it returns becomes a
                      numbered ticket, its card in the mediators' room, and one sentence telling
                      the agent when a mediator will answer (bot/desk/hours.py)
    mediators' room ──► bot/desk/room.py; a mediator joining gets the list of open tickets
    clock tick      ──► autoclose after autoclose_days, reminders of tickets nobody took

Every method takes a `Ledger` (read by the store inside its write transaction) and returns a
`Decision` for the store to write in that same transaction. No I/O, no clock: time comes in.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable

from . import room as desk_commands
from ..conversation import intents
from ..conversation.state import ConversationState
from ..config import Config
from .room import MediatorsRoom
from .hours import age_text, paris, when_text
from .ledger import AuditEntry, Decision, Ledger
from ..answering.lexicon import surface
from ..messages import Action, Incoming, OpenTicket, PostCard, RecordDecision, Reply, ToMediators
from ..texts import say, speaking, words
from ..verbatim import verbatim
from .commands import Verb, parse_command
from ..answering.faq import catalogue_titles
from ..answering.gaps import Terms
from .tickets import (Status, Ticket, TicketNumber, agent_wrote, autoclose, card_text, display_name,
                      needs_reminder, new_ticket, waited)

EngineTurn = Callable[[dict | None, Incoming], tuple[dict, list[Action]]]
MARK = re.compile(r"\s*([1-5])\s*(?:/\s*5)?\s*(?:[.!]*)\s*")
BOT = "bot"


def _about_own_data(state: dict | None, text: str) -> bool:
    """« mes données », « effacer mes données » and its oui / non go to the engine, never to a mediator."""
    return intents.asks_my_data(text) or intents.asks_erasure(text) or ConversationState.confirming_erasure(state)


class Desk:
    """Holds what does not change between turns (config, canned replies); every method is pure."""

    def __init__(self, config: Config, canned: dict[str, str] | None = None, titles: dict[str, str] | None = None,
                 terms: Terms | None = None):
        self.config = config
        self.canned = dict(canned or {})
        self.titles = dict(catalogue_titles() if titles is None else titles)  # topic id -> what agents read
        self.terms = terms or Terms()  # how `!lacunes` groups messages without vectors (the lexicon's words)

    def topic_title(self, ticket: Ticket) -> str:
        """What an agent reads for a ticket's topic: its title, never an id like badge.forgot_punch."""
        return self.titles.get(ticket.topic or "") or ticket.reason

    # --- the agent's side

    def agent_turn(self, ledger: Ledger, incoming: Incoming, engine: EngineTurn) -> Decision:
        decided = replace(self._agent_turn(ledger, incoming, engine), time=incoming.time)
        if any(isinstance(a, RecordDecision) for a in decided.actions):
            return decided
        outcome = "ticket_message" if decided.tickets else "desk"  # the decision log counts every message
        record = RecordDecision(agent=incoming.sender, time=incoming.time, outcome=outcome)
        return replace(decided, actions=(*decided.actions, record))

    def _agent_turn(self, ledger: Ledger, incoming: Incoming, engine: EngineTurn) -> Decision:
        if self._asks_my_requests(incoming.text):
            return Decision(actions=(Reply(room=incoming.room, text=self._my_requests(ledger, incoming.sender)),))
        latest = next(iter(ledger.of_agent(incoming.sender)), None)
        if latest is not None and not _about_own_data(ledger.state, incoming.text):
            decided = self._to_ticket(latest, incoming)
            if decided is not None:
                return decided
        if incoming.media is not None:
            return Decision(actions=(Reply(room=incoming.room, text=say("tickets.media_without_ticket")),))
        state, actions = engine(ledger.state, incoming)
        return self._open_tickets(ledger, incoming, state, actions)

    def _asks_my_requests(self, text: str) -> bool:
        said = " ".join(surface(text))
        return bool(said) and any(said == " ".join(surface(w)) for w in words("tickets.my_requests_words"))

    def _my_requests(self, ledger: Ledger, agent: str) -> str:
        tickets = ledger.of_agent(agent)
        if not tickets:
            return say("tickets.my_requests_none")
        lines = [say("tickets.my_requests_intro")]
        for t in tickets:
            status = say(f"tickets.agent_status_{t.status.value}", name=t.assignee_name or say("tickets.someone"))
            lines.append(say("tickets.my_requests_line", number=t.number, topic=self.topic_title(t),
                             status=status, date=paris(t.opened_at).strftime("%d/%m/%Y")))
        return "\n".join(lines)

    def _to_ticket(self, ticket: Ticket, incoming: Incoming) -> Decision | None:
        """The agent's message, when it belongs to their latest ticket; None when it starts anew."""
        now = incoming.time
        if ticket.status is Status.CLOSED:
            mark = MARK.fullmatch(incoming.text)
            recent = ticket.closed_at and now - ticket.closed_at <= timedelta(days=self.config.reopen_days)
            if mark and recent and ticket.mark is None and incoming.media is None:
                return self._marked(ticket, int(mark[1]), incoming)
        moved = agent_wrote(ticket, now=now, reopen_days=self.config.reopen_days)
        if moved is None:
            return None
        relay = self._relay(moved, incoming)
        if ticket.status is not Status.CLOSED:
            return Decision(tickets=(moved,), links=((incoming.event_id, ticket.number),), actions=(relay,))
        told = Reply(room=incoming.room, text=say("tickets.reopened_agent", number=ticket.number,
                                                  when=when_text(now, self.config.working_hours)))
        notice = ToMediators(text=say("tickets.reopened_by_agent_room", number=ticket.number), ticket=ticket.number)
        audit = AuditEntry(ticket=ticket.number, who=incoming.sender, move="reopen", time=now)
        return Decision(tickets=(moved,), audit=(audit,), links=((incoming.event_id, ticket.number),),
                        actions=(told, notice, relay))

    def _relay(self, ticket: Ticket, incoming: Incoming) -> ToMediators:
        name = display_name(incoming.sender_name or ticket.agent_name, incoming.sender)
        return ToMediators(text=say("tickets.relay_to_mediators", number=ticket.number, name=verbatim(name),
                                    text=verbatim(incoming.text)),
                           ticket=ticket.number, author=incoming.sender, body=incoming.text, media=incoming.media,
                           source_event=incoming.event_id)

    def _marked(self, ticket: Ticket, mark: int, incoming: Incoming) -> Decision:
        audit = AuditEntry(ticket=ticket.number, who=incoming.sender, move="mark", detail=str(mark), time=incoming.time)
        return Decision(tickets=(replace(ticket, mark=mark),), audit=(audit,),
                        actions=(Reply(room=incoming.room, text=say("tickets.mark_thanks", mark=mark)),
                                 ToMediators(text=say("tickets.mark_room", number=ticket.number, mark=mark),
                                             ticket=ticket.number)))

    def _open_tickets(self, ledger: Ledger, incoming: Incoming, state: dict, actions: list[Action]) -> Decision:
        """The engine's OpenTicket actions become numbered tickets: card, and when to expect an answer."""
        number = ledger.next_number
        tickets, audit, out = [], [], []
        for action in actions:
            if not isinstance(action, OpenTicket):
                out.append(action)
                continue
            ticket = new_ticket(number=number, agent=action.agent, room=action.room, reason=action.reason,
                                now=incoming.time, agent_name=action.agent_name, topic=action.topic,
                                fields=action.fields, transcript=action.transcript)
            tickets.append(ticket)
            audit.append(AuditEntry(ticket=number, who=action.agent, move="open", time=incoming.time))
            with speaking(action.language):  # the agent reads it in their language; the card stays French
                told = say("tickets.opened_agent", number=number, when=when_text(incoming.time, self.config.working_hours))
            out += [Reply(room=action.room, text=told),
                    PostCard(ticket=number, text=card_text(ticket))]
            number += 1
        links = ((incoming.event_id, tickets[0].number),) if tickets else ()
        return Decision(tickets=tuple(tickets), audit=tuple(audit), links=links, actions=tuple(out), state=state)

    # --- the mediators' room

    def mediator_turn(self, ledger: Ledger, incoming: Incoming, room: MediatorsRoom) -> Decision:
        return replace(desk_commands.handle(self, ledger, incoming, room), time=incoming.time)

    def mediator_joined(self, ledger: Ledger, user: str, name: str | None, now: datetime) -> Decision:
        """A mediator who joins cannot read what was said before (no past keys): list what is open."""
        if user not in self.config.mediators and not self.config.mediators_from_room:
            return Decision()
        active = ledger.active()
        if not active:
            return Decision()
        lines = [say("tickets.welcome_mediator", name=display_name(name, user)),
                 *desk_commands.active_lines(active, now, self.config), say("tickets.welcome_hint")]
        return Decision(actions=(ToMediators(text="\n".join(lines)),), time=now)

    @staticmethod
    def history_wanted(text: str) -> Callable[[TicketNumber | None], TicketNumber | None]:
        """For the store: which ticket's history a `!ticket N` needs, once the replied ticket is known."""
        def wanted(replied: TicketNumber | None) -> TicketNumber | None:
            command = parse_command(text, replied)
            return command.ticket if command is not None and command.verb is Verb.SHOW else None
        return wanted

    @staticmethod
    def gaps_wanted(text: str) -> bool:
        """For the store: `!lacunes` needs the decision log's words."""
        command = parse_command(text)
        return command is not None and command.verb is Verb.GAPS

    @staticmethod
    def stats_wanted(text: str) -> bool:
        """For the store: `!stats` needs every agent's last activity, other turns do not."""
        command = parse_command(text)
        return command is not None and command.verb is Verb.STATS

    @staticmethod
    def search_wanted(text: str) -> tuple[str, ...] | None:
        """For the store: the words a `!cherche` looks up in the search index; None for other turns."""
        command = parse_command(text)
        return tuple(command.text.split()) if command is not None and command.verb is Verb.SEARCH else None

    # --- the clock

    def tick(self, ledger: Ledger, now: datetime) -> Decision:
        """Autoclose tickets silent for autoclose_days; remind the room of tickets nobody took."""
        tickets, audit, actions = [], [], []
        days = self.config.autoclose_days
        for ticket in ledger.active():
            closed = autoclose(ticket, now=now, autoclose_days=days)
            if closed is not None:
                tickets.append(closed)
                audit.append(AuditEntry(ticket=ticket.number, who=BOT, move="autoclose", time=now))
                told = say("tickets.autoclosed_agent", number=ticket.number, days=days)
                actions += [Reply(room=ticket.room, text=told),
                            ToMediators(text=say("tickets.autoclosed_room", number=ticket.number, days=days),
                                        ticket=ticket.number)]
            elif needs_reminder(ticket, now, ticket.last_reminder, self.config):
                tickets.append(replace(ticket, last_reminder=now))
                age = age_text(waited(ticket, now, self.config))
                actions.append(ToMediators(text=say("tickets.reminder", number=ticket.number, age=age),
                                           ticket=ticket.number))
        return Decision(tickets=tuple(tickets), audit=tuple(audit), actions=tuple(actions), time=now)
