"""Messages the bot cannot decrypt yet: ask for the key, retry when keys arrive, then tell the agent.

A megolm key often arrives a moment after the message (the agent's client shares it to the bot's
new device late, or a key is forwarded on request). So an undecryptable event is not an error:
1. the bot asks the sender's devices for the key (m.room_key_request);
2. after every sync it tries again to decrypt what is still pending;
3. if the event is still unreadable after `delay`, the agent gets the French notice
   `matrix.undecryptable` once, and the event stays pending: a late key still gets it answered.

Pending events survive a restart: the sync token moves past the batch that brought them, so the
homeserver will never hand them over again and memory alone would lose them. They are kept in a
small JSON file beside nio's crypto store (they are worth something only with that device's
keys), rewritten atomically (temporary file, fsync, rename) whenever the set changes. An event
pending for longer than `max_age` (`MAX_AGE`, or retention_days when shorter) is dropped, at load
and after every sync: its key is not coming any more, the agent was told, and what the agent
wrote must not outlive the retention the welcome promises.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

from nio import AsyncClient, EncryptionError, Event, LocalProtocolError, MegolmEvent

log = logging.getLogger(__name__)

Notify = Callable[[str, MegolmEvent], Awaitable[None]]
FILE_NAME = "undecryptable.json"
MAX_AGE = 7 * 24 * 3600.0  # seconds


@dataclass(kw_only=True)
class _Pending:
    room_id: str
    event: MegolmEvent
    tell_sender: bool
    added: float
    noticed: bool = False
    timer: asyncio.Task | None = field(default=None)

    def to_json(self) -> dict:
        return {"room_id": self.room_id, "event": self.event.source, "tell_sender": self.tell_sender,
                "added": self.added, "noticed": self.noticed}


class UndecryptableMessages:
    """The events waiting for their key, each with the timer of its notice.

    `path` is the JSON file that keeps them across restarts; by default `undecryptable.json` in
    the client's store folder, or memory only for a client without one.
    """

    def __init__(self, client: AsyncClient, *, delay: float, notify: Notify, path: Path | None = None,
                 max_age: float = MAX_AGE):
        self.client = client
        self.delay = delay
        self.max_age = min(max_age, MAX_AGE)
        self.notify = notify
        self.path = path if path is not None else _default_path(client)
        self._pending: dict[str, _Pending] = {}
        self._load()

    def __len__(self) -> int:
        return len(self._pending)

    async def add(self, room_id: str, event: MegolmEvent, *, tell_sender: bool) -> None:
        """Record an event nio could not decrypt and ask its sender's devices for the key."""
        if event.event_id in self._pending:
            return
        log.warning("cannot decrypt %s from %s in %s (session %s): asking for the key",
                    event.event_id, event.sender, room_id, event.session_id)
        event.room_id = room_id
        pending = _Pending(room_id=room_id, event=event, tell_sender=tell_sender, added=time.time())
        self._pending[event.event_id] = pending
        self._save()
        self._arm(pending)
        try:
            await self.client.request_room_key(event)
        except LocalProtocolError:
            pass  # already asked for this session

    def retry(self) -> list[tuple[str, Event]]:
        """The pending events that decrypt now, as (room id, decrypted event), oldest first."""
        ready = []
        self._expire(time.time())
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
        if ready:
            self._save()
        return ready

    def _arm(self, pending: _Pending) -> None:
        if pending.tell_sender and not pending.noticed:
            pending.timer = asyncio.get_running_loop().create_task(self._notice_later(pending))

    async def _notice_later(self, pending: _Pending) -> None:
        await asyncio.sleep(self.delay)
        if pending.event.event_id not in self._pending:
            return
        log.warning("still cannot decrypt %s from %s after %.0fs: asking the agent to send it again",
                    pending.event.event_id, pending.event.sender, self.delay)
        await self.notify(pending.room_id, pending.event)
        pending.noticed = True  # after a restart, the notice is not said twice
        self._save()

    def _expire(self, now: float) -> None:
        old = [event_id for event_id, pending in self._pending.items() if now - pending.added >= self.max_age]
        for event_id in old:
            pending = self._pending.pop(event_id)
            if pending.timer:
                pending.timer.cancel()
            log.info("forgot %s: still undecryptable after %.0f days", event_id, self.max_age / 86400)
        if old:
            self._save()

    def close(self) -> None:
        for pending in self._pending.values():
            if pending.timer:
                pending.timer.cancel()

    # --- the file that carries them over a restart

    def _load(self) -> None:
        """Pending events of the previous run; a missing or unreadable file means none (logged)."""
        if self.path is None or not self.path.exists():
            return
        try:
            entries = json.loads(self.path.read_text())["pending"]
            restored = [_from_json(entry) for entry in entries]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("%s is unreadable (%s): messages waiting for their key are forgotten", self.path, exc)
            return
        now = time.time()
        for pending in restored:
            if pending is not None and now - pending.added < self.max_age:
                self._pending[pending.event.event_id] = pending
                self._arm(pending)
        if self._pending:
            log.info("%d message(s) still waiting for their key since the last run", len(self._pending))

    def _save(self) -> None:
        if self.path is None:
            return
        data = json.dumps({"pending": [p.to_json() for p in self._pending.values()]}, ensure_ascii=False)
        try:
            write_atomically(self.path, data)
        except OSError as exc:
            log.error("could not save %s (%s): a restart would forget messages waiting for their key",
                      self.path, exc)


def _default_path(client: AsyncClient) -> Path | None:
    store = getattr(client, "store_path", None)
    return Path(store) / FILE_NAME if store else None


def _from_json(entry: dict) -> _Pending | None:
    event = MegolmEvent.from_dict(entry["event"])
    if not isinstance(event, MegolmEvent):
        return None
    event.room_id = entry["room_id"]
    return _Pending(room_id=entry["room_id"], event=event, tell_sender=bool(entry["tell_sender"]),
                    added=float(entry["added"]), noticed=bool(entry["noticed"]))


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
