"""The FAQ: faq/*.yaml parsed once into typed entries, with every mistake reported as file:line.

An entry is one help topic of the catalogue (bot/answering/topics.yaml): its title, how the bot treats it
(type), the ways agents ask it (questions, mots_cles), look-alikes it must not answer (pas_pour)
and the answer text. Answers quote employer facts as `{variable}` taken from the config, so a
wrong or missing variable is caught here, at check time, and never shown raw to an agent.
faq/lexique.yaml, faq/hors_champ.yaml and faq/exemples-a-verifier.yaml are not entry files:
bot/answering/lexicon.py, bot/answering/semantic.py and bot/answering/checkcases.py read them.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..yamlfile import Mapping, Sequence, load_file, load_text

KINDS = {"reponse": "answer", "parcours": "flow", "mediateur": "escalate", "politesse": "smalltalk"}
ENTRY_KEYS = {"id", "titre", "titre_en", "type", "parcours", "questions", "mots_cles", "pas_pour", "reponse",
              "reponse_en"}
LEXICON_FILE = "lexique.yaml"
CASES_FILE = "exemples-a-verifier.yaml"  # the authors' safety net (bot/answering/checkcases.py), not entries
OUT_OF_SCOPE_FILE = "hors_champ.yaml"  # questions the bot must not answer (bot/answering/semantic.py)
CATALOGUE = Path(__file__).parent / "topics.yaml"
VARIABLE = re.compile(r"\{([\w.]*)\}")  # a name: "{ouvert le soir}" is a lone brace, not a variable


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
    answer_en: str | None = None  # `reponse_en`: for an agent who writes English; else the French one
    title_en: str | None = None   # `titre_en`: the title an English writer is offered in a clarification

    def answer_in(self, language: str) -> str:
        """The answer in `language` ("en" or "fr"), French when the entry has no English version."""
        return self.answer_en if language == "en" and self.answer_en else self.answer

    def title_in(self, language: str) -> str:
        """The title in `language`, French when the entry has no English one."""
        return self.title_en if language == "en" and self.title_en else self.title


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


def template_problems(text: str, variables: dict[str, str]) -> list[tuple[str, str]]:
    """(the words to find the line by, French problem) for each unknown `{name}`, lone `{` or lone `}`:
    the agent would otherwise read the braces raw."""
    found = []
    for name in unknown_variables(text, variables):
        close = difflib.get_close_matches(name, list(variables), n=1)
        hint = f"vouliez-vous dire « {{{close[0]}}} » ? sinon, ajoutez" if close else "ajoutez"
        found.append((f"{{{name}}}", f"variable inconnue « {{{name}}} » : {hint}-la sous « variables: » "
                                     "dans la configuration"))
    return found + lone_braces(text)


def lone_braces(text: str) -> list[tuple[str, str]]:
    """A `{` or `}` that is not part of a `{name}`: (the words around it, French problem)."""
    paired = {i for m in VARIABLE.finditer(text) for i in (m.start(), m.end() - 1)}
    found = []
    for index, char in enumerate(text):
        if char == "{" and index not in paired:
            found.append(_lone("{" + re.match(r"(\w+(\.\w+)*)?", text[index + 1:])[0], "{", "}"))
        elif char == "}" and index not in paired:
            found.append(_lone(re.search(r"(\w+(\.\w+)*)?$", text[:index])[0] + "}", "}", "{"))
    return found


def _lone(word: str, brace: str, other: str) -> tuple[str, str]:
    name = word.strip("{}")
    fixed = f"{{{name}}}" if name else "{nom_de_variable}"
    return word, (f"accolade « {brace} » sans « {other} » dans « {word} » : écrivez « {fixed} » pour une "
                  "variable de la configuration, ou retirez l'accolade")


def text_line(lines: list[str], start: int, words: str) -> int:
    """The line, from `start` on, where `words` are: a problem inside a long answer points at its own line."""
    for number in range(max(start, 1), len(lines) + 1):
        if words in lines[number - 1]:
            return number
    return start


def catalogue_topics(path: Path = CATALOGUE) -> dict[str, str]:
    """Topic id -> kind (answer, flow, escalate, smalltalk) from the catalogue."""
    data, problems = load_file(path)
    if problems or not isinstance(data, dict):
        return {}
    return {t["id"]: t["kind"] for t in data.get("topics", [])}


@lru_cache(maxsize=4)
def catalogue_titles(path: Path = CATALOGUE) -> dict[str, str]:
    """Topic id -> its French title: what agents and mediators read instead of an id."""
    data, problems = load_file(path)
    if problems or not isinstance(data, dict):
        return {}
    return {t["id"]: t["title"] for t in data.get("topics", []) if t.get("title")}


def load_faq(faq_dir: Path, variables: dict[str, str],
             catalogue: dict[str, str] | None = None) -> tuple[Faq, list[Problem]]:
    """Load every faq/*.yaml; return the entries and every problem found (never raises)."""
    files = sorted(p for p in Path(faq_dir).glob("*.yaml") if p.name not in (LEXICON_FILE, CASES_FILE, OUT_OF_SCOPE_FILE))
    if not files:
        return Faq(()), [Problem(file=str(faq_dir), line=1, message="aucun fichier .yaml de FAQ dans ce dossier")]
    entries: list[Entry] = []
    problems: list[Problem] = []
    unread = []  # files that did not parse: the topics they name are not missing, only unreadable
    for path in files:
        data, parse_problems = load_file(path)
        problems += parse_problems
        if parse_problems:
            unread.append(_text(path))
        else:
            found, found_problems = _entries_of(data, str(path), variables, _text(path).splitlines())
            entries += found
            problems += found_problems
    problems += _check_ids(entries, catalogue if catalogue is not None else catalogue_topics(), str(faq_dir),
                           "\n".join(unread))
    return Faq(tuple(entries)), problems


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def load_faq_text(text: str, variables: dict[str, str], name: str = "faq.yaml") -> tuple[Faq, list[Problem]]:
    """Load one FAQ file from a string (tests, console experiments); no catalogue check."""
    data, problems = load_text(text, name)
    if problems:
        return Faq(()), problems
    entries, problems = _entries_of(data, name, variables, text.splitlines())
    return Faq(tuple(entries)), problems + _check_ids(entries, {}, name)


def _entries_of(data: Any, name: str, variables: dict[str, str],
                lines: list[str]) -> tuple[list[Entry], list[Problem]]:
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
        entry, entry_problems = _entry(item, name, items.line_of(index), variables, lines)
        problems += entry_problems
        if entry:
            entries.append(entry)
    return entries, problems


def _entry(item: Any, name: str, line: int, variables: dict[str, str],
           lines: list[str]) -> tuple[Entry | None, list[Problem]]:
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
    if isinstance(answer, str):
        start = item.line_of("reponse")
        problems += [Problem(file=name, line=text_line(lines, start, where), message=message)
                     for where, message in template_problems(answer, variables)]
    problems += _english_problems(item, answer, variables, problem)
    if "titre_en" in item and (not isinstance(item["titre_en"], str) or not item["titre_en"].strip()):
        problems.append(problem("titre_en", "« titre_en » doit être un titre en anglais sur une ligne, ou être retiré"))
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
                 file=name, line=item.line,
                 answer_en=fill(item["reponse_en"].strip(), variables) if item.get("reponse_en") else None,
                 title_en=item["titre_en"].strip() if item.get("titre_en") else None), []


def _english_problems(item: Mapping, answer: Any, variables: dict[str, str], problem) -> list[Problem]:
    """`reponse_en` is checked like `reponse`, and must quote the same `{variables}`: a translation
    that drops the address or the phone number would tell an English reader less."""
    if "reponse_en" not in item:
        return []
    english = item["reponse_en"]
    if not isinstance(english, str) or not english.strip():
        return [problem("reponse_en", "« reponse_en » est vide")]
    if not isinstance(answer, str):
        return [problem("reponse_en", "« reponse_en » sans « reponse » : écrivez d'abord la réponse en français")]
    problems = [problem("reponse_en", f"variable inconnue « {{{var}}} » : ajoutez-la sous « variables: » dans la configuration")
                for var in unknown_variables(english, variables)]
    missing = sorted(set(VARIABLE.findall(answer)) - set(VARIABLE.findall(english)))
    if missing:
        problems.append(problem("reponse_en", "« reponse_en » ne cite pas "
                                f"{', '.join('{' + m + '}' for m in missing)}, que cite « reponse » : gardez les mêmes informations"))
    return problems


def _str_list(item: Mapping, key: str, problem, problems: list[Problem]) -> tuple[str, ...]:
    value = item.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(problem(key, f"« {key} » doit être une liste (lignes commençant par « - »)"))
        return ()
    bad = [i for i, v in enumerate(value) if not isinstance(v, (str, int)) or not str(v).strip()]
    for i in bad:
        message = (f"« {key} » : cet élément contient « : » suivi d'un espace ; mettez-le entre guillemets, "
                   f'par exemple « - "{_as_typed(value[i])}" »' if isinstance(value[i], dict) and len(value[i]) == 1
                   else f"« {key} » : élément vide ou invalide")
        problems.append(Problem(file=problem(key, "").file, line=value.line_of(i), message=message))
    if not value:
        problems.append(problem(key, f"« {key} » est une liste vide"))
    return tuple(str(v).strip() for i, v in enumerate(value) if i not in bad)


def _as_typed(item: dict) -> str:
    """`- badge perdu: que faire` read back as the author wrote it."""
    ((key, value),) = item.items()
    return f"{key}: {value}" if value is not None else f"{key}:"


def _check_ids(entries: list[Entry], catalogue: dict[str, str], where: str, unread: str = "") -> list[Problem]:
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
        if topic not in seen and topic not in unread:
            problems.append(Problem(file=where, line=1, message=f"sujet du catalogue « {topic} » sans entrée dans la FAQ"))
    return problems
