"""Matching an agent's message to a FAQ entry: answer, clarify, or none.

Each entry is indexed as the normalised terms of its questions and keywords (bot/answering/lexicon.py).
A message is scored against every entry sharing a term with it (an inverted index keeps this
fast with thousands of entries) by two measures, both weighted by how specific a term is
(inverse entry frequency):
  - coverage: how much of the message the entry's vocabulary explains. Words nobody in the
    FAQ uses count against every entry, which is what keeps out-of-scope questions out
    ("le code de ma carte bleue" shares "code" with the FAQ, but "carte bleue" is unexplained).
  - closeness: the best weighted overlap with one of the entry's example questions.
Words listed under `pas_pour` (look-alikes: a canteen badge, the wifi password) sink an entry.
Context words (creche, hier, collegue...) weigh little; politeness only counts when alone.
The decision follows thresholds from the config: a clear winner is an answer; two or three
close candidates are a clarification; weak evidence is none (the bot offers a mediator).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

from ..config import Thresholds
from .faq import Faq
from .lexicon import Lexicon, surface

CONTENT = ("concept", "word", "unknown", "foreign")
UNKNOWN_WEIGHT = 1.6       # a word no entry uses: as telling as a fairly rare FAQ word
CONTEXT_WEIGHT = 0.3       # scene-setting words barely count
COVERAGE_SHARE = 0.5       # score = geometric mean of coverage and closeness to the best example
EXCLUDED_FACTOR = 0.35     # an entry whose look-alike word appears keeps a third of its score
FOREIGN_WEIGHT = 2.0       # a look-alike subject counts double against every entry that does not expect it
FOREIGN_FACTOR = 0.7       # ...and multiplies the score of such entries by this
WORD_FACTOR = 0.7          # plain FAQ words weigh less than the lexicon's curated concepts
STORY_DECAY = 0.7          # each further unexplained word of a long message weighs 70 % of the previous
EXAMPLE_SIZE = 4.0         # examples lighter than this (about two concepts) give proportionally less closeness
CLARIFY_BAND = 15.0        # candidates within this many points of the best are offered together


@dataclass(frozen=True, kw_only=True)
class Candidate:
    id: str
    score: float


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What to do with a message: `kind` is answer | clarify | none; candidates best first."""

    kind: str
    candidates: tuple[Candidate, ...]

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class _Indexed:
    """One entry as the matcher sees it."""

    id: str
    share: dict[str, float]          # term -> share of the entry's examples that use it
    examples: tuple[frozenset[str], ...]
    exclude: frozenset[str]
    sizes: tuple[float, ...] = ()   # each example's total weight, computed once the idf is known


class Matcher:
    """Built once per FAQ version; `decide` is pure and fast."""

    def __init__(self, faq: Faq, lexicon: Lexicon, thresholds: Thresholds):
        self.lexicon = lexicon
        self.thresholds = thresholds
        lexicon.learn({w for e in faq.entries for text in (*e.questions, *e.keywords, *e.exclude, e.title)
                       for w in surface(text)})
        self.entries = [self._index(e) for e in faq.entries]
        self.postings: dict[str, list[int]] = {}
        for number, entry in enumerate(self.entries):
            for term in entry.share:
                self.postings.setdefault(term, []).append(number)
        total = max(len(self.entries), 1)
        self.idf = {t: math.log(1 + total / len(p)) for t, p in self.postings.items()}
        self.entries = [replace(e, sizes=tuple(sum(self.idf[t] for t in ex) for ex in e.examples))
                        for e in self.entries]
        self.unknown_weight = UNKNOWN_WEIGHT * math.log(1 + total / 2) / math.log(1 + 22 / 2)

    def _index(self, entry) -> _Indexed:
        examples = [frozenset(t.text for t in self.lexicon.terms(q) if t.kind != "context")
                    for q in (*entry.questions, *entry.keywords, entry.title)]
        examples = [e for e in examples if e]
        counts = Counter(t for ex in examples for t in ex)
        # "pas_pour: remboursement de repas" means the word "repas": the entry's own words stay its own
        exclude = frozenset(t.text for phrase in entry.exclude for t in self.lexicon.terms(phrase)
                            if t.kind != "politeness") - counts.keys()
        return _Indexed(id=entry.id, share={t: n / len(examples) for t, n in counts.items()},
                        examples=tuple(examples), exclude=exclude)

    def weights(self, text: str) -> dict[str, float]:
        """Each term of the message with its weight; politeness counts only when nothing else does."""
        terms = self.lexicon.terms(text)
        content = [t for t in terms if t.kind in CONTENT or t.kind == "context"]
        if not [t for t in content if t.kind != "context"]:
            content = [t for t in terms if t.kind == "politeness"] or content
        weights: dict[str, float] = {}
        for term in content:
            if term.kind == "context":
                weight = CONTEXT_WEIGHT
            elif term.kind == "foreign":  # "cantine", "wifi", "gmail": another subject that looks like ours
                weight = FOREIGN_WEIGHT * self.idf.get(term.text, self.unknown_weight)
            elif term.kind == "word":  # a word some example happens to use: weaker than a concept
                weight = WORD_FACTOR * self.idf.get(term.text, self.unknown_weight)
            else:
                weight = self.idf.get(term.text, self.unknown_weight)
            weights[term.text] = max(weights.get(term.text, 0.0), weight)
        return weights

    def rank(self, text: str) -> list[Candidate]:
        """Every entry sharing a term with the message, best first, scored 0-100."""
        query = self.weights(text)
        total = sum(query.values())
        if not total:
            return []
        touched = {n for term in query for n in self.postings.get(term, ())}
        scored = [Candidate(id=self.entries[n].id, score=round(self._score(self.entries[n], query, total), 1))
                  for n in touched]
        return sorted((c for c in scored if c.score > 0), key=lambda c: (-c.score, c.id))

    def _score(self, entry: _Indexed, query: dict[str, float], total: float) -> float:
        matched = sum(w * (0.5 + 0.5 * min(1.0, 3 * entry.share[t])) for t, w in query.items() if t in entry.share)
        unexplained = sorted((w for t, w in query.items() if t not in entry.share), reverse=True)
        # the first unexplained word counts fully, the rest of a long story less and less
        story = sum(w * STORY_DECAY ** i for i, w in enumerate(unexplained))
        coverage = matched / (matched + story) if matched else 0.0
        enough = min(EXAMPLE_SIZE, total)  # a one-word message may be fully matched by a one-word example
        closeness = max((self._recall(example, size, query, enough) for example, size in zip(entry.examples, entry.sizes)),
                        default=0.0)
        score = 100 * coverage ** COVERAGE_SHARE * closeness ** (1 - COVERAGE_SHARE)
        if entry.exclude & query.keys():
            score *= EXCLUDED_FACTOR
        if any(t[0] == "!" and t not in entry.share for t in query):
            score *= FOREIGN_FACTOR  # a look-alike subject the entry does not expect: a doubt, not a veto
        return score

    def _recall(self, example: frozenset[str], size: float, query: dict[str, float], enough: float) -> float:
        """How much of one example question the message contains: "oublie" alone is not
        "oublie de pointer", however well "oublie" is explained."""
        common = sum(self.idf.get(t, 0.0) for t in example if t in query)
        # a one-word example ("badgeuse") proves less than a real question that is fully there
        return common / size * min(1.0, size / enough) if size else 0.0

    def unexpected_lookalikes(self, text: str, entry_id: str) -> list[str]:
        """Look-alike subjects of the lexicon (wifi, cantine, someone else's mailbox) in the message
        that the entry does not expect: the semantic matcher may not answer over them."""
        return self.lookalikes_among(self.weights(text), entry_id)

    def lookalikes_among(self, terms: dict[str, float], entry_id: str) -> list[str]:
        """`unexpected_lookalikes` of a message whose `weights` are already known."""
        entry = next((e for e in self.entries if e.id == entry_id), None)
        return [t[1:] for t in terms if t[0] == "!" and (entry is None or t not in entry.share)]

    def decide(self, text: str) -> Decision:
        return self.decide_ranked(self.rank(text))

    def decide_ranked(self, ranked: list[Candidate]) -> Decision:
        t = self.thresholds
        if not ranked or ranked[0].score < t.clarify:
            return Decision(kind="none", candidates=tuple(ranked[:3]))
        best = ranked[0].score
        second = ranked[1].score if len(ranked) > 1 else 0.0
        if best >= t.answer and best - second >= t.margin:
            return Decision(kind="answer", candidates=tuple(ranked[:3]))
        close = [c for c in ranked[:3] if c.score >= max(t.clarify, best - CLARIFY_BAND)]
        return Decision(kind="clarify", candidates=tuple(close))
