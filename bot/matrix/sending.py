"""Outbox items turned into Matrix sends: m.notice, markdown rendered to HTML, retries, same txn id.

The bot always speaks in m.notice (clients and other bots know a notice is automatic and never
answer it). The body is the plain text; `formatted_body` is rendered by markdown-it with raw HTML
disabled, and the words of agents the desk marked as verbatim (bot/verbatim.py) are HTML-escaped
instead of rendered: mediators read exactly what was typed, never a link, image or quote it forged.
Links are limited to markdown-it's safe schemes. `m.mentions` is always present and empty: the bot
pings nobody.

Nothing is too large to send: the event's size once encrypted is measured before sending (nio
encrypts the ASCII JSON, non-ASCII as \\uXXXX, and base64 adds a third), and a text whose event would
pass Synapse's 65,536 bytes is sent in parts, each after the first starting with « (suite) ». An
M_TOO_LARGE anyway (a homeserver with a lower limit) splits the text further; never a silent drop.

A send is retried with the outbox item's transaction id (`txn-0`, `txn-1`... for the parts): the
homeserver returns the first event for a repeated (device, txn id), so a retry after a lost response
never shows twice. Network errors back off exponentially, briefly (the item stays in the outbox and
the next drain tries again); a 429 waits the `retry_after_ms` the server asked for, and the first one
is logged with the advice to have the bot exempted; a refusal (403 in a direct room, unknown
room...) is a rule, not a failure: logged once and dropped.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiohttp import ClientError
from markdown_it import MarkdownIt
from nio import AsyncClient, EncryptionError, ErrorResponse, LocalProtocolError, RoomRedactResponse, RoomSendResponse
from nio.api import Api

from .. import metrics, texts
from ..messages import Media, OpenTicket, PostCard, PostFile, Redact, RelayToAgent, Reply, ToMediators
from ..storage.store import OutboxItem
from ..verbatim import cut, plain, to_html
from . import media as attachments

log = logging.getLogger(__name__)

_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
NETWORK_ERRORS = (ClientError, TimeoutError, asyncio.TimeoutError, OSError)
EVENT_BUDGET = 60_000  # bytes: Synapse refuses events over 65,536; keys, hashes and signatures need the rest
EXEMPT_ADVICE = ("the homeserver rate-limits the bot (429): replies wait. Ask the homeserver's operators to exempt "
                 "the bot account: Synapse admin API POST /_synapse/admin/v1/users/<bot user id>/override_ratelimit "
                 "with {\"messages_per_second\": 0, \"burst_count\": 0}")
_advised = False


def render_html(text: str) -> str:
    """Markdown to the HTML of `formatted_body`; raw HTML in `text` comes out escaped, verbatim words too."""
    return to_html(text, lambda markdown: _markdown.render(markdown).strip())


def notice_content(text: str, *, reply_to: str | None = None) -> dict[str, Any]:
    """The content of one bot message: a notice, with a rich reply relation when answering one."""
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": plain(text),
        "format": "org.matrix.custom.html",
        "formatted_body": render_html(text),
        "m.mentions": {},
    }
    if reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


def encrypted_size(room: str, content: dict[str, Any]) -> int:
    """Bytes of the event once encrypted (an upper bound that also holds for a clear-text room)."""
    plaintext = Api.to_json({"type": "m.room.message", "content": content, "room_id": room})
    return len(plaintext) * 4 // 3 + 1_000  # base64 of the ciphertext, then session id, keys, signature


def notice_parts(text: str, *, room: str, reply_to: str | None = None, budget: int = EVENT_BUDGET) -> list[str]:
    """`text` as one text, or as several whose notices each fit `budget` once encrypted."""
    size = encrypted_size(room, notice_content(text, reply_to=reply_to))
    if len(text) < 64 or size <= budget:
        return [text]
    head, tail = cut(text, max(32, len(text) * budget * 9 // (size * 10)))
    return [*notice_parts(head, room=room, reply_to=reply_to, budget=budget),
            *notice_parts(f"{texts.say('matrix.continued')} {tail}", room=room, reply_to=reply_to, budget=budget)]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How long a send keeps trying before the item waits in the outbox for the next drain."""

    attempts: int = 6
    first_wait: float = 0.5
    max_wait: float = 2.0  # short: after an outage the next reply must not sit in a long sleep


class Refused(Exception):
    """The homeserver refused the send for good (not a network error nor a rate limit)."""


class TooLarge(Refused):
    """M_TOO_LARGE: the homeserver's event limit is lower than thought; the text is split further."""


async def with_retries(call: Callable[[], Awaitable[Any]], *, what: str, policy: RetryPolicy = RetryPolicy(),
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Any:
    """Run `call` until it returns a non-error response; raise `Refused` or the last network error."""
    wait = policy.first_wait
    for attempt in range(1, policy.attempts + 1):
        last = attempt == policy.attempts
        if attempt > 1:
            metrics.SEND_RETRIES.inc()
        try:
            response = await call()
        except NETWORK_ERRORS as exc:
            if last:
                raise
            log.warning("%s: network error (%s), retry %d in %.1fs", what, exc or type(exc).__name__, attempt, wait)
            await sleep(wait)
            wait = min(wait * 2, policy.max_wait)
            continue
        if not isinstance(response, ErrorResponse):
            return response
        if _is_rate_limited(response):
            _advise_exemption()
        if _is_rate_limited(response) and not last:
            delay = (getattr(response, "retry_after_ms", None) or wait * 1000) / 1000
            log.warning("%s: rate limited, waiting %.1fs as the server asks", what, delay)
            await sleep(delay)
            continue
        if _is_server_error(response) and not last:
            await sleep(wait)
            wait = min(wait * 2, policy.max_wait)
            continue
        if _is_rate_limited(response) or _is_server_error(response):
            raise ConnectionError(f"{what}: {response.status_code} {response.message}")
        refused = TooLarge if response.status_code == "M_TOO_LARGE" or _status(response) == 413 else Refused
        raise refused(f"{what}: {response.status_code} {response.message}")
    raise AssertionError("unreachable")


def _advise_exemption() -> None:
    global _advised
    if not _advised:
        _advised = True
        log.warning(EXEMPT_ADVICE)


def _status(response: ErrorResponse) -> int:
    transport = getattr(response, "transport_response", None)
    return getattr(transport, "status", 0) or 0


def _is_rate_limited(response: ErrorResponse) -> bool:
    return response.status_code in ("M_LIMIT_EXCEEDED", 429) or _status(response) == 429


def _is_server_error(response: ErrorResponse) -> bool:
    return _status(response) >= 500


class MatrixSender:
    """The helpdesk's sender for Matrix: carries out one outbox item (see bot.helpdesk.Sender)."""

    def __init__(self, client: AsyncClient, *, mediators_room: str | None = None,
                 cards: Callable[[int], Awaitable[str | None]] | None = None, policy: RetryPolicy = RetryPolicy()):
        self.client = client
        self.mediators_room = mediators_room
        self.cards = cards  # ticket number -> its card's event id (the store), for replies to the card
        self.policy = policy

    async def send(self, item: OutboxItem) -> str | None:
        action = item.action
        try:
            if isinstance(action, Reply):
                return await self.send_notice(action.room, action.text, reply_to=action.reply_to, txn_id=item.txn_id)
            if isinstance(action, PostCard):
                return await self._to_mediators(action.text, reply_to=None, media=None, txn_id=item.txn_id)
            if isinstance(action, ToMediators):
                reply_to = action.reply_to or await self._card(action.ticket)
                return await self._to_mediators(action.text, reply_to=reply_to, media=action.media, txn_id=item.txn_id)
            if isinstance(action, RelayToAgent):
                if action.media is not None:
                    return await self.send_media(action.room, action.media, action.text, txn_id=item.txn_id)
                return await self.send_notice(action.room, action.text, reply_to=None, txn_id=item.txn_id)
            if isinstance(action, OpenTicket):
                return await self._ticket_card(action, item.txn_id)
            if isinstance(action, Redact):
                return await self.redact(action, item.txn_id)
            if isinstance(action, PostFile):
                media = Media(msgtype="m.file", name=action.name, url="", mimetype=action.mimetype)
                return await self._upload_and_send(action.room, media, action.data.encode(), action.caption,
                                                   txn_id=item.txn_id)
        except Refused as exc:
            log.error("%s dropped: %s", type(action).__name__, exc)
            return None
        log.info("%s (txn %s): nothing to send on Matrix", type(action).__name__, item.txn_id)
        return None

    async def send_notice(self, room: str, text: str, *, reply_to: str | None, txn_id: str,
                          budget: int = EVENT_BUDGET) -> str:
        """Send `text`, in parts when too large for one event; the id of the first part's event."""
        parts = notice_parts(text, room=room, reply_to=reply_to, budget=budget)
        if len(parts) > 1:
            log.info("send to %s (txn %s): in %d parts, too large for one event", room, txn_id, len(parts))
        sent = []
        for number, part in enumerate(parts):
            part_txn = txn_id if len(parts) == 1 else f"{txn_id}-{number}"
            try:
                sent.append(await self._send(room, notice_content(part, reply_to=reply_to), part_txn))
            except TooLarge:
                if budget < 4_000:
                    raise
                log.warning("send to %s (txn %s): too large for the homeserver, splitting it further", room, part_txn)
                sent.append(await self.send_notice(room, part, reply_to=reply_to, txn_id=f"{part_txn}-",
                                                   budget=budget // 2))
        return sent[0]

    async def _send(self, room: str, content: dict[str, Any], txn_id: str) -> str:
        async def call() -> Any:
            try:
                return await self.client.room_send(room, "m.room.message", content, tx_id=txn_id,
                                                   ignore_unverified_devices=True)
            except LocalProtocolError as exc:  # e.g. a room the bot has left: nothing to retry
                raise Refused(f"send to {room}: {exc}") from exc

        response: RoomSendResponse = await with_retries(call, what=f"send to {room}", policy=self.policy)
        return response.event_id

    async def redact(self, action: Redact, txn_id: str) -> str | None:
        """Redact one of the bot's own events (an agent's words it carried); an event already gone is a 404:
        refused, logged and dropped, like any refusal."""
        room = action.room or self.mediators_room
        if not room:
            log.warning("redaction of %s skipped: no mediators_room", action.event_id)
            return None

        async def call() -> Any:
            try:
                return await self.client.room_redact(room, action.event_id, tx_id=txn_id)
            except LocalProtocolError as exc:
                raise Refused(f"redact in {room}: {exc}") from exc

        response: RoomRedactResponse = await with_retries(call, what=f"redact {action.event_id}", policy=self.policy)
        return response.event_id

    async def _card(self, ticket: int | None) -> str | None:
        return await self.cards(ticket) if self.cards and ticket is not None else None

    async def _to_mediators(self, text: str, *, reply_to: str | None, media: Media | None, txn_id: str) -> str | None:
        if not self.mediators_room:
            log.warning("nothing posted for the mediators (txn %s): no mediators_room", txn_id)
            return None
        if media is not None:
            return await self.send_media(self.mediators_room, media, text, reply_to=reply_to, txn_id=txn_id)
        return await self.send_notice(self.mediators_room, text, reply_to=reply_to, txn_id=txn_id)

    async def send_media(self, room: str, media: Media, caption: str, *, txn_id: str,
                         reply_to: str | None = None) -> str:
        """Download `media`, upload it again for `room` (encrypted if the room is), send it captioned."""
        try:
            data = await with_retries(lambda: attachments.fetch(self.client, media), what=f"download {media.url}",
                                      policy=self.policy)
        except EncryptionError as exc:  # keys that do not open the file: retrying will not help
            raise Refused(f"decrypt {media.url}: {exc}") from exc
        return await self._upload_and_send(room, media, data, caption, txn_id=txn_id, reply_to=reply_to)

    async def _upload_and_send(self, room: str, media: Media, data: bytes, caption: str, *, txn_id: str,
                               reply_to: str | None = None) -> str:
        """Upload `data` for `room` (encrypted if the room is) and send it captioned."""
        target = self.client.rooms.get(room)
        encrypt = bool(target and target.encrypted)
        keys: dict[str, dict | None] = {}

        async def put() -> Any:
            response, keys["file"] = await attachments.upload(self.client, media, data, encrypt=encrypt)
            return response

        uploaded = await with_retries(put, what=f"upload {media.name}", policy=self.policy)
        content = attachments.media_content(media, plain(caption), url=uploaded.content_uri, file=keys.get("file"),
                                            size=len(data))
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self._send(room, content, txn_id)

    async def _ticket_card(self, ticket: OpenTicket, txn_id: str) -> str | None:
        """Until the tickets module posts its own cards: a short notice in the mediators' room."""
        if not self.mediators_room:
            log.warning("ticket for %s but no mediators_room is configured", ticket.agent)
            return None
        lines = [texts.say("matrix.ticket_card", agent=ticket.agent_name or ticket.agent, reason=ticket.reason)]
        if ticket.topic:
            lines.append(texts.say("matrix.ticket_topic", topic=ticket.topic))
        return await self.send_notice(self.mediators_room, "\n".join(lines), reply_to=None, txn_id=txn_id)

