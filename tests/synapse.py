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
from dataclasses import dataclass
from pathlib import Path

from bot.matrix.person import Person
from bot.messages import FlowEvent, Incoming, RecordFeedback, Reply

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
class Agent(Person):
    """A field agent (bot.matrix.person.Person) with what tests need on top: edits, reactions, raw events."""

    secret: str = ""

    @classmethod
    async def create(cls, homeserver, store_dir: Path, prefix: str = "agent") -> "Agent":
        name = f"{prefix}{next(_names)}"
        user_id, password = homeserver.new_user(name)
        return await cls.login(homeserver.url, user_id, password, store_dir, device_name=f"{name}-phone",
                               secret=password)

    async def open_dm(self, bot_user: str, *, timeout: float = 20) -> str:
        """An encrypted direct room with the bot, once the bot has joined it."""
        room_id = await self.create_room(bot_user, direct=True, timeout=timeout)
        await self.wait_for(lambda: self.client.rooms[room_id].encrypted, timeout)
        return room_id

    def _joined_plain(self, room_id: str, user: str) -> bool:
        return self.has_joined(room_id, user)

    async def edit(self, room_id: str, event_id: str, text: str) -> str:
        new = {"msgtype": "m.text", "body": text}
        return await self.send(room_id, {**new, "body": f"* {text}", "m.new_content": new,
                                         "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}})

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send(room_id, {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                                          "key": key}}, "m.reaction")

    async def no_notice(self, wait: float = 1.0) -> None:
        """Assert that the bot says nothing more within `wait` seconds."""
        try:
            _, extra = await asyncio.wait_for(self.notices.get(), wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message from the bot: {extra.body!r}")

    def raw_event(self, room_id: str, event_id: str) -> dict:
        """The event as the server stores it (to check it really is encrypted)."""
        url = (f"{self.client.homeserver}/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}"
               f"/event/{urllib.parse.quote(event_id)}")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.client.access_token}"})
        return json.load(urllib.request.urlopen(request))

