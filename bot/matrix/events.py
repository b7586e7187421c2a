"""Matrix events turned into `Incoming`, once, at the edge; nothing past here sees a nio event.

What is dropped here (returns None), so the core never has to think about it:
- the bot's own events and every m.notice (bots talk in notices: two bots never loop);
- events older than the bot's very first start (the first sync replays room history);
- redactions, state events, media, unknown or undecryptable types: ignored, never an error.
What is reshaped:
- an edit (m.replace) becomes an Incoming carrying the new text;
- a 👍 / 👎 reaction becomes an Incoming whose text is the emoji, replying to the reacted event;
- an HTML body is reduced to text, and the quoted fallback of a rich reply is removed.
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

from nio import Event, ReactionEvent, RoomMessageEmote, RoomMessageText

from ..messages import Incoming

FEEDBACK_REACTIONS = ("👍", "👎")
_VARIATION_SELECTORS = re.compile("[\ufe0e\ufe0f]|\U0001f3fb|\U0001f3fc|\U0001f3fd|\U0001f3fe|\U0001f3ff")


def convert(event: Event, *, room_id: str, own_user: str, since: datetime,
            sender_name: str | None = None) -> Incoming | None:
    """The Incoming for one (already decrypted) timeline event, or None if the core must not see it."""
    if event.sender == own_user or event_time(event) < since:
        return None
    if isinstance(event, ReactionEvent):
        return _reaction(event, room_id, sender_name)
    if isinstance(event, (RoomMessageText, RoomMessageEmote)):
        return _message(event, room_id, sender_name)
    return None


def event_time(event: Event) -> datetime:
    return datetime.fromtimestamp(event.server_timestamp / 1000, tz=timezone.utc)


def mentions(event: Event, user_id: str) -> bool:
    """Whether the event names `user_id` in m.mentions (the only reliable mention signal)."""
    content = event.source.get("content", {})
    new_content = content.get("m.new_content")
    for part in (content, new_content or {}):
        user_ids = part.get("m.mentions", {}).get("user_ids", [])
        if isinstance(user_ids, list) and user_id in user_ids:
            return True
    return False


def _reaction(event: ReactionEvent, room_id: str, sender_name: str | None) -> Incoming | None:
    key = _VARIATION_SELECTORS.sub("", event.key)
    if key not in FEEDBACK_REACTIONS:
        return None
    return Incoming(sender=event.sender, room=room_id, text=key, event_id=event.event_id,
                    time=event_time(event), reply_to=event.reacts_to, sender_name=sender_name)


def _message(event: RoomMessageText | RoomMessageEmote, room_id: str, sender_name: str | None) -> Incoming | None:
    content = event.source.get("content", {})
    relates = content.get("m.relates_to") or {}
    if relates.get("rel_type") == "m.replace":
        content = content.get("m.new_content") or {}
        reply_to = None
    else:
        reply_to = replied_event(content)
    text = message_text(content, is_reply=reply_to is not None)
    if not text:
        return None
    return Incoming(sender=event.sender, room=room_id, text=text, event_id=event.event_id,
                    time=event_time(event), reply_to=reply_to, sender_name=sender_name)


def replied_event(content: dict) -> str | None:
    """The event a message answers: its rich-reply target, or in a thread the thread's root (the card
    a mediator opened the thread on), so threads and plain replies (Tchap for Android) both work."""
    relates = content.get("m.relates_to") or {}
    if relates.get("rel_type") == "m.thread":
        return relates.get("event_id")
    return (relates.get("m.in_reply_to") or {}).get("event_id")


def message_text(content: dict, *, is_reply: bool = False) -> str:
    """The plain text of a message content: HTML reduced to text, reply fallback removed."""
    formatted = content.get("formatted_body")
    if content.get("format") == "org.matrix.custom.html" and isinstance(formatted, str):
        return html_to_text(formatted).strip()
    body = content.get("body")
    if not isinstance(body, str):
        return ""
    if is_reply:
        body = _strip_reply_fallback(body)
    return body.strip()


def _strip_reply_fallback(body: str) -> str:
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n") if len(lines) < len(body.split("\n")) else body


class _TextExtractor(HTMLParser):
    """Keeps the text, turns block ends into new lines, skips <mx-reply> (the quoted fallback)."""

    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "mx-reply":
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply":
            self._skip = max(0, self._skip - 1)
        elif tag in self.BREAKS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    return re.sub(r"\n{3,}", "\n\n", text)
