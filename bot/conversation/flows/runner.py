"""The pure flow runner: one agent's message in, one `FlowTurn` out; it never waits or sends.

`start` and `advance` take the time. `advance` first hears "annuler" and "retour", then reads the
answer to the pending question (bot/conversation/flows/answers.py). A good answer is stored in its field, the
question is pushed on the history (what "retour" pops), and `_walk` goes on: it says each step until
one asks a question (the flow waits) or ends it (an answer, or a ticket carrying the collected
fields). The next step is the chosen option's, else the first true condition's, else `next`. An answer
the bot cannot read is explained once with an example; the second (MAX_INVALID) offers a mediator.

Loading guaranteed the graph is sound (every target exists, no loop without a question), so the walk
needs no checks of its own. Texts show fields in French ("14 mars 2025") through `{field}`.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from ..dates import fold, french_date, french_month, french_time, months_ago
from ...answering.faq import fill
from ...texts import say
from .answers import command, months_of, read
from .model import AnswerType, Condition, Flow, FlowState, FlowTurn, Outcome, Step, Test, TicketRequest, Visit

MAX_INVALID = 2  # the second answer the bot cannot read hands over to a mediator


def start(flow: Flow, now: datetime) -> FlowTurn:
    """Begin `flow`: say its first steps, up to its first question (or its end)."""
    state = FlowState(flow=flow.id, step=flow.first, started=now, updated=now)
    return _walk(flow, state, flow.first, now)


def advance(flow: Flow, state: FlowState, text: str, now: datetime) -> FlowTurn:
    """Read the agent's answer to the pending question and move on (or back, or out)."""
    step = flow.steps.get(state.step)
    if state.flow != flow.id or step is None or step.question is None:
        return _cancelled("flows.stale")
    asked = command(text)
    if asked == "cancel":
        return _cancelled("flows.cancelled")
    if asked == "back":
        return _back(flow, state, now)
    value, reason = read(step, text, now.date())
    if value is None:
        return _invalid(flow, step, state, reason, now)
    fields = {**state.fields, step.field: value}
    moved = replace(state, fields=fields, history=state.history + (Visit(step=step.id, fields=state.fields),),
                    failures=0, updated=now)
    return _walk(flow, moved, _next(step, fields, value, now.date()), now)


def expired(state: FlowState, now: datetime, timeout_minutes: int) -> bool:
    """True when the agent has not answered for `timeout_minutes`: the flow is then dropped."""
    return now - state.updated > timedelta(minutes=timeout_minutes)


def _cancelled(key: str) -> FlowTurn:
    return FlowTurn(state=None, messages=(say(key),), outcome=Outcome.CANCELLED)


def _walk(flow: Flow, state: FlowState, step_id: str, now: datetime) -> FlowTurn:
    """Say steps until one waits for an answer or ends the flow; loading forbade loops without a question."""
    messages: list[str] = []
    for _ in range(len(flow.steps) + 1):
        step = flow.steps[step_id]
        if step.say:
            messages.append(_render(flow, step.say, state.fields))
        if step.answer is not None:
            messages.append(_render(flow, step.answer, state.fields))
            return FlowTurn(state=None, messages=tuple(messages), outcome=Outcome.ANSWER)
        if step.ticket is not None:
            if not step.say:
                messages.append(say("flows.ticket_sent"))
            ticket = TicketRequest(reason=_render(flow, step.ticket, state.fields),
                                   fields=_collected(state.fields, step.ticket_fields))
            return FlowTurn(state=None, messages=tuple(messages), outcome=Outcome.TICKET, ticket=ticket)
        if step.question is not None:
            messages.append(_ask(flow, step, state.fields))
            return FlowTurn(state=replace(state, step=step.id, failures=0), messages=tuple(messages))
        step_id = _next(step, state.fields, None, now.date())
    raise RuntimeError(f"flow {flow.id}: loop without a question at {step_id}")


def _back(flow: Flow, state: FlowState, now: datetime) -> FlowTurn:
    if not state.history:
        messages = (say("flows.back_at_start"), _ask(flow, flow.steps[state.step], state.fields))
        return FlowTurn(state=replace(state, failures=0, updated=now), messages=messages)
    visit = state.history[-1]
    previous = replace(state, step=visit.step, fields=visit.fields, history=state.history[:-1],
                       failures=0, updated=now)
    return FlowTurn(state=previous, messages=(say("flows.back"), _ask(flow, flow.steps[visit.step], visit.fields)))


def _invalid(flow: Flow, step: Step, state: FlowState, reason: str | None, now: datetime) -> FlowTurn:
    """First miss: say why, show an example, ask again. Second miss: offer a mediator."""
    if state.failures + 1 >= MAX_INVALID:
        ticket = TicketRequest(reason=say("flows.mediator_reason", title=flow.title),
                               fields=_collected(state.fields, None))
        return FlowTurn(state=None, messages=(say("flows.offer_mediator"),), outcome=Outcome.MEDIATOR, ticket=ticket)
    hint = f"{reason or say('flows.invalid')}\n{say('flows.example', example=_example(step))}"
    return FlowTurn(state=replace(state, failures=state.failures + 1, updated=now),
                    messages=(hint, _ask(flow, step, state.fields)))


def _next(step: Step, fields: dict[str, str], value: str | None, today: date) -> str:
    option = next((o for o in step.options if o.label == value), None)
    if option and option.next:
        return option.next
    for condition in step.conditions:
        if _holds(condition, fields, today):
            return condition.target
    assert step.next, "loading guarantees every step that does not end has a next step"
    return step.next


def _holds(condition: Condition, fields: dict[str, str], today: date) -> bool:
    value = fields.get(condition.field, "")
    if condition.test in (Test.EQUALS, Test.DIFFERS):
        return (fold(value) == fold(condition.value)) == (condition.test is Test.EQUALS)
    if condition.test in (Test.EMPTY, Test.FILLED):
        return (value == "") == (condition.test is Test.EMPTY)
    ages = [months_ago(m, today) for m in months_of(value)]
    if condition.test is Test.OLDER:
        return any(age >= condition.months for age in ages)
    return bool(ages) and all(age < condition.months for age in ages)


def _ask(flow: Flow, step: Step, fields: dict[str, str]) -> str:
    lines = [_render(flow, step.question or "", fields)]
    lines += [f"{number}. {option.label}" for number, option in enumerate(step.options, 1)]
    if step.optional:
        lines.append(say("flows.optional_hint"))
    return "\n".join(lines)


def _example(step: Step) -> str:
    if step.example:
        return step.example
    if step.type is AnswerType.CHOICE:
        return say("flows.example_choice", label=step.options[0].label)
    return say(f"flows.example_{step.type.name.lower()}")


def _render(flow: Flow, template: str, fields: dict[str, str]) -> str:
    """Fill `{field}` with its French form; a field of another branch, never asked, shows empty."""
    values = {name: _french(kind, fields.get(name, "")) for name, kind in flow.field_types.items()}
    return fill(template, values)


def _french(kind: AnswerType, value: str) -> str:
    if not value:
        return ""
    if kind is AnswerType.DATE:
        return french_date(date.fromisoformat(value))
    if kind is AnswerType.MONTHS:
        return ", ".join(french_month(m) for m in months_of(value))
    if kind in (AnswerType.TIME, AnswerType.TIMES):
        return " et ".join(french_time(time.fromisoformat(t)) for t in value.split(","))
    return value


def _collected(fields: dict[str, str], names: tuple[str, ...] | None) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value and (names is None or name in names)}
