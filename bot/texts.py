"""The bot's own sentences, kept as data in bot/texts/*.yaml (one file per part of the bot).

`say("conversation.welcome", retention_days=90)` returns the sentence with its variables filled.
A missing key or variable is a programming error and raises at once (tests catch it), rather
than showing a raw `{...}` to an agent.

French is the bot's language; bot/texts/en/*.yaml hold the English version of the sentences an
agent who writes English reads (same file and key names). The language is a property of the turn:
the conversation engine wraps its work in `speaking(language)`, and `say` picks the English
sentence when there is one, else the French one. A context variable, rather than a parameter
through every handler, because every part of the core says things and only the engine knows who
it is talking to; it is set and reset around each turn, so the core stays a pure function of its
input. Mediators' texts (ticket reasons, cards) have no English version, so they stay French.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

import yaml

TEXTS_DIR = Path(__file__).parent / "texts"
FRENCH = "fr"
_LANGUAGE: ContextVar[str] = ContextVar("language", default=FRENCH)


@lru_cache(maxsize=None)
def _all_texts(language: str = FRENCH) -> dict[str, str]:
    folder = TEXTS_DIR if language == FRENCH else TEXTS_DIR / language
    texts: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            texts[f"{path.stem}.{key}"] = value
    return texts


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Within this block, `say` and `words` use `language` where a sentence exists in it."""
    token = _LANGUAGE.set(language)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def language() -> str:
    """The language of the current turn ("fr" outside any `speaking` block)."""
    return _LANGUAGE.get()


def _template(key: str, language_: str | None = None) -> object:
    wanted = language_ or _LANGUAGE.get()
    if wanted != FRENCH and key in _all_texts(wanted):
        return _all_texts(wanted)[key]
    return _all_texts()[key]


def say(key: str, **values: object) -> str:
    """The sentence `key` (file.key) in the current language, with `{name}` filled from `values`."""
    return _format(_template(key), values)


def say_in(language_: str, key: str, **values: object) -> str:
    """The sentence `key` in `language_` (falling back to French), whatever the current turn's language."""
    return _format(_template(key, language_), values)


def _format(template: object, values: dict[str, object]) -> str:
    if isinstance(template, list):
        template = "\n".join(template)
    return template.format(**values) if values else template


def words(key: str) -> tuple[str, ...]:
    """A list of words in the texts (e.g. the ways an agent says "annuler"), normalised to lower case."""
    value = _template(key)
    return tuple(str(v).lower() for v in value)
