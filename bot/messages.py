"""What flows in and out of the pure core: one incoming message, and the actions it decides.

The core never sends anything. It returns these frozen dataclasses; the Matrix layer turns them
into Matrix calls, the console prints them, and tests compare lists of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    import numpy as np

from .safetext import safe_text, safe_value

UserID = str
RoomID = str
EventID = str


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """One message from an agent, already decrypted and reduced to plain text at the edge.

    `time` comes from the event (origin_server_ts), never from a clock read inside the core.
    `reply_to` is the event the message answers (rich reply), if any.
    Every string is passed through `safe_text` on construction, so no driver can hand the core a
    lone surrogate or a NUL (SQLite would refuse it and the event would fail again at each start).

`vector` is the sentence encoder's unit vector of `text` (float32, the model's dimension): the
driver encodes off the event loop and hands it in, so the core stays pure; None when the
encoder is off, down, or skipped because the words already settle the question.
    """

    sender: UserID
    room: RoomID
    text: str
    event_id: EventID
    time: datetime
    reply_to: EventID | None = None
    sender_name: str | None = None
    media: Media | None = None
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _clean(self, "sender", "room", "text", "event_id", "reply_to", "sender_name")


@dataclass(frozen=True, kw_only=True)
class Media:
    """An image or file attached to a message, as the edge found it; relayed by re-uploading it.

    `file` holds the encryption keys of an attachment sent in an encrypted room (the content's
    `file` key); without it `url` is a plain mxc:// address.
    """

    msgtype: str  # m.image | m.file | m.video | m.audio
    name: str
    url: str
    mimetype: str | None = None
    size: int | None = None
    file: dict | None = None

    def __post_init__(self) -> None:
        _clean(self, "msgtype", "name", "url", "mimetype")
        if self.file is not None:
            object.__setattr__(self, "file", safe_value(self.file))


def _clean(message: object, *names: str) -> None:
    """Frozen dataclasses: rewrite the given string fields with their safe version."""
    for name in names:
        value = getattr(message, name)
        if value is not None:
            object.__setattr__(message, name, safe_text(value))


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
    language: str = "fr"  # the agent's: what they read when the ticket opens (fields and card stay French)


@dataclass(frozen=True, kw_only=True)
class RecordFeedback:
    """The agent said whether an answer helped (oui / non, or a 👍 / 👎 reaction)."""

    agent: UserID
    topic: str
    helpful: bool
    time: datetime


@dataclass(frozen=True, kw_only=True)
class RecordDecision:
    """What the engine made of one message, for the decision log: written by the store, never sent.

    `outcome`: answer | clarify | none | flow | ticket | smalltalk (the matcher was asked), or
    flow_step | reply (a flow's slot, an answer to the bot's last question). `settles` is what this
    message did to the bot's last question: helpful | rejected (after an answer), picked | unpicked
    (after a clarification); the store marks that earlier decision with it, which is how
    `faq gaps` finds the answers that did not help and the choices nobody took.
    `text` and `vector` (float32 bytes) only for messages the matcher read: a flow's slot
    (a date, a badge number) is nobody's gap and stays out of the log.
    """

    agent: UserID
    time: datetime
    outcome: str
    topic: str | None = None
    score: float | None = None
    second: float | None = None
    settles: str | None = None
    text: str | None = None
    vector: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class PostFile:
    """Send a file the bot made itself (the weekly report) to `room`, with `caption` as its text."""

    room: RoomID
    name: str
    mimetype: str
    data: str
    caption: str


@dataclass(frozen=True, kw_only=True)
class FlowEvent:
    """A guided flow started, finished, was cancelled or expired (for logs, console, statistics)."""

    agent: UserID
    flow: str
    event: str  # "started" | "finished" | "cancelled" | "expired"


# --- The mediators' desk (bot/desk/desk.py): tickets, relays and the mediators' room -----------------
# The mediators' room is not named in these actions: it may be created at first start, so only
# the Matrix layer knows its id. Actions naming a `ticket` get their sent event linked to it, so
# a mediator's reply to any of them finds the ticket.


@dataclass(frozen=True, kw_only=True)
class PostCard:
    """Post the card of a new ticket in the mediators' room; its event becomes the ticket's card."""

    ticket: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ToMediators:
    """A notice in the mediators' room: an agent's message relayed (`author` set), or the bot's word.

    With `ticket` set and no `reply_to`, it is posted as a rich reply to that ticket's card.
    """

    text: str
    ticket: int | None = None
    reply_to: EventID | None = None
    author: UserID | None = None
    body: str = ""  # the author's own words, for the ticket's history
    media: Media | None = None
    source_event: EventID | None = None


@dataclass(frozen=True, kw_only=True)
class RelayToAgent:
    """A mediator's answer, sent to the agent's direct room, signed with the mediator's name."""

    ticket: int
    room: RoomID
    text: str
    author: UserID
    body: str = ""  # the mediator's own words, for the ticket's history
    media: Media | None = None
    source_event: EventID | None = None


@dataclass(frozen=True, kw_only=True)
class StoreNote:
    """A mediator's internal note: stored with the ticket, never sent to the agent."""

    ticket: int
    author: UserID
    text: str
    time: datetime
    source_event: EventID | None = None


# --- An agent's data (bot/storage/erasure.py): carried out by the store, in the turn's transaction ------


@dataclass(frozen=True, kw_only=True)
class ShowMyData:
    """« mes données »: the store answers, in `room`, what it keeps about `agent` and until when."""

    agent: UserID
    room: RoomID
    retention_days: int
    time: datetime
    language: str = "fr"  # the agent's: the store's answer is said in it


@dataclass(frozen=True, kw_only=True)
class EraseAgentData:
    """The agent confirmed « effacer mes données » (or an admin ran `forget`): erase, then say so in `room`."""

    agent: UserID
    room: RoomID | None
    time: datetime
    asked_by: str = "agent"
    language: str = "fr"  # the agent's: the confirmation is said in it


@dataclass(frozen=True, kw_only=True)
class Redact:
    """Redact one of the bot's own events that carried an agent's words; room None is the mediators' room."""

    event_id: EventID
    room: RoomID | None = None


Action = Union[Reply, OpenTicket, RecordFeedback, RecordDecision, PostFile, FlowEvent, PostCard, ToMediators,
               RelayToAgent, StoreNote, ShowMyData, EraseAgentData, Redact]
