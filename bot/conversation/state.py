"""What the bot remembers of one agent between two messages, and its JSON form for the store.

    ConversationState
     ├── last_seen    when the agent last wrote (the welcome comes back after a long absence)
     ├── misses       questions in a row the bot had no answer for (the second one offers a mediator first)
     ├── pending      the question the bot just asked, if the next message may answer it:
     │                  feedback  "Est-ce que cela répond ... ?" about `topic`
     │                  clarify   "Vous voulez parler de : 1. ... 2. ..." over `options`
     │                  offer     a mediator was offered; `reason`, `topic` and `fields` go on the ticket
     │                  erase     « effacer mes données » awaits its oui / non
     ├── flow         the guided flow under way: FAQ entry, and the runner's own FlowState
     ├── transcript   the last lines exchanged, for the mediator
     ├── language     "fr" or "en": the language the agent writes in (bot/language.py), with hysteresis
     └── last_topic   the topic of the last answer and when it was given: a short message soon after
                      is read as its follow-up (bot/followup.py)

The store keeps the dict of `to_dict()` as JSON and gives it back after a restart, so a flow resumes
where it was. A dict that cannot be read (an older or damaged record) gives a fresh state: losing a
pending question is better than failing every message of that agent. Keys added later
(`language`, `last_topic`) are optional when read, so a state stored before them reads as French
with no last topic; the row is the agent's like the rest, so retention and erasure remove them too.

`Turn` (the message being handled) and `Result` (what every step returns) live here too, beside the
state they go with, so that bot/conversation/guided.py uses them without importing the engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import transcript
from .flows import FlowState
from ..messages import Action, Incoming, Reply, TranscriptLine

VERSION = 1


@dataclass(frozen=True, kw_only=True)
class Pending:
    """A question the bot asked, that the agent's next message may answer."""

    kind: str  # "feedback" | "clarify" | "offer" | "erase"
    since: datetime
    topic: str | None = None
    options: tuple[str, ...] = ()
    reason: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "since": self.since.isoformat(), "topic": self.topic,
                "options": list(self.options), "reason": self.reason, "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pending:
        return cls(kind=str(data["kind"]), since=datetime.fromisoformat(data["since"]), topic=data.get("topic"),
                   options=tuple(data.get("options", ())), reason=data.get("reason"),
                   fields={str(k): str(v) for k, v in data.get("fields", {}).items()})


@dataclass(frozen=True, kw_only=True)
class ActiveFlow:
    """A guided flow under way, started from the FAQ entry `entry`."""

    entry: str
    state: FlowState

    def to_dict(self) -> dict[str, Any]:
        return {"entry": self.entry, "state": self.state.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActiveFlow:
        return cls(entry=str(data["entry"]), state=FlowState.from_dict(data["state"]))


@dataclass(frozen=True, kw_only=True)
class ConversationState:
    last_seen: datetime | None = None
    misses: int = 0
    pending: Pending | None = None
    flow: ActiveFlow | None = None
    transcript: tuple[TranscriptLine, ...] = ()
    language: str = "fr"
    last_topic: str | None = None
    last_topic_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION,
                "last_seen": self.last_seen.isoformat() if self.last_seen else None,
                "misses": self.misses,
                "pending": self.pending.to_dict() if self.pending else None,
                "flow": self.flow.to_dict() if self.flow else None,
                "transcript": transcript.to_json(self.transcript),
                "language": self.language,
                "last_topic": ({"id": self.last_topic, "at": self.last_topic_at.isoformat()}
                               if self.last_topic and self.last_topic_at else None)}

    @staticmethod
    def confirming_erasure(data: dict[str, Any] | None) -> bool:
        """Whether the stored state awaits the oui / non of « effacer mes données » (the desk must not relay it)."""
        return bool(data and isinstance(data.get("pending"), dict) and data["pending"].get("kind") == "erase")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ConversationState:
        """The state saved by `to_dict`; None (a new agent) or an unreadable record gives a fresh one."""
        if not data or data.get("version") != VERSION:
            return cls()
        try:
            return cls(last_seen=datetime.fromisoformat(data["last_seen"]) if data.get("last_seen") else None,
                       misses=int(data.get("misses", 0)),
                       pending=Pending.from_dict(data["pending"]) if data.get("pending") else None,
                       flow=ActiveFlow.from_dict(data["flow"]) if data.get("flow") else None,
                       transcript=transcript.from_json(data.get("transcript", [])),
                       language="en" if data.get("language") == "en" else "fr",
                       **_last_topic(data.get("last_topic")))
        except (KeyError, ValueError, TypeError):
            return cls()


def _last_topic(data: Any) -> dict[str, Any]:
    """The `last_topic` keys of the state; absent or unreadable, there is simply no last topic."""
    if not isinstance(data, dict) or not data.get("id") or not data.get("at"):
        return {}
    return {"last_topic": str(data["id"]), "last_topic_at": datetime.fromisoformat(data["at"])}


@dataclass(frozen=True, kw_only=True)
class Turn:
    """The message being handled, cut to size, and whether the welcome was just said."""

    incoming: Incoming
    text: str
    welcomed: bool

    @property
    def now(self) -> datetime:
        return self.incoming.time

    def reply(self, text: str) -> Reply:
        return Reply(room=self.incoming.room, text=text)


Result = tuple[ConversationState, list[Action]]  # what every step of the engine and of a guided flow returns
