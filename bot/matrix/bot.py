"""The sync loop: Matrix batches in, helpdesk turns, outbox drained; nothing lost across restarts.

One iteration:
    sync(since=token) ─► crypto housekeeping (keys upload/query/claim, to-device sends)
      ─► invites: join if the inviter is allowed, otherwise decline (and log)
      ─► late keys: pending undecryptable events that decrypt now
      ─► timeline events (a limited timeline is first backfilled, back to the room's mark)
      ─► each event into its sender's lane (bot/matrix/lanes.py): events ─► convert ─► addressed
         to the bot? ─► helpdesk.turn (stored)
      ─► once every event of the batch is handled (in the background: the loop syncs on), the sync
         token and each room's mark are saved together, batches in order
      ─► the outbox drained per room in the background (bot/matrix/outbox.py), read receipts
The first sync of each run asks for the full state, so nio knows every room again (its room list
is not persisted) before the outbox left by a previous run is drained.

Nothing one event contains can stop the loop: an error while converting or handling one event is
logged with its id and traceback, recorded (`helpdesk.record_failure`: the sender is told a person
can help) and the loop goes on. A failure of the store itself (`StoreUnavailable`: disk full,
database locked) is not the event's fault: the same event is tried again with backoff, and the
batch's token is not saved before it went through.

Catch-up: a room's mark is the newest event of the last batch fully handled. After a gap (limited
timeline) the loop pages back, however far, until that event, or one older than the bot's first
start; a room without a mark yet stops at an event already handled or one of the bot's own.

Which messages reach the core: every message in a direct room (as the invite's is_direct said,
or a two-member room), elsewhere only those that mention the bot in m.mentions. Every message of
the mediators' room goes to the desk instead (commands, replies for agents), with the room's
members and names. Images and files are read too (bot/matrix/media.py): the desk relays them.
The bot invites no one: in a Tchap direct room a third member is refused.

Beside the loop, a ticker calls `helpdesk.tick(clock())` every `Timing.tick_every` seconds
(autoclose, reminders); `clock` is an attribute so tests can move time.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from nio import (AsyncClient, InviteMemberEvent, JoinResponse, MatrixRoom, MegolmEvent, ReactionEvent,
                 RoomMemberEvent, RoomMessage, RoomMessagesResponse, SyncError, SyncResponse)

from .. import metrics, texts
from ..config import Config
from ..desk.room import MediatorsRoom
from ..errors import StoreUnavailable
from ..helpdesk import Helpdesk
from ..messages import Incoming, Reply
from ..reporting.cli import weekly_post
from ..safetext import safe_text
from ..storage.store import Store
from .access import may_invite
from .events import convert, event_time, mentions, message_text
from .lanes import Lanes
from .media import media_incoming
from .outbox import RoomOutbox
from .sending import NETWORK_ERRORS
from .session import LoginFailed
from .undecryptable import UndecryptableMessages

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Timing:
    """The loop's delays; tests shorten them, production keeps the defaults."""

    sync_timeout_ms: int = 30_000
    timeline_limit: int = 100  # events per room in one sync; beyond, the gap is backfilled
    undecryptable_notice_after: float = 10.0
    typing_after: float = 0.3  # show "typing…" only when a turn takes longer than this
    first_backoff: float = 1.0
    max_backoff: float = 2.0  # syncing again within ~2 s of the homeserver's return
    store_backoff: float = 30.0  # the longest wait between two tries of an event the store refused
    flood_limit: int = 20  # more messages than this from one sender within flood_window: they go last
    flood_window: float = 30.0
    tick_every: float = 60.0  # seconds between two looks at tickets (autoclose, reminders)
    purge_every: float = 3600.0  # seconds between two erasures of what is past retention_days
    report_every: float = 7 * 86400.0  # seconds between two posts of the report in report_room


class MatrixBot:
    """The Matrix driver of the helpdesk; `run_forever` until cancelled."""

    def __init__(self, *, client: AsyncClient, store: Store, helpdesk: Helpdesk, config: Config,
                 since: datetime, timing: Timing = Timing()):
        self.client, self.store, self.helpdesk, self.config = client, store, helpdesk, config
        self.since = since
        self.timing = timing
        self.ready = asyncio.Event()
        self.undecryptable = UndecryptableMessages(client, delay=timing.undecryptable_notice_after,
                                                   notify=self._tell_undecryptable,
                                                   max_age=config.retention_days * 86400.0)
        self._reachable: bool | None = None
        self.last_sync_ok: float | None = None  # time.monotonic() of the last sync answered (/healthz)
        self._to_acknowledge: dict[str, str] = {}
        self._typing: set[str] = set()
        self._background: set[asyncio.Task] = set()
        self.lanes = Lanes(on_flood=self._tell_flooding, flood_limit=timing.flood_limit,
                           flood_window=timing.flood_window)
        self.outbox = RoomOutbox(store, helpdesk.sender)
        self._saved: asyncio.Task | None = None  # the last batch's token save; each waits for the one before
        self.failures = 0  # events that could not be handled (recorded, the agent told)
        self.clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)

    async def run_forever(self) -> None:
        self._spawn(self._tick_forever())
        token = await self.store.sync_token()
        full_state = True
        backoff = self.timing.first_backoff
        try:
            while True:
                await self.lanes.wait_for_room()
                try:
                    response = await self.client.sync(timeout=self.timing.sync_timeout_ms if not full_state else 0,
                                                      since=token, full_state=full_state, sync_filter=self._filter())
                    if isinstance(response, SyncError):
                        if response.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                            raise LoginFailed(f"the homeserver no longer accepts the bot's token: {response.message}")
                        backoff = await self._unreachable(f"{response.status_code} {response.message}", backoff)
                        continue
                    backoff = self._reachable_again()
                    self.last_sync_ok = time.monotonic()
                    await self.handle_batch(response)  # a network error here: the batch is fetched again
                except NETWORK_ERRORS as exc:
                    backoff = await self._unreachable(str(exc) or type(exc).__name__, backoff)
                    continue
                token, full_state = response.next_batch, False
                self.ready.set()
        finally:
            self.undecryptable.close()
            await self.lanes.close()
            await self.outbox.close()
            for task in self._background:
                task.cancel()

    async def handle_batch(self, response: SyncResponse) -> None:
        """Hand the batch's events to the lanes; its token is saved once they are all handled."""
        await self._crypto_housekeeping()
        for room_id, info in response.rooms.invite.items():
            await self._on_invite(room_id, info.invite_state)
        events = list(self.undecryptable.retry())
        marks: dict[str, str] = {}
        for room_id, info in response.rooms.join.items():
            missed = await self._backfill(room_id, info.timeline.prev_batch) if info.timeline.limited else []
            events += [(room_id, event) for event in [*missed, *info.timeline.events]]
            if info.timeline.events:
                marks[room_id] = info.timeline.events[-1].event_id
        handled = [self.lanes.put(getattr(event, "sender", None) or room_id, self._job(room_id, event),
                                  when=_message_time(event), room=room_id)
                   for room_id, event in events if getattr(event, "sender", None) != self.client.user_id]
        self._saved = asyncio.create_task(self._save_when_handled(response.next_batch, marks, handled, self._saved))
        self._background.add(self._saved)
        self._saved.add_done_callback(self._background.discard)
        self.outbox.kick()  # what a previous run left, and what the first lanes already decided

    async def _save_when_handled(self, token: str, marks: dict[str, str], handled: list[asyncio.Future],
                                 previous: asyncio.Task | None) -> None:
        """Save `token` and the rooms' marks once this batch's events and every earlier batch are done."""
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await asyncio.gather(*handled, return_exceptions=True)
        if any(future.cancelled() for future in handled):
            return  # stopping: the next run starts again from the last saved token
        await self._until_stored(lambda: self.store.save_sync_token(token, marks), what="the sync token")
        self.outbox.kick()
        self._acknowledge()

    def _job(self, room_id: str, event) -> Callable:
        async def job() -> None:
            await self._until_stored(lambda: self._isolated(room_id, event), what=f"event {event.event_id}")
        return job

    async def _until_stored(self, call: Callable, *, what: str) -> None:
        """`call()` again and again, with backoff, while the store (or the network) fails: nothing moves past it."""
        wait = self.timing.first_backoff
        while True:
            try:
                return await call()
            except (StoreUnavailable, *NETWORK_ERRORS) as exc:
                log.error("%s failed on %s (%s): trying again in %.0fs", "the store" if isinstance(
                    exc, StoreUnavailable) else "the network", what, exc or type(exc).__name__, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.timing.store_backoff)

    async def _isolated(self, room_id: str, event) -> None:
        """One event handled; whatever it holds, an error stays with it (recorded, told, logged)."""
        try:
            await self._on_event(room_id, event)
        except (StoreUnavailable, asyncio.CancelledError, *NETWORK_ERRORS):
            raise
        except Exception as exc:
            self.failures += 1
            log.exception("event %s in %s could not be handled (%s); recorded, the loop goes on",
                          event.event_id, room_id, type(exc).__name__)
            await self._record_failure(room_id, event, exc)
        self.outbox.kick()

    async def _record_failure(self, room_id: str, event, error: Exception) -> None:
        sender = getattr(event, "sender", None)
        if not sender or sender == self.client.user_id:
            return
        try:
            text = safe_text(message_text(event.source.get("content", {})) or "")
        except Exception:
            text = ""
        try:
            await self.helpdesk.record_failure(event_id=event.event_id, agent=sender, room=room_id, text=text,
                                               error=error)
        except (StoreUnavailable, asyncio.CancelledError):
            raise
        except Exception:  # never a reason to stop either: the event stays unhandled, the log says why
            log.exception("could not record the failure of event %s", event.event_id)

    def _filter(self) -> dict:
        # no typing, receipts, read markers or presence: the bot uses none, and each woke its sync for nothing
        return {"room": {"timeline": {"limit": self.timing.timeline_limit}, "ephemeral": {"not_types": ["*"]},
                         "account_data": {"not_types": ["*"]}},
                "presence": {"not_types": ["*"]}}

    async def _backfill(self, room_id: str, prev_batch: str | None) -> list:
        """Events a limited timeline left out (many arrived while the bot was down), oldest first.

        Pages back, however far, until the room's mark (the newest event of the last batch fully
        handled) or an event older than the bot's first start. A room without a mark yet (first
        gap, or a store older than marks) stops at an event already handled or one of the bot's own.
        A failed page raises: the batch is fetched again rather than a message skipped.
        """
        mark = await self.store.room_mark(room_id)
        missed: list = []
        start = prev_batch
        while start:
            response = await self.client.room_messages(room_id, start=start, limit=self.timing.timeline_limit)
            if not isinstance(response, RoomMessagesResponse):
                raise ConnectionError(f"catch-up of {room_id}: {response.status_code} {response.message}")
            for event in response.chunk:  # newest first
                if event.event_id == mark or event_time(event) < self.since or (
                        mark is None and (getattr(event, "sender", None) == self.client.user_id
                                          or await self.store.is_handled(event.event_id))):
                    start = None
                    break
                missed.append(event)
            else:
                start = response.end if response.chunk and response.end != start else None
        if missed:
            log.info("backfilled %d events missed in %s", len(missed), room_id)
        return missed[::-1]

    async def _crypto_housekeeping(self) -> None:
        """What nio's sync_forever does between syncs: without it replies cannot be encrypted."""
        client = self.client
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    # --- invites

    async def _on_invite(self, room_id: str, invite_state: list) -> None:
        invite = next((e for e in invite_state if isinstance(e, InviteMemberEvent)
                       and e.state_key == self.client.user_id and e.membership == "invite"), None)
        if invite is None:
            return
        if not may_invite(invite.sender, allowed_users=self.config.allowed_users,
                          allowed_domains=self.config.allowed_domains):
            log.info("declined the invite of %s to %s: not an allowed user or domain", invite.sender, room_id)
            await self.client.room_leave(room_id)
            return
        direct = bool(invite.content.get("is_direct"))
        await self.store.remember_room(room_id, direct=direct, inviter=invite.sender)
        response = await self.client.join(room_id)
        if isinstance(response, JoinResponse):
            log.info("joined %s %s, invited by %s", "direct room" if direct else "room", room_id, invite.sender)
        else:
            log.error("could not join %s: %s %s", room_id, response.status_code, response.message)

    # --- room events

    async def _on_event(self, room_id: str, event) -> None:
        room = self.client.rooms.get(room_id)
        if isinstance(event, RoomMemberEvent):
            await self._on_member(room_id, room, event)
            return
        if isinstance(event, MegolmEvent):
            event.room_id = room_id
            if event.sender != self.client.user_id and event_time(event) >= self.since:
                await self.undecryptable.add(room_id, event, tell_sender=await self._is_direct(room_id, room))
            return
        name = room.user_name(event.sender) if room and hasattr(event, "sender") else None
        incoming = (convert(event, room_id=room_id, own_user=self.client.user_id, since=self.since, sender_name=name)
                    or media_incoming(event, room_id=room_id, own_user=self.client.user_id, since=self.since,
                                      sender_name=name))
        if incoming is None:
            return
        if self._is_mediators_room(room_id, room):
            if not isinstance(event, ReactionEvent):  # a 👍 on a card is for colleagues, not for the agent
                await self._turn(incoming, _members(room))
        elif await self._addressed(room_id, room, event):
            await self._turn(incoming)

    async def _on_member(self, room_id: str, room: MatrixRoom | None, event: RoomMemberEvent) -> None:
        """A new member of the mediators' room is told what is open (they cannot read the past)."""
        if (not self._is_mediators_room(room_id, room) or event.membership != "join"
                or event.prev_membership == "join" or event.state_key == self.client.user_id
                or event_time(event) < self.since):
            return
        await self.helpdesk.mediator_joined(event_id=event.event_id, user=event.state_key,
                                            name=event.content.get("displayname"), now=event_time(event))

    async def _turn(self, incoming: Incoming, mediators: MediatorsRoom | None = None) -> None:
        typing = asyncio.create_task(self._typing_later(incoming.room))
        try:
            with metrics.timed_turn("agent" if mediators is None else "mediators"):
                handled = (await self.helpdesk.turn(incoming) if mediators is None
                           else await self.helpdesk.mediator_turn(incoming, mediators))
            if handled:
                self._to_acknowledge[incoming.room] = incoming.event_id
        finally:
            if not typing.done():
                typing.cancel()

    def _is_mediators_room(self, room_id: str, room: MatrixRoom | None) -> bool:
        mediators = self.config.mediators_room
        return bool(mediators and (room_id == mediators or (room and room.canonical_alias == mediators)))

    async def _addressed(self, room_id: str, room: MatrixRoom | None, event) -> bool:
        return await self._is_direct(room_id, room) or mentions(event, self.client.user_id)

    async def _is_direct(self, room_id: str, room: MatrixRoom | None) -> bool:
        direct = await self.store.is_direct(room_id)
        if direct is not None:
            return direct
        return room is not None and room.member_count <= 2

    async def _tell_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        await self.store.enqueue([Reply(room=room_id, text=texts.say("matrix.undecryptable"))])
        self.outbox.kick()

    async def _tell_flooding(self, sender: str, room_id: str) -> None:
        if not self._is_mediators_room(room_id, self.client.rooms.get(room_id)):
            await self.store.enqueue([Reply(room=room_id, text=texts.say("matrix.flood_notice"))])
            self.outbox.kick()

    # --- the clock's turn

    async def _tick_forever(self) -> None:
        """Autoclose and reminders; a failure is logged and the next tick tries again.

        Starts after the first sync: before it, nio does not know the rooms to send to."""
        await self.ready.wait()
        last_purge = None
        while True:
            await asyncio.sleep(self.timing.tick_every)
            try:
                if await self.helpdesk.tick(self.clock()):
                    self.outbox.kick()
                if last_purge is None or (self.clock() - last_purge).total_seconds() >= self.timing.purge_every:
                    last_purge = self.clock()
                    await self._purge(last_purge)
                post = await weekly_post(self.store, self.config, now=self.clock(),
                                         every=timedelta(seconds=self.timing.report_every))
                if post is not None:  # the report, as a file in report_room (bot/reporting/)
                    await self.store.enqueue([post])
                    self.outbox.kick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ticket tick failed; trying again at the next one")

    async def _purge(self, now: datetime) -> None:
        """What the welcome promises: agents' words erased after retention_days (bot/storage/retention.py)."""
        erased = await self.store.purge(now, self.config.retention_days)
        if any(erased.values()):
            log.info("retention (%d days): erased %s", self.config.retention_days,
                     ", ".join(f"{n} {what}" for what, n in erased.items() if n))
            self.outbox.kick()  # the redactions of the mediators' copies it queued

    # --- presence of mind: typing and read receipts, never delaying an answer

    async def _typing_later(self, room_id: str) -> None:
        await asyncio.sleep(self.timing.typing_after)
        self._typing.add(room_id)
        await self.client.room_typing(room_id, True, timeout=10_000)

    def _acknowledge(self) -> None:
        """Read receipts for the handled events, and "typing…" off where it was shown, each once the
        room's answer has gone (sent with it, they slowed the answer's PUT by half on a local Synapse)."""
        for room_id in {*self._to_acknowledge, *self._typing}:
            self._spawn(self._after_answer(room_id, self._to_acknowledge.get(room_id), room_id in self._typing))
        self._to_acknowledge.clear()
        self._typing.clear()

    async def _after_answer(self, room_id: str, event_id: str | None, typing: bool) -> None:
        await self.outbox.drained(room_id)
        try:
            if typing:
                await self.client.room_typing(room_id, False)
            if event_id is not None:
                await self.client.room_read_markers(room_id, fully_read_event=event_id, read_event=event_id)
        except NETWORK_ERRORS as exc:  # a courtesy: the next handled message sends a newer receipt
            log.info("read receipt in %s not sent: %s", room_id, exc or type(exc).__name__)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- reachability, logged once per change

    @property
    def reachable(self) -> bool | None:
        """False since a sync failed to reach the homeserver, True since one did, None before any."""
        return self._reachable

    async def _unreachable(self, reason: str, backoff: float) -> float:
        if self._reachable is not False:
            log.warning("homeserver %s unreachable (%s): waiting and retrying", self.client.homeserver, reason)
            self._reachable = False
        await asyncio.sleep(backoff)
        return min(backoff * 2, self.timing.max_backoff)

    def _reachable_again(self) -> float:
        if self._reachable is False:
            log.info("homeserver %s reachable again: resuming", self.client.homeserver)
        self._reachable = True
        return self.timing.first_backoff


def _message_time(event) -> float | None:
    """When a message was sent (seconds), for the flood guard; None for state and other events."""
    return event.server_timestamp / 1000 if isinstance(event, (RoomMessage, MegolmEvent, ReactionEvent)) else None


def _members(room: MatrixRoom | None) -> MediatorsRoom:
    """Joined members of the mediators' room and their names (for `mediators_from_room`, `!transferer`)."""
    if room is None:
        return MediatorsRoom()
    joined = {user: member for user, member in room.users.items() if not getattr(member, "invited", False)}
    return MediatorsRoom(members=frozenset(joined), names={user: room.user_name(user) or user for user in joined})
