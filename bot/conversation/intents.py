"""The few fixed things an agent types to steer the conversation: yes, no, a number, "médiateur".

These are not FAQ questions, so the matcher is the wrong tool: "non" or "2" carry no topic.
Each word list lives in bot/texts/conversation.yaml, so an admin can add a way of saying it
without touching code. Messages are compared after the same surface normalisation the matcher
uses (lower case, no accents, no punctuation), so "Médiateur !!" and "mediateur" are one word;
long words also accept one typo ("mediatuer"). Emoji items (👍) are looked for in the raw text,
since normalisation drops them.

Yes and no are read only at the start of a short message ("oui merci", "non pas vraiment"):
a long message that happens to contain "non" is a new question, not an answer.
"""
from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import OSA

from ..answering.lexicon import surface
from ..texts import words

SHORT_ANSWER_WORDS = 6          # "non ça ne répond pas du tout" is still an answer; longer is a question
TYPO_MIN_LENGTH = 6             # words this long may carry one typo and still be recognised
NUMBER_WORDS = {"un": 1, "une": 1, "premier": 1, "premiere": 1, "deux": 2, "deuxieme": 2, "second": 2,
                "seconde": 2, "trois": 3, "troisieme": 3, "quatre": 4, "quatrieme": 4}
CHOICE_FILLERS = {"le", "la", "l", "n", "no", "num", "numero", "choix", "c", "est", "plutot", "option"}


@lru_cache(maxsize=None)
def _phrases(key: str) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """(word sequences, emoji) of the list `conversation.<key>` (or of a full `file.key`)."""
    items = words(key if "." in key else f"conversation.{key}")
    phrases = tuple(tuple(surface(item)) for item in items if surface(item))
    emoji = tuple(item for item in items if not surface(item))
    return phrases, emoji


def _same(word: str, expected: str) -> bool:
    if word == expected:
        return True
    return len(expected) >= TYPO_MIN_LENGTH and OSA.distance(word, expected) <= 1


def _starts_with(message: list[str], phrase: tuple[str, ...], at: int = 0) -> bool:
    part = message[at:at + len(phrase)]
    return len(part) == len(phrase) and all(_same(w, p) for w, p in zip(part, phrase))


def _contains(message: list[str], phrase: tuple[str, ...]) -> bool:
    return any(_starts_with(message, phrase, at) for at in range(len(message)))


def _without(message: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[str]:
    """The message with every look-alike phrase blanked out (kept as "" so neighbours stay apart)."""
    out = list(message)
    for phrase in phrases:
        for at in range(len(out)):
            if _starts_with(out, phrase, at):
                out[at:at + len(phrase)] = [""] * len(phrase)
    return out


def _has_emoji(text: str, emoji: tuple[str, ...]) -> bool:
    return any(e in text for e in emoji)


def asks_for_human(text: str) -> bool:
    """A mediator word anywhere: the agent must get a person, whatever the bot was doing."""
    phrases, emoji = _phrases("human_words")
    message = _without(surface(text), _phrases("not_human_words")[0])
    return _has_emoji(text, emoji) or any(_contains(message, p) for p in phrases)


def _opens_with(text: str, key: str) -> bool:
    phrases, emoji = _phrases(key)
    message = surface(text)
    if len(message) > SHORT_ANSWER_WORDS:
        return False
    if not message:
        return _has_emoji(text, emoji)
    return any(_starts_with(message, p) for p in phrases) or (_has_emoji(text, emoji) and len(message) <= 2)


def says_yes(text: str) -> bool:
    """An explicit yes (oui, ok, d'accord, 👍); used to accept an offer."""
    return _opens_with(text, "yes_words") and not says_no(text)


def says_helpful(text: str) -> bool:
    """After an answer, thanks mean it helped as much as a yes does."""
    return says_yes(text) or (_opens_with(text, "thanks_words") and not says_no(text))


def says_no(text: str) -> bool:
    """non, nan, pas vraiment, 👎 ..."""
    return _opens_with(text, "no_words")


def says_other(text: str) -> bool:
    """The agent picks "Autre chose" among the offered topics."""
    return _opens_with(text, "other_words")


def says_cancel(text: str) -> bool:
    return _opens_with(text, "cancel_words")


def _only(text: str, key: str) -> bool:
    """One of the phrases of `key`, with nothing around it but polite fillers ("je veux voir ... svp"):
    "j'ai perdu mes données sur mon téléphone" is a question for the FAQ, not a request about the line."""
    message = surface(text)
    fillers = set(words("privacy.request_fillers"))
    for phrase in _phrases(key)[0]:
        for at in range(len(message)):
            if _starts_with(message, phrase, at):
                rest = message[:at] + message[at + len(phrase):]
                if all(w in fillers for w in rest):
                    return True
    return False


def asks_my_data(text: str) -> bool:
    """« mes données », « quelles données gardez-vous » ...: what the line keeps about the agent."""
    return _only(text, "privacy.my_data_words") and not asks_erasure(text)


def asks_erasure(text: str) -> bool:
    """« effacer mes données », « oubliez-moi » ...: the agent wants their data erased now."""
    return _only(text, "privacy.erase_words")


def choice_number(text: str) -> int | None:
    """The number of an offered option ("2", "le 2", "n°2", "deux", "le premier"), else None."""
    message = [w for w in surface(text) if w not in CHOICE_FILLERS]
    if len(message) != 1:
        return None
    number = re.fullmatch(r"(\d{1,2})(?:er|ere|e|eme)?", message[0])
    return int(number[1]) if number else NUMBER_WORDS.get(message[0])


def is_blank(text: str) -> bool:
    """Nothing to read: empty, spaces, or only emoji and punctuation."""
    return not re.search(r"\w", text)
