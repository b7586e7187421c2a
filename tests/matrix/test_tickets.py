"""Tickets on a real Tchap-like Synapse, every room encrypted: an agent's DM, the mediators' room the
bot creates, two mediators. One ticket's whole life (card, race of two !prendre, relays of text and
images both ways, a note, transfer, close and mark, reopen), a restart in the middle, a stranger's
commands refused, and the clock's side (outside hours, reminders, autoclose) with a controlled clock."""
from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from nio import RoomEncryptedImage, UploadResponse
from nio.crypto.attachments import decrypt_attachment

from bot.config import load_config
from bot.desk.hours import next_opening, paris
from bot.matrix import start
from bot.matrix.mediators_room import META_KEY
from bot.matrix.runner import load_engine
from bot.desk.tickets import Status

from ..conftest import FAST
from ..synapse import Agent

ROOT = Path(__file__).parents[2]
ALWAYS_OPEN = {"days": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
               "start": "00:00", "end": "23:59", "public_holidays": False}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0"
                    "f01f0005000201a5f0d9f50000000049454e44ae426082")


@pytest.fixture(scope="module")
def engine():
    return load_engine(load_config(ROOT / "config.example.yaml"))  # the real FAQ: "médiateur" opens a ticket


@dataclass(kw_only=True)
class Member(Agent):
    """A person who also receives images, and joins the rooms they are invited to."""

    images: asyncio.Queue = field(default_factory=asyncio.Queue)

    @classmethod
    async def named(cls, homeserver, folder: Path, prefix: str, name: str) -> "Member":
        member = await cls.create(homeserver, folder / prefix, prefix)
        await member.client.set_displayname(name)
        member.client.add_event_callback(member._on_image, RoomEncryptedImage)
        return member

    async def _on_image(self, room, event) -> None:
        if event.sender != self.user_id:
            await self.images.put(event)

    async def join_invited(self, room_id: str) -> None:
        await self.wait_for(lambda: room_id in self.client.invited_rooms)
        await self.client.join(room_id)
        await self.wait_for(lambda: self.has_joined(room_id, self.user_id))

    async def reply(self, room_id: str, event_id: str, text: str) -> str:
        return await self.send(room_id, {"msgtype": "m.text", "body": text,
                                         "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}})

    async def send_image(self, room_id: str, data: bytes, *, reply_to: str | None = None) -> str:
        uploaded, keys = await self.client.upload(io.BytesIO(data), content_type="image/png", filename="photo.png",
                                                  encrypt=True, filesize=len(data))
        assert isinstance(uploaded, UploadResponse), uploaded
        content = {"msgtype": "m.image", "body": "photo.png", "info": {"mimetype": "image/png", "size": len(data)},
                   "file": {**keys, "url": uploaded.content_uri}}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.send(room_id, content)

    async def image_bytes(self, event) -> bytes:
        response = await self.client.download(mxc=event.url)
        return decrypt_attachment(response.body, event.key["k"], event.hashes["sha256"], event.iv)

    async def notice(self, starts: str, timeout: float = 15):
        """The next notice, which must start with `starts`."""
        event = await self.next_notice(timeout)
        assert event.body.startswith(starts), f"{self.user_id} got {event.body!r}, expected {starts!r}…"
        return event


async def _start(homeserver, folder: Path, engine, mediators, **overrides):
    config = homeserver.bot_config(folder, mediators=[m.user_id for m in mediators], **overrides)
    return config, await start(config, engine=engine, timing=replace(FAST, **overrides.pop("timing", {})))


async def test_one_ticket_from_the_agents_dm_to_the_mediators_room_and_back(homeserver, tmp_path, engine):
    marie = await Member.named(homeserver, tmp_path, "marie", "Marie Curie [DINUM]")
    paul = await Member.named(homeserver, tmp_path, "paul", "Paul Durand [Mairie]")
    agent = await Member.named(homeserver, tmp_path, "jean", "Jean Martin [Mairie de Lyon]")
    eve = await Member.named(homeserver, tmp_path, "eve", "Eve")
    config = homeserver.bot_config(tmp_path / "bot", mediators=[marie.user_id, paul.user_id],
                                   working_hours=ALWAYS_OPEN)
    bot = await start(config, engine=engine, timing=FAST)
    try:
        room = await bot.store.get_meta(META_KEY)
        await asyncio.gather(marie.join_invited(room), paul.join_invited(room))
        state = marie.client.rooms[room]
        assert state.encrypted and state.power_levels.get_user_level(marie.user_id) == 50
        invite = [e for e in (await marie.client.room_get_state(room)).events if e["type"] == "m.room.member"
                  and e["state_key"] == marie.user_id][0]
        assert not invite["content"].get("is_direct")

        # the agent asks for a person: told when, and the card reaches both mediators
        dm = await agent.open_dm(bot.user_id)
        await agent.say(dm, "je veux parler à un médiateur")
        await agent.notice("Bonjour, je suis l'assistant")
        await agent.notice("Je préviens un médiateur")
        await agent.notice("Votre demande porte le n° 1. Un médiateur vous répondra dès maintenant")
        card = await marie.notice(f"#1 · Jean Martin ({agent.user_id}) · ")
        assert "Agent : je veux parler à un médiateur" in card.body
        assert marie.raw_event(room, card.event_id)["type"] == "m.room.encrypted"
        await paul.notice("#1 · Jean Martin")

        # two !prendre at once: one owner, the other told
        await asyncio.gather(marie.reply(room, card.event_id, "!prendre"), paul.say(room, "!prendre 1"))
        said = sorted([(await marie.next_notice()).body, (await marie.next_notice()).body])
        owner = "Marie Curie" if said[0] == "#1 pris par Marie Curie." else "Paul Durand"
        assert said == sorted([f"#1 pris par {owner}.", f"Le ticket #1 est déjà pris par {owner}."])
        await agent.notice(f"{owner} s'occupe de votre demande n° 1.")
        taker = marie if owner == "Marie Curie" else paul

        # the agent writes while the bot is down: relayed once after the restart, as a reply to the card
        await bot.stop()
        await agent.say(dm, "mon badge ne marche plus depuis lundi")
        bot = await start(config, engine=engine, timing=FAST)
        relayed = await marie.notice("#1 · **Jean Martin** : mon badge ne marche plus depuis lundi")
        assert relayed.source["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": card.event_id}}

        # a plain rich reply to any message of the ticket goes to the agent, signed without [Organisation]
        await taker.reply(room, relayed.event_id, "Pouvez-vous m'envoyer une photo du badge ?")
        await agent.notice(f"**{owner}** : Pouvez-vous m'envoyer une photo du badge ?")

        # images both ways, re-uploaded and encrypted for the room they go to
        await agent.send_image(dm, PNG)
        image = await asyncio.wait_for(marie.images.get(), 15)
        assert image.body == "#1 · **Jean Martin** : photo.png" and await marie.image_bytes(image) == PNG
        await taker.send_image(room, PNG[::-1], reply_to=card.event_id)
        back = await asyncio.wait_for(agent.images.get(), 15)
        assert back.body == f"**{owner}** : photo.png" and await agent.image_bytes(back) == PNG[::-1]

        # a note never reaches the agent; a stranger's command is refused
        await taker.say(room, "!note 1 badge à refaire, voir l'accueil")
        await marie.notice("Note ajoutée au ticket #1")
        await marie.client.room_invite(room, eve.user_id)  # power level 50 lets a mediator invite
        await eve.join_invited(room)
        await eve.say(room, "!prendre 1")
        await marie.notice("Désolé, seuls les médiateurs peuvent utiliser les commandes du bot.")

        # transfer, close and the mark, reopen
        other = paul if taker is marie else marie
        await taker.say(room, f"!transferer 1 {other.user_id}")
        other_name = "Paul Durand" if other is paul else "Marie Curie"
        await marie.notice(f"#1 transféré à {other_name} par {owner}.")
        await agent.notice(f"{other_name} reprend votre demande n° 1.")
        await other.reply(room, card.event_id, "!clore")
        await marie.notice(f"#1 clos par {other_name}.")
        await agent.notice("Votre demande n° 1 est close. Comment jugez-vous l'aide reçue ?")
        await agent.say(dm, "4")
        await agent.notice("Merci pour votre note (4/5) !")
        await marie.notice("#1 : l'agent a donné la note 4/5.")
        await paul.say(room, "!rouvrir 1")
        await marie.notice("#1 rouvert par Paul Durand.")
        await agent.notice("Paul Durand a rouvert votre demande n° 1.")
        await agent.no_notice(0.5)  # nothing doubled, and the note never came

        [ticket] = await bot.store.tickets()
        assert (ticket.status, ticket.mark, ticket.assignee) == (Status.OPEN, None, None)  # the mark 4 is in the audit
        history = await bot.store.ticket_history(1)
        assert [h.text for h in history if h.kind == "audit"] == ["open", "take", f"assign {other.user_id}",
                                                                    "close", "mark 4", "reopen"]
        assert [h.kind for h in history if h.kind in ("agent", "mediator", "note")] == [
            "agent", "mediator", "agent", "mediator", "note"]
    finally:
        await bot.stop()
        for person in (marie, paul, agent, eve):
            await person.close()


async def test_outside_hours_the_agent_is_told_when_and_the_clock_reminds_then_closes(homeserver, tmp_path, engine):
    marie = await Member.named(homeserver, tmp_path, "marie", "Marie")
    paul = await Member.named(homeserver, tmp_path, "paul", "Paul")
    agent = await Member.named(homeserver, tmp_path, "jean", "Jean")
    today = datetime.now(timezone.utc)
    tomorrow = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"][(paris(today).weekday() + 1) % 7]
    hours = {"days": [tomorrow], "start": "08:30", "end": "17:30", "public_holidays": False}
    config = homeserver.bot_config(tmp_path / "bot", mediators=[marie.user_id, paul.user_id], working_hours=hours)
    bot = await start(config, engine=engine, timing=replace(FAST, tick_every=0.2))
    clock = [today]
    bot.bot.clock = lambda: clock[0]
    try:
        room = await bot.store.get_meta(META_KEY)
        await marie.join_invited(room)
        dm = await agent.open_dm(bot.user_id)
        await agent.say(dm, "je veux parler à un médiateur")
        await agent.notice("Bonjour, je suis l'assistant")
        await agent.notice("Je préviens un médiateur")
        told = await agent.notice("Votre demande porte le n° 1.")
        assert "Un médiateur vous répondra demain à 8 h 30" in told.body
        await marie.notice("#1 · Jean")
        await paul.join_invited(room)  # late: the card may be unreadable to him, so the open tickets are listed
        while not (await paul.next_notice()).body.startswith("Bienvenue Paul !"):
            pass  # the card, when his client could decrypt it
        await marie.notice("Bienvenue Paul !")

        opening = next_opening(today, config.working_hours)
        clock[0] = opening + timedelta(minutes=10)  # the night does not count: 10 working minutes only
        await marie.no_notice(0.8)
        clock[0] = opening + timedelta(minutes=31)
        await marie.notice("Rappel : #1 attend un médiateur depuis 31 min")
        clock[0] = opening + timedelta(minutes=61)
        await marie.no_notice(0.8)  # not again before reminder_every_minutes
        clock[0] = opening + timedelta(minutes=92)
        await marie.notice("Rappel : #1")
        clock[0] = today + timedelta(days=15)
        await agent.notice("Votre demande n° 1 est close : elle était sans nouvelles depuis 14 jours.")
        await marie.notice("#1 clos automatiquement après 14 jours sans activité.")
        assert (await bot.store.tickets())[0].status is Status.CLOSED
    finally:
        await bot.stop()
        for person in (marie, paul, agent):
            await person.close()
