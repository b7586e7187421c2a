"""The decision: lexical and semantic evidence combined into answer / clarify / none.

    lexical  bot/matching.py: 0-100 per entry, from the words (SMS spellings, typos, synonyms,
             look-alike subjects of faq/lexique.yaml)
    semantic bot/answering/semantic.py: a probability per entry and for "elsewhere" (the
             out-of-scope questions of faq/hors_champ.yaml), from the message's vector

Rules, in order (thresholds per model id in the config, `semantic.thresholds`):
  1. settled: the lexical winner is strong and clear (>= `settled`, margin >= matching.margin):
     answer it. The encoder is not even run for such a message (`needs_vector`).
  2. no vector (semantic off, encoder down, a test without one): today's lexical decision.
  3. combined = weight * lexical + (1 - weight) * 100 * probability, per entry.
     Best below `clarify`: none (the bot offers a mediator).
  4. Best >= `answer` and ahead by `margin`: an answer only if neither evidence points to
     another entry. Measured on the three sets, when the words' first choice and the meaning's
     differ, the words are right three times out of four: the classifier, trained on some thirty
     examples per entry, is often sure of a neighbour (97 % "account locked" for a phishing
     parcel). So:
       - the words claim another entry (their best scores at least matching.answer: alone they
         would answer it; below that, a context word like "tram" may be what they follow), or
         the meaning's first choice is another entry or "elsewhere": ask, offering both;
       - words and meaning agree (the words' best, at least matching.clarify, is this entry):
         answer, unless the "elsewhere" probability reaches
         `agreed_elsewhere` or a look-alike subject of the lexicon (wifi, CAF, cantine, someone
         else's mailbox) appears that the entry does not expect;
       - the meaning alone (the words say little): answer only if "elsewhere" is under
         `elsewhere`, no look-alike appears, and the message says more than one term (MIN_TERMS:
         "fiche de paie" alone is the words' business). Semantic closeness alone is not
         permission to answer.
  5. Otherwise clarify: the close candidates (always at least two, so a doubt never turns into a
     one-option "clarification" that the conversation would answer).
Chosen on dev.yaml only; dev2.yaml and benchmarks/eval/own.yaml are the held-out check.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import HybridThresholds
from ..texts import say
from .matching import CLARIFY_BAND, Candidate, Decision, Matcher
from .semantic import SemanticIndex


MIN_TERMS = 2  # "fiche de paie", "mail": one term's vector is no reason to pick one of its several topics


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """Everything `faq ask` shows: both evidences, the combination and the reason of the decision."""

    decision: Decision
    lexical: tuple[Candidate, ...]
    semantic: dict[str, float]  # entry id (and "elsewhere") -> probability; empty without a vector
    reason: str


class HybridMatcher:
    """The matcher the conversation uses; `decide` is pure (the vector comes with the message)."""

    def __init__(self, lexical: Matcher, semantic: SemanticIndex | None = None,
                 thresholds: HybridThresholds | None = None):
        self.lexical = lexical
        self.semantic = semantic if thresholds is not None else None
        self.thresholds = thresholds
        self._position = {topic: n for n, topic in enumerate(self.semantic.labels)} if self.semantic else {}

    # the lexical matcher's measuring tools, unchanged
    def rank(self, text: str) -> list[Candidate]:
        return self.lexical.rank(text)

    def weights(self, text: str) -> dict[str, float]:
        return self.lexical.weights(text)

    def needs_vector(self, text: str) -> bool:
        """Whether encoding this message can change the decision (False: semantic off, or settled).
        Ranks once: on a 100 KB text each pass over the words costs about 100 ms."""
        if self.semantic is None:
            return False
        ranked = self.lexical.rank(text)
        return not self._settled(ranked) if ranked else bool(self.lexical.weights(text))

    def settles(self, text: str) -> bool:
        """Whether the words alone settle the message (rule 1): then no vector is computed."""
        return self._settled(self.lexical.rank(text))

    def decide(self, text: str, vector: np.ndarray | None = None) -> Decision:
        return self.explain(text, vector).decision

    def explain(self, text: str, vector: np.ndarray | None = None) -> Evidence:
        ranked = self.lexical.rank(text)
        lexical = self.lexical.decide_ranked(ranked)
        if self.semantic is not None and self._settled(ranked):
            return Evidence(decision=lexical, lexical=tuple(ranked[:5]), semantic={},
                            reason=say("authors.why_settled", score=ranked[0].score, settled=self.thresholds.settled))
        # one pass over the words for the rest (each costs ~100 ms on a 100 KB text)
        terms = self.lexical.weights(text) if self.semantic is not None and vector is not None else {}
        if not terms:
            return Evidence(decision=lexical, lexical=tuple(ranked[:5]), semantic={},
                            reason=say("authors.why_words_only" if self.semantic else "authors.why_semantic_off"))
        t = self.thresholds
        probabilities = self.semantic.probabilities(vector)
        combined = self._combined(ranked, probabilities)
        top = np.argsort(-probabilities)[:6]
        evidence = dict(lexical=tuple(ranked[:5]), semantic={self.semantic.labels[i]: float(probabilities[i]) for i in top})
        best = combined[0]
        if best.score < t.clarify:
            return Evidence(decision=Decision(kind="none", candidates=tuple(combined[:3])), **evidence,
                            reason=say("authors.why_weak", score=best.score, clarify=t.clarify))
        gap = best.score - combined[1].score if len(combined) > 1 else best.score
        if best.score >= t.answer and gap >= t.margin:
            doubt, rival = self._doubt(terms, best.id, ranked, probabilities)
            if doubt is None:
                return Evidence(decision=Decision(kind="answer", candidates=tuple(combined[:3])), **evidence,
                                reason=say("authors.why_agreed" if self._agreed(ranked, best.id)
                                           else "authors.why_meaning_alone", score=best.score, answer=t.answer,
                                           gap=f"{gap:.1f}"))
            reason = say("authors.why_doubt", doubt=doubt)
        else:
            rival, reason = None, say("authors.why_close", score=best.score, answer=t.answer, gap=f"{gap:.1f}",
                                      margin=t.margin)
        close = [c for c in combined[:3] if c.score >= max(t.clarify, best.score - CLARIFY_BAND)]
        if rival is not None and all(c.id != rival.id for c in close):
            close = [*close[:2], rival]  # the entry the words point to is offered too
        return Evidence(decision=Decision(kind="clarify", candidates=tuple(close if len(close) > 1 else combined[:2])),
                        **evidence, reason=reason)

    def _doubt(self, terms: dict[str, float], best: str, ranked: list[Candidate],
               probabilities: np.ndarray) -> tuple[str | None, Candidate | None]:
        """Why the combined winner may not be answered (None: it may), and the entry the words
        prefer when that is the reason (rule 4)."""
        t = self.thresholds
        words = ranked[0] if ranked else None
        meaning = self.semantic.labels[int(np.argmax(probabilities))]
        elsewhere = 100 * float(probabilities[-1])
        if words is not None and words.id != best and words.score >= self.lexical.thresholds.answer:
            return say("authors.doubt_words", topic=words.id), words
        if meaning != best:
            return say("authors.doubt_meaning", topic=meaning), None
        foreign = self.lexical.lookalikes_among(terms, best)
        if foreign:
            return say("authors.doubt_lookalike", subjects=", ".join(foreign)), None
        if self._agreed(ranked, best):
            limit, name = t.agreed_elsewhere, "agreed_elsewhere"
        elif len(terms) < MIN_TERMS:
            return say("authors.doubt_short"), None
        else:
            limit, name = t.elsewhere, "elsewhere"
        if elsewhere >= limit:
            return say("authors.doubt_elsewhere", percent=f"{elsewhere:.1f}", limit=limit, name=name), None
        return None, None

    def _agreed(self, ranked: list[Candidate], best: str) -> bool:
        """The words back the entry: their best, strong enough for them to ask about it alone."""
        return bool(ranked) and ranked[0].id == best and ranked[0].score >= self.lexical.thresholds.clarify

    def _combined(self, ranked: list[Candidate], probabilities: np.ndarray) -> list[Candidate]:
        """weight * lexical + (1 - weight) * 100 * probability; the best three (vectorised: 10,000 entries)."""
        t = self.thresholds
        scores = (1 - t.weight) * 100 * probabilities[:-1]
        for candidate in ranked:
            if candidate.id in self._position:
                scores[self._position[candidate.id]] += t.weight * candidate.score
        best = np.argpartition(-scores, 3)[:3] if len(scores) > 3 else np.arange(len(scores))
        labels = self.semantic.labels
        return sorted((Candidate(id=labels[i], score=round(float(scores[i]), 1)) for i in best),
                      key=lambda c: (-c.score, c.id))

    def _settled(self, ranked: list[Candidate]) -> bool:
        if not ranked or self.thresholds is None:
            return False
        second = ranked[1].score if len(ranked) > 1 else 0.0
        return ranked[0].score >= self.thresholds.settled and ranked[0].score - second >= self.lexical.thresholds.margin
