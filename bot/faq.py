"""The FAQ: faq/*.yaml parsed once into typed entries, with every mistake reported as file:line.

An entry is one help topic of the catalogue (bot/topics.yaml): its title, how the bot treats it
(type), the ways agents ask it (questions, mots_cles), look-alikes it must not answer (pas_pour)
and the answer text. Answers quote employer facts as `{variable}` taken from the config, so a
wrong or missing variable is caught here, at check time, and never shown raw to an agent.
faq/lexique.yaml and faq/hors_champ.yaml are not entry files: bot/lexicon.py and
bot/answering/semantic.py read them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem
from .yamlfile import Mapping, Sequence, load_file, load_text

KINDS = {"reponse": "answer", "parcours": "flow", "mediateur": "escalate", "politesse": "smalltalk"}
ENTRY_KEYS = {"id", "titre", "type", "parcours", "questions", "mots_cles", "pas_pour", "reponse"}
LEXICON_FILE = "lexique.yaml"
OUT_OF_SCOPE_FILE = "hors_champ.yaml"  # questions the bot must not answer (bot/answering/semantic.py)
CATALOGUE = Path(__file__).parent / "topics.yaml"
VARIABLE = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One help topic as the bot uses it; `answer` already has its variables filled in."""

    id: str
    title: str
    kind: str  # answer | flow | escalate | smalltalk
    answer: str
    flow: str | None
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    exclude: tuple[str, ...]
    file: str
    line: int


@dataclass(frozen=True)
class Faq:
    """All entries, in file order; the matcher and the conversation read it, nobody mutates it."""

    entries: tuple[Entry, ...]

    def get(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


def fill(template: str, variables: dict[str, str]) -> str:
    """Replace `{name}` by its value; unknown names were rejected at load, so this cannot fail."""
    return VARIABLE.sub(lambda m: variables.get(m[1], m[0]), template)


def unknown_variables(text: str, variables: dict[str, str]) -> list[str]:
    """The `{names}` of `text` that the config does not define."""
    return [name for name in VARIABLE.findall(text) if name not in variables]


def catalogue_topics(path: Path = CATALOGUE) -> dict[str, str]:
    """Topic id -> kind (answer, flow, escalate, smalltalk) from the catalogue."""
    data, problems = load_file(path)
    if problems or not isinstance(data, dict):
        return {}
    return {t["id"]: t["kind"] for t in data.get("topics", [])}


def load_faq(faq_dir: Path, variables: dict[str, str],
             catalogue: dict[str, str] | None = None) -> tuple[Faq, list[Problem]]:
    """Load every faq/*.yaml; return the entries and every problem found (never raises)."""
    files = sorted(p for p in Path(faq_dir).glob("*.yaml") if p.name not in (LEXICON_FILE, OUT_OF_SCOPE_FILE))
    if not files:
        return Faq(()), [Problem(file=str(faq_dir), line=1, message="aucun fichier .yaml de FAQ dans ce dossier")]
    entries: list[Entry] = []
    problems: list[Problem] = []
    for path in files:
        data, parse_problems = load_file(path)
        problems += parse_problems
        if not parse_problems:
            found, found_problems = _entries_of(data, str(path), variables)
            entries += found
            problems += found_problems
    problems += _check_ids(entries, catalogue if catalogue is not None else catalogue_topics(), str(faq_dir))
    return Faq(tuple(entries)), problems


def load_faq_text(text: str, variables: dict[str, str], name: str = "faq.yaml") -> tuple[Faq, list[Problem]]:
    """Load one FAQ file from a string (tests, console experiments); no catalogue check."""
    data, problems = load_text(text, name)
    if problems:
        return Faq(()), problems
    entries, problems = _entries_of(data, name, variables)
    return Faq(tuple(entries)), problems + _check_ids(entries, {}, name)


def _entries_of(data: Any, name: str, variables: dict[str, str]) -> tuple[list[Entry], list[Problem]]:
    if not isinstance(data, Mapping) or "entrees" not in data:
        return [], [Problem(file=name, line=getattr(data, "line", 1) or 1,
                            message="le fichier doit commencer par « entrees: » suivi de la liste des entrées")]
    extra = sorted(set(data) - {"entrees"})
    problems = [Problem(file=name, line=data.line_of(k), message=f"clé inconnue « {k} » (seule « entrees » est permise)")
                for k in extra]
    items = data["entrees"]
    if not isinstance(items, Sequence):
        return [], problems + [Problem(file=name, line=data.line_of("entrees"), message="« entrees » doit être une liste (lignes commençant par « - »)")]
    entries = []
    for index, item in enumerate(items):
        entry, entry_problems = _entry(item, name, items.line_of(index), variables)
        problems += entry_problems
        if entry:
            entries.append(entry)
    return entries, problems


def _entry(item: Any, name: str, line: int, variables: dict[str, str]) -> tuple[Entry | None, list[Problem]]:
    def problem(key: str | None, message: str) -> Problem:
        return Problem(file=name, line=item.line_of(key) if key else line, message=message)

    if not isinstance(item, Mapping):
        return None, [Problem(file=name, line=line, message="une entrée doit contenir des clés (id:, titre:, type:, ...)")]
    problems = [problem(k, f"clé inconnue « {k} » (clés possibles : {', '.join(sorted(ENTRY_KEYS))})")
                for k in item if k not in ENTRY_KEYS]
    for key in ("id", "titre", "type"):
        if not isinstance(item.get(key), str) or not item.get(key, "").strip():
            problems.append(problem(key if key in item else None, f"« {key} » manquant ou vide"))
    kind = KINDS.get(str(item.get("type", "")))
    if "type" in item and kind is None:
        problems.append(problem("type", f"type « {item['type']} » inconnu (possibles : {', '.join(KINDS)})"))
    answer = item.get("reponse")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        problems.append(problem("reponse", "« reponse » est vide"))
    elif answer is None and kind in ("answer", "smalltalk"):
        problems.append(problem(None, "« reponse » manquante (obligatoire pour les types reponse et politesse)"))
    for var in unknown_variables(answer or "", variables):
        problems.append(problem("reponse", f"variable inconnue « {{{var}}} » : ajoutez-la sous « variables: » dans la configuration"))
    if kind == "flow" and not isinstance(item.get("parcours"), str):
        problems.append(problem(None, "« parcours » manquant : une entrée de type parcours doit nommer son parcours"))
    lists = {key: _str_list(item, key, problem, problems) for key in ("questions", "mots_cles", "pas_pour")}
    if not lists["questions"] and not lists["mots_cles"] and "questions" not in item:
        problems.append(problem(None, "ajoutez des « questions » (façons de demander) pour que l'entrée soit trouvée"))
    if problems:
        return None, problems
    return Entry(id=item["id"].strip(), title=item["titre"].strip(), kind=kind or "answer",
                 answer=fill((answer or "").strip(), variables), flow=item.get("parcours"),
                 questions=lists["questions"], keywords=lists["mots_cles"], exclude=lists["pas_pour"],
                 file=name, line=item.line), []


def _str_list(item: Mapping, key: str, problem, problems: list[Problem]) -> tuple[str, ...]:
    value = item.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(problem(key, f"« {key} » doit être une liste (lignes commençant par « - »)"))
        return ()
    bad = [i for i, v in enumerate(value) if not isinstance(v, (str, int)) or not str(v).strip()]
    for i in bad:
        problems.append(Problem(file=problem(key, "").file, line=value.line_of(i), message=f"« {key} » : élément vide ou invalide"))
    if not value:
        problems.append(problem(key, f"« {key} » est une liste vide"))
    return tuple(str(v).strip() for i, v in enumerate(value) if i not in bad)


def _check_ids(entries: list[Entry], catalogue: dict[str, str], where: str) -> list[Problem]:
    problems, seen = [], {}
    for entry in entries:
        if entry.id in seen:
            first = seen[entry.id]
            problems.append(Problem(file=entry.file, line=entry.line,
                                    message=f"id « {entry.id} » en double (déjà défini en {first.file}:{first.line})"))
        seen.setdefault(entry.id, entry)
        expected = catalogue.get(entry.id)
        if catalogue and expected is None:
            problems.append(Problem(file=entry.file, line=entry.line, message=f"id « {entry.id} » absent du catalogue des sujets"))
        elif expected and expected != entry.kind:
            french = {v: k for k, v in KINDS.items()}[expected]
            problems.append(Problem(file=entry.file, line=entry.line, message=f"« {entry.id} » doit être de type « {french} »"))
    for topic in catalogue:
        if topic not in seen:
            problems.append(Problem(file=where, line=1, message=f"sujet du catalogue « {topic} » sans entrée dans la FAQ"))
    return problems
