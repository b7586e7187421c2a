"""A person on a real matrix-nio client (an agent or a mediator), for the demo, the benchmark and
the tests: opens the encrypted DM with the bot, talks, reacts, edits, and queues what the bot says.
It also notes what the other side shows without saying it: who was seen typing in which room, and
the read receipts (m.read) its sync brings, so tests can check the bot's presence of mind.

Not used by the bot itself: the bot is bot.matrix.bot; this is its counterpart on the other side.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from nio import (AsyncClient, AsyncClientConfig, LoginResponse, MatrixRoom, ReceiptEvent, RoomCreateResponse,
                 RoomMessageNotice, RoomSendResponse, TypingNoticeEvent)

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


@dataclass(kw_only=True)
class Person:
    client: AsyncClient
    notices: asyncio.Queue = field(default_factory=asyncio.Queue)
    task: asyncio.Task | None = None
    seen_typing: list[tuple[str, str]] = field(default_factory=list)  # (room, user), each time seen
    read: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (room, user) -> event ids read

    @classmethod
    async def login(cls, homeserver: str, user_id: str, password: str, store_dir: Path,
                    device_name: str = "phone", **kwargs) -> "Person":
        """Log in as a new device with its own crypto store, and start syncing."""
        store_dir.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(homeserver, user_id, store_path=str(store_dir),
                             config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False,
                                                      max_timeout_retry_wait_time=1.0))  # back within 1 s, like a phone
        response = await client.login(password, device_name=device_name)
        if not isinstance(response, LoginResponse):
            await client.close()
            raise RuntimeError(f"login of {user_id} refused: {response}")
        if client.should_upload_keys:
            await client.keys_upload()
        person = cls(client=client, **kwargs)
        client.add_event_callback(person._on_notice, RoomMessageNotice)
        client.add_ephemeral_callback(person._on_ephemeral, (ReceiptEvent, TypingNoticeEvent))
        person.task = asyncio.create_task(client.sync_forever(timeout=1000))
        return person

    @property
    def user_id(self) -> str:
        return self.client.user_id

    async def _on_notice(self, room: MatrixRoom, event: RoomMessageNotice) -> None:
        if event.sender != self.user_id:
            await self.notices.put((room.room_id, event))

    async def _on_ephemeral(self, room: MatrixRoom, event: ReceiptEvent | TypingNoticeEvent) -> None:
        if isinstance(event, TypingNoticeEvent):
            self.seen_typing += [(room.room_id, user) for user in event.users]
            return
        for receipt in event.receipts:
            if receipt.receipt_type == "m.read":
                self.read.setdefault((room.room_id, receipt.user_id), set()).add(receipt.event_id)

    def has_read(self, room_id: str, user: str, event_id: str) -> bool:
        """Whether `user` sent a read receipt for `event_id` (or nio's room shows it as their last read)."""
        room = self.client.rooms.get(room_id)
        last = room.read_receipts.get(user) if room else None
        return event_id in self.read.get((room_id, user), ()) or (last is not None and last.event_id == event_id)

    async def create_room(self, invite: str, *, direct: bool = True, wait: bool = True, timeout: float = 20) -> str:
        """An encrypted room with `invite` (once they have joined it, unless `wait` is False)."""
        response = await self.client.room_create(is_direct=direct, invite=[invite], initial_state=[ENCRYPTION])
        if not isinstance(response, RoomCreateResponse):
            raise RuntimeError(f"room creation refused: {response}")
        if wait:
            await self.wait_for(lambda: self.has_joined(response.room_id, invite), timeout)
        return response.room_id

    def has_joined(self, room_id: str, user: str) -> bool:
        room = self.client.rooms.get(room_id)
        return bool(room and user in room.users and not room.users[user].invited)

    async def wait_for(self, condition, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)

    async def send(self, room_id: str, content: dict, event_type: str = "m.room.message") -> str:
        response = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"send refused: {response}")
        return response.event_id

    async def say(self, room_id: str, text: str) -> str:
        return await self.send(room_id, {"msgtype": "m.text", "body": text})

    async def next_notice(self, timeout: float = 15) -> RoomMessageNotice:
        return (await asyncio.wait_for(self.notices.get(), timeout))[1]

    async def notices_until_quiet(self, *, first: float = 15, quiet: float = 0.7) -> list[tuple[str, RoomMessageNotice]]:
        """Everything the bot says after a message: wait for the first notice, then for a silence."""
        said = [await asyncio.wait_for(self.notices.get(), first)]
        while True:
            try:
                said.append(await asyncio.wait_for(self.notices.get(), quiet))
            except TimeoutError:
                return said

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass
        await self.client.close()
