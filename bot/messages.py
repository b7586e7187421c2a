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

UserID = str
RoomID = str
EventID = str


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """One message from an agent, already decrypted and reduced to plain text at the edge.

    `time` comes from the event (origin_server_ts), never from a clock read inside the core.
    `reply_to` is the event the message answers (rich reply), if any.
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


# --- The mediators' desk (bot/desk.py): tickets, relays and the mediators' room -----------------
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


Action = Union[Reply, OpenTicket, RecordFeedback, FlowEvent, PostCard, ToMediators, RelayToAgent, StoreNote]
