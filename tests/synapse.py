"""Test helpers for the Matrix suite: a real nio agent, and a tiny engine standing in for the core.

Nothing here mocks Matrix: the agent is a real matrix-nio client with its own crypto store,
talking to the session's real Synapse; the bot under test is the real bot.matrix stack.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from nio import (AsyncClient, AsyncClientConfig, LoginResponse, MatrixRoom, RoomCreateResponse, RoomMessageNotice,
                 RoomMessageText, RoomSendResponse)

from bot.messages import FlowEvent, Incoming, RecordFeedback, Reply

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
_names = itertools.count()


class RecordingEngine:
    """Stands in for bot.conversation until it lands: answers every message, remembers what it saw.

    "👍"/"👎" records feedback; "flux" starts a tiny flow; anything else is answered with a count,
    so a duplicate or a lost message shows in the numbers.
    """

    def __init__(self) -> None:
        self.seen: list[Incoming] = []

    def handle(self, state, incoming):
        self.seen.append(incoming)
        count = (state or {}).get("count", 0) + 1
        new_state = {"count": count}
        if incoming.text in ("👍", "👎"):
            return new_state, [RecordFeedback(agent=incoming.sender, topic="faq", helpful=incoming.text == "👍",
                                              time=incoming.time),
                               Reply(room=incoming.room, text="Merci pour votre retour.")]
        if incoming.text == "flux":
            return new_state, [FlowEvent(agent=incoming.sender, flow="absence", event="started"),
                               Reply(room=incoming.room, text="**Étape 1** : votre service ?",
                                     reply_to=incoming.event_id)]
        return new_state, [Reply(room=incoming.room, text=f"Réponse {count} : {incoming.text}",
                                 reply_to=incoming.event_id)]


@dataclass(kw_only=True)
class Agent:
    """A field agent on a real nio client: opens the DM, talks, reacts, edits, reads the bot's notices."""

    client: AsyncClient
    password: str
    notices: asyncio.Queue = field(default_factory=asyncio.Queue)
    task: asyncio.Task | None = None

    @classmethod
    async def create(cls, homeserver, store_dir: Path, prefix: str = "agent") -> "Agent":
        name = f"{prefix}{next(_names)}"
        user_id, password = homeserver.new_user(name)
        store_dir.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(homeserver.url, user_id, store_path=str(store_dir),
                             config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False))
        response = await client.login(password, device_name=f"{name}-phone")
        assert isinstance(response, LoginResponse), response
        if client.should_upload_keys:
            await client.keys_upload()
        agent = cls(client=client, password=password)
        client.add_event_callback(agent._on_notice, RoomMessageNotice)
        agent.task = asyncio.create_task(client.sync_forever(timeout=1000))
        return agent

    @property
    def user_id(self) -> str:
        return self.client.user_id

    async def _on_notice(self, room: MatrixRoom, event: RoomMessageNotice) -> None:
        if event.sender != self.user_id:
            await self.notices.put(event)

    async def open_dm(self, bot_user: str, *, timeout: float = 20) -> str:
        """An encrypted direct room with the bot, once the bot has joined it."""
        response = await self.client.room_create(is_direct=True, invite=[bot_user], initial_state=[ENCRYPTION])
        assert isinstance(response, RoomCreateResponse), response
        room_id = response.room_id
        await self.wait_for(lambda: self._joined(room_id, bot_user), timeout)
        return room_id

    def _joined(self, room_id: str, user: str) -> bool:
        room = self.client.rooms.get(room_id)
        return bool(room and room.encrypted) and self._joined_plain(room_id, user)

    def _joined_plain(self, room_id: str, user: str) -> bool:
        room = self.client.rooms.get(room_id)
        return bool(room and user in room.users and not room.users[user].invited)

    async def wait_for(self, condition, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)

    async def send(self, room_id: str, content: dict, event_type: str = "m.room.message") -> str:
        response = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def say(self, room_id: str, text: str) -> str:
        return await self.send(room_id, {"msgtype": "m.text", "body": text})

    async def edit(self, room_id: str, event_id: str, text: str) -> str:
        new = {"msgtype": "m.text", "body": text}
        return await self.send(room_id, {**new, "body": f"* {text}", "m.new_content": new,
                                         "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}})

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send(room_id, {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                                          "key": key}}, "m.reaction")

    async def next_notice(self, timeout: float = 15) -> RoomMessageNotice:
        return await asyncio.wait_for(self.notices.get(), timeout)

    async def no_notice(self, wait: float = 1.0) -> None:
        """Assert that the bot says nothing more within `wait` seconds."""
        try:
            extra = await asyncio.wait_for(self.notices.get(), wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message from the bot: {extra.body!r}")

    def raw_event(self, room_id: str, event_id: str) -> dict:
        """The event as the server stores it (to check it really is encrypted)."""
        url = (f"{self.client.homeserver}/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}"
               f"/event/{urllib.parse.quote(event_id)}")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.client.access_token}"})
        return json.load(urllib.request.urlopen(request))

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass
        await self.client.close()


__all__ = ["Agent", "RecordingEngine", "RoomMessageText"]
