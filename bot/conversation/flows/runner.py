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
from .answers import command, is_correction, months_of, read, yes_or_no
from .model import AnswerType, Condition, Flow, FlowState, FlowTurn, Outcome, Step, Test, TicketRequest, Visit
from .prefill import prefill, reachable, value_in

MAX_INVALID = 2  # the second answer the bot cannot read hands over to a mediator


def start(flow: Flow, now: datetime, text: str = "") -> FlowTurn:
    """Begin `flow`: say its first steps, up to its first question (or its end).

    `text` is the message that started it: the answers it already gives are noted and their questions
    skipped (bot/flows/prefill.py); the agent reads what was noted and may correct it."""
    state = FlowState(flow=flow.id, step=flow.first, started=now, updated=now)
    found = prefill(flow, text, now.date(), _next) if text else {}
    if not found:
        return _walk(flow, state, flow.first, now)
    return _noted_walk(flow, replace(state, fields=found, noted=tuple(found)), now, "flows.noted")


def advance(flow: Flow, state: FlowState, text: str, now: datetime) -> FlowTurn:
    """Read the agent's answer to the pending question and move on (or back, or out)."""
    step = flow.steps.get(state.step)
    if state.flow != flow.id or step is None or (step.question is None and not state.confirming):
        return _cancelled("flows.stale")
    asked = command(text)
    if asked == "cancel":
        return _cancelled("flows.cancelled")
    changes = _changes(flow, state, text, now.date()) if state.confirming or is_correction(text) else {}
    if changes:
        return _corrected(flow, state, changes, now)
    if state.confirming:
        return _confirmed(flow, state, text, asked, now)
    if asked == "back":
        return _back(flow, state, now)
    value, reason = read(step, text, now.date())
    if value is None:
        return _invalid(flow, step, state, reason, now)
    fields = {**state.fields, step.field: value}
    moved = replace(state, fields=fields, history=state.history + (Visit(step=step.id, fields=state.fields),),
                    failures=0, updated=now)
    return _walk(flow, moved, _next(step, fields, value, now.date()), now, known=frozenset(state.noted))


def expired(state: FlowState, now: datetime, timeout_minutes: int) -> bool:
    """True when the agent has not answered for `timeout_minutes`: the flow is then dropped."""
    return now - state.updated > timedelta(minutes=timeout_minutes)


def _cancelled(key: str) -> FlowTurn:
    return FlowTurn(state=None, messages=(say(key),), outcome=Outcome.CANCELLED)


def _walk(flow: Flow, state: FlowState, step_id: str, now: datetime, *, known: frozenset[str] = frozenset(),
          confirm: bool = False) -> FlowTurn:
    """Say steps until one waits for an answer or ends the flow; loading forbade loops without a question.

    Questions whose field is `known` (noted from the opening message) are passed as if answered. With
    `confirm`, a ticket is not opened yet: the agent, who has only read what was noted, confirms it."""
    messages: list[str] = []
    for _ in range(len(flow.steps) + 1):
        step = flow.steps[step_id]
        if step.question is not None and step.field in known and state.fields.get(step.field):
            before = {k: v for k, v in state.fields.items() if k != step.field}
            state = replace(state, history=state.history + (Visit(step=step.id, fields=before),))
            step_id = _next(step, state.fields, state.fields[step.field], now.date())
            continue
        if confirm and step.ticket is not None:
            waiting = replace(state, step=step.id, confirming=True, failures=0, updated=now)
            return FlowTurn(state=waiting, messages=(*messages, say("flows.confirm")))
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


def _noted_walk(flow: Flow, state: FlowState, now: datetime, key: str) -> FlowTurn:
    """Walk from the first step past what is known, saying first what was noted (`key`)."""
    turn = _walk(flow, state, flow.first, now, known=frozenset(state.fields), confirm=True)
    note = say(key, values=_values(flow, state.fields, state.noted))
    if turn.state is not None and not turn.state.confirming:
        note = f"{note} {say('flows.noted_hint')}"  # a question follows: the agent may correct in reply
    return replace(turn, messages=(note, *turn.messages))


def _changes(flow: Flow, state: FlowState, text: str, today: date) -> dict[str, str]:
    """The noted fields the message gives another value ("non c'était avant-hier")."""
    steps = {s.field: s for s in flow.steps.values() if s.question is not None and s.field}
    changes = {}
    for name in state.noted:
        value = value_in(steps[name], text, today) if name in steps else None
        if value is not None and value != state.fields.get(name):
            changes[name] = value
    return changes


def _corrected(flow: Flow, state: FlowState, changes: dict[str, str], now: datetime) -> FlowTurn:
    """Take the corrected values, drop the answers of a branch no longer taken, and walk again."""
    fields = _on_path(flow, {**state.fields, **changes}, now.date())
    fixed = replace(state, fields=fields, noted=tuple(n for n in state.noted if n in fields), history=(),
                    failures=0, confirming=False, updated=now)
    return _noted_walk(flow, fixed, now, "flows.corrected")


def _on_path(flow: Flow, fields: dict[str, str], today: date) -> dict[str, str]:
    """The fields of the questions the flow can still go through with these answers."""
    step_id, kept = flow.first, {}
    for _ in range(len(flow.steps) + 1):
        step = flow.steps[step_id]
        if step.is_end:
            break
        if step.question is not None and step.field not in fields:
            ahead = {s.field for s in reachable(flow, step.id, kept, today, _next) if s.field}
            kept.update({k: v for k, v in fields.items() if k in ahead})
            break
        if step.question is not None:
            kept[step.field] = fields[step.field]
        step_id = _next(step, fields, fields.get(step.field or ""), today)
    return kept


def _confirmed(flow: Flow, state: FlowState, text: str, asked: str | None, now: datetime) -> FlowTurn:
    """The answer to « C'est bien ça ? »: oui opens the ticket, non starts the questions afresh."""
    answer = "non" if asked == "back" else yes_or_no(text)
    if answer == "oui":
        return _walk(flow, replace(state, confirming=False, updated=now), state.step, now)
    if answer == "non":
        fresh = replace(state, fields={}, noted=(), history=(), confirming=False, failures=0, updated=now)
        turn = _walk(flow, fresh, flow.first, now)
        return replace(turn, messages=(say("flows.restart"), *turn.messages))
    if state.failures + 1 >= MAX_INVALID:
        ticket = TicketRequest(reason=say("flows.mediator_reason", title=flow.title),
                               fields=_collected(state.fields, None))
        return FlowTurn(state=None, messages=(say("flows.offer_mediator"),), outcome=Outcome.MEDIATOR, ticket=ticket)
    return FlowTurn(state=replace(state, failures=state.failures + 1, updated=now),
                    messages=(say("flows.confirm_invalid"),))


def _values(flow: Flow, fields: dict[str, str], names: tuple[str, ...]) -> str:
    """What was noted, in French, in the order of the questions: "lundi 30/11/2026, le départ, 17h"."""
    steps = {s.field: s for s in flow.steps.values() if s.question is not None}
    shown = []
    for name in names:
        step, value = steps.get(name), fields.get(name)
        if step is None or not value:
            continue
        text = _lower_article(_french(flow.field_types[name], value))
        if step.type is AnswerType.YES_NO and step.words:
            text = say(f"flows.noted_{value}", subject=step.words[0])
        shown.append(text)
    return ", ".join(shown)


def _lower_article(value: str) -> str:
    """A choice label inside a sentence: "L'arrivée" reads "l'arrivée"; "iPhone" stays as written."""
    return value[0].lower() + value[1:] if value.startswith(("L'", "Le ", "La ", "Les ")) else value


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
