"""The outbox drained per room, in the background: a 429 or a slow room holds only that room.

`kick()` (after each sync batch, each tick) wakes one reader that reads the pending items and hands
each to the queue of the room it goes to; one sender task per room sends that room's items in the
order the core decided them, and marks each sent. The sync loop never waits for a send, so it keeps
reading while a room waits out a rate limit. An item that fails (the sender already retried) stops
its room's queue there, keeping the order; the next kick reads it again. Crash-safety is the
store's: an item is pending until marked sent, and resending it reuses its transaction id, which
the homeserver deduplicates.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque

from .. import metrics
from ..helpdesk import Sender
from ..messages import PostFile, Redact, RelayToAgent, Reply
from ..storage.store import OutboxItem, Store

log = logging.getLogger(__name__)

MEDIATORS = "mediators' room"  # cards and relays: the room is only known to the sender


def destination(item: OutboxItem) -> str:
    action = item.action
    # a redaction of a mediators' room copy, like every card and relay, has no room of its own
    return (action.room or MEDIATORS) if isinstance(action, (Reply, RelayToAgent, Redact, PostFile)) else MEDIATORS


class RoomOutbox:
    def __init__(self, store: Store, sender: Sender):
        self.store, self.sender = store, sender
        self._queues: dict[str, deque[OutboxItem]] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._queued: set[int] = set()  # ids read and not yet marked sent, so none is handed over twice
        self._reading = asyncio.Lock()
        self._kicked = asyncio.Event()
        self._reader: asyncio.Task | None = None

    def kick(self) -> None:
        """Something may be waiting to be sent: look (soon, in the background)."""
        self._kicked.set()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="outbox reader")

    async def _read(self) -> None:
        while self._kicked.is_set():
            self._kicked.clear()
            try:
                async with self._reading:
                    items = await self.store.pending_outbox()
                    for item in items:
                        if item.id not in self._queued:
                            self._queued.add(item.id)
                            self._queues.setdefault(destination(item), deque()).append(item)
            except Exception:
                log.exception("could not read the outbox; the next kick tries again")
                return
            for room in list(self._queues):
                if room not in self._tasks:
                    self._tasks[room] = asyncio.create_task(self._drain(room), name=f"outbox {room}")

    async def drained(self, room: str, timeout: float = 30.0) -> None:
        """Until what was pending for `room` has been sent (or has failed, or `timeout` passed): a read
        receipt sent alongside the answer would make the homeserver handle both at once, and the
        answer is what the agent waits for."""
        if self._reader is not None and not self._reader.done():
            await asyncio.wait([self._reader], timeout=timeout)
        task = self._tasks.get(room)
        if task is not None:
            await asyncio.wait([task], timeout=timeout)

    async def _drain(self, room: str) -> None:
        queue = self._queues[room]
        answered: set[str] = set()  # an incoming message with several actions counts once
        try:
            while queue:
                item = queue[0]
                try:
                    sent = await self.sender.send(item)
                    async with self._reading:
                        await self.store.mark_sent(item, sent)
                        self._queued.discard(item.id)
                    metrics.sent(type(item.action).__name__, item.event_id, answered)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the sender already retried; the item waits for the next kick
                    log.exception("sending %s (txn %s) failed; it stays in the outbox", type(item.action).__name__,
                                  item.txn_id)
                    break
                queue.popleft()
        finally:  # no await from the empty check to here: the reader may hand over more meanwhile
            for item in queue:
                self._queued.discard(item.id)
            del self._queues[room]
            self._tasks.pop(room, None)

    async def close(self) -> None:
        tasks = [*self._tasks.values(), *([self._reader] if self._reader else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
