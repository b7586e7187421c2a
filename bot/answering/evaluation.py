"""Measuring the matcher on a labelled set (the format of shared/eval/dev.yaml).

Each question expects a topic id, a list of acceptable ids, or `none`. In scope, a decision is
correct (answer with an acceptable id), a clarification offering an acceptable id, confidently
wrong (answer with another id) or missed (none, or a clarification without the right id).
Out of scope, answering anything is a false answer; offering a mediator or asking is fine.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .matching import Decision

OUTCOMES = ("correct", "clarify_ok", "wrong", "missed")


@dataclass
class Report:
    per_topic: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: dict.fromkeys(OUTCOMES, 0)))
    out_of_scope: int = 0
    false_answers: int = 0
    failures: list[str] = field(default_factory=list)

    def total(self, outcome: str) -> int:
        return sum(t[outcome] for t in self.per_topic.values())

    @property
    def in_scope(self) -> int:
        return sum(self.total(o) for o in OUTCOMES)


def load_labelled(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(question, acceptable ids) pairs; an empty tuple means out of scope."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for item in data["questions"]:
        expect = item["expect"]
        ids = () if expect == "none" else tuple(expect) if isinstance(expect, list) else (expect,)
        pairs.append((str(item["q"]), ids))
    return pairs


def outcome(decision: Decision, expected: tuple[str, ...]) -> str:
    ids = [c.id for c in decision.candidates]
    if decision.kind == "answer":
        return "correct" if ids[0] in expected else "wrong"
    if decision.kind == "clarify" and set(ids) & set(expected):
        return "clarify_ok"
    return "missed"


def evaluate(matcher, pairs: list[tuple[str, tuple[str, ...]]], vectors: list | None = None) -> Report:
    """`vectors`: each question's vector for a hybrid matcher (None items: decided by the words)."""
    report = Report()
    for (question, expected), vector in zip(pairs, vectors or [None] * len(pairs)):
        decision = matcher.decide(question, vector) if vector is not None else matcher.decide(question)
        got = f"{decision.kind} {[(c.id, c.score) for c in decision.candidates]}"
        if not expected:
            report.out_of_scope += 1
            if decision.kind == "answer":
                report.false_answers += 1
                report.failures.append(f"FALSE ANSWER  {question!r} -> {got}")
            continue
        result = outcome(decision, expected)
        report.per_topic[expected[0]][result] += 1
        if result != "correct":
            report.failures.append(f"{result.upper():12}  {question!r} (want {'/'.join(expected)}) -> {got}")
    return report


def render(report: Report, verbose: bool = False) -> str:
    lines = [f"{'topic':28} {'n':>3} {'correct':>8} {'clarify':>8} {'wrong':>6} {'missed':>7}"]
    for topic in sorted(report.per_topic):
        r = report.per_topic[topic]
        lines.append(f"{topic:28} {sum(r.values()):>3} {r['correct']:>8} {r['clarify_ok']:>8} {r['wrong']:>6} {r['missed']:>7}")
    if verbose:
        lines += ["", *report.failures]
    n = max(report.in_scope, 1)
    lines += ["", f"in-scope: {report.in_scope}  correct {pct(report.total('correct'), n)}  "
                  f"clarify-right {pct(report.total('clarify_ok'), n)}  confident-wrong {pct(report.total('wrong'), n)}  "
                  f"missed {pct(report.total('missed'), n)}",
              f"out-of-scope: {report.out_of_scope}  false answers {pct(report.false_answers, max(report.out_of_scope, 1))}"]
    return "\n".join(lines)


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)"
