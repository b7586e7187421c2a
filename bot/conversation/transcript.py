"""The recent conversation kept with each agent, for the mediator who picks it up.

A ticket carries the last lines exchanged, so the mediator does not ask again what the bot
already asked. Only the last `KEEP` lines are kept, each cut to `LINE_CHARS`: the state is
rewritten on every message and must stay small. Lines are stored as plain lists in the JSON
state ([iso time, author, text]) and come back as `TranscriptLine`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from ..messages import Action, Reply, TranscriptLine

KEEP = 20
LINE_CHARS = 500
AGENT = "agent"
BOT = "bot"


def _line(time: datetime, author: str, text: str) -> TranscriptLine:
    text = text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"
    return TranscriptLine(time=time, author=author, text=text)


def add_agent(lines: tuple[TranscriptLine, ...], time: datetime, text: str) -> tuple[TranscriptLine, ...]:
    return (*lines, _line(time, AGENT, text))[-KEEP:]


def add_replies(lines: tuple[TranscriptLine, ...], time: datetime,
                actions: Iterable[Action]) -> tuple[TranscriptLine, ...]:
    """Append what the bot said this turn (its `Reply` actions), in order."""
    said = [_line(time, BOT, a.text) for a in actions if isinstance(a, Reply)]
    return (*lines, *said)[-KEEP:]


def to_json(lines: tuple[TranscriptLine, ...]) -> list[list[str]]:
    return [[line.time.isoformat(), line.author, line.text] for line in lines]


def from_json(data: list) -> tuple[TranscriptLine, ...]:
    return tuple(TranscriptLine(time=datetime.fromisoformat(t), author=a, text=x) for t, a, x in data)[-KEEP:]
