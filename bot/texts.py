"""The bot's own French sentences, kept as data in bot/texts/*.yaml (one file per part of the bot).

`say("conversation.welcome", retention_days=90)` returns the sentence with its variables filled.
A missing key or variable is a programming error and raises at once (tests catch it), rather
than showing a raw `{...}` to an agent.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

TEXTS_DIR = Path(__file__).parent / "texts"


@lru_cache(maxsize=1)
def _all_texts() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(TEXTS_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            texts[f"{path.stem}.{key}"] = value
    return texts


def say(key: str, **values: object) -> str:
    """The sentence `key` (file.key), with `{name}` placeholders filled from `values`."""
    template = _all_texts()[key]
    if isinstance(template, list):
        template = "\n".join(template)
    return template.format(**values) if values else template


def words(key: str) -> tuple[str, ...]:
    """A list of words in the texts (e.g. the ways an agent says "annuler"), normalised to lower case."""
    value = _all_texts()[key]
    return tuple(str(v).lower() for v in value)
