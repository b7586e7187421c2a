"""Guided flows: short question-and-answer paths that flow authors write in French, in flows/*.yaml.

A flow is a list of steps (the whole language, with an example, is in flows/README.md). A step may
say something (`dire`), ask a question (`question`, read according to its `type` and stored in a
field), end with an answer (`reponse`) or end with a ticket for the mediators (`ticket`, carrying the
collected fields). After a step the flow goes to the chosen option's `suite`, else to the target of
the first true condition of `si`, else to `suite`, else to the next step of the list.

Loading checks the whole graph once, like Rasa's flow validation: each mistake is its own Problem
naming the file, line, flow and step, with the fix. A flow with a problem is not loaded at all, so
the runner never meets a broken graph.

The runner is pure: `start` and `advance` take the time and return a `FlowTurn` (the new state, the
sentences to say, and the outcome). `FlowState` is plain data that the store saves as JSON between
two messages of the agent. Field values are kept in one readable, canonical form ("2025-03-14",
"2025-03,2025-04", "07:30"): that is what a ticket carries, and texts show them in French.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from .dates import (fold, french_date, french_month, french_time, months_ago, parse_date, parse_months,
                    parse_time, parse_times)
from .errors import Problem
from .faq import fill, unknown_variables
from .lexicon import surface
from .texts import say, words
from .yamlfile import Mapping, Sequence, load_file, load_text

MAX_INVALID = 2  # the second answer the bot cannot read hands over to a mediator
MAX_MONTHS = 60  # more months than this in one answer is a misreading, not a request


class AnswerType(str, Enum):
    """How the answer to a question is read; the values are what authors write after `type:`."""

    TEXT = "texte"
    YES_NO = "oui/non"
    CHOICE = "choix"
    DATE = "date"
    MONTHS = "mois"
    TIME = "heure"
    TIMES = "heures"


class Outcome(str, Enum):
    """What the conversation does after a turn."""

    CONTINUE = "continue"    # the flow waits for the agent's next answer
    ANSWER = "answer"        # the flow ended with an answer; the messages hold it
    TICKET = "ticket"        # the flow ended: open a ticket with `FlowTurn.ticket`
    CANCELLED = "cancelled"  # the agent left the flow ("annuler"), or the flow changed under it
    MEDIATOR = "mediator"    # two answers the bot could not read: offer a mediator (`ticket` has the context)


class Test(str, Enum):
    """The tests a `si:` condition can make on a field."""

    EQUALS = "="
    DIFFERS = "!="
    EMPTY = "est vide"
    FILLED = "n'est pas vide"
    OLDER = "a plus de"   # a date, or one of the months, is at least N months old
    RECENT = "a moins de"  # the date, or every month, is less than N months old


@dataclass(frozen=True, kw_only=True)
class Option:
    """One numbered choice: its label (also the stored value), other words for it, its own next step."""

    label: str
    words: tuple[str, ...] = ()
    next: str | None = None


@dataclass(frozen=True, kw_only=True)
class Condition:
    """`champ = valeur: etape` and friends, parsed and checked at load."""

    field: str
    test: Test
    value: str = ""
    months: int = 0
    target: str


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step; texts already have their config variables filled, `{field}` names stay for the runner."""

    id: str
    line: int
    say: str | None = None
    question: str | None = None
    type: AnswerType | None = None
    options: tuple[Option, ...] = ()
    example: str | None = None
    field: str | None = None
    optional: bool = False
    conditions: tuple[Condition, ...] = ()
    next: str | None = None  # `suite`, or else the following step of the list
    answer: str | None = None
    ticket: str | None = None  # the ticket's reason
    ticket_fields: tuple[str, ...] | None = None

    @property
    def is_end(self) -> bool:
        return self.answer is not None or self.ticket is not None


@dataclass(frozen=True, kw_only=True)
class Flow:
    id: str
    title: str
    file: str
    line: int
    first: str
    steps: dict[str, Step]
    field_types: dict[str, AnswerType]


@dataclass(frozen=True, kw_only=True)
class TicketRequest:
    """What a mediator gets from a flow: why, and the fields in their canonical readable form."""

    reason: str
    fields: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Visit:
    """A question answered, with the fields as they were before: what "retour" restores."""

    step: str
    fields: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class FlowState:
    """Where one agent is in one flow; saved as JSON between two messages and across restarts."""

    flow: str
    step: str  # the question waiting for an answer
    fields: dict[str, str] = field(default_factory=dict)
    history: tuple[Visit, ...] = ()
    failures: int = 0  # answers to this question the bot could not read
    started: datetime
    updated: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.flow, "step": self.step, "fields": dict(self.fields),
                "history": [{"step": v.step, "fields": dict(v.fields)} for v in self.history],
                "failures": self.failures, "started": self.started.isoformat(),
                "updated": self.updated.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowState:
        """Inverse of `to_dict`; a malformed record raises KeyError/ValueError for the store to drop."""
        return cls(flow=str(data["flow"]), step=str(data["step"]),
                   fields={str(k): str(v) for k, v in data["fields"].items()},
                   history=tuple(Visit(step=str(v["step"]), fields={str(k): str(x) for k, x in v["fields"].items()})
                                 for v in data["history"]),
                   failures=int(data["failures"]), started=datetime.fromisoformat(data["started"]),
                   updated=datetime.fromisoformat(data["updated"]))


@dataclass(frozen=True, kw_only=True)
class FlowTurn:
    """The result of one turn: `state` is None once the flow has ended, whatever the outcome."""

    state: FlowState | None
    messages: tuple[str, ...]
    outcome: Outcome = Outcome.CONTINUE
    ticket: TicketRequest | None = None


# --- running ----------------------------------------------------------------------------------------

def start(flow: Flow, now: datetime) -> FlowTurn:
    """Begin `flow`: say its first steps, up to its first question (or its end)."""
    state = FlowState(flow=flow.id, step=flow.first, started=now, updated=now)
    return _walk(flow, state, flow.first, now)


def advance(flow: Flow, state: FlowState, text: str, now: datetime) -> FlowTurn:
    """Read the agent's answer to the pending question and move on (or back, or out)."""
    step = flow.steps.get(state.step)
    if state.flow != flow.id or step is None or step.question is None:
        return FlowTurn(state=None, messages=(say("flows.stale"),), outcome=Outcome.CANCELLED)
    command = _command(text)
    if command == "cancel":
        return FlowTurn(state=None, messages=(say("flows.cancelled"),), outcome=Outcome.CANCELLED)
    if command == "back":
        return _back(flow, state, now)
    value, reason = _read(step, text, now.date())
    if value is None:
        return _invalid(flow, step, state, reason, now)
    fields = {**state.fields, step.field: value}
    moved = replace(state, fields=fields, history=state.history + (Visit(step=step.id, fields=state.fields),),
                    failures=0, updated=now)
    return _walk(flow, moved, _next(step, fields, value, now.date()), now)


def expired(state: FlowState, now: datetime, timeout_minutes: int) -> bool:
    """True when the agent has not answered for `timeout_minutes`: the flow is then dropped."""
    return now - state.updated > timedelta(minutes=timeout_minutes)


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
    ages = [months_ago(m, today) for m in _months_of(value)]
    if condition.test is Test.OLDER:
        return any(age >= condition.months for age in ages)
    return bool(ages) and all(age < condition.months for age in ages)


def _months_of(value: str) -> list[tuple[int, int]]:
    """The (year, month) of a canonical date ("2025-03-14") or months ("2025-03,2025-04") value."""
    return [(int(part[:4]), int(part[5:7])) for part in value.split(",") if part]


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
        return ", ".join(french_month(m) for m in _months_of(value))
    if kind in (AnswerType.TIME, AnswerType.TIMES):
        return " et ".join(french_time(time.fromisoformat(t)) for t in value.split(","))
    return value


def _collected(fields: dict[str, str], names: tuple[str, ...] | None) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value and (names is None or name in names)}


# --- reading answers --------------------------------------------------------------------------------

def _read(step: Step, text: str, today: date) -> tuple[str | None, str | None]:
    """The canonical value of an answer, or None and, when there is one, why it was refused."""
    if step.optional and _plain(text) in _word_list("flows.skip_words"):
        return "", None
    kind = step.type
    if kind is AnswerType.TEXT:
        return (text.strip() or None), None
    if kind is AnswerType.YES_NO:
        return _yes_no(text), None
    if kind is AnswerType.CHOICE:
        option = _choose(step.options, text)
        return (option.label if option else None), None
    if kind is AnswerType.DATE:
        day = parse_date(text, today)
        if day and day > today:
            return None, say("flows.future_date")
        return (day.isoformat() if day else None), None
    if kind is AnswerType.MONTHS:
        months = parse_months(text, today)
        if months and months[-1] > (today.year, today.month):
            return None, say("flows.future_months")
        if months and len(months) > MAX_MONTHS:
            return None, None
        return (",".join(f"{y:04d}-{m:02d}" for y, m in months) if months else None), None
    times = parse_times(text) if kind is AnswerType.TIMES else [parse_time(text)]
    if not times or None in times:
        return None, None
    return ",".join(f"{t:%H:%M}" for t in times), None


def _plain(text: str) -> str:
    """The answer as plain words, without politeness ("stop svp" reads as "stop")."""
    plain = f" {' '.join(surface(text))} "
    for phrase in _word_list("flows.filler_words"):
        plain = plain.replace(f" {phrase} ", " ")
    return " ".join(plain.split())


def _word_list(key: str) -> tuple[str, ...]:
    return tuple(" ".join(surface(w)) for w in words(key))


def _command(text: str) -> str | None:
    plain = _plain(text)
    if plain in _word_list("flows.cancel_words"):
        return "cancel"
    if plain in _word_list("flows.back_words"):
        return "back"
    return None


def _yes_no(text: str) -> str | None:
    plain, yes, no = _plain(text), _word_list("flows.yes_words"), _word_list("flows.no_words")
    if not plain:
        return None
    first = plain.split()[0]
    if plain in yes or first in yes:
        return "oui"
    if plain in no or first in no or any(_contains(plain, w) for w in no):
        return "non"  # a negation anywhere wins: "je l'ai pas recu"
    return "oui" if any(_contains(plain, w) for w in yes) else None


def _contains(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {text} "


def _choose(options: tuple[Option, ...], text: str) -> Option | None:
    """The option meant: its exact words, its number, the only option named, or a close spelling."""
    plain = " ".join(surface(text))
    if not plain:
        return None
    names = [(" ".join(surface(name)), option) for option in options for name in (option.label, *option.words)]
    exact = [option for name, option in names if name == plain]
    if exact:
        return exact[0]
    number = re.fullmatch(r"(?:n|no|num|numero|choix|option|reponse|le|la)? ?(\d{1,2})", plain)
    if number:
        index = int(number[1])
        return options[index - 1] if 1 <= index <= len(options) else None
    named = {option.label: option for name, option in names if _contains(plain, name)}
    if len(named) == 1:
        return next(iter(named.values()))
    scores = sorted(((max(fuzz.WRatio(plain, name) for name, o in names if o is option), i)
                     for i, option in enumerate(options)), reverse=True)
    best, second = scores[0][0], scores[1][0] if len(scores) > 1 else 0
    return options[scores[0][1]] if best >= 80 and best - second >= 10 else None


# --- loading ----------------------------------------------------------------------------------------

FLOW_KEYS = ("id", "titre", "etapes")
STEP_KEYS = ("id", "dire", "question", "type", "choix", "exemple", "champ", "facultatif", "si", "suite",
             "reponse", "ticket", "champs")
OPTION_KEYS = ("texte", "mots", "suite")
TYPE_NAMES = {"texte": AnswerType.TEXT, "oui non": AnswerType.YES_NO,
              "choix": AnswerType.CHOICE, "date": AnswerType.DATE, "mois": AnswerType.MONTHS,
              "heure": AnswerType.TIME, "heures": AnswerType.TIMES}
NAME = re.compile(r"[a-z][a-z0-9_]*")
FLOW_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
CONDITIONS = (
    (re.compile(r"(?P<field>\w+) *(?:!=|≠) *(?P<value>.+)"), Test.DIFFERS),
    (re.compile(r"(?P<field>\w+) *= *(?P<value>.+)"), Test.EQUALS),
    (re.compile(r"(?P<field>\w+) +(?:n'est pas vide|est rempli)"), Test.FILLED),
    (re.compile(r"(?P<field>\w+) +est vide"), Test.EMPTY),
    (re.compile(r"(?P<field>\w+) +a plus de +(?P<value>\S+) +mois"), Test.OLDER),
    (re.compile(r"(?P<field>\w+) +a moins de +(?P<value>\S+) +mois"), Test.RECENT),
)


def load_flows(flows_dir: Path, variables: dict[str, str]) -> tuple[dict[str, Flow], list[Problem]]:
    """Load every flows/*.yaml (one flow per file); return the good flows and every problem found."""
    flows: dict[str, Flow] = {}
    problems: list[Problem] = []
    if not Path(flows_dir).is_dir():
        return {}, [Problem(file=str(flows_dir), line=1, message="dossier des parcours introuvable : vérifiez « flows_dir » dans la configuration")]
    for path in sorted(Path(flows_dir).glob("*.yaml")):
        data, found = load_file(path)
        flow, found = (None, found) if found else _parse_flow(data, str(path), variables)
        problems += found
        if flow and flow.id in flows:
            first = flows[flow.id]
            problems.append(Problem(file=flow.file, line=flow.line, message=(
                f"parcours « {flow.id} » en double (déjà défini en {first.file}:{first.line}) : changez l'un des deux id")))
        elif flow:
            flows[flow.id] = flow
    return flows, problems


def load_flows_text(text: str, name: str, variables: dict[str, str]) -> tuple[dict[str, Flow], list[Problem]]:
    """Load one flow file given as a string (tests, experiments)."""
    data, problems = load_text(text, name)
    flow, problems = (None, problems) if problems else _parse_flow(data, name, variables)
    return ({flow.id: flow} if flow else {}), problems


def check(flows_dir: Path, variables: dict[str, str]) -> list[Problem]:
    """Every problem of flows/ for `helpdesk-bot faq check`; whether the FAQ's flows exist is checked there."""
    return load_flows(flows_dir, variables)[1]


class _Report:
    """Collects problems, each prefixed with the flow and step it is about."""

    def __init__(self, file: str):
        self.file, self.flow, self.problems = file, "?", []

    def add(self, line: int, message: str, step: str | None = None) -> None:
        where = f"parcours « {self.flow} »" + (f", étape « {step} »" if step else "")
        self.problems.append(Problem(file=self.file, line=line, message=f"{where} : {message}"))


def _keys(data: Mapping, allowed: tuple[str, ...], report: _Report, step: str | None) -> dict[str, str]:
    """Canonical key -> key as written ("réponse" is accepted for "reponse"); unknown keys are reported."""
    found = {}
    for key in data:
        canonical = fold(str(key)).replace(" ", "_")
        if canonical in allowed:
            found[canonical] = key
            continue
        close = difflib.get_close_matches(canonical, allowed, n=1)
        fix = f"vouliez-vous dire « {close[0]} » ?" if close else f"clés possibles : {', '.join(allowed)}"
        report.add(data.line_of(key), f"clé inconnue « {key} » : {fix}", step)
    return found


def _parse_flow(data: Any, file: str, variables: dict[str, str]) -> tuple[Flow | None, list[Problem]]:
    report = _Report(file)
    if not isinstance(data, Mapping):
        report.add(getattr(data, "line", 1) or 1, "le fichier doit commencer par « id: », « titre: » et « etapes: »")
        return None, report.problems
    keys = _keys(data, FLOW_KEYS, report, None)
    flow_id = data.get(keys.get("id"))
    if not isinstance(flow_id, str) or not FLOW_ID.fullmatch(flow_id):
        report.add(data.line_of(keys.get("id")), "« id » manquant ou invalide : un nom comme « badge.oubli » (minuscules, chiffres, _ et .)")
    else:
        report.flow = flow_id
    title = data.get(keys.get("titre"))
    if not isinstance(title, str) or not title.strip():
        report.add(data.line_of(keys.get("titre")), "« titre » manquant : une phrase courte qui décrit le parcours")
    items = data.get(keys.get("etapes"))
    if not isinstance(items, Sequence) or not items:
        report.add(data.line_of(keys.get("etapes")), "« etapes » manquant ou vide : une liste d'étapes commençant par « - id: »")
        return None, report.problems
    parsed = _parse_steps(items, report, variables)
    if report.problems:
        return None, report.problems
    steps = [step for step, _, _ in parsed]
    field_types = {s.field: s.type for s in steps if s.field and s.type}
    steps = [_link(step, item, keys, steps, field_types, report, variables) for step, item, keys in parsed]
    if report.problems:
        return None, report.problems
    flow = Flow(id=flow_id, title=title.strip(), file=file, line=data.line_of(keys["id"]), first=steps[0].id,
                steps={s.id: s for s in steps}, field_types=field_types)
    _check_graph(flow, report)
    return (None if report.problems else flow), report.problems


def _parse_steps(items: Sequence, report: _Report,
                 variables: dict[str, str]) -> list[tuple[Step, Mapping, dict[str, str]]]:
    """Each step with its YAML mapping and keys as written, which linking needs for its line numbers."""
    steps: list[tuple[Step, Mapping, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        line = items.line_of(index)
        if not isinstance(item, Mapping):
            report.add(line, f"l'étape n°{index + 1} doit contenir des clés (« id: », « dire: », « question: »...)")
            continue
        keys = _keys(item, STEP_KEYS, report, str(item.get("id", f"n°{index + 1}")))
        step_id = item.get(keys.get("id"))
        if not isinstance(step_id, str) or not NAME.fullmatch(step_id):
            report.add(line, f"l'étape n°{index + 1} n'a pas d'« id » valide : un nom en minuscules, chiffres et _ (ex. « date_oubli »)")
            continue
        if step_id in seen:
            report.add(line, f"id d'étape en double (déjà utilisé ligne {seen[step_id]}) : donnez-lui un autre nom", step_id)
            continue
        seen[step_id] = line
        steps.append((_parse_step(item, keys, step_id, line, report, variables), item, keys))
    return steps


def _parse_step(item: Mapping, keys: dict[str, str], step_id: str, line: int, report: _Report,
                variables: dict[str, str]) -> Step:
    def text(key: str) -> str | None:
        if key not in keys:
            return None
        value = item[keys[key]]
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
            report.add(item.line_of(keys[key]), f"« {key} » doit être un texte non vide", step_id)
            return None
        return fill(str(value).strip(), variables)

    question, answer, ticket = text("question"), text("reponse"), text("ticket")
    actions = [k for k in ("question", "reponse", "ticket") if k in keys]
    if len(actions) > 1:
        report.add(line, f"une étape fait une seule chose : « {actions[0]} » ou « {actions[1]} », pas les deux (faites deux étapes)", step_id)
    if not actions and not {"dire", "si", "suite"} & set(keys):
        report.add(line, "étape vide : ajoutez « dire: », « question: », « reponse: » ou « ticket: »", step_id)
    if actions and actions[0] != "question":
        for key in ("suite", "si"):
            if key in keys:
                report.add(item.line_of(keys[key]), f"« {key} » après une fin (« {actions[0]} ») n'a pas de sens : retirez-le", step_id)
    for key in ("type", "choix", "exemple", "champ", "facultatif"):
        if key in keys and question is None and "question" not in keys:
            report.add(item.line_of(keys[key]), f"« {key} » ne va qu'avec « question: »", step_id)
    if "champs" in keys and "ticket" not in keys:
        report.add(item.line_of(keys["champs"]), "« champs » ne va qu'avec « ticket: »", step_id)
    options = _parse_options(item, keys, step_id, report, variables)
    kind = _answer_type(item, keys, options, step_id, report) if "question" in keys else None
    field_name = item.get(keys.get("champ"), step_id) if "question" in keys else None
    if field_name is not None and (not isinstance(field_name, str) or not NAME.fullmatch(field_name)):
        report.add(item.line_of(keys["champ"]), "« champ » : un nom en minuscules, chiffres et _ (ex. « date_oubli »)", step_id)
    elif field_name in variables:
        report.add(item.line_of(keys.get("champ", keys["question"])), f"le champ « {field_name} » porte le nom d'une variable de la configuration : renommez-le", step_id)
    optional = item.get(keys.get("facultatif"), False)
    if optional not in (True, False, "oui", "non"):
        report.add(item.line_of(keys["facultatif"]), "« facultatif » : oui ou non", step_id)
    fields = item.get(keys.get("champs"))
    if fields is not None and (not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)):
        report.add(item.line_of(keys["champs"]), "« champs » : une liste de noms de champs, ex. [date, heures]", step_id)
        fields = None
    return Step(id=step_id, line=line, say=text("dire"), question=question, type=kind, options=options,
                example=text("exemple"), field=field_name, optional=optional in (True, "oui"),
                answer=answer, ticket=ticket, ticket_fields=tuple(fields) if fields is not None else None)


def _answer_type(item: Mapping, keys: dict[str, str], options: tuple[Option, ...], step_id: str,
                 report: _Report) -> AnswerType | None:
    written = item.get(keys.get("type"), "choix" if "choix" in keys else "texte")
    kind = TYPE_NAMES.get(fold(str(written)).replace("/", " "))
    line = item.line_of(keys.get("type", "question"))
    if kind is None:
        report.add(line, f"type « {written} » inconnu : choisissez parmi {', '.join(t.value for t in AnswerType)}", step_id)
    elif kind is AnswerType.CHOICE and len(options) < 2:
        report.add(item.line_of(keys.get("choix", "question")), "une question à choix a besoin d'au moins deux options sous « choix: »", step_id)
    elif kind is not AnswerType.CHOICE and "choix" in keys:
        report.add(item.line_of(keys["choix"]), f"« choix » avec le type « {kind.value} » : retirez « type: » ou les choix", step_id)
    return kind


def _parse_options(item: Mapping, keys: dict[str, str], step_id: str, report: _Report,
                   variables: dict[str, str]) -> tuple[Option, ...]:
    raw = item.get(keys.get("choix"))
    if raw is None:
        return ()
    if not isinstance(raw, Sequence):
        report.add(item.line_of(keys["choix"]), "« choix » doit être une liste (lignes commençant par « - »)", step_id)
        return ()
    options: list[Option] = []
    for index, entry in enumerate(raw):
        line = raw.line_of(index)
        if isinstance(entry, (str, int)) and str(entry).strip():
            options.append(Option(label=fill(str(entry).strip(), variables)))
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("texte"), str):
            report.add(line, "une option est un texte, ou « texte: » avec « mots: » et « suite: » facultatifs", step_id)
            continue
        _keys(entry, OPTION_KEYS, report, step_id)
        synonyms = entry.get("mots", [])
        if not isinstance(synonyms, list):
            report.add(entry.line_of("mots"), "« mots » doit être une liste, ex. [apple, ios]", step_id)
            synonyms = []
        options.append(Option(label=fill(entry["texte"].strip(), variables), words=tuple(str(w) for w in synonyms),
                              next=entry.get("suite")))
    labels = [fold(o.label) for o in options]
    for index, label in enumerate(labels):
        if label in labels[:index]:
            report.add(raw.line_of(index), f"option « {options[index].label} » en double", step_id)
    return tuple(options)


def _link(step: Step, item: Mapping, keys: dict[str, str], steps: list[Step], field_types: dict[str, AnswerType],
          report: _Report, variables: dict[str, str]) -> Step:
    """Resolve what comes after `step`; check its names against the steps and fields of the flow."""
    ids = [s.id for s in steps]

    def known(target: Any, line: int) -> bool:
        if isinstance(target, str) and target in ids:
            return True
        close = difflib.get_close_matches(str(target), ids, n=1)
        fix = f"vouliez-vous dire « {close[0]} » ?" if close else f"étapes : {', '.join(ids)}"
        report.add(line, f"suite vers l'étape inconnue « {target} » : {fix}", step.id)
        return False

    for key in ("dire", "question", "reponse", "ticket", "exemple"):
        for name in unknown_variables(getattr(step, _ATTRIBUTES[key]) or "", field_types):
            report.add(item.line_of(keys[key]), _unknown_name(name, field_types), step.id)
    choices = item.get(keys.get("choix"))
    for index, option in enumerate(step.options):
        line = choices.line_of(index)
        for name in unknown_variables(option.label, field_types):
            report.add(line, _unknown_name(name, field_types), step.id)
        if option.next is not None:
            known(option.next, line)
    for name in step.ticket_fields or ():
        if name not in field_types:
            report.add(item.line_of(keys["champs"]), f"« champs » : aucune question ne remplit le champ « {name} »", step.id)
    conditions = _conditions(step, item, keys, steps, report, variables, known)
    return replace(step, conditions=conditions, next=_following(step, item, keys, steps, report, known))


_ATTRIBUTES = {"dire": "say", "question": "question", "reponse": "answer", "ticket": "ticket", "exemple": "example"}


def _unknown_name(name: str, field_types: dict[str, AnswerType]) -> str:
    return (f"variable inconnue « {{{name}}} » : ajoutez-la sous « variables: » dans la configuration, "
            f"ou corrigez le nom (champs de ce parcours : {', '.join(field_types) or 'aucun'})")


def _following(step: Step, item: Mapping, keys: dict[str, str], steps: list[Step], report: _Report,
               known) -> str | None:
    """`suite`, or the next step of the list; a step that neither ends nor has one is a problem."""
    if "suite" in keys:
        target = item[keys["suite"]]
        return target if known(target, item.line_of(keys["suite"])) else None
    if step.is_end or (step.options and all(o.next for o in step.options)):
        return None
    index = [s.id for s in steps].index(step.id)
    if index + 1 == len(steps):
        report.add(step.line, "le parcours s'arrête ici sans fin : ajoutez « suite: », ou une étape "
                              "« reponse: » ou « ticket: » après celle-ci", step.id)
        return None
    return steps[index + 1].id


def _conditions(step: Step, item: Mapping, keys: dict[str, str], steps: list[Step], report: _Report,
                variables: dict[str, str], known) -> tuple[Condition, ...]:
    raw = item.get(keys.get("si"))
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or not raw:
        report.add(item.line_of(keys["si"]), "« si » est une liste de lignes « - champ = valeur: etape »", step.id)
        return ()
    conditions = []
    for index, entry in enumerate(raw):
        line = raw.line_of(index)
        if not isinstance(entry, Mapping) or len(entry) != 1:
            report.add(line, "une condition s'écrit « - champ = valeur: etape » (une par ligne)", step.id)
            continue
        text, target = next(iter(entry.items()))
        condition = _condition(str(text), target, steps, line, step.id, report, variables)
        if known(target, line) and condition:
            conditions.append(condition)
    return tuple(conditions)


def _condition(text: str, target: str, steps: list[Step], line: int, step_id: str, report: _Report,
               variables: dict[str, str]) -> Condition | None:
    """Parse and check one condition; the values of choice and oui/non fields must be possible answers."""
    missing = unknown_variables(text, variables)
    if missing:
        report.add(line, f"variable inconnue « {{{missing[0]}}} » : ajoutez-la sous « variables: » dans la configuration", step_id)
        return None
    text = fill(text, variables).strip().replace("’", "'")
    match, test = next(((m, t) for p, t in CONDITIONS if (m := p.fullmatch(text))), (None, None))
    if match is None:
        report.add(line, f"condition illisible « {text} » : écrivez par exemple « telephone = iPhone », "
                         "« commentaire est vide » ou « mois a plus de 24 mois »", step_id)
        return None
    asking = next((s for s in steps if s.field == match["field"] and s.type), None)
    if asking is None:
        report.add(line, f"condition sur « {match['field']} », qu'aucune question ne remplit "
                         f"(champs : {', '.join(s.field for s in steps if s.field) or 'aucun'})", step_id)
        return None
    value = (match.groupdict().get("value") or "").strip().strip('"«» ')
    if test in (Test.OLDER, Test.RECENT):
        if asking.type not in (AnswerType.DATE, AnswerType.MONTHS) or not value.isdigit():
            report.add(line, "« a plus de N mois » et « a moins de N mois » comparent un champ de type date ou mois "
                             "à un nombre entier de mois", step_id)
            return None
        return Condition(field=asking.field, test=test, months=int(value), target=target)
    possible = {AnswerType.CHOICE: [o.label for o in asking.options], AnswerType.YES_NO: ["oui", "non"]}.get(asking.type)
    if test in (Test.EQUALS, Test.DIFFERS) and possible and fold(value) not in [fold(p) for p in possible]:
        report.add(line, f"« {value} » n'est pas une réponse possible à « {asking.id} » "
                         f"(possibles : {', '.join(possible)})", step_id)
        return None
    return Condition(field=asking.field, test=test, value=value, target=target)


def _check_graph(flow: Flow, report: _Report) -> None:
    """Every step reachable from the first; no loop that would say things forever without a question."""
    def after(step: Step) -> list[str]:
        targets = [o.next for o in step.options] + [c.target for c in step.conditions] + [step.next]
        return [t for t in targets if t in flow.steps]

    reached, todo = {flow.first}, [flow.first]
    while todo:
        for target in after(flow.steps[todo.pop()]):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    for step in flow.steps.values():
        if step.id not in reached:
            report.add(step.line, "étape jamais atteinte : aucune « suite », option ou condition n'y mène "
                                  "(ajoutez-en une, ou supprimez l'étape)", step.id)
    for step in flow.steps.values():
        loop = _silent_loop(flow, step.id, [], after)
        if loop and loop[0] == step.id:
            report.add(step.line, f"boucle sans question : {' → '.join(loop + [step.id])} "
                                  "(le bot parlerait sans fin : passez par une question)", step.id)
            return


def _silent_loop(flow: Flow, step_id: str, path: list[str], after) -> list[str] | None:
    if step_id in path:
        return path
    step = flow.steps[step_id]
    if step.question is not None or len(path) > len(flow.steps):
        return None
    for target in after(step):
        found = _silent_loop(flow, target, path + [step_id], after)
        if found:
            return found
    return None
