"""One turn of the helpdesk, the same for every driver (Matrix, console, demo, benchmark).

    incoming ──► store.load_state(agent) ──► engine.handle(state, incoming) ──► store.commit_turn
                                                                                    │
                                              sender.send(item) for each pending ◄──┘ outbox item

With a desk (bot/desk.py), an agent's turn goes through it: a message belonging to an open ticket
is relayed to the mediators instead of reaching the engine, and an OpenTicket the engine returns
becomes a stored ticket. Messages of the mediators' room and the clock's ticks go to the desk only.
Every desk turn is read, decided and written in one store transaction (`Store.desk_turn`).

The engine is pure and the sender is the only part that talks to the outside world, so a crash
between `commit_turn` and `send` only delays an answer: the next `drain` sends it again with the
same transaction id. Turns of one agent are serialised (its state is read, then rewritten);
different agents do not wait for each other.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Awaitable, Callable, Protocol

from datetime import datetime

from .desk import Desk
from .desk_commands import MediatorsRoom
from .ledger import Decision
from .messages import Action, Incoming
from .store import OutboxItem, Store

log = logging.getLogger(__name__)


class Engine(Protocol):
    """The conversation core (bot/conversation.py): pure, no I/O."""

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

    async def turn(self, incoming: Incoming) -> bool:
        """Decide and store the answer to one message; False when it was already handled."""
        if self.understand is not None:
            incoming = await self.understand(incoming, self.engine)
        async with self._agent_locks[incoming.sender]:
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
        """A message of the mediators' room: a command, a reply for an agent, or chat (ignored)."""
        if self.desk is None or await self.store.is_handled(incoming.event_id):
            return False
        desk = self.desk
        decision = await self.store.desk_turn(
            event_id=incoming.event_id, agent=incoming.sender, reply_to=incoming.reply_to,
            history_of=Desk.history_wanted(incoming.text), with_activity=Desk.stats_wanted(incoming.text),
            decide=lambda ledger: desk.mediator_turn(ledger, incoming, room))
        return self._decided(decision)

    async def mediator_joined(self, *, event_id: str, user: str, name: str | None, now: datetime) -> bool:
        """Someone joined the mediators' room: a mediator gets the open tickets they cannot read."""
        if self.desk is None:
            return False
        desk = self.desk
        decision = await self.store.desk_turn(event_id=event_id, agent=user,
                                              decide=lambda ledger: desk.mediator_joined(ledger, user, name, now))
        return self._decided(decision)

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
        done: list[tuple[OutboxItem, str | None]] = []
        async with self._drain_lock:
            for item in await self.store.pending_outbox():
                try:
                    sent = await self.sender.send(item)
                except Exception:  # the sender already retried; keep the item for the next drain
                    log.exception("sending %s (txn %s) failed; it stays in the outbox", type(item.action).__name__,
                                  item.txn_id)
                    break
                await self.store.mark_sent(item, sent)
                done.append((item, sent))
        return done
