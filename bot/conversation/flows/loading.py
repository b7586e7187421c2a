"""Loading flows/*.yaml (one flow per file, written in French) into checked `Flow` objects.

The whole language, with an example, is in flows/README.md. Keys may be written with accents
("réponse"); an unknown key is a problem that suggests the closest known one. Loading goes in three
passes over a file: parse each step on its own (its keys, texts with the configuration's variables
filled, answer type, options), then link the steps together and check the graph
(bot/conversation/flows/checks.py). Every problem names the file, line, flow and step, with the fix. A flow with
any problem is not loaded at all, so the runner never meets a broken graph.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..dates import fold
from ...errors import Problem
from ...answering.faq import fill
from ...yamlfile import Mapping, Sequence, load_file, load_text
from .checks import Report, check_graph, link, suggestion
from .model import AnswerType, Flow, Option, Step

FLOW_KEYS = ("id", "titre", "etapes")
STEP_KEYS = ("id", "dire", "question", "type", "choix", "exemple", "champ", "facultatif", "si", "suite",
             "reponse", "ticket", "champs", "pre_remplir", "mots")
OPTION_KEYS = ("texte", "mots", "suite")
TYPE_NAMES = {"texte": AnswerType.TEXT, "oui non": AnswerType.YES_NO,
              "choix": AnswerType.CHOICE, "date": AnswerType.DATE, "mois": AnswerType.MONTHS,
              "heure": AnswerType.TIME, "heures": AnswerType.TIMES}
NAME = re.compile(r"[a-z][a-z0-9_]*")
FLOW_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


def load_flows(flows_dir: Path, variables: dict[str, str]) -> tuple[dict[str, Flow], list[Problem]]:
    """Load every flows/*.yaml (one flow per file); return the good flows and every problem found."""
    flows: dict[str, Flow] = {}
    problems: list[Problem] = []
    if not Path(flows_dir).is_dir():
        return {}, [Problem(file=str(flows_dir), line=1, message="dossier des parcours introuvable : vérifiez « flows_dir » dans la configuration")]
    for path in sorted(Path(flows_dir).glob("*.yaml")):
        flow, found = _flow_of(load_file(path), str(path), variables)
        problems += found
        if flow and flow.id in flows:
            first = flows[flow.id]
            problems.append(Problem(file=flow.file, line=flow.line, message=(
                f"parcours « {flow.id} » en double (déjà défini en {first.file}:{first.line}) : changez l'un des deux id")))
        elif flow:
            flows[flow.id] = flow
    return flows, problems


def load_flows_text(text: str, name: str, variables: dict[str, str]) -> tuple[dict[str, Flow], list[Problem]]:
    """Load one flow file given as a string (tests, experiments)."""
    flow, problems = _flow_of(load_text(text, name), name, variables)
    return ({flow.id: flow} if flow else {}), problems


def check(flows_dir: Path, variables: dict[str, str]) -> list[Problem]:
    """Every problem of flows/ for `helpdesk-bot faq check`; whether the FAQ's flows exist is checked there."""
    return load_flows(flows_dir, variables)[1]


def _keys(data: Mapping, allowed: tuple[str, ...], report: Report, step: str | None) -> dict[str, str]:
    """Canonical key -> key as written ("réponse" is accepted for "reponse"); unknown keys are reported."""
    found = {}
    for key in data:
        canonical = fold(str(key)).replace(" ", "_")
        if canonical in allowed:
            found[canonical] = key
            continue
        report.add(data.line_of(key), f"clé inconnue « {key} » : {suggestion(canonical, allowed, 'clés possibles')}", step)
    return found


def _flow_of(loaded: tuple[Any, list[Problem]], file: str, variables: dict[str, str]) -> tuple[Flow | None, list[Problem]]:
    """The flow of a YAML file's data, unless the YAML itself could not be read."""
    data, problems = loaded
    return (None, problems) if problems else _parse_flow(data, file, variables)


def _parse_flow(data: Any, file: str, variables: dict[str, str]) -> tuple[Flow | None, list[Problem]]:
    report = Report(file)
    if not isinstance(data, Mapping):
        report.add(getattr(data, "line", 1) or 1, "le fichier doit commencer par « id: », « titre: » et « etapes: »")
        return None, report.problems
    keys = _keys(data, FLOW_KEYS, report, None)
    flow_id = data.get(keys.get("id"))
    if not isinstance(flow_id, str) or not FLOW_ID.fullmatch(flow_id):
        report.add(data.line_of(keys.get("id")), "« id » manquant ou invalide : un nom comme « badge.oubli » (minuscules, chiffres, _ et .)")
    else:
        report.flow = flow_id
    title = data.get(keys.get("titre"))
    if not isinstance(title, str) or not title.strip():
        report.add(data.line_of(keys.get("titre")), "« titre » manquant : une phrase courte qui décrit le parcours")
    items = data.get(keys.get("etapes"))
    if not isinstance(items, Sequence) or not items:
        report.add(data.line_of(keys.get("etapes")), "« etapes » manquant ou vide : une liste d'étapes commençant par « - id: »")
        return None, report.problems
    parsed = _parse_steps(items, report, variables)
    if report.problems:
        return None, report.problems
    steps = [step for step, _, _ in parsed]
    field_types = {s.field: s.type for s in steps if s.field and s.type}
    steps = [link(step, item, keys, steps, field_types, report, variables) for step, item, keys in parsed]
    if report.problems:
        return None, report.problems
    flow = Flow(id=flow_id, title=title.strip(), file=file, line=data.line_of(keys["id"]), first=steps[0].id,
                steps={s.id: s for s in steps}, field_types=field_types)
    check_graph(flow, report)
    return (None if report.problems else flow), report.problems


def _parse_steps(items: Sequence, report: Report,
                 variables: dict[str, str]) -> list[tuple[Step, Mapping, dict[str, str]]]:
    """Each step with its YAML mapping and keys as written, which linking needs for its line numbers."""
    steps: list[tuple[Step, Mapping, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        line = items.line_of(index)
        if not isinstance(item, Mapping):
            report.add(line, f"l'étape n°{index + 1} doit contenir des clés (« id: », « dire: », « question: »...)")
            continue
        keys = _keys(item, STEP_KEYS, report, str(item.get("id", f"n°{index + 1}")))
        step_id = item.get(keys.get("id"))
        if not isinstance(step_id, str) or not NAME.fullmatch(step_id):
            report.add(line, f"l'étape n°{index + 1} n'a pas d'« id » valide : un nom en minuscules, chiffres et _ (ex. « date_oubli »)")
            continue
        if step_id in seen:
            report.add(line, f"id d'étape en double (déjà utilisé ligne {seen[step_id]}) : donnez-lui un autre nom", step_id)
            continue
        seen[step_id] = line
        steps.append((_parse_step(item, keys, step_id, line, report, variables), item, keys))
    return steps


def _parse_step(item: Mapping, keys: dict[str, str], step_id: str, line: int, report: Report,
                variables: dict[str, str]) -> Step:
    def text(key: str) -> str | None:
        if key not in keys:
            return None
        value = item[keys[key]]
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
            report.add(item.line_of(keys[key]), f"« {key} » doit être un texte non vide", step_id)
            return None
        return fill(str(value).strip(), variables)

    question, answer, ticket = text("question"), text("reponse"), text("ticket")
    actions = [k for k in ("question", "reponse", "ticket") if k in keys]
    if len(actions) > 1:
        report.add(line, f"une étape fait une seule chose : « {actions[0]} » ou « {actions[1]} », pas les deux (faites deux étapes)", step_id)
    if not actions and not {"dire", "si", "suite"} & set(keys):
        report.add(line, "étape vide : ajoutez « dire: », « question: », « reponse: » ou « ticket: »", step_id)
    if actions and actions[0] != "question":
        for key in ("suite", "si"):
            if key in keys:
                report.add(item.line_of(keys[key]), f"« {key} » après une fin (« {actions[0]} ») n'a pas de sens : retirez-le", step_id)
    for key in ("type", "choix", "exemple", "champ", "facultatif", "pre_remplir", "mots"):
        if key in keys and question is None and "question" not in keys:
            report.add(item.line_of(keys[key]), f"« {key} » ne va qu'avec « question: »", step_id)
    if "champs" in keys and "ticket" not in keys:
        report.add(item.line_of(keys["champs"]), "« champs » ne va qu'avec « ticket: »", step_id)
    options = _parse_options(item, keys, step_id, report, variables)
    kind = _answer_type(item, keys, options, step_id, report) if "question" in keys else None
    field_name = item.get(keys.get("champ"), step_id) if "question" in keys else None
    if field_name is not None and (not isinstance(field_name, str) or not NAME.fullmatch(field_name)):
        report.add(item.line_of(keys["champ"]), "« champ » : un nom en minuscules, chiffres et _ (ex. « date_oubli »)", step_id)
    elif field_name in variables:
        report.add(item.line_of(keys.get("champ", keys["question"])), f"le champ « {field_name} » porte le nom d'une variable de la configuration : renommez-le", step_id)
    optional = item.get(keys.get("facultatif"), False)
    if optional not in (True, False, "oui", "non"):
        report.add(item.line_of(keys["facultatif"]), "« facultatif » : oui ou non", step_id)
    prefill = item.get(keys.get("pre_remplir"), True)
    if prefill not in (True, False, "oui", "non"):
        report.add(item.line_of(keys["pre_remplir"]), "« pré_remplir » : oui ou non", step_id)
    subject = _subject_words(item, keys, kind, step_id, report)
    fields = item.get(keys.get("champs"))
    if fields is not None and (not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)):
        report.add(item.line_of(keys["champs"]), "« champs » : une liste de noms de champs, ex. [date, heures]", step_id)
        fields = None
    return Step(id=step_id, line=line, say=text("dire"), question=question, type=kind, options=options,
                example=text("exemple"), field=field_name, optional=optional in (True, "oui"),
                prefill=prefill in (True, "oui") and kind is not AnswerType.TEXT, words=subject,
                answer=answer, ticket=ticket, ticket_fields=tuple(fields) if fields is not None else None)


def _subject_words(item: Mapping, keys: dict[str, str], kind: AnswerType | None, step_id: str,
                   report: Report) -> tuple[str, ...]:
    """`mots:` of a oui/non question: the words that say what it is about ("courrier", "lettre")."""
    if "mots" not in keys:
        return ()
    value = item[keys["mots"]]
    if kind is not AnswerType.YES_NO:
        report.add(item.line_of(keys["mots"]), "« mots » d'une étape ne va qu'avec « type: oui/non » "
                                               "(pour un choix, mettez « mots » sous chaque option)", step_id)
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(w, (str, int)) and str(w).strip() for w in value):
        report.add(item.line_of(keys["mots"]), "« mots » : une liste de mots, ex. [courrier, lettre]", step_id)
        return ()
    return tuple(str(w).strip() for w in value)


def _answer_type(item: Mapping, keys: dict[str, str], options: tuple[Option, ...], step_id: str,
                 report: Report) -> AnswerType | None:
    written = item.get(keys.get("type"), "choix" if "choix" in keys else "texte")
    kind = TYPE_NAMES.get(fold(str(written)).replace("/", " "))
    line = item.line_of(keys.get("type", "question"))
    if kind is None:
        report.add(line, f"type « {written} » inconnu : choisissez parmi {', '.join(t.value for t in AnswerType)}", step_id)
    elif kind is AnswerType.CHOICE and len(options) < 2:
        report.add(item.line_of(keys.get("choix", "question")), "une question à choix a besoin d'au moins deux options sous « choix: »", step_id)
    elif kind is not AnswerType.CHOICE and "choix" in keys:
        report.add(item.line_of(keys["choix"]), f"« choix » avec le type « {kind.value} » : retirez « type: » ou les choix", step_id)
    return kind


def _parse_options(item: Mapping, keys: dict[str, str], step_id: str, report: Report,
                   variables: dict[str, str]) -> tuple[Option, ...]:
    raw = item.get(keys.get("choix"))
    if raw is None:
        return ()
    if not isinstance(raw, Sequence):
        report.add(item.line_of(keys["choix"]), "« choix » doit être une liste (lignes commençant par « - »)", step_id)
        return ()
    options: list[Option] = []
    for index, entry in enumerate(raw):
        line = raw.line_of(index)
        if isinstance(entry, (str, int)) and str(entry).strip():
            options.append(Option(label=fill(str(entry).strip(), variables)))
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("texte"), str):
            report.add(line, "une option est un texte, ou « texte: » avec « mots: » et « suite: » facultatifs", step_id)
            continue
        _keys(entry, OPTION_KEYS, report, step_id)
        synonyms = entry.get("mots", [])
        if not isinstance(synonyms, list):
            report.add(entry.line_of("mots"), "« mots » doit être une liste, ex. [apple, ios]", step_id)
            synonyms = []
        options.append(Option(label=fill(entry["texte"].strip(), variables), words=tuple(str(w) for w in synonyms),
                              next=entry.get("suite")))
    labels = [fold(o.label) for o in options]
    for index, label in enumerate(labels):
        if label in labels[:index]:
            report.add(raw.line_of(index), f"option « {options[index].label} » en double", step_id)
    return tuple(options)


