"""Reading what an agent types in a flow: commands ("annuler", "retour") and answers to a question.

Text is first reduced to plain words (`lexicon.surface`: folded, without punctuation) and stripped of
politeness ("stop svp" reads as "stop"); the word lists come from bot/texts/flows.yaml.

An answer becomes one canonical value, which is what the state stores and a ticket carries: a date
"2025-03-14", months "2025-03,2025-04", times "07:30,16:30", "oui"/"non", or the chosen option's
label. A choice is found by its exact words, its number, the only option named, or a close spelling.
Reading returns None when it cannot make sense of the answer, with a reason when there is one to
give (a date in the future); the runner counts such misses.
"""
from __future__ import annotations

import re
from datetime import date

from rapidfuzz import fuzz

from ..dates import parse_date, parse_months, parse_time, parse_times
from ...answering.lexicon import surface
from ...texts import say, words
from .model import AnswerType, Option, Step

MAX_MONTHS = 60  # more months than this in one answer is a misreading, not a request


def read(step: Step, text: str, today: date) -> tuple[str | None, str | None]:
    """The canonical value of an answer, or None and, when there is one, why it was refused."""
    if step.optional and _plain(text) in _word_list("flows.skip_words"):
        return "", None
    kind = step.type
    if kind is AnswerType.TEXT:
        return (text.strip() or None), None
    if kind is AnswerType.YES_NO:
        return _yes_no(text), None
    if kind is AnswerType.CHOICE:
        option = _choose(step.options, text)
        return (option.label if option else None), None
    if kind is AnswerType.DATE:
        day = parse_date(text, today)
        if day and day > today:
            return None, say("flows.future_date")
        return (day.isoformat() if day else None), None
    if kind is AnswerType.MONTHS:
        months = parse_months(text, today)
        if months and months[-1] > (today.year, today.month):
            return None, say("flows.future_months")
        if months and len(months) > MAX_MONTHS:
            return None, None
        return (",".join(f"{y:04d}-{m:02d}" for y, m in months) if months else None), None
    times = parse_times(text) if kind is AnswerType.TIMES else [parse_time(text)]
    if not times or None in times:
        return None, None
    return ",".join(f"{t:%H:%M}" for t in times), None


def months_of(value: str) -> list[tuple[int, int]]:
    """The (year, month) of a canonical date ("2025-03-14") or months ("2025-03,2025-04") value."""
    return [(int(part[:4]), int(part[5:7])) for part in value.split(",") if part]


def command(text: str) -> str | None:
    """Whether the agent asks to leave the flow ("cancel") or to go back one question ("back")."""
    plain = _plain(text)
    if plain in _word_list("flows.cancel_words"):
        return "cancel"
    if plain in _word_list("flows.back_words"):
        return "back"
    return None


def yes_or_no(text: str) -> str | None:
    """"oui", "non", or None: an answer to a yes-or-no question asked by the runner itself."""
    return _yes_no(text)


def is_correction(text: str) -> bool:
    """Whether the message opens like a correction ("non c'était avant-hier", "plutôt 16h")."""
    plain = f" {_plain(text)} "
    return any(plain.startswith(f" {w} ") for w in _word_list("flows.correction_words"))


def _surface(text: str) -> str:
    return " ".join(surface(text))


def _plain(text: str) -> str:
    """The answer as plain words, without politeness ("stop svp" reads as "stop")."""
    plain = f" {_surface(text)} "
    for phrase in _word_list("flows.filler_words"):
        plain = plain.replace(f" {phrase} ", " ")
    return " ".join(plain.split())


def _word_list(key: str) -> tuple[str, ...]:
    return tuple(_surface(w) for w in words(key))


def _yes_no(text: str) -> str | None:
    plain, yes, no = _plain(text), _word_list("flows.yes_words"), _word_list("flows.no_words")
    if not plain:
        return None
    first = plain.split()[0]
    if plain in yes or first in yes:
        return "oui"
    if plain in no or first in no or any(_contains(plain, w) for w in no):
        return "non"  # a negation anywhere wins: "je l'ai pas recu"
    return "oui" if any(_contains(plain, w) for w in yes) else None


def _contains(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {text} "


def _choose(options: tuple[Option, ...], text: str) -> Option | None:
    """The option meant: its exact words, its number, the only option named, or a close spelling."""
    plain = _surface(text)
    if not plain:
        return None
    names = [(_surface(name), option) for option in options for name in (option.label, *option.words)]
    exact = [option for name, option in names if name == plain]
    if exact:
        return exact[0]
    number = re.fullmatch(r"(?:n|no|num|numero|choix|option|reponse|le|la)? ?(\d{1,2})", plain)
    if number:
        index = int(number[1])
        return options[index - 1] if 1 <= index <= len(options) else None
    named = {option.label: option for name, option in names if _contains(plain, name)}
    if len(named) == 1:
        return next(iter(named.values()))
    scores = sorted(((max(fuzz.WRatio(plain, name) for name, o in names if o is option), i)
                     for i, option in enumerate(options)), reverse=True)
    best, second = scores[0][0], scores[1][0] if len(scores) > 1 else 0
    return options[scores[0][1]] if best >= 80 and best - second >= 10 else None
