"""`faq check`: every mistake an FAQ author can make, reported at the line to fix.

Each test writes a small faq/ folder in tmp_path and reads the problems back as the author
sees them, `file:line: message`, with the folder stripped so the expectations read plainly.
The catalogue is passed in, so these tests do not depend on bot/answering/topics.yaml.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bot.answering.faq import load_faq

ROOT = Path(__file__).parents[2]
CLI = ROOT / ".venv" / "bin" / "helpdesk-bot"
VARIABLES = {"portal": "https://messagerie.example.fr"}

GOOD = """\
entrees:
  - id: mail.password
    titre: Mot de passe oublié
    type: reponse
    questions:
      - j'ai oublié mon mot de passe
    reponse: Allez sur {portal}.
"""


def problems(tmp_path: Path, files: dict[str, str], catalogue: dict[str, str] | None = None) -> list[str]:
    """`file:line: message` for every problem of a faq/ folder holding `files`."""
    folder = tmp_path / "faq"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    _, found = load_faq(folder, VARIABLES, catalogue or {})
    return [str(p).replace(f"{folder}/", "") for p in found]


def entry(**fields: str) -> str:
    """One FAQ file with one entry; `fields` are YAML lines (key: value) in order."""
    lines = "\n".join(f"    {key}: {value}" for key, value in fields.items())
    return "entrees:\n  - " + lines.lstrip() + "\n"


def test_a_good_file_has_no_problem(tmp_path):
    assert problems(tmp_path, {"messagerie.yaml": GOOD}) == []


def test_bad_yaml_syntax_is_reported_at_its_line(tmp_path):
    text = GOOD.replace("      - j'ai oublié mon mot de passe\n", "      - [j'ai oublié\n")
    [problem] = problems(tmp_path, {"messagerie.yaml": text})
    assert problem == ("messagerie.yaml:6: « [ » ouvert et jamais refermé : si « [ » fait partie du texte, "
                       "mettez tout le texte entre guillemets, par exemple « - \"[j'ai oublié\" »")


def test_a_key_written_twice_is_reported_at_the_second_one(tmp_path):
    text = GOOD.replace("    type: reponse\n", "    type: reponse\n    titre: Encore\n")
    [problem] = problems(tmp_path, {"messagerie.yaml": text})
    assert problem == "messagerie.yaml:5: clé en double « titre » : gardez une seule fois cette clé dans l'entrée"


def test_missing_entrees_is_reported_where_the_file_starts(tmp_path):
    text = "# FAQ messagerie\n\nentree:\n  - id: mail.password\n"
    assert problems(tmp_path, {"messagerie.yaml": text}) == [
        "messagerie.yaml:3: le fichier doit commencer par « entrees: » suivi de la liste des entrées"]


def test_entrees_that_is_not_a_list(tmp_path):
    assert problems(tmp_path, {"messagerie.yaml": "# FAQ\nentrees: mot de passe\n"}) == [
        "messagerie.yaml:2: « entrees » doit être une liste (lignes commençant par « - »)"]


def test_unknown_top_level_key(tmp_path):
    assert problems(tmp_path, {"messagerie.yaml": GOOD + "version: 2\n"}) == [
        "messagerie.yaml:8: clé inconnue « version » (seule « entrees » est permise)"]


def test_unknown_entry_key_is_reported_at_its_line(tmp_path):
    text = GOOD.replace("    questions:\n", "    question: oups\n    questions:\n")
    [problem] = problems(tmp_path, {"messagerie.yaml": text})
    assert problem.startswith("messagerie.yaml:5: clé inconnue « question » (clés possibles : ")


def test_missing_id_titre_type_are_reported_at_the_entry(tmp_path):
    text = ("entrees:\n"
            "  - titre: A\n    type: reponse\n    questions: [a]\n    reponse: r\n"   # 2: no id
            "  - id: b\n    type: reponse\n    questions: [b]\n    reponse: r\n"       # 6: no titre
            "  - id: c\n    titre: C\n    questions: [c]\n    reponse: r\n")           # 10: no type
    assert problems(tmp_path, {"f.yaml": text}) == [
        "f.yaml:2: « id » manquant ou vide",
        "f.yaml:6: « titre » manquant ou vide",
        "f.yaml:10: « type » manquant ou vide",
    ]


def test_blank_titre_is_reported_at_its_own_line(tmp_path):
    text = entry(id="a", titre="'  '", type="reponse", questions="[a]", reponse="r")
    assert problems(tmp_path, {"f.yaml": text}) == ["f.yaml:3: « titre » manquant ou vide"]


def test_unknown_type_is_reported_at_its_line(tmp_path):
    text = entry(id="a", titre="A", type="reponses", questions="[a]", reponse="r")
    assert problems(tmp_path, {"f.yaml": text}) == [
        "f.yaml:4: type « reponses » inconnu (possibles : reponse, parcours, mediateur, politesse)"]


def test_empty_reponse_is_reported_at_its_line(tmp_path):
    text = entry(id="a", titre="A", type="reponse", questions="[a]", reponse="'   '")
    assert problems(tmp_path, {"f.yaml": text}) == ["f.yaml:6: « reponse » est vide"]


def test_missing_reponse_for_reponse_and_politesse(tmp_path):
    text = ("entrees:\n"
            "  - id: a\n    titre: A\n    type: reponse\n    questions: [a]\n"
            "  - id: smalltalk.greeting\n    titre: Bonjour\n    type: politesse\n    questions: [bonjour]\n"
            "  - id: help.human\n    titre: Médiateur\n    type: mediateur\n    questions: [un humain]\n")
    message = "« reponse » manquante (obligatoire pour les types reponse et politesse)"
    assert problems(tmp_path, {"f.yaml": text}) == [f"f.yaml:2: {message}", f"f.yaml:6: {message}"]


def test_unknown_variable_is_reported_at_the_reponse(tmp_path):
    text = entry(id="a", titre="A", type="reponse", questions="[a]", reponse="Voir {portal} ou {foo}.")
    assert problems(tmp_path, {"f.yaml": text}) == [
        "f.yaml:6: variable inconnue « {foo} » : ajoutez-la sous « variables: » dans la configuration"]


def test_parcours_missing_for_a_flow_entry(tmp_path):
    text = entry(id="badge.forgot_punch", titre="Oubli", type="parcours", questions="[oubli de badger]")
    assert problems(tmp_path, {"f.yaml": text}) == [
        "f.yaml:2: « parcours » manquant : une entrée de type parcours doit nommer son parcours"]


def test_duplicate_ids_name_both_places(tmp_path):
    other = "# deux\n" + GOOD
    assert problems(tmp_path, {"a.yaml": GOOD, "b.yaml": other}) == [
        "b.yaml:3: id « mail.password » en double (déjà défini en a.yaml:2)"]


def test_catalogue_topic_without_entry(tmp_path):
    catalogue = {"mail.password": "answer", "mail.locked": "answer"}
    assert problems(tmp_path, {"a.yaml": GOOD}, catalogue) == [
        f"{tmp_path / 'faq'}:1: sujet du catalogue « mail.locked » sans entrée dans la FAQ"]


def test_entry_id_not_in_catalogue(tmp_path):
    assert problems(tmp_path, {"a.yaml": GOOD}, {"mail.locked": "answer"})[0] == (
        "a.yaml:2: id « mail.password » absent du catalogue des sujets")


def test_entry_type_must_match_the_catalogue(tmp_path):
    assert problems(tmp_path, {"a.yaml": GOOD}, {"mail.password": "flow"}) == [
        "a.yaml:2: « mail.password » doit être de type « parcours »"]


def test_every_problem_of_a_file_is_listed_not_only_the_first(tmp_path):
    text = ("entrees:\n"
            "  - id: a\n    titre: A\n    type: reponse\n    questions: [a]\n    reponse: '{foo}'\n"
            "  - id: b\n    titre: B\n    type: quiz\n    questions: [b]\n    reponse: r\n")
    assert [p.split(":")[1] for p in problems(tmp_path, {"f.yaml": text})] == ["6", "9"]


def test_lexicon_file_is_not_read_as_entries(tmp_path):
    assert problems(tmp_path, {"a.yaml": GOOD, "lexique.yaml": "abreviations:\n  mdp: mot de passe\n"}) == []


# --- the command ------------------------------------------------------------------------------

def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "faq", "check", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_faq_check_exits_0_on_the_real_repo():
    result = run_check()
    assert (result.returncode, result.stdout.startswith("OK : ")) == (0, True), result.stdout + result.stderr


def test_faq_check_exits_1_and_names_the_line(tmp_path):
    folder = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", folder)
    broken = (folder / "badgeuse.yaml").read_text(encoding="utf-8").replace("    type: reponse\n", "    type: reponce\n", 1)
    (folder / "badgeuse.yaml").write_text(broken, encoding="utf-8")
    result = run_check("--faq", str(folder))
    assert result.returncode == 1
    assert f"{folder / 'badgeuse.yaml'}:9: type « reponce » inconnu" in result.stdout
    assert "problème(s) trouvé(s)" in result.stderr
