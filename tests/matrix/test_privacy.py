"""The line's promises on data, on a real Tchap-like Synapse with encrypted rooms: « effacer mes données »
from an agent's DM with an open ticket redacts the bot's card and relays for the mediators (and the
bot's answers in the DM), another agent's ticket untouched; a backup taken while the bot answers,
restored into a fresh data_dir, gives the same device, still decrypting, with its open tickets."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from nio import RedactedEvent, RoomMessagesResponse

from bot.matrix import start
from bot.matrix.mediators_room import META_KEY
from bot.storage.backup import backup, restore

from ..conftest import FAST
from ..matrix.test_tickets import ALWAYS_OPEN, Member, engine  # noqa: F401  (engine is a fixture)

MARKER = "zorglubette"


async def _events(person: Member, room: str) -> dict:
    """The room's last events as this person's client gets them from the server (newest first)."""
    response = await person.client.room_messages(room, limit=100)
    assert isinstance(response, RoomMessagesResponse), response
    return {event.event_id: event for event in response.chunk}


async def _until_redacted(person: Member, room: str, wanted: set[str], timeout: float = 20) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            events = await _events(person, room)
            if all(isinstance(events.get(e), RedactedEvent) for e in wanted):
                return events
            await asyncio.sleep(0.3)


async def _ticket(agent: Member, dm: str, number: int) -> None:
    await agent.say(dm, "je veux parler à un médiateur")
    await agent.notice("Bonjour, je suis l'assistant")
    await agent.notice("Je préviens un médiateur")
    await agent.notice(f"Votre demande porte le n° {number}.")


async def _notice(person: Member, starts: str, timeout: float = 15):
    """The next notice starting with `starts`, skipping others (a restored bot may say some twice)."""
    async with asyncio.timeout(timeout):
        while not (event := await person.next_notice(timeout)).body.startswith(starts):
            pass
    return event


async def test_effacer_mes_donnees_redacts_the_card_and_relays_for_the_mediators(homeserver, tmp_path, engine):  # noqa: F811
    marie = await Member.named(homeserver, tmp_path, "marie", "Marie")
    jean = await Member.named(homeserver, tmp_path, "jean", "Jean")
    anne = await Member.named(homeserver, tmp_path, "anne", "Anne")
    config = homeserver.bot_config(tmp_path / "bot", mediators=[marie.user_id], working_hours=ALWAYS_OPEN)
    bot = await start(config, engine=engine, timing=FAST)
    try:
        room = await bot.store.get_meta(META_KEY)
        await marie.join_invited(room)
        dm = await jean.open_dm(bot.user_id)
        await _ticket(jean, dm, 1)
        card = await marie.notice(f"#1 · Jean ({jean.user_id})")
        await jean.say(dm, f"mon badge {MARKER} ne marche plus")
        relay = await marie.notice(f"#1 · **Jean** : mon badge {MARKER}")
        other_dm = await anne.open_dm(bot.user_id)
        await _ticket(anne, other_dm, 2)
        other_card = await marie.notice("#2 · Anne")
        answers = [e for e in (await _events(jean, dm)).values() if getattr(e, "sender", None) == bot.user_id
                   and e.source.get("type") in ("m.room.encrypted", "m.room.message")]

        await jean.say(dm, "effacer mes données")  # an open ticket: asked, not relayed
        await jean.notice("Voulez-vous vraiment effacer")
        await jean.say(dm, "oui")
        await jean.notice("C'est fait :")
        await marie.notice("#1 clos : l'agent a demandé l'effacement de ses données.")

        seen = await _until_redacted(marie, room, {card.event_id, relay.event_id})
        assert "redacted_because" in seen[card.event_id].source["unsigned"]
        assert not isinstance(seen[other_card.event_id], RedactedEvent)  # Anne's ticket untouched
        assert answers and await _until_redacted(jean, dm, {e.event_id for e in answers})
        [one, two] = await bot.store.tickets()
        assert one.agent.startswith("anon:") and (two.agent, two.status.value) == (anne.user_id, "open")
        await marie.no_notice(0.5)  # nothing relayed: the agent's words went nowhere
    finally:
        await bot.stop()
        for person in (marie, jean, anne):
            await person.close()
    raw = b"".join(p.read_bytes() for p in config.data_dir.rglob("*") if p.is_file())
    assert MARKER.encode() not in raw


async def test_a_backup_taken_while_answering_restores_the_same_device_and_its_tickets(homeserver, tmp_path, engine):  # noqa: F811
    marie = await Member.named(homeserver, tmp_path, "marie", "Marie")
    jean = await Member.named(homeserver, tmp_path, "jean", "Jean")
    config = homeserver.bot_config(tmp_path / "bot", mediators=[marie.user_id], working_hours=ALWAYS_OPEN)
    bot = await start(config, engine=engine, timing=FAST)
    try:
        room = await bot.store.get_meta(META_KEY)
        await marie.join_invited(room)
        dm = await jean.open_dm(bot.user_id)
        await _ticket(jean, dm, 1)
        await marie.notice("#1 · Jean")
        await jean.say(dm, "mon badge ne marche plus")  # the bot is answering while the backup is taken
        await asyncio.to_thread(backup, config.data_dir, tmp_path / "saved")
        await marie.notice("#1 · **Jean** : mon badge ne marche plus")
        device = bot.client.device_id
    finally:
        await bot.stop()

    fresh = replace(config, data_dir=tmp_path / "fresh")
    restore(tmp_path / "saved", fresh.data_dir)
    bot = await start(fresh, engine=engine, timing=FAST)
    try:
        assert (bot.client.user_id, bot.client.device_id) == (config.user_id, device)  # same device, no new login
        await jean.say(dm, "mes demandes")  # a new encrypted message: read, answered from the restored tickets
        listed = await _notice(jean, "Vos demandes :")
        assert "n° 1" in listed.body and "en attente d'un médiateur" in listed.body
        await jean.say(dm, "c'est toujours en panne")
        await _notice(marie, "#1 · **Jean** : c'est toujours en panne")
    finally:
        await bot.stop()
        for person in (marie, jean):
            await person.close()


async def test_past_retention_the_mediators_see_the_card_and_relays_redacted(homeserver, tmp_path, engine):  # noqa: F811
    marie = await Member.named(homeserver, tmp_path, "marie", "Marie")
    jean = await Member.named(homeserver, tmp_path, "jean", "Jean")
    config = homeserver.bot_config(tmp_path / "bot", mediators=[marie.user_id], working_hours=ALWAYS_OPEN)
    bot = await start(config, engine=engine, timing=replace(FAST, tick_every=0.2))
    try:
        room = await bot.store.get_meta(META_KEY)
        await marie.join_invited(room)
        dm = await jean.open_dm(bot.user_id)
        await _ticket(jean, dm, 1)
        card = await marie.notice("#1 · Jean")
        await jean.say(dm, f"mon badge {MARKER} ne marche plus")
        relay = await marie.notice(f"#1 · **Jean** : mon badge {MARKER}")
        await marie.reply(room, card.event_id, "!clore")
        await marie.notice("#1 clos par Marie.")
        closed = await jean.notice("Votre demande n° 1 est close.")

        later = bot.bot.clock() + timedelta(days=config.retention_days + 1)
        bot.bot.clock = lambda: later  # the hourly purge runs at the next tick
        seen = await _until_redacted(marie, room, {card.event_id, relay.event_id})
        assert "redacted_because" in seen[relay.event_id].source["unsigned"]
        [ticket] = await bot.store.tickets()
        assert ticket.agent.startswith("anon:") and ticket.agent_name is None and ticket.room == ""
        in_dm = await _events(jean, dm)  # the DM is the agent's own conversation: left as it is
        assert closed.event_id in in_dm and not isinstance(in_dm[closed.event_id], RedactedEvent)
    finally:
        await bot.stop()
        for person in (marie, jean):
            await person.close()
    assert MARKER.encode() not in b"".join(p.read_bytes() for p in config.data_dir.rglob("*") if p.is_file())
