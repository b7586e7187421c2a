"""Load-time checks of a flow's graph, like Rasa's flow validation: each mistake is its own Problem.

A `Report` collects the problems of one file, each naming the flow and step and saying how to fix it.
Once every step of a flow is parsed (bot/conversation/flows/loading.py), `link` resolves what comes after each
step (its option targets, its `si:` conditions, `suite` or the next step of the list) and checks
every name against the flow: unknown steps (with the closest id as a suggestion), `{field}`s that no
question fills, conditions that can never hold. `check_graph` then walks the resolved graph: every
step must be reachable from the first, and no loop may go round without asking a question (the bot
would talk forever). The runner relies on all of this and checks nothing itself.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..dates import fold
from ...errors import Problem
from ...answering.faq import fill, lone_braces, unknown_variables
from ...yamlfile import Mapping, Sequence
from .model import AnswerType, Condition, Flow, Step, Test

CONDITIONS = (
    (re.compile(r"(?P<field>\w+) *(?:!=|≠) *(?P<value>.+)"), Test.DIFFERS),
    (re.compile(r"(?P<field>\w+) *= *(?P<value>.+)"), Test.EQUALS),
    (re.compile(r"(?P<field>\w+) +(?:n'est pas vide|est rempli)"), Test.FILLED),
    (re.compile(r"(?P<field>\w+) +est vide"), Test.EMPTY),
    (re.compile(r"(?P<field>\w+) +a plus de +(?P<value>\S+) +mois"), Test.OLDER),
    (re.compile(r"(?P<field>\w+) +a moins de +(?P<value>\S+) +mois"), Test.RECENT),
)
Known = Callable[[Any, int], bool]  # whether a target names a step of the flow; it reports it if not


class Report:
    """Collects problems, each prefixed with the flow and step it is about."""

    def __init__(self, file: str):
        self.file, self.flow, self.problems = file, "?", []

    def add(self, line: int, message: str, step: str | None = None) -> None:
        where = f"parcours « {self.flow} »" + (f", étape « {step} »" if step else "")
        self.problems.append(Problem(file=self.file, line=line, message=f"{where} : {message}"))


def suggestion(word: str, choices: list[str] | tuple[str, ...], listing: str) -> str:
    """How to fix a misspelled name: the closest of `choices`, or else all of them."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f"vouliez-vous dire « {close[0]} » ?" if close else f"{listing} : {', '.join(choices)}"


def link(step: Step, item: Mapping, keys: dict[str, str], steps: list[Step], field_types: dict[str, AnswerType],
         report: Report, variables: dict[str, str]) -> Step:
    """Resolve what comes after `step`; check its names against the steps and fields of the flow."""
    ids = [s.id for s in steps]

    def known(target: Any, line: int) -> bool:
        if isinstance(target, str) and target in ids:
            return True
        report.add(line, f"suite vers l'étape inconnue « {target} » : {suggestion(str(target), ids, 'étapes')}", step.id)
        return False

    for key in ("dire", "question", "reponse", "ticket", "exemple"):
        for name in unknown_variables(getattr(step, _ATTRIBUTES[key]) or "", field_types):
            report.add(item.line_of(keys[key]), _unknown_name(name, field_types), step.id)
        for _, lone in lone_braces(getattr(step, _ATTRIBUTES[key]) or ""):
            report.add(item.line_of(keys[key]), lone, step.id)
    choices = item.get(keys.get("choix"))
    for index, option in enumerate(step.options):
        line = choices.line_of(index)
        for name in unknown_variables(option.label, field_types):
            report.add(line, _unknown_name(name, field_types), step.id)
        if option.next is not None:
            known(option.next, line)
    for name in step.ticket_fields or ():
        if name not in field_types:
            report.add(item.line_of(keys["champs"]), f"« champs » : aucune question ne remplit le champ « {name} »", step.id)
    conditions = _conditions(step, item, keys, steps, report, variables, known)
    return replace(step, conditions=conditions, next=_following(step, item, keys, steps, report, known))


_ATTRIBUTES = {"dire": "say", "question": "question", "reponse": "answer", "ticket": "ticket", "exemple": "example"}


def _unknown_name(name: str, field_types: dict[str, AnswerType] | None = None) -> str:
    """A `{name}` that is neither a config variable nor, where `field_types` is given, a field of the flow."""
    message = f"variable inconnue « {{{name}}} » : ajoutez-la sous « variables: » dans la configuration"
    if field_types is None:
        return message
    return f"{message}, ou corrigez le nom (champs de ce parcours : {', '.join(field_types) or 'aucun'})"


def _following(step: Step, item: Mapping, keys: dict[str, str], steps: list[Step], report: Report,
               known: Known) -> str | None:
    """`suite`, or the next step of the list; a step that neither ends nor has one is a problem."""
    if "suite" in keys:
        target = item[keys["suite"]]
        return target if known(target, item.line_of(keys["suite"])) else None
    if step.is_end or (step.options and all(o.next for o in step.options)):
        return None
    index = [s.id for s in steps].index(step.id)
    if index + 1 == len(steps):
        report.add(step.line, "le parcours s'arrête ici sans fin : ajoutez « suite: », ou une étape "
                              "« reponse: » ou « ticket: » après celle-ci", step.id)
        return None
    return steps[index + 1].id


def _conditions(step: Step, item: Mapping, keys: dict[str, str], steps: list[Step], report: Report,
                variables: dict[str, str], known: Known) -> tuple[Condition, ...]:
    raw = item.get(keys.get("si"))
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or not raw:
        report.add(item.line_of(keys["si"]), "« si » est une liste de lignes « - champ = valeur: etape »", step.id)
        return ()
    conditions = []
    for index, entry in enumerate(raw):
        line = raw.line_of(index)
        if not isinstance(entry, Mapping) or len(entry) != 1:
            report.add(line, "une condition s'écrit « - champ = valeur: etape » (une par ligne)", step.id)
            continue
        text, target = next(iter(entry.items()))
        condition = _condition(str(text), target, steps, line, step.id, report, variables)
        if known(target, line) and condition:
            conditions.append(condition)
    return tuple(conditions)


def _condition(text: str, target: str, steps: list[Step], line: int, step_id: str, report: Report,
               variables: dict[str, str]) -> Condition | None:
    """Parse and check one condition; the values of choice and oui/non fields must be possible answers."""
    missing = unknown_variables(text, variables)
    if missing:
        report.add(line, _unknown_name(missing[0]), step_id)
        return None
    text = fill(text, variables).strip().replace("’", "'")
    match, test = next(((m, t) for p, t in CONDITIONS if (m := p.fullmatch(text))), (None, None))
    if match is None:
        report.add(line, f"condition illisible « {text} » : écrivez par exemple « telephone = iPhone », "
                         "« commentaire est vide » ou « mois a plus de 24 mois »", step_id)
        return None
    asking = next((s for s in steps if s.field == match["field"] and s.type), None)
    if asking is None:
        report.add(line, f"condition sur « {match['field']} », qu'aucune question ne remplit "
                         f"(champs : {', '.join(s.field for s in steps if s.field) or 'aucun'})", step_id)
        return None
    value = (match.groupdict().get("value") or "").strip().strip('"«» ')
    if test in (Test.OLDER, Test.RECENT):
        if asking.type not in (AnswerType.DATE, AnswerType.MONTHS) or not value.isdigit():
            report.add(line, "« a plus de N mois » et « a moins de N mois » comparent un champ de type date ou mois "
                             "à un nombre entier de mois", step_id)
            return None
        return Condition(field=asking.field, test=test, months=int(value), target=target)
    possible = {AnswerType.CHOICE: [o.label for o in asking.options], AnswerType.YES_NO: ["oui", "non"]}.get(asking.type)
    if test in (Test.EQUALS, Test.DIFFERS) and possible and fold(value) not in [fold(p) for p in possible]:
        report.add(line, f"« {value} » n'est pas une réponse possible à « {asking.id} » "
                         f"(possibles : {', '.join(possible)})", step_id)
        return None
    return Condition(field=asking.field, test=test, value=value, target=target)


def check_graph(flow: Flow, report: Report) -> None:
    """Every step reachable from the first; no loop that would say things forever without a question."""
    def after(step: Step) -> list[str]:
        targets = [o.next for o in step.options] + [c.target for c in step.conditions] + [step.next]
        return [t for t in targets if t in flow.steps]

    reached, todo = {flow.first}, [flow.first]
    while todo:
        for target in after(flow.steps[todo.pop()]):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    for step in flow.steps.values():
        if step.id not in reached:
            report.add(step.line, "étape jamais atteinte : aucune « suite », option ou condition n'y mène "
                                  "(ajoutez-en une, ou supprimez l'étape)", step.id)
    for step in flow.steps.values():
        loop = _silent_loop(flow, step.id, [], after)
        if loop and loop[0] == step.id:
            report.add(step.line, f"boucle sans question : {' → '.join(loop + [step.id])} "
                                  "(le bot parlerait sans fin : passez par une question)", step.id)
            return


def _silent_loop(flow: Flow, step_id: str, path: list[str], after: Callable[[Step], list[str]]) -> list[str] | None:
    if step_id in path:
        return path
    step = flow.steps[step_id]
    if step.question is not None or len(path) > len(flow.steps):
        return None
    for target in after(step):
        found = _silent_loop(flow, target, path + [step_id], after)
        if found:
            return found
    return None
