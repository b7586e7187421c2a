"""One turn of the helpdesk, the same for every driver (Matrix, console, demo, benchmark).

    incoming ──► store.load_state(agent) ──► engine.handle(state, incoming) ──► store.commit_turn
                                                                                    │
                                              sender.send(item) for each pending ◄──┘ outbox item

With a desk (bot/desk/desk.py), an agent's turn goes through it: a message belonging to an open ticket
is relayed to the mediators instead of reaching the engine, and an OpenTicket the engine returns
becomes a stored ticket. Messages of the mediators' room and the clock's ticks go to the desk only.
Every desk turn is read, decided and written in one store transaction (`Store.desk_turn`).

The engine is pure and the sender is the only part that talks to the outside world, so a crash
between `commit_turn` and `send` only delays an answer: the next `drain` sends it again with the
same transaction id. Turns of one agent are serialised (its state is read, then rewritten);
different agents do not wait for each other.

No event can stop the line. The contract the drivers rely on (bot/matrix/bot.py, the console):
- `turn(incoming)` and `mediator_turn(incoming, room)` raise only `bot.errors.StoreUnavailable`
  (or CancelledError). Any other error while deciding or storing one event (a bug met by odd
  text, a value SQLite refuses) is that event's fault: the event is recorded as handled-with-error
  (`failed_events` table: event id, agent, room, time, its cleaned text, the error's type), the
  sender gets ONE short notice (`helpdesk.event_failed`, which names « médiateur »), the log has
  the event id and the traceback, `failed_events` (the counter) goes up, and the call returns True.
- `StoreUnavailable` means the store itself failed (disk full, database locked, closed): nothing
  was stored, the event is not at fault; the driver retries the batch with a backoff and must not
  move past it (nor save its sync token).
- `await record_failure(*, event_id, agent, room, text, error, time=None, in_mediators_room=False)`
  does the same recording for an event that failed before it became an `Incoming` (conversion in
  the Matrix layer); it returns False when the event was already handled. It raises only
  `StoreUnavailable`.
- `mediator_joined` follows the same rule (no notice: a member event has no text). In `drain`, a
  sender's failure keeps the item for the next drain, and a store failure is `StoreUnavailable`.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, timezone
from typing import Awaitable, Callable, Protocol

from . import metrics
from .conversation.language import detect
from .desk.desk import Desk
from .desk.room import MediatorsRoom
from .desk.ledger import Decision
from .errors import StoreUnavailable
from .messages import Action, Incoming, Reply, ToMediators
from .safetext import safe_text
from .storage.store import OutboxItem, Store, unavailable
from .texts import say, speaking
from .verbatim import verbatim

log = logging.getLogger(__name__)


class Engine(Protocol):
    """The conversation core (bot/conversation/engine.py): pure, no I/O."""

    def handle(self, state: dict | None, incoming: Incoming) -> tuple[dict, list[Action]]: ...


class Sender(Protocol):
    """Carries out one outbox item and returns the id of the event it sent (None if it sent nothing).

    It must use `item.txn_id` for any Matrix send, so sending an item twice shows it once. It handles
    permanent refusals itself (logs them and returns None); raising means "try again later".
    """

    async def send(self, item: OutboxItem) -> str | None: ...


class Helpdesk:
    """Ties the pure engine, the store and a sender together."""

    def __init__(self, *, engine: Engine, store: Store, sender: Sender, desk: Desk | None = None,
                 understand: Callable[[Incoming, Engine], Awaitable[Incoming]] | None = None):
        self.engine = engine
        self.understand = understand  # e.g. EncoderService.understand: adds the text's vector, off the loop
        self.store = store
        self.sender = sender
        self.desk = desk
        self._agent_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._drain_lock = asyncio.Lock()
        self.failed_events = 0  # events recorded as handled-with-error since the start (for metrics)

    async def turn(self, incoming: Incoming) -> bool:
        """Decide and store the answer to one message; False when it was already handled.

        Raises only StoreUnavailable: see the module's docstring."""
        if self.understand is not None:
            incoming = await self.understand(incoming, self.engine)
        async with self._agent_locks[incoming.sender]:
            return await self._isolated(incoming, self._agent_turn(incoming), in_mediators_room=False)

    async def _agent_turn(self, incoming: Incoming) -> bool:
        if await self.store.is_handled(incoming.event_id):
            return False
        if self.desk is not None:
            desk = self.desk
            decision = await self.store.desk_turn(
                event_id=incoming.event_id, agent=incoming.sender, with_state=True,
                decide=lambda ledger: desk.agent_turn(ledger, incoming, self.engine.handle))
            return self._decided(decision)
        state = await self.store.load_state(incoming.sender)
        new_state, actions = self.engine.handle(state, incoming)
        return await self.store.commit_turn(
            event_id=incoming.event_id, agent=incoming.sender, new_state=new_state, actions=actions)

    async def mediator_turn(self, incoming: Incoming, room: MediatorsRoom = MediatorsRoom()) -> bool:
        """A message of the mediators' room: a command, a reply for an agent, or chat (ignored).

        Raises only StoreUnavailable: see the module's docstring."""
        if self.desk is None:
            return False
        return await self._isolated(incoming, self._mediator_turn(self.desk, incoming, room), in_mediators_room=True)

    async def _mediator_turn(self, desk: Desk, incoming: Incoming, room: MediatorsRoom) -> bool:
        if await self.store.is_handled(incoming.event_id):
            return False
        decision = await self.store.desk_turn(
            event_id=incoming.event_id, agent=incoming.sender, reply_to=incoming.reply_to,
            history_of=Desk.history_wanted(incoming.text), with_activity=Desk.stats_wanted(incoming.text),
            search=Desk.search_wanted(incoming.text), with_decisions=Desk.gaps_wanted(incoming.text),
            decide=lambda ledger: desk.mediator_turn(ledger, incoming, room))
        return self._decided(decision)

    async def mediator_joined(self, *, event_id: str, user: str, name: str | None, now: datetime) -> bool:
        """Someone joined the mediators' room: a mediator gets the open tickets they cannot read."""
        if self.desk is None:
            return False
        desk = self.desk
        name = safe_text(name) if name is not None else None
        try:
            decision = await self.store.desk_turn(event_id=event_id, agent=user,
                                                  decide=lambda ledger: desk.mediator_joined(ledger, user, name, now))
        except Exception as error:
            self._raise_if_store_failed(error)
            self.failed_events += 1
            log.error("member event %s (%s joined) could not be handled; skipped", event_id, user, exc_info=error)
            return await self._store(self.store.mark_handled(safe_text(event_id), safe_text(user)))
        return self._decided(decision)

    # --- one event's failure stays that event's

    async def _isolated(self, incoming: Incoming, turn: Awaitable[bool], *, in_mediators_room: bool) -> bool:
        """Run one turn; an error it meets, unless the store's own, is recorded against the event."""
        try:
            return await turn
        except Exception as error:
            self._raise_if_store_failed(error)
            await self.record_failure(event_id=incoming.event_id, agent=incoming.sender, room=incoming.room,
                                      text=incoming.text, error=error, time=incoming.time,
                                      in_mediators_room=in_mediators_room)
            return True

    async def record_failure(self, *, event_id: str, agent: str, room: str, text: str, error: BaseException | str,
                             time: datetime | None = None, in_mediators_room: bool = False) -> bool:
        """Record an event that could not be handled, keep its text, tell its sender once.

        For the Matrix layer too, when an event fails before it becomes an `Incoming`. False when the
        event was already handled. Raises only StoreUnavailable."""
        event_id, agent, room, text = (safe_text(v) for v in (event_id, agent, room, text))
        kind = error if isinstance(error, str) else type(error).__name__
        log.error("event %s from %s in %s could not be handled (%s): kept as failed, sender told", event_id, agent,
                  room, safe_text(kind), exc_info=error if isinstance(error, BaseException) else None)
        with speaking("fr" if in_mediators_room else detect(text) or "fr"):  # an English writer reads English
            notice = Reply(room=room, reply_to=event_id,
                           text=say("helpdesk.event_failed_room" if in_mediators_room else "helpdesk.event_failed"))
        # the notice promises the message is kept for the team: the mediators see it, as typed
        shown = [] if in_mediators_room else [ToMediators(text=say(
            "helpdesk.event_failed_mediators", agent=agent, error=safe_text(kind), text=verbatim(text or "…")))]
        recorded = await self._store(self.store.record_failure(
            event_id=event_id, agent=agent, room=room, time=time or datetime.now(timezone.utc), text=text,
            error=safe_text(kind), actions=[notice, *shown]))
        if recorded:
            self.failed_events += 1
        return recorded

    async def _store(self, call: Awaitable[bool]) -> bool:
        """A store call that must not fail: StoreUnavailable, or a logged False if it does anyway."""
        try:
            return await call
        except Exception as error:
            self._raise_if_store_failed(error)
            log.critical("recording a failed event failed too; it will be tried again", exc_info=error)
            return False

    @staticmethod
    def _raise_if_store_failed(error: BaseException) -> None:
        if unavailable(error):
            raise StoreUnavailable(f"the store failed: {type(error).__name__}: {error}") from error

    async def tick(self, now: datetime) -> bool:
        """The clock's turn (autoclose, reminders); True when it decided something to send."""
        if self.desk is None:
            return False
        desk = self.desk
        decision = await self.store.desk_turn(decide=lambda ledger: desk.tick(ledger, now))
        return self._decided(decision) and bool(decision and decision.actions)

    @staticmethod
    def _decided(decision: Decision | None) -> bool:
        if decision is None:
            return False
        for warning in decision.warnings:
            log.warning("%s", warning)
        return True

    async def handle(self, incoming: Incoming) -> list[tuple[OutboxItem, str | None]]:
        """A turn followed by a drain: what a driver calls for each message."""
        await self.turn(incoming)
        return await self.drain()

    async def drain(self) -> list[tuple[OutboxItem, str | None]]:
        """Send every pending item in order; stop at the first failure so order is kept.

        Returns what was sent now, with the id of the event each item produced.
        """
        try:
            return await self._drain()
        except Exception as error:
            self._raise_if_store_failed(error)
            raise

    async def _drain(self) -> list[tuple[OutboxItem, str | None]]:
        done: list[tuple[OutboxItem, str | None]] = []
        answered: set[str] = set()
        async with self._drain_lock:
            for item in await self.store.pending_outbox():
                try:
                    sent = await self.sender.send(item)
                except Exception:  # the sender already retried; keep the item for the next drain
                    log.exception("sending %s (txn %s) failed; it stays in the outbox", type(item.action).__name__,
                                  item.txn_id)
                    break
                await self.store.mark_sent(item, sent)
                metrics.sent(type(item.action).__name__, item.event_id, answered)
                done.append((item, sent))
        return done
