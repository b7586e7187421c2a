"""The safety net for FAQ edits: messages written by the authors with the topic each must get.

faq/exemples-a-verifier.yaml lists, in the authors' own words, messages and their expected topic
(or `aucun`). `faq check` and the hot reload run them with the matcher the bot uses, so an edit
that makes one go wrong is a problem like a YAML mistake: the bot keeps its last good version.

A case must survive matchers that score differently (lexical today, a sentence encoder next), so
it fails only on what an agent would suffer from (faq/README.md says the same in French):
  - topic T: the bot answers another topic with confidence, or neither answers T nor offers T
    among its choices (a clarification that includes T is fine: the agent picks it);
  - `aucun`: the bot answers some topic with confidence (a clarification or "je n'ai pas
    compris" is fine: nothing wrong was said).
The cases are the authors' text: no tool ever writes an agent's message into this file.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from ..errors import Problem
from .faq import CASES_FILE
from ..texts import say
from ..yamlfile import Mapping, Sequence, load_file

NO_TOPIC = "aucun"
log = logging.getLogger(__name__)


class Decision(Protocol):
    kind: str  # answer | clarify | none
    candidates: tuple


@dataclass(frozen=True, kw_only=True)
class Case:
    message: str
    topic: str | None  # None: no topic must be answered
    file: str
    line: int


def load_cases(path: Path, topics: set[str]) -> tuple[list[Case], list[Problem]]:
    """The cases of `path` (none when it does not exist: the safety net is optional)."""
    if not path.exists():
        return [], []
    data, problems = load_file(path)
    if problems:
        return [], problems
    name = str(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("exemples"), Sequence):
        return [], [Problem(file=name, line=getattr(data, "line", 1) or 1, message=say("authors.cases_shape"))]
    cases, problems = [], []
    items = data["exemples"]
    for index, item in enumerate(items):
        line = items.line_of(index)
        message = item.get("message") if isinstance(item, Mapping) else None
        topic = item.get("sujet") if isinstance(item, Mapping) else None
        if not isinstance(message, str) or not message.strip() or not isinstance(topic, str):
            problems.append(Problem(file=name, line=line, message=say("authors.case_shape")))
        elif topic != NO_TOPIC and topic not in topics:
            problems.append(Problem(file=name, line=item.line_of("sujet"),
                                    message=say("authors.case_unknown_topic", topic=topic)))
        else:
            cases.append(Case(message=message.strip(), topic=None if topic == NO_TOPIC else topic,
                              file=name, line=line))
    return cases, problems


def verdict(case: Case, decision: Decision) -> str | None:
    """What went wrong for an agent who would write this message, in French; None when it is fine."""
    ids = [c.id for c in decision.candidates]
    top = decision.candidates[0] if decision.candidates else None
    answered = decision.kind == "answer" and top is not None
    if case.topic is None:
        return say("authors.case_got", got=_got(decision)) if answered else None
    if answered and top.id == case.topic:
        return None
    if decision.kind == "clarify" and case.topic in ids and not answered:
        return None
    return say("authors.case_got", got=_got(decision))


def _got(decision: Decision) -> str:
    top = decision.candidates[0] if decision.candidates else None
    if decision.kind == "answer" and top is not None:
        return say("authors.got_answer", topic=top.id, score=round(top.score))
    if decision.kind == "clarify" and decision.candidates:
        return say("authors.got_clarify", topics=", ".join(c.id for c in decision.candidates))
    return say("authors.got_none")


def run_cases(cases: list[Case], decide: Callable[[str], Decision]) -> list[Problem]:
    """One problem per case that goes wrong, at the case's line."""
    problems = []
    for case in cases:
        wrong = verdict(case, decide(case.message))
        if wrong is not None:
            expected = case.topic or say("authors.expected_none")
            problems.append(Problem(file=case.file, line=case.line, message=say(
                "authors.case_failed", message=case.message, expected=expected, got=wrong)))
    return problems


def check(faq_dir: Path, topics: set[str], decide: Callable[[str], Decision]) -> list[Problem]:
    """Load and run faq/exemples-a-verifier.yaml. A matcher that cannot decide (a remote encoder out
    of reach) is said in the log, not a problem: refusing every edit while a server is down would
    keep a broken FAQ in service for no reason of the authors'."""
    cases, problems = load_cases(Path(faq_dir) / CASES_FILE, topics)
    if problems:
        return problems
    try:
        return run_cases(cases, decide)
    except (OSError, ConnectionError, TimeoutError) as exc:
        log.warning("%s", say("authors.cases_unreachable", error=exc))
        return []
