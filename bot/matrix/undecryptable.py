"""Messages the bot cannot decrypt yet: ask for the key, retry when keys arrive, then tell the agent.

A megolm key often arrives a moment after the message (the agent's client shares it to the bot's
new device late, or a key is forwarded on request). So an undecryptable event is not an error:
1. the bot asks the sender's devices for the key (m.room_key_request);
2. after every sync it tries again to decrypt what is still pending;
3. if the event is still unreadable after `delay`, the agent gets the French notice
   `matrix.undecryptable` once, and the event stays pending: a late key still gets it answered.
Pending events live in memory only: a restart forgets them (the notice was sent or is due).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from nio import AsyncClient, EncryptionError, Event, LocalProtocolError, MegolmEvent

log = logging.getLogger(__name__)

Notify = Callable[[str, MegolmEvent], Awaitable[None]]


@dataclass(kw_only=True)
class _Pending:
    room_id: str
    event: MegolmEvent
    timer: asyncio.Task | None = field(default=None)


class UndecryptableMessages:
    """The events waiting for their key, each with the timer of its notice."""

    def __init__(self, client: AsyncClient, *, delay: float, notify: Notify):
        self.client = client
        self.delay = delay
        self.notify = notify
        self._pending: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    async def add(self, room_id: str, event: MegolmEvent, *, tell_sender: bool) -> None:
        """Record an event nio could not decrypt and ask its sender's devices for the key."""
        if event.event_id in self._pending:
            return
        log.warning("cannot decrypt %s from %s in %s (session %s): asking for the key",
                    event.event_id, event.sender, room_id, event.session_id)
        pending = _Pending(room_id=room_id, event=event)
        if tell_sender:
            pending.timer = asyncio.create_task(self._notice_later(pending))
        self._pending[event.event_id] = pending
        try:
            await self.client.request_room_key(event)
        except LocalProtocolError:
            pass  # already asked for this session

    def retry(self) -> list[tuple[str, Event]]:
        """The pending events that decrypt now, as (room id, decrypted event), oldest first."""
        ready = []
        for event_id, pending in list(self._pending.items()):
            try:
                decrypted = self.client.decrypt_event(pending.event)
            except EncryptionError:
                continue
            del self._pending[event_id]
            if pending.timer:
                pending.timer.cancel()
            log.info("decrypted %s after its key arrived", event_id)
            ready.append((pending.room_id, decrypted))
        return ready

    async def _notice_later(self, pending: _Pending) -> None:
        await asyncio.sleep(self.delay)
        if pending.event.event_id not in self._pending:
            return
        log.warning("still cannot decrypt %s from %s after %.0fs: asking the agent to send it again",
                    pending.event.event_id, pending.event.sender, self.delay)
        await self.notify(pending.room_id, pending.event)

    def close(self) -> None:
        for pending in self._pending.values():
            if pending.timer:
                pending.timer.cancel()
