"""The answers a flow's opening message already gives ("j'ai oublié de badger hier en partant à 17h").

Rasa's forms fill their slots from the message that triggered them; so does this module, with the
parsers the questions use (bot/dates.py's finders, the options' words), and only where the reading
is unmistakable. `prefill` follows the flow from its first step as the runner would: a question
whose answer the message carries is filled and the walk goes on; a question it cannot fill stops
the walk where the path depends on it (a choice with its own `suite`, a `si:`), and otherwise the
walk goes past it, so "à 17h en partant" fills the time even when the day is missing.

What is never guessed:
- a free-text question (`texte`: a comment is the agent's to write), or one marked `pre_remplir: non`;
- a value another question still ahead could claim: a bare "17h" when both an arrival and a departure
  time may be asked (unless the choice "en partant" has already settled which one is on the path);
- a oui/non without its subject: it is read only next to one of the step's `mots` ("pas reçu le
  courrier" is « non »; a "pas" elsewhere in the sentence is not);
- a choice naming two options at once, a date in the future, two dates.
The runner shows what was taken (« Je note : ... »), lets the agent correct it, and asks for one
confirmation before a ticket built only from it: a misreading is cheap to fix, never silently final.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ..dates import find_date, find_months, find_times
from ...answering.lexicon import surface
from ...texts import words
from .model import AnswerType, Flow, Step

NextStep = Callable[[Step, dict[str, str], "str | None", date], str]
WINDOW = 4  # words before a oui/non question's subject that may carry its yes or no
KINDS_ALIKE = {AnswerType.TIME: "time", AnswerType.TIMES: "time"}  # a time could answer either


def prefill(flow: Flow, text: str, today: date, next_step: NextStep) -> dict[str, str]:
    """The fields the opening message answers, in the order the flow asks them."""
    fields: dict[str, str] = {}
    step_id: str | None = flow.first
    for _ in range(len(flow.steps) + 1):
        step = flow.steps[step_id] if step_id else None
        if step is None or step.is_end:
            break
        if step.question is None:
            step_id = step.next
            continue
        value = value_in(step, text, today)
        if value is not None and not _contested(flow, step, {**fields, step.field: value}, today, next_step):
            fields[step.field] = value
            step_id = next_step(step, fields, value, today)
        elif _branches(step):
            break
        else:
            step_id = step.next
    return fields


def value_in(step: Step, text: str, today: date) -> str | None:
    """The canonical answer to `step` found in a longer message, or None (see the module docstring)."""
    if not step.prefill or step.question is None:
        return None
    kind = step.type
    if kind is AnswerType.DATE:
        day = find_date(text, today)
        return day.isoformat() if day and day <= today else None
    if kind is AnswerType.MONTHS:
        months = find_months(text, today)
        if not months or months[-1] > (today.year, today.month) or len(months) > 60:
            return None
        return ",".join(f"{y:04d}-{m:02d}" for y, m in months)
    if kind in (AnswerType.TIME, AnswerType.TIMES):
        times = find_times(text)
        if not times or (kind is AnswerType.TIME and len(times) != 1):
            return None
        return ",".join(f"{t:%H:%M}" for t in times)
    if kind is AnswerType.CHOICE:
        return _named_option(step, text)
    if kind is AnswerType.YES_NO:
        return _yes_no_about(step, text)
    return None


def reachable(flow: Flow, start: str, fields: dict[str, str], today: date, next_step: NextStep) -> list[Step]:
    """Every step the flow may still reach from `start`: branches on an unknown field are all followed."""
    seen: dict[str, Step] = {}
    todo = [start]
    while todo:
        step_id = todo.pop()
        if step_id in seen or step_id not in flow.steps:
            continue
        step = flow.steps[step_id]
        seen[step_id] = step
        if step.is_end:
            continue
        if step.question is None or step.field not in fields:
            todo += [o.next for o in step.options if o.next] + [c.target for c in step.conditions]
            todo += [step.next] if step.next and not (step.options and all(o.next for o in step.options)) else []
        else:
            todo.append(next_step(step, fields, fields[step.field], today))
    return list(seen.values())


def _contested(flow: Flow, step: Step, fields: dict[str, str], today: date, next_step: NextStep) -> bool:
    """Whether another question ahead reads the same kind of value: then the message's one is ambiguous.

    `fields` already holds this step's value, so the way on is the one the runner would take."""
    if step.type in (AnswerType.CHOICE, AnswerType.YES_NO):
        return False  # options and subjects are the step's own words
    kind = KINDS_ALIKE.get(step.type, step.type)
    ahead = reachable(flow, next_step(step, fields, fields[step.field], today), fields, today, next_step)
    return any(s.id != step.id and s.question and s.prefill and KINDS_ALIKE.get(s.type, s.type) == kind
               for s in ahead)


def _branches(step: Step) -> bool:
    """Whether the step after this question depends on its answer."""
    return bool(step.conditions) or any(o.next for o in step.options)


def _spans(message: list[str], phrase: list[str]) -> list[tuple[int, int]]:
    size = len(phrase)
    return [(at, at + size) for at in range(len(message) - size + 1) if size and message[at:at + size] == phrase]


def _named_option(step: Step, text: str) -> str | None:
    """The one option the message names; "arrivée et départ" names « Les deux », not each of them."""
    message = _without_today(surface(text))
    found = [(span, option.label) for option in step.options for name in (option.label, *option.words)
             for span in _spans(message, surface(name))]
    kept = {label for span, label in found
            if not any(o != span and o[0] <= span[0] and span[1] <= o[1] and other != label for o, other in found)}
    return kept.pop() if len(kept) == 1 else None


def _without_today(message: list[str]) -> list[str]:
    """"tout à l'heure" and "ce soir" say when, not which option ("tout" is also « Les deux »)."""
    text = f" {' '.join(message)} "
    for phrase in words("flows.time_phrases"):
        text = text.replace(f" {' '.join(surface(phrase))} ", " _ ")
    return text.split()


def _yes_no_about(step: Step, text: str) -> str | None:
    """« non » when a negation comes just before the subject ("pas reçu le courrier"), « oui » for
    "j'ai reçu la lettre"; nothing when the subject is absent or nothing near it says yes or no."""
    message = surface(text)
    subjects = [s for word in step.words for s in _spans(message, surface(word))]
    if not subjects:
        return None
    start = min(s[0] for s in subjects)
    window = message[max(0, start - WINDOW):start]
    if any(_spans(window, surface(w)) for w in words("flows.no_words")):
        return "non"
    if any(_spans(window, surface(w)) for w in words("flows.prefill_yes_words")):
        return "oui"
    return None
