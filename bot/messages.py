"""What flows in and out of the pure core: one incoming message, and the actions it decides.

The core never sends anything. It returns these frozen dataclasses; the Matrix layer turns them
into Matrix calls, the console prints them, and tests compare lists of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Union

UserID = str
RoomID = str
EventID = str


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """One message from an agent, already decrypted and reduced to plain text at the edge.

    `time` comes from the event (origin_server_ts), never from a clock read inside the core.
    `reply_to` is the event the message answers (rich reply), if any.
    """

    sender: UserID
    room: RoomID
    text: str
    event_id: EventID
    time: datetime
    reply_to: EventID | None = None
    sender_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class TranscriptLine:
    """One line of a conversation as a mediator will read it on the ticket card."""

    time: datetime
    author: str  # "agent" or "bot"
    text: str


@dataclass(frozen=True, kw_only=True)
class Reply:
    """Send `text` (light markdown) to `room`, as a rich reply to `reply_to` when given."""

    room: RoomID
    text: str
    reply_to: EventID | None = None


@dataclass(frozen=True, kw_only=True)
class OpenTicket:
    """Hand the agent to a human: everything a mediator needs to pick the conversation up."""

    agent: UserID
    room: RoomID
    reason: str
    topic: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    transcript: tuple[TranscriptLine, ...] = ()
    agent_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordFeedback:
    """The agent said whether an answer helped (oui / non, or a 👍 / 👎 reaction)."""

    agent: UserID
    topic: str
    helpful: bool
    time: datetime


@dataclass(frozen=True, kw_only=True)
class FlowEvent:
    """A guided flow started, finished, was cancelled or expired (for logs, console, statistics)."""

    agent: UserID
    flow: str
    event: str  # "started" | "finished" | "cancelled" | "expired"


Action = Union[Reply, OpenTicket, RecordFeedback, FlowEvent]
