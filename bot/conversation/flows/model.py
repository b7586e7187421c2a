"""The flow language as typed objects: what loading builds, what the runner walks and returns.

A `Flow` is a dict of `Step`s with its first step and the type of every field its questions fill.
A step says something (`say`), asks a question (`question`, read as its `AnswerType`, with numbered
`Option`s for a choice), or ends with an answer or a ticket reason. What comes after a step is already
resolved at load: the chosen option's `next`, else the first true `Condition`, else `next`.

`FlowState` is where one agent is: plain data that the store saves as JSON between two messages. Each
answered question leaves a `Visit` (the fields as they were) that "retour" restores. A turn of the
runner returns a `FlowTurn`: the new state (None once the flow ended), what to say, the `Outcome`,
and, for a ticket or a mediator, the `TicketRequest`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


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
    prefill: bool = True  # `pre_remplir: non`: never taken from the opening message, always asked
    words: tuple[str, ...] = ()  # `mots:` of a oui/non question: what it is about, to find it in a message
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
    noted: tuple[str, ...] = ()  # fields taken from the opening message: skipped, shown, correctable
    confirming: bool = False     # `step` is the ticket, waiting for "oui" to what was noted

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.flow, "step": self.step, "fields": dict(self.fields),
                "history": [{"step": v.step, "fields": dict(v.fields)} for v in self.history],
                "failures": self.failures, "started": self.started.isoformat(),
                "updated": self.updated.isoformat(), "noted": list(self.noted), "confirming": self.confirming}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowState:
        """Inverse of `to_dict`; a malformed record raises KeyError/ValueError for the store to drop."""
        return cls(flow=str(data["flow"]), step=str(data["step"]), fields=_strings(data["fields"]),
                   history=tuple(Visit(step=str(v["step"]), fields=_strings(v["fields"])) for v in data["history"]),
                   failures=int(data["failures"]), started=datetime.fromisoformat(data["started"]),
                   updated=datetime.fromisoformat(data["updated"]),
                   noted=tuple(str(n) for n in data.get("noted", ())), confirming=bool(data.get("confirming", False)))


def _strings(fields: dict[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in fields.items()}


@dataclass(frozen=True, kw_only=True)
class FlowTurn:
    """The result of one turn: `state` is None once the flow has ended, whatever the outcome."""

    state: FlowState | None
    messages: tuple[str, ...]
    outcome: Outcome = Outcome.CONTINUE
    ticket: TicketRequest | None = None
