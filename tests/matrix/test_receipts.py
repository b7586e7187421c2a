"""What the bot shows without saying it: a read receipt (m.read) for every message it handled,
seen by the agent's own client through its sync (the m.receipt EDU)."""
from __future__ import annotations

from bot.matrix import start

from ..conftest import FAST
from ..synapse import Agent, RecordingEngine


async def test_the_bot_marks_what_it_handled_as_read(homeserver, tmp_path):
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(homeserver.bot_config(tmp_path / "bot"), engine=RecordingEngine(), timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        for n, text in enumerate(["un", "deux"], start=1):
            asked = await agent.say(room, text)
            assert (await agent.next_notice()).body == f"Réponse {n} : {text}"
            await agent.wait_for(lambda: agent.has_read(room, bot.user_id, asked), timeout=10)
    finally:
        await bot.stop()
        await agent.close()


async def test_a_message_for_someone_else_is_not_marked_read(homeserver, tmp_path):
    """In a group room without a mention the bot stays out of it: no answer, no receipt."""
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(homeserver.bot_config(tmp_path / "bot"), engine=RecordingEngine(), timing=FAST)
    try:
        response = await agent.client.room_create(invite=[bot.user_id], initial_state=[])
        room = response.room_id
        other, _ = homeserver.new_user("collegue")
        await agent.client.room_invite(room, other)
        await agent.wait_for(lambda: agent.has_joined(room, bot.user_id))
        between_us = await agent.say(room, "on parle entre nous")
        mention = await agent.send(room, {"msgtype": "m.text", "body": "bot: aide",
                                          "m.mentions": {"user_ids": [bot.user_id]}})
        assert (await agent.next_notice()).body == "Réponse 1 : bot: aide"
        await agent.wait_for(lambda: agent.has_read(room, bot.user_id, mention), timeout=10)
        assert not agent.has_read(room, bot.user_id, between_us)
    finally:
        await bot.stop()
        await agent.close()


async def test_a_quick_answer_shows_no_typing(homeserver, tmp_path):
    """"typing…" only when a turn is slow (Timing.typing_after): an instant answer does not flicker."""
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(homeserver.bot_config(tmp_path / "bot"), engine=RecordingEngine(), timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        asked = await agent.say(room, "un")
        assert (await agent.next_notice()).body == "Réponse 1 : un"
        await agent.wait_for(lambda: agent.has_read(room, bot.user_id, asked), timeout=10)
        assert (room, bot.user_id) not in agent.seen_typing
    finally:
        await bot.stop()
        await agent.close()
