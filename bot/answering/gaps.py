"""What the bot could not answer, grouped by meaning: `faq gaps`, `!lacunes`, the report's top gaps.

A gap is a logged message (bot/storage/decision_log.py) still holding its words, that got no
answer, a clarification nobody picked, or an answer followed by « non » / 👎. Messages are grouped
greedily, biggest first: each joins the group it is closest to, or starts its own.
  - by meaning when vectors are there: the one stored with the message (no second encoding),
    else the encoder's if one is given; closeness is the cosine to the group's centre, nudged up
    by shared lexicon concepts (e5 puts every French sentence about work at 0.8 of every other);
  - else by words: the lexicon's concepts (synonyms and SMS spellings already folded), the
    average overlap with the group's messages.
What the author can do follows from the group: its nearest topic is close enough → add these as
examples of it; an answer kept being refused → review that answer; far from every topic → a new
entry, unless it is one message alone or a subject the lexicon marks as another service's.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Callable, Iterable

import numpy as np

from .lexicon import Lexicon, stem, surface
from ..texts import say


@dataclass(frozen=True, kw_only=True)
class Logged:
    """One row of the log as the reports read it (`vector` as stored bytes, None once erased)."""

    time: datetime
    agent: str
    outcome: str
    topic: str | None
    score: float | None
    followup: str | None
    text: str | None
    vector: bytes | None


Encode = Callable[[list[str]], np.ndarray]  # texts -> unit vectors, one row each
VECTOR_JOIN = 0.915      # cosine to a group's centre (plus the concept bonus) to join it
CONCEPT_BONUS = 0.06     # times the share of concepts in common with the group
WORD_JOIN = 0.34         # average concept overlap (Jaccard) with a group's messages, without vectors
NEAR_ENOUGH = 45.0       # a nearest topic scoring this much: the messages are ways of asking it
CONTENT = ("concept", "word", "unknown", "foreign")


@dataclass(frozen=True, kw_only=True)
class Gap:
    """One group of messages the FAQ did not serve; `examples` are agents' words (never in the report)."""

    count: int
    agents: int
    texts: tuple[str, ...]  # each distinct message once, in the order they came
    examples: tuple[str, ...]
    topic: str | None
    score: float | None
    action: str
    words: tuple[str, ...]  # words shared by the group, said by at least two agents


def is_gap(row: Logged) -> bool:
    if not row.text:
        return False
    return (row.outcome == "none" or (row.outcome == "clarify" and row.followup != "picked")
            or (row.outcome == "answer" and row.followup == "rejected"))


class Terms:
    """A message's content terms: the lexicon's concepts when there is one, else plain stems."""

    def __init__(self, lexicon: Lexicon | None = None):
        self.lexicon = lexicon

    def __call__(self, text: str) -> frozenset[str]:
        if self.lexicon is None:
            return frozenset(stem(w) for w in surface(text) if len(w) > 3)
        return frozenset(t.text for t in self.lexicon.terms(text) if t.kind in CONTENT and t.text)

    def foreign(self, text: str) -> bool:
        return self.lexicon is not None and any(t.kind == "foreign" for t in self.lexicon.terms(text))


def find_gaps(rows: Iterable[Logged], *, terms: Terms | None = None, encode: Encode | None = None) -> list[Gap]:
    """The gaps among `rows`, biggest group first."""
    terms = terms or Terms()
    found = [r for r in rows if is_gap(r) and terms(r.text or "")]  # a lone « non » or « ok » says no need
    if not found:
        return []
    sets = [terms(r.text or "") for r in found]
    vectors = _vectors(found, encode)
    groups = _group(sets, vectors)
    gaps = [_gap([found[i] for i in members], [sets[i] for i in members], terms) for members in groups]
    return sorted(gaps, key=lambda g: (-g.count, -g.agents, g.topic or ""))


def _vectors(rows: list[Logged], encode: Encode | None) -> np.ndarray | None:
    """One unit vector per row: the stored one, else encoded now; None when neither is possible."""
    stored = [np.frombuffer(r.vector, dtype="<f4") if r.vector else None for r in rows]
    missing = [i for i, v in enumerate(stored) if v is None]
    if missing and encode is None:
        return None
    if missing:
        fresh = encode([rows[i].text or "" for i in missing])
        for i, vector in zip(missing, fresh):
            stored[i] = np.asarray(vector, dtype=np.float32)
    dims = {len(v) for v in stored if v is not None}
    return np.vstack(stored) if len(dims) == 1 else None  # vectors of two models cannot be compared


def _group(sets: list[frozenset[str]], vectors: np.ndarray | None) -> list[list[int]]:
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i, mine in enumerate(sets):
        best, best_score = None, 0.0
        for g, members in enumerate(groups):
            overlap = sum(_jaccard(mine, sets[m]) for m in members) / len(members)
            if vectors is not None:
                centre = sums[g] / np.linalg.norm(sums[g])
                score, needed = float(centre @ vectors[i]) + CONCEPT_BONUS * overlap, VECTOR_JOIN
            else:
                score, needed = overlap, WORD_JOIN
            if score >= needed and score > best_score:
                best, best_score = g, score
        if best is None:
            groups.append([i])
            sums.append(vectors[i].copy() if vectors is not None else np.zeros(1))
        else:
            groups[best].append(i)
            if vectors is not None:
                sums[best] = sums[best] + vectors[i]
    return groups


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _gap(rows: list[Logged], sets: list[frozenset[str]], terms: Terms) -> Gap:
    topics = Counter(r.topic for r in rows if r.topic)
    topic = topics.most_common(1)[0][0] if topics else None
    scores = [r.score for r in rows if r.topic == topic and r.score is not None]
    score = round(median(scores), 1) if scores else None
    texts = tuple(dict.fromkeys(r.text or "" for r in rows))
    return Gap(count=len(rows), agents=len({r.agent for r in rows}), texts=texts, examples=texts[:3],
               topic=topic, score=score,
               action=_action(rows, topic, score, terms), words=_shared_words(rows))


def _action(rows: list[Logged], topic: str | None, score: float | None, terms: Terms) -> str:
    refused = sum(r.followup == "rejected" for r in rows)
    if topic and refused * 2 > len(rows):
        return say("authors.gap_review", topic=topic)
    if sum(terms.foreign(r.text or "") for r in rows) * 2 > len(rows):
        return say("authors.gap_off_topic")
    if topic and score is not None and score >= NEAR_ENOUGH:
        return say("authors.gap_example", topic=topic)
    return say("authors.gap_new") if len(rows) > 1 else say("authors.gap_off_topic")


def _shared_words(rows: list[Logged], most: int = 5) -> tuple[str, ...]:
    """Words of at least half of the messages AND of two agents: what the group is about, no one's name."""
    said_by: dict[str, set[str]] = {}
    used = Counter()
    for row in rows:
        words = {w for w in surface(row.text or "") if len(w) > 3}
        used.update(words)
        for word in words:
            said_by.setdefault(word, set()).add(row.agent)
    shared = [w for w, n in used.most_common() if n * 2 >= len(rows) and len(said_by[w]) >= 2]
    return tuple(shared[:most])


# --- how they read

def render_markdown(gaps: list[Gap], *, days: int, total: int) -> str:
    lines = [say("authors.gaps_title", days=days, total=total, groups=len(gaps)), ""]
    if not gaps:
        lines.append(say("authors.gaps_none"))
    for rank, gap in enumerate(gaps, 1):
        lines += [say("authors.gap_heading", rank=rank, count=gap.count, agents=gap.agents, action=gap.action),
                  _nearest(gap)]
        lines += [say("authors.gap_example_line", text=text) for text in gap.examples]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _nearest(gap: Gap) -> str:
    if gap.topic is None:
        return say("authors.gap_no_topic")
    return say("authors.gap_nearest", topic=gap.topic, score=round(gap.score or 0))


def render_csv(gaps: list[Gap]) -> str:
    import csv
    import io
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rang", "messages", "agents", "action", "sujet_proche", "score", "exemple_1", "exemple_2",
                     "exemple_3"])
    for rank, gap in enumerate(gaps, 1):
        examples = list(gap.examples) + [""] * (3 - len(gap.examples))
        writer.writerow([rank, gap.count, gap.agents, gap.action, gap.topic or "", gap.score or "", *examples])
    return out.getvalue()


def render_short(gaps: list[Gap], shown: int = 5) -> str:
    """`!lacunes`: the biggest groups by their shared words, nearest topic and action (no one's sentence:
    the room's history outlives retention)."""
    if not gaps:
        return say("authors.gaps_none")
    lines = [say("authors.gaps_short_title", groups=len(gaps))]
    for gap in gaps[:shown]:
        words = ", ".join(gap.words) or "—"
        nearest = say("authors.gap_near_short", topic=gap.topic, score=round(gap.score or 0)) if gap.topic else "—"
        lines.append(say("authors.gaps_short_line", count=gap.count, words=words, action=gap.action, nearest=nearest))
    lines.append(say("authors.gaps_short_hint"))
    return "\n".join(lines)
