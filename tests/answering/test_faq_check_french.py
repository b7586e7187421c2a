"""`faq check` read by an FAQ author who is not a programmer: each mistake in plain French, at the line
to edit, with the fix when there is one; no false follow-up problems after a file fails to parse.

Same helpers as tests/answering/test_faq_check.py: a small faq/ folder in tmp_path, problems as `file:line: message`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import load_config
from bot.conversation.flows.loading import load_flows_text
from bot.conversation.knowledge import load_knowledge

from ..answering.test_faq_check import GOOD, problems

ROOT = Path(__file__).parents[2]
HEAD = "entrees:\n  - id: mail.password\n    titre: Mot de passe oublié\n    type: reponse\n"


@pytest.mark.parametrize("text, expected", [
    (HEAD + "\tquestions:\n", "f.yaml:5: tabulation dans le décalage : remplacez-la par des espaces "
                              "(2 espaces par niveau, comme les lignes voisines)"),
    (HEAD + "    reponse: Horaires: de 8h à 17h\n",
     "f.yaml:5: « : » au milieu d'un texte : mettez le texte entre guillemets, "
     "par exemple « reponse: \"Horaires: de 8h à 17h\" »"),
    (HEAD + "    questions:\n      - un\n     - deux\n",
     "f.yaml:7: décalage incorrect : le « - » de cette ligne a 5 espace(s) devant ; "
     "alignez-la sur la ligne 6 (6 espaces)"),
    (HEAD + "   reponse: oui\n",
     "f.yaml:5: décalage incorrect : la clé de cette ligne a 3 espace(s) devant ; alignez-la sur la ligne 4 (4 espaces)"),
    (HEAD + "      reponse: oui\n",
     "f.yaml:5: décalage incorrect : la clé de cette ligne a 6 espace(s) devant ; alignez-la sur la ligne 4 (4 espaces)"),
    (HEAD + "    questions:\n      - un\n      deux\n",
     "f.yaml:7: ligne sans « - » ni « : » : dans une liste, chaque élément commence par « - » "
     "(par exemple « - deux »), ailleurs écrivez « clé: valeur »"),
    (HEAD + "    reponse: oui\n  id: mail.other\n",
     "f.yaml:6: il manque un « - » : cette ligne est au niveau des « - » de la liste ; commencez-la par « - » "
     "pour un nouvel élément, ou décalez-la comme les clés de l'élément au-dessus"),
    (HEAD + "    reponse: \"Allez au guichet\n    questions:\n      - un\n",
     "f.yaml:5: guillemet ouvert et jamais refermé : ajoutez le guillemet fermant à la fin du texte, "
     "ou retirez celui du début"),
    (HEAD + "    reponse: {portal} vous aide\n",
     "f.yaml:5: un texte qui commence par « { » doit être entièrement entre guillemets : "
     "écrivez « reponse: \"{portal} vous aide\" »"),
    (HEAD + "    questions:\n      - @mairie\n",
     "f.yaml:6: un texte ne peut pas commencer par « @ » : mettez tout le texte entre guillemets, "
     "par exemple « - \"@mairie\" »"),
    (HEAD + "    questions:\n      - [urgent] mot de passe\n",
     "f.yaml:6: un texte qui commence par « [ » doit être entièrement entre guillemets : "
     "écrivez « - \"[urgent] mot de passe\" »"),
    (HEAD + "    questions:\n      - [urgent mot de passe\n    reponse: oui\n",
     "f.yaml:6: « [ » ouvert et jamais refermé : si « [ » fait partie du texte, mettez tout le texte entre "
     "guillemets, par exemple « - \"[urgent mot de passe\" »"),
])
def test_a_yaml_mistake_is_said_in_french_at_the_line_to_edit(tmp_path, text, expected):
    assert problems(tmp_path, {"f.yaml": text}) == [expected]


def test_a_colon_inside_a_question_is_not_a_silent_empty_item(tmp_path):
    text = GOOD.replace("      - j'ai oublié mon mot de passe\n", "      - mot de passe: oublié\n")
    assert problems(tmp_path, {"f.yaml": text}) == [
        "f.yaml:6: « questions » : cet élément contient « : » suivi d'un espace ; mettez-le entre guillemets, "
        "par exemple « - \"mot de passe: oublié\" »"]


LONG_ANSWER = HEAD + """\
    questions:
      - mot de passe oublié
    reponse: |
      Allez sur {portal}.
      Le guichet est au {guichet}.
      Ouvert {horaires.
      Fermé le dimanche}.
"""


def test_variables_and_braces_are_reported_on_their_own_line_of_a_long_answer(tmp_path):
    assert problems(tmp_path, {"f.yaml": LONG_ANSWER}) == [
        "f.yaml:9: variable inconnue « {guichet} » : ajoutez-la sous « variables: » dans la configuration",
        "f.yaml:10: accolade « { » sans « } » dans « {horaires » : écrivez « {horaires} » pour une variable "
        "de la configuration, ou retirez l'accolade",
        "f.yaml:11: accolade « } » sans « { » dans « dimanche} » : écrivez « {dimanche} » pour une variable "
        "de la configuration, ou retirez l'accolade"]


def test_a_misspelt_variable_gets_the_close_name(tmp_path):
    text = GOOD.replace("{portal}", "{portail}")
    assert problems(tmp_path, {"f.yaml": text}) == [
        "f.yaml:7: variable inconnue « {portail} » : vouliez-vous dire « {portal} » ? sinon, ajoutez-la sous "
        "« variables: » dans la configuration"]


def test_a_file_that_does_not_parse_brings_no_false_missing_topics(tmp_path):
    broken = GOOD.replace("    type: reponse\n", "   type: reponse\n")
    catalogue = {"mail.password": "answer", "badge.lost": "answer"}
    parsed, missing = problems(tmp_path, {"messagerie.yaml": broken}, catalogue)
    assert parsed == ("messagerie.yaml:4: décalage incorrect : la clé de cette ligne a 3 espace(s) devant ; "
                      "alignez-la sur la ligne 3 (4 espaces)")
    assert missing.endswith("faq:1: sujet du catalogue « badge.lost » sans entrée dans la FAQ")  # the real one


def test_a_flow_file_that_does_not_parse_is_not_also_missing(tmp_path):
    config = dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=tmp_path)
    flows = tmp_path / "flows"
    flows.mkdir()
    for path in (ROOT / "flows").glob("*.yaml"):
        (flows / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    target = flows / "mailbox.activate.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("titre: ", "titre:\tx ", 1), encoding="utf-8")
    _, found = load_knowledge(config, flows_dir=flows)
    assert [f"{Path(p.file).name}:{p.line}: {p.message}" for p in found] == [
        "mailbox.activate.yaml:3: tabulation dans le décalage : remplacez-la par des espaces "
        "(2 espaces par niveau, comme les lignes voisines)"]


def test_a_lone_brace_in_a_flow_text_is_a_problem():
    text = "id: essai\ntitre: Essai\netapes:\n  - id: fin\n    reponse: Passez au {guichet_rh\n"
    _, found = load_flows_text(text, "essai.yaml", {"guichet_rh": "bâtiment A"})
    assert [f"{p.line}: {p.message}" for p in found] == [
        "5: parcours « essai », étape « fin » : accolade « { » sans « } » dans « {guichet_rh » : écrivez "
        "« {guichet_rh} » pour une variable de la configuration, ou retirez l'accolade"]
