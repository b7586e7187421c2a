"""`!cherche` on a real Tchap-like Synapse: an agent's ticket, then a mediator searching the encrypted
mediators' room by a word of the agent's message, by the agent's name, and for nothing."""
from __future__ import annotations

from bot.matrix import start
from bot.matrix.mediators_room import META_KEY

from ..conftest import FAST
from ..matrix.test_tickets import ALWAYS_OPEN, Member, engine  # noqa: F401  (engine is a fixture)


async def test_a_mediator_finds_a_ticket_by_a_word_of_its_messages_or_its_agent(homeserver, tmp_path, engine):
    marie = await Member.named(homeserver, tmp_path, "marie", "Marie")
    agent = await Member.named(homeserver, tmp_path, "jean", "Jean Valjean [Mairie]")
    config = homeserver.bot_config(tmp_path / "bot", mediators=[marie.user_id], working_hours=ALWAYS_OPEN)
    bot = await start(config, engine=engine, timing=FAST)
    try:
        room = await bot.store.get_meta(META_KEY)
        await marie.join_invited(room)
        dm = await agent.open_dm(bot.user_id)
        await agent.say(dm, "je veux parler à un médiateur")
        await agent.notice("Bonjour, je suis l'assistant")
        await agent.notice("Je préviens un médiateur")
        await agent.notice("Votre demande porte le n° 1.")
        await marie.notice("#1 · Jean Valjean")
        await agent.say(dm, "la pointeuse du garage municipal refuse mon badge")
        await marie.notice("#1 · **Jean Valjean** : la pointeuse du garage")

        await marie.say(room, "!cherche garage pointeuse")
        found = await marie.notice("Tickets contenant « garage pointeuse »")
        assert found.body.splitlines()[1].startswith("- #1 · ") and "Jean Valjean" in found.body
        assert "**garage**" in found.body and "**pointeuse**" in found.body
        await marie.say(room, "!chercher valjean")
        assert "- #1 · " in (await marie.notice("Tickets contenant « valjean »")).body
        await marie.say(room, "!cherche tondeuse")
        await marie.notice("Aucun ticket ne contient « tondeuse ».")
        await marie.say(room, "!cherche")
        await marie.notice("Écrivez les mots à chercher après la commande")
    finally:
        await bot.stop()
        for person in (marie, agent):
            await person.close()
