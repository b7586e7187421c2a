"""An agent in an encrypted direct room with the bot, on a real Tchap-like Synapse."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.matrix import start
from bot.storage.store import Store

from ..conftest import FAST
from ..synapse import Agent, RecordingEngine


@pytest.fixture
async def agent(homeserver, tmp_path):
    agent = await Agent.create(homeserver, tmp_path / "agent")
    yield agent
    await agent.close()


@pytest.fixture
async def engine():
    return RecordingEngine()


@pytest.fixture
async def bot(homeserver, tmp_path, engine):
    config = homeserver.bot_config(tmp_path / "bot")
    running = await start(config, engine=engine, timing=FAST)
    yield running
    await running.stop()


async def test_question_gets_an_encrypted_notice_as_rich_reply(agent, bot, engine):
    room = await agent.open_dm(bot.user_id)
    asked = await agent.say(room, "Comment poser un congé ?")
    reply = await agent.next_notice()
    assert reply.body == "Réponse 1 : Comment poser un congé ?"
    assert reply.decrypted
    assert reply.source["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": asked}}
    assert reply.source["content"]["formatted_body"] == "<p>Réponse 1 : Comment poser un congé ?</p>"
    assert agent.raw_event(room, reply.event_id)["type"] == "m.room.encrypted"
    assert [i.text for i in engine.seen] == ["Comment poser un congé ?"]
    assert engine.seen[0].room == room and engine.seen[0].sender == agent.user_id


async def test_a_multi_message_exchange_keeps_order_and_state(agent, bot):
    room = await agent.open_dm(bot.user_id)
    for n, text in enumerate(["bonjour", "flux", "RH", "merci"], start=1):
        await agent.say(room, text)
        reply = await agent.next_notice()
        if text == "flux":
            assert reply.body == "**Étape 1** : votre service ?"
            assert reply.source["content"]["formatted_body"] == "<p><strong>Étape 1</strong> : votre service ?</p>"
        else:
            assert reply.body == f"Réponse {n} : {text}"
    await agent.no_notice(0.5)


async def test_html_typed_by_the_agent_is_escaped_in_the_reply(agent, bot):
    room = await agent.open_dm(bot.user_id)
    await agent.say(room, "<b>gras</b> <script>alert(1)</script>")
    reply = await agent.next_notice()
    html = reply.source["content"]["formatted_body"]
    assert "<script>" not in html and "&lt;script&gt;" in html


async def test_an_edit_reaches_the_engine_with_the_new_text(agent, bot, engine):
    room = await agent.open_dm(bot.user_id)
    first = await agent.say(room, "congé maladi")
    await agent.next_notice()
    await agent.edit(room, first, "congé maladie")
    reply = await agent.next_notice()
    assert reply.body == "Réponse 2 : congé maladie"
    assert [i.text for i in engine.seen] == ["congé maladi", "congé maladie"]


async def test_a_thumbs_down_reaction_reaches_the_engine_and_is_recorded(agent, bot, engine):
    room = await agent.open_dm(bot.user_id)
    await agent.say(room, "horaires")
    answer = await agent.next_notice()
    await agent.react(room, answer.event_id, "👎️")  # with the variation selector Element adds
    assert (await agent.next_notice()).body == "Merci pour votre retour."
    feedback = engine.seen[-1]
    assert (feedback.text, feedback.reply_to) == ("👎", answer.event_id)
    store = await Store.open(bot.store.path.parent)
    try:
        assert [(f.topic, f.helpful) for f in await store.feedback()] == [("faq", False)]
    finally:
        await store.close()


async def test_messages_in_a_group_room_need_a_mention(homeserver, agent, bot, engine):
    response = await agent.client.room_create(invite=[bot.user_id], initial_state=[])
    room = response.room_id
    other, _ = homeserver.new_user("collegue")
    await agent.client.room_invite(room, other)  # a third member: not a direct room
    await agent.wait_for(lambda: agent._joined_plain(room, bot.user_id))
    await agent.say(room, "on parle entre nous")
    await agent.send(room, {"msgtype": "m.text", "body": "bot: aide", "m.mentions": {"user_ids": [bot.user_id]}})
    reply = await agent.next_notice()
    assert reply.body == "Réponse 1 : bot: aide"
    assert [i.text for i in engine.seen] == ["bot: aide"]


async def test_in_the_mediators_room_every_message_reaches_the_desk(homeserver, agent, tmp_path):
    config = homeserver.bot_config(tmp_path / "bot2", mediators=[agent.user_id])
    room = await agent.create_room(config.user_id, direct=False, wait=False)
    other, _ = homeserver.new_user("mediateur")
    await agent.client.room_invite(room, other)
    engine = RecordingEngine()
    bot = await start(replace(config, mediators_room=room), engine=engine, timing=FAST)
    try:
        await agent.wait_for(lambda: agent.has_joined(room, bot.user_id))
        await agent.say(room, "!tickets")  # no mention needed: the desk reads every message there
        assert (await agent.next_notice()).body == "Aucune demande ouverte."
        assert engine.seen == []
    finally:
        await bot.stop()
