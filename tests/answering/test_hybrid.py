"""The hybrid matcher on a small FAQ, with the real bundled encoder: what an agent would notice.

A paraphrase that shares no word with the examples gets its answer once the message comes with
its vector; a look-alike out-of-scope question does not; words that already settle a question
never wait for the encoder; the FAQ's vectors are cached on disk and only edits are re-embedded.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from bot.answering import semantic
from bot.answering.encoder import BundledEncoder, prepare
from bot.answering.hybrid import HybridMatcher
from bot.answering.semantic import SemanticIndex, VectorCache
from dataclasses import replace

from bot.config import load_config
from bot.conversation.knowledge import load_knowledge
from bot.answering.faq import load_faq_text

ROOT = Path(__file__).parents[2]
SMALL_FAQ = """
entrees:
  - id: badge.lost_card
    titre: Badge perdu, volé ou cassé
    type: reponse
    questions: [j'ai perdu mon badge, mon badge est cassé, on m'a volé mon badge, badge introuvable]
    reponse: Prévenez votre responsable.
  - id: badge.forgot_punch
    titre: Oubli de badgeage
    type: reponse
    questions: [j'ai oublié de badger, oubli de pointage hier, je n'ai pas pointé en partant]
    reponse: Je note votre oubli.
  - id: mailbox.password_forgotten
    titre: Mot de passe de messagerie oublié
    type: reponse
    questions: [j'ai oublié mon mot de passe de messagerie, mdp mail oublié, je ne peux plus ouvrir mes mails]
    reponse: Utilisez le lien « mot de passe oublié ».
"""
ELSEWHERE = ["le code du wifi de la mairie", "ma carte bancaire est bloquée", "le menu de la cantine",
             "la CAF ne m'a pas payé", "ma déclaration d'impôts"]


class Counting:
    """The bundled encoder, counting the texts it is asked to encode (the cache's measure)."""

    def __init__(self, encoder):
        self.encoder, self.model_id, self.dim, self.texts = encoder, encoder.model_id, encoder.dim, 0

    def encode(self, texts):
        self.texts += len(texts)
        return self.encoder.encode(texts)


@pytest.fixture(scope="session")
def encoder():
    return BundledEncoder(threads=1)


def examples(faq_text: str = SMALL_FAQ):
    faq, problems = load_faq_text(faq_text, {})
    assert not problems
    return faq, {e.id: (*e.questions, *e.keywords, e.title) for e in faq.entries}


@pytest.fixture(scope="session")
def hybrid(encoder, tmp_path_factory) -> HybridMatcher:
    """The real FAQ's matcher, embedded once for the whole session."""
    config = replace(load_config(ROOT / "config.example.yaml"), data_dir=tmp_path_factory.mktemp("vectors"))
    knowledge, problems = load_knowledge(config, encoder=encoder)
    assert not problems and knowledge.matcher.semantic is not None
    return knowledge.matcher


def decide(hybrid, encoder, text):
    return hybrid.decide(text, encoder.encode([text])[0])


@pytest.mark.parametrize("story, topic", [
    ("ce matin dans le tram on m'a piqué mon sac avec ma carte pour pointer dedans", "badge.lost_card"),
    ("I forgot to clock out yesterday evening", "badge.forgot_punch"),
])
def test_a_paraphrase_is_answered_with_its_vector(hybrid, encoder, story, topic):
    decision = decide(hybrid, encoder, story)
    assert (decision.kind, decision.top.id) == ("answer", topic)


def test_context_words_no_longer_pull_the_answer_away(hybrid, encoder):
    for story in ("jai perdu mon badge ce matin dans le bus", "la badgeuse a pa pri mon depart hier soir"):
        decision = decide(hybrid, encoder, story)
        assert decision.kind in ("answer", "clarify") and decision.top.id in ("badge.lost_card", "badge.forgot_punch")


@pytest.mark.parametrize("message", ["c'est quoi le mot de passe du wifi", "ma carte bleue ne passe plus",
                                     "j'ai oublié le code de ma carte bancaire", "le menu de la cantine demain",
                                     "je voudrais lire les mails de mon collègue absent"])
def test_look_alike_out_of_scope_questions_are_not_answered(hybrid, encoder, message):
    assert decide(hybrid, encoder, message).kind != "answer"


def test_words_that_settle_the_question_skip_the_encoder(hybrid):
    assert not hybrid.needs_vector("j'ai perdu mon badge")
    assert hybrid.decide("j'ai perdu mon badge").kind == "answer"
    assert hybrid.needs_vector("on m'a piqué mon sac avec ma carte")
    assert not hybrid.needs_vector("   ")


def test_without_an_index_the_decision_is_the_lexical_one(hybrid, encoder):
    lexical_only = HybridMatcher(hybrid.lexical)
    story = "ce matin dans le tram on m'a piqué mon sac avec ma carte pour pointer dedans"
    assert hybrid.needs_vector(story)
    assert not lexical_only.needs_vector(story)
    assert lexical_only.decide(story, encoder.encode([story])[0]) == hybrid.lexical.decide(story)


def test_the_cache_embeds_only_what_changed(tmp_path, encoder):
    path = tmp_path / "vectors.sqlite"
    _, texts = examples(SMALL_FAQ.replace("badge introuvable", "badge introuvable (test du cache)"))
    counting = Counting(encoder)
    first = SemanticIndex.build(texts, ELSEWHERE, counting, VectorCache(path))
    assert first.embedded == counting.texts > 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    semantic._MEMORY.clear()  # a restart: only the file is left
    again = SemanticIndex.build(texts, ELSEWHERE, counting, VectorCache(path))
    assert again.embedded == 0
    assert np.allclose(again.weights, first.weights)
    _, edited = examples(SMALL_FAQ.replace("badge introuvable", "je ne retrouve plus mon badge nulle part"))
    semantic._MEMORY.clear()
    assert SemanticIndex.build(edited, ELSEWHERE, counting, VectorCache(path)).embedded == 1


def test_prepare_removes_what_breaks_the_engine_and_keeps_both_ends():
    cleaned = prepare("a\x00b\ud800c")
    assert "\x00" not in cleaned and "\ud800" not in cleaned and cleaned.startswith("a")
    story = "DEBUT " + "blabla " * 500 + " FIN"
    capped = prepare(story)
    assert len(capped) < 800 and capped.startswith("DEBUT") and capped.endswith("FIN")
