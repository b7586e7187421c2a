"""Errors of the bot, in one place.

    BotError
     ├── ConfigError        the config file is wrong (key, reason); raised before any network call
     ├── DataError          a faq/ or flows/ file is wrong; carries every Problem found
     └── StoreUnavailable   the store cannot be written (disk full, locked): not the event's fault, retry
    Problem                 one mistake in a data file: file, line, message (printed file:line: message)

An expected "no match" is never an exception: the matcher returns a `none` decision.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One mistake in a data file, pointing at the line an author must fix."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(BotError):
    """The configuration is unusable; the message names the key and what is wrong."""


class DataError(BotError):
    """FAQ, lexicon or flow files have problems; the bot keeps the last good version."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class StoreUnavailable(BotError):
    """The store itself failed (disk full, database locked): the event is fine, try it again later."""
