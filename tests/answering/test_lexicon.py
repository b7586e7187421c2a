"""Normalisation as an agent would notice it: what a message typed on a phone turns into.

Every test reads the real faq/lexique.yaml, so a lexicon edit that breaks how agents are
understood (an SMS spelling, a synonym, a typo the bot used to forgive) fails here first.
Each table row is: what the agent types -> the terms the matcher sees.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.lexicon import Lexicon, load_lexicon, load_lexicon_text, surface

LEXICON_FILE = Path(__file__).parents[2] / "faq" / "lexique.yaml"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    lexicon, problems = load_lexicon(LEXICON_FILE)
    assert problems == []
    return lexicon


def said(lexicon: Lexicon, text: str) -> list[str]:
    """The terms of a message, as the matcher weighs them."""
    return [term.text for term in lexicon.terms(text)]


def expanded(lexicon: Lexicon, text: str) -> list[str]:
    """The words after SMS expansion and elision splitting, before typo correction."""
    return lexicon.expand(surface(text))


# --- what the surface ignores: case, accents, punctuation, emphasis --------------------------

@pytest.mark.parametrize("typed, words", [
    ("MOT DE PASSE", ["mot", "de", "passe"]),
    ("Mot de Passé", ["mot", "de", "passe"]),
    ("mot-de-passe !!!", ["mot", "de", "passe"]),
    ("Ça marche pô...", ["ca", "marche", "po"]),
    ("bonjouuuur", ["bonjour"]),
    ("j’ai oublié", ["j", "ai", "oublie"]),
    ("l'appli", ["l", "appli"]),
    ("cœur", ["coeur"]),
    ("  badge\n\tperdu  ", ["badge", "perdu"]),
    ("", []),
    ("?!...", []),
])
def test_surface_ignores_case_accents_punctuation_and_emphasis(typed, words):
    assert surface(typed) == words


@pytest.mark.parametrize("typed", ["mot de passe", "MOT DE PASSE", "Mot De Passé", "mot-de-passe!!!", "mdp", "MDP ?"])
def test_every_way_of_typing_a_password_is_one_concept(lexicon, typed):
    assert said(lexicon, typed) == ["_motdepasse"]


def test_letters_repeated_for_emphasis_are_reduced(lexicon):
    assert said(lexicon, "badgeuuuuse") == said(lexicon, "badgeuse") == ["_badgeuse"]


# --- SMS spellings --------------------------------------------------------------------------

@pytest.mark.parametrize("typed, words", [
    ("mdp", ["mot", "de", "passe"]),
    ("jai", ["j", "ai"]),
    ("koi", ["quoi"]),
    ("svp", ["s", "il", "vous", "plait"]),
    ("bjr", ["bonjour"]),
    ("appli", ["application"]),
    ("tel", ["telephone"]),
    ("qqn", ["quelqu", "un"]),
    ("jsuis bloqué", ["je", "suis", "bloque"]),
    ("pb de tel", ["probleme", "de", "telephone"]),
])
def test_sms_spellings_are_expanded(lexicon, typed, words):
    assert expanded(lexicon, typed) == words


@pytest.mark.parametrize("typed, terms", [
    ("mdp", ["_motdepasse"]),
    ("appli", ["_application"]),
    ("tel", ["_telephone"]),
    ("bjr", ["_salutation"]),
    ("svp", ["_formule"]),
])
def test_sms_spellings_reach_the_same_concept_as_the_full_words(lexicon, typed, terms):
    assert said(lexicon, typed) == terms


@pytest.mark.parametrize("sms, full", [
    ("c koi mon adresse", "c'est quoi mon adresse"),
    ("jai perdu mon badge", "j'ai perdu mon badge"),
    ("qqn peut m'aider pr mon mdp", "quelqu'un peut m'aider pour mon mot de passe"),
    ("bjr svp", "bonjour s'il vous plaît"),
])
def test_an_sms_message_means_what_the_full_sentence_means(lexicon, sms, full):
    assert said(lexicon, sms) == said(lexicon, full)


# --- elisions typed without the apostrophe --------------------------------------------------

@pytest.mark.parametrize("typed, words", [
    ("lappli", ["l", "application"]),
    ("jactive", ["j", "active"]),
    ("dheures", ["d", "heures"]),
    ("jai pas lappli", ["j", "ai", "pas", "l", "application"]),
])
def test_elisions_without_apostrophe_are_split(lexicon, typed, words):
    assert expanded(lexicon, typed) == words


@pytest.mark.parametrize("typed", ["lappli", "l'appli", "l appli"])
def test_elided_and_apostrophe_spellings_mean_the_same(lexicon, typed):
    assert said(lexicon, typed) == ["_application"]


@pytest.mark.parametrize("word", ["dans", "mon", "sans", "centre", "tout"])
def test_words_of_the_lexicon_are_not_split_as_elisions(lexicon, word):
    assert expanded(lexicon, word) == [word]


# --- typos ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, concept", [
    ("badjeuse", "_badgeuse"),
    ("bagdeuse", "_badgeuse"),
    ("pointeusse", "_badgeuse"),
    ("rembourcer", "_rembourser"),
    ("remboursemant", "_rembourser"),
    ("mesagerie", "_mail"),
    ("messagerei", "_mail"),
    ("telefone", "_telephone"),
    ("conteur", "_compteur"),
    ("abonemment", "_transport"),
])
def test_typos_are_corrected_to_the_concept(lexicon, typed, concept):
    assert said(lexicon, typed) == [concept]


@pytest.mark.parametrize("word", ["meteo", "pain", "mere", "pizza", "tarte", "poste", "maire", "lait", "chat", "robe"])
def test_short_everyday_words_are_not_corrected_into_faq_words(lexicon, word):
    assert lexicon.correct(word) == word


def test_meteo_does_not_become_metro(lexicon):
    assert lexicon.correct("meteo") != "metro"
    assert "_transport" not in said(lexicon, "la météo de demain")
    assert said(lexicon, "le métro") == ["_transport"]


@pytest.mark.xfail(strict=True, reason="4-letter typo 'pase' is never corrected: 'mot de pase' is not the password concept")
def test_a_typo_inside_a_phrase_still_reaches_the_concept(lexicon):
    assert said(lexicon, "mot de pase") == ["_motdepasse"]


# --- synonyms ------------------------------------------------------------------------------

@pytest.mark.parametrize("forms, concept", [
    (["badgeuse", "pointeuse", "la pointeuse", "les badgeuses"], "_badgeuse"),
    (["fiche de paie", "bulletin de salaire", "feuille de paye", "fiches de paye", "bulletin de paie"], "_fichepaie"),
    (["courriel", "mail", "messagerie", "email", "boîte mail"], "_mail"),
    (["navigo", "abonnement", "pass navigo", "métro"], "_transport"),
    (["oublié", "zappé", "je me souviens plus"], "_oubli"),
    (["bloqué", "verrouillé", "trop de tentatives"], "_bloque"),
])
def test_synonyms_map_to_one_concept(lexicon, forms, concept):
    assert {form: said(lexicon, form) for form in forms} == {form: [concept] for form in forms}


@pytest.mark.parametrize("typed, terms", [
    ("je n'arrive pas", ["arriv"]),     # n' is not an abbreviation of anything
    ("vitamine e", ["vitamin", "e"]),   # nor is a lone e
])
def test_lone_letters_are_not_rewritten(lexicon, typed, terms):
    assert said(lexicon, typed) == terms


def test_hyphenated_e_mail_is_just_mail(lexicon):
    assert said(lexicon, "e-mail") == ["_mail"]


def test_a_phrase_is_recognised_before_its_words(lexicon):
    # "fiche de paie" is one concept, not "fiche" + "paie"
    assert said(lexicon, "ma fiche de paie de mars") == ["_fichepaie", "mars"]


# --- stop words, context, politeness ------------------------------------------------------

@pytest.mark.parametrize("typed", ["est-ce que je peux avoir le", "c'est quoi", "le la de du", "et moi alors"])
def test_stop_words_alone_leave_nothing(lexicon, typed):
    assert said(lexicon, typed) == []


def test_stop_words_are_dropped_around_the_subject(lexicon):
    assert said(lexicon, "est-ce que la badgeuse de mon téléphone") == ["_badgeuse", "_telephone"]


def test_context_words_are_kept_as_context(lexicon):
    terms = lexicon.terms("à la crèche hier matin")
    assert {term.kind for term in terms} == {"context"}


@pytest.mark.parametrize("typed, formula", [
    ("Bonjour", "_salutation"),
    ("merci", "_remerciement"),
    ("bonne journée", "_au_revoir"),
    ("au revoir !", "_au_revoir"),
])
def test_politeness_formulas_are_recognised(lexicon, typed, formula):
    assert [(t.text, t.kind) for t in lexicon.terms(typed)] == [(formula, "politeness")]


# --- lexicon file errors, each at its line ------------------------------------------------

def problems_of(text: str) -> list[str]:
    return [str(problem) for problem in load_lexicon_text(text, "lexique.yaml")[1]]


def test_the_real_lexicon_has_no_problem():
    assert load_lexicon(LEXICON_FILE)[1] == []


def test_unknown_section_is_reported_at_its_line():
    text = "abreviations:\n  mdp: mot de passe\nsynonime:\n  badgeuse: [pointeuse]\n"
    [problem] = problems_of(text)
    assert problem.startswith("lexique.yaml:3: section inconnue « synonime »")


def test_abbreviation_without_text_is_reported_at_its_line():
    text = "abreviations:\n  mdp: mot de passe\n  tel: [telephone]\n  bjr:\n"
    assert [p.split(" : ")[0] for p in problems_of(text)] == [
        "lexique.yaml:3: abréviation « tel »",
        "lexique.yaml:4: abréviation « bjr »",
    ]


def test_an_abbreviation_of_several_words_is_reported_at_its_line():
    # "y a: il y a" used to rewrite every lone "y": an expression belongs under synonymes
    [problem] = problems_of("abreviations:\n  mdp: mot de passe\n  y a: il y a\n")
    assert problem.startswith("lexique.yaml:3: abréviation « y a » : un seul mot à gauche")


def test_synonyms_that_are_not_a_list_are_reported_at_their_line():
    text = "synonymes:\n  badgeuse: [pointeuse]\n  paie: fiche de paie\n  vide: []\n"
    assert problems_of(text) == [
        "lexique.yaml:3: synonymes de « paie » : donnez une liste [mot, expression, ...]",
        "lexique.yaml:4: synonymes de « vide » : donnez une liste [mot, expression, ...]",
    ]


def test_yaml_syntax_error_is_reported_at_its_line():
    [problem] = problems_of("abreviations:\n  mdp: mot de passe\nsynonymes:\n  badgeuse: [pointeuse\n")
    assert problem.startswith("lexique.yaml:4: « [ » ouvert et jamais refermé")


def test_a_list_instead_of_sections_is_reported():
    [problem] = problems_of("- mdp\n- tel\n")
    assert problem.startswith("lexique.yaml:1: le lexique doit contenir les sections")


def test_good_lines_still_load_next_to_a_bad_one():
    lexicon, problems = load_lexicon_text("abreviations:\n  tel: [telephone]\n  mdp: mot de passe\n")
    assert len(problems) == 1
    assert lexicon.expand(["mdp"]) == ["mot", "de", "passe"]


@pytest.mark.parametrize("text, line", [
    ("abreviations:\n  - mdp\n", 2),
    ("synonymes: badgeuse\n", 1),
    ("mots_vides: 3\n", 1),
])
def test_a_section_of_the_wrong_shape_is_a_problem_not_a_crash(text, line):
    [problem] = problems_of(text)
    assert problem.startswith(f"lexique.yaml:{line}:")
