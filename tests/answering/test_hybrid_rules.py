"""The hybrid decision's rule 4, with vectors given directly (no encoder, no I/O).

Three entries and "elsewhere" on a 4-dimensional toy space: a message's vector is one axis, so
the meaning is certain of one label. What an agent notices: when the words and the meaning
name different entries the bot asks, offering both, instead of answering the wrong one; when
they agree it answers; the meaning alone answers a message whose words say little, but never
over a look-alike subject or when it resembles what the bot does not handle.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answering.faq import load_faq_text
from bot.answering.hybrid import HybridMatcher
from bot.answering.lexicon import load_lexicon
from bot.answering.matching import Matcher
from bot.answering.semantic import SemanticIndex
from bot.config import HybridThresholds, Thresholds

from .test_hybrid import SMALL_FAQ  # the same three entries, here without an encoder

ROOT = Path(__file__).parents[2]
LABELS = ("badge.lost_card", "badge.forgot_punch", "mailbox.password_forgotten", "elsewhere")
NEVER_SETTLED = HybridThresholds(weight=0.4, answer=50.0, clarify=25.0, margin=15.0, elsewhere=3.0,
                                 agreed_elsewhere=10.0, settled=101.0)


@pytest.fixture(scope="module")
def matcher() -> HybridMatcher:
    faq, problems = load_faq_text(SMALL_FAQ, {})
    lexicon, lexicon_problems = load_lexicon(ROOT / "faq" / "lexique.yaml")
    assert not problems and not lexicon_problems
    lexical = Matcher(faq, lexicon, Thresholds(answer=60.0, clarify=46.0, margin=8.0))
    axes = np.eye(4, dtype=np.float32)
    index = SemanticIndex.fit("toy", LABELS, np.repeat(axes, 5, axis=0), np.repeat(np.arange(4), 5))
    return HybridMatcher(lexical, index, NEVER_SETTLED)


def meaning(label: str) -> np.ndarray:
    return np.eye(4, dtype=np.float32)[LABELS.index(label)]


def test_the_toy_meaning_is_sure_of_its_axis(matcher):
    assert matcher.semantic.probabilities(meaning("badge.forgot_punch"))[1] > 0.9


def test_words_and_meaning_that_agree_give_the_answer(matcher):
    decision = matcher.decide("j'ai perdu mon badge", meaning("badge.lost_card"))
    assert (decision.kind, decision.top.id) == ("answer", "badge.lost_card")


def test_a_meaning_sure_of_another_entry_makes_the_bot_ask_offering_both(matcher):
    text = "j'ai perdu mon badge"
    assert matcher.lexical.decide(text).kind == "answer"  # alone, the words would answer
    decision = matcher.decide(text, meaning("badge.forgot_punch"))
    assert decision.kind == "clarify"
    assert {"badge.lost_card", "badge.forgot_punch"} <= {c.id for c in decision.candidates}


def test_a_meaning_that_says_elsewhere_is_no_answer(matcher):
    assert matcher.decide("j'ai perdu mon badge", meaning("elsewhere")).kind != "answer"


def test_the_meaning_alone_answers_a_message_whose_words_say_little(matcher):
    text = "on m'a piqué mon sac avec la carte dedans dans le tram"
    assert matcher.lexical.decide(text).kind != "answer"
    decision = matcher.decide(text, meaning("badge.lost_card"))
    assert (decision.kind, decision.top.id) == ("answer", "badge.lost_card")


def test_the_meaning_alone_never_answers_over_a_look_alike_subject(matcher):
    text = "on m'a piqué mon sac avec la carte de la cantine dedans"
    assert matcher.lexical.unexpected_lookalikes(text, "badge.lost_card")
    assert matcher.decide(text, meaning("badge.lost_card")).kind != "answer"
