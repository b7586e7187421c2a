"""Fair turns: one queue per sender, each served in order by its own worker; floods go last.

The sync loop hands every event to `Lanes.put(sender, job, when=..., room=...)`. One sender's jobs run one after
the other, in the order they came (an agent's messages are answered in order); different senders'
jobs run side by side, their store transactions interleaving, so one agent's backlog never holds
another agent's reply.

Flood guard: a sender with more than `flood_limit` events within `flood_window` seconds (event
times, so a backlog read after a restart counts as it was written) is told once (`on_flood(sender, room)`), and
while their lane is not empty each of their jobs first waits until no other sender has work, or
`flood_pause` seconds at most (so others that never stop cannot starve them): their messages are
all handled, in order, after the others'.

`put` returns a future resolved once the job has run: the loop saves a batch's sync token only
when all of the batch's futures are done. At most `max_pending` jobs wait: `wait_for_room()` holds
the loop before its next sync beyond that, so memory stays bounded whatever arrives.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from typing import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Lanes:
    def __init__(self, *, on_flood: Callable[[str, str], Awaitable[None]], flood_limit: int = 20,
                 flood_window: float = 30.0, flood_pause: float = 1.0, max_pending: int = 2_000):
        self.on_flood = on_flood
        self.flood_limit, self.flood_window, self.max_pending = flood_limit, flood_window, max_pending
        self.flood_pause = flood_pause
        self._queues: dict[str, deque[tuple[Job, asyncio.Future]]] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._flooding: set[str] = set()
        self._told: dict[str, float] = {}
        self._notices: set[asyncio.Task] = set()
        self._changed = asyncio.Condition()
        self._pending = 0

    def put(self, sender: str, job: Job, *, when: float | None, room: str) -> asyncio.Future:
        """Queue `job` behind `sender`'s earlier ones; `when` is a message's time (seconds; None for
        other events, which the flood guard does not count), `room` its room."""
        future = asyncio.get_running_loop().create_future()
        self._queues.setdefault(sender, deque()).append((job, future))
        self._pending += 1
        if when is not None:
            self._watch_flood(sender, when, room)
        if sender not in self._workers:
            self._workers[sender] = asyncio.create_task(self._serve(sender), name=f"lane {sender}")
        return future

    def _watch_flood(self, sender: str, when: float, room: str) -> None:
        recent = self._recent[sender]
        recent.append(when)
        while recent and recent[0] < when - self.flood_window:
            recent.popleft()
        if len(recent) <= self.flood_limit or sender in self._flooding:
            return
        self._flooding.add(sender)
        told = self._told.get(sender)
        if told is None or when - told > self.flood_window:  # one notice per flood, not one per message
            self._told[sender] = when
            log.warning("%s sent over %d messages in %.0fs: their messages now go after the others'",
                        sender, self.flood_limit, self.flood_window)
            task = asyncio.create_task(self._notice(sender, room))
            self._notices.add(task)
            task.add_done_callback(self._notices.discard)

    async def _notice(self, sender: str, room: str) -> None:
        try:
            await self.on_flood(sender, room)
        except Exception:  # a notice is a courtesy: never a reason to stop
            log.exception("could not tell %s about the flood guard", sender)

    async def wait_for_room(self) -> None:
        """Return once fewer than `max_pending` jobs wait (the loop calls this before each sync)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._pending < self.max_pending)

    def _others_busy(self, sender: str) -> bool:
        return any(queue for other, queue in self._queues.items() if other != sender and other not in self._flooding)

    async def _give_way(self, sender: str) -> None:
        """Wait until no other sender has work, or `flood_pause` at most: the flood still moves on."""
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: not self._others_busy(sender)),
                                       self.flood_pause)
        except TimeoutError:
            pass

    async def _serve(self, sender: str) -> None:
        queue = self._queues[sender]
        try:
            while queue:
                if sender in self._flooding:
                    await self._give_way(sender)
                job, future = queue[0]
                try:
                    await job()
                    future.set_result(None)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # jobs isolate their own failures; this is the last guard
                    log.exception("a job of %s failed", sender)
                    future.set_exception(exc)
                queue.popleft()
                self._pending -= 1
                async with self._changed:
                    self._changed.notify_all()
        finally:  # no await from the empty check to here: a put() meanwhile would be lost
            del self._queues[sender]
            self._workers.pop(sender, None)
            self._flooding.discard(sender)
            for _, future in queue:
                future.cancel()
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        tasks = [*self._workers.values(), *self._notices]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
