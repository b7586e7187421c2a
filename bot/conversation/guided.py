"""A guided flow inside the conversation: starting it from its FAQ entry, and what each end leads to.

bot/conversation/flows/ runs the steps (questions, "annuler", "retour", answers it cannot read); this module
turns each `FlowTurn` into what the agent sees and what the conversation remembers:

    continue   the flow's messages; the FlowState is kept for the next message
    answer     the flow's messages, the last one with "Est-ce que cela répond ... ?" (feedback)
    ticket     the flow's messages, and an OpenTicket with the flow's reason and fields
    cancelled  the flow's short acknowledgement
    mediator   the flow could not read two answers: a mediator is offered, one "oui" away,
               and the ticket will carry what the flow had collected
"""
from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from .state import ActiveFlow, ConversationState, Pending, Result, Turn
from ..answering.faq import Entry
from .flows import FlowTurn, Outcome, advance, start
from .knowledge import Knowledge
from ..messages import Action, FlowEvent, OpenTicket
from ..texts import language, say


class Engine(Protocol):
    """What a flow needs of the engine that runs it (bot/conversation/engine.py's Engine passes itself).

    Declared here rather than imported, so that the engine depends on this module and not the reverse.
    """

    knowledge: Knowledge

    def answered(self, state: ConversationState, turn: Turn, topic: str, text: str) -> Result: ...

    def ticket(self, state: ConversationState, turn: Turn, *, reason: str, topic: str | None,
               fields: dict[str, str]) -> OpenTicket: ...

END_EVENTS = {Outcome.ANSWER: "finished", Outcome.TICKET: "finished",
              Outcome.CANCELLED: "cancelled", Outcome.MEDIATOR: "cancelled"}


def start_flow(engine: Engine, state: ConversationState, turn: Turn, entry: Entry) -> Result:
    """Say the entry's intro, then the flow's first messages (usually its first question)."""
    flow = engine.knowledge.flows.get(entry.flow or "")
    if flow is None:  # only with a Knowledge that skipped the checks (tests); build_engine refuses it
        return replace(state, pending=None), [turn.reply(say("conversation.flow_failed"))]
    intro = [turn.reply(entry.answer_in(language()))] if entry.answer else []
    if language() != "fr":  # flows are written in French: say so, and how to reach a person
        intro.append(turn.reply(say("conversation.flow_in_french")))
    started = FlowEvent(agent=turn.incoming.sender, flow=flow.id, event="started")
    state = replace(state, pending=None, misses=0)
    state, actions = _after(engine, state, turn, entry.id, flow.id, start(flow, turn.now, turn.text))
    return state, [started, *intro, *actions]


def continue_flow(engine: Engine, state: ConversationState, turn: Turn) -> Result:
    """Hand the message to the flow runner; a flow that vanished from flows/ is dropped politely."""
    active = state.flow
    assert active is not None
    flow = engine.knowledge.flows.get(active.state.flow)
    if flow is None:
        event = FlowEvent(agent=turn.incoming.sender, flow=active.state.flow, event="cancelled")
        return replace(state, flow=None), [turn.reply(say("conversation.flow_failed")), event]
    return _after(engine, state, turn, active.entry, flow.id, advance(flow, active.state, turn.text, turn.now))


def _after(engine: Engine, state: ConversationState, turn: Turn, topic: str, flow_id: str,
           result: FlowTurn) -> Result:
    replies: list[Action] = [turn.reply(text) for text in result.messages]
    if result.outcome is Outcome.CONTINUE and result.state is not None:
        return replace(state, flow=ActiveFlow(entry=topic, state=result.state)), replies
    state = replace(state, flow=None)
    ended = FlowEvent(agent=turn.incoming.sender, flow=flow_id, event=END_EVENTS.get(result.outcome, "cancelled"))
    if result.outcome is Outcome.ANSWER:
        *before, last = result.messages or ("",)
        state, answer = engine.answered(state, turn, topic, last)
        return state, [*(turn.reply(text) for text in before), *answer, ended]
    if result.outcome is Outcome.TICKET and result.ticket is not None:
        ticket = engine.ticket(state, turn, reason=result.ticket.reason, topic=topic, fields=result.ticket.fields)
        return replace(state, pending=None, misses=0), [*replies, ticket, ended]
    if result.outcome is Outcome.MEDIATOR:
        context = result.ticket
        offer = Pending(kind="offer", since=turn.now, topic=topic,
                        reason=context.reason if context else say("conversation.reason_flow_stuck", title=topic),
                        fields=dict(context.fields) if context else {})
        return replace(state, pending=offer, misses=1), [*replies, turn.reply(say("conversation.flow_offer")), ended]
    return replace(state, pending=None), [*replies, ended]
