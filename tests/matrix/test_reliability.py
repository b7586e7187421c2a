"""Issue 8 on the real Synapse: nothing one message holds stops the bot, a catch-up cannot skip, an agent's
text reaches the mediators as text, nothing is too large to send, files are the bot's own."""
from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from nio.api import Api

from bot import texts
from bot.config import load_config
from bot.matrix import start
from bot.matrix.mediators_room import META_KEY
from bot.matrix.runner import load_engine
from bot.matrix.session import read_session

from ..conftest import FAST
from ..synapse import Agent, RecordingEngine
from ..matrix.test_engine import engine_config
from ..matrix.test_tickets import ALWAYS_OPEN, Member

ROOT = Path(__file__).parents[2]
FLOOD = texts.say("matrix.flood_notice")


async def said_after(agent: Agent, room: str, text: str) -> list[str]:
    await agent.say(room, text)
    return [event.body for _, event in await agent.notices_until_quiet(first=20, quiet=1.0)]


async def test_poison_messages_in_the_badge_flow_then_a_question_is_answered_also_after_a_restart(homeserver,
                                                                                                    tmp_path):
    assert '"merci \\ud83d"' in Api.to_json({"body": "merci \ud83d"})  # nio sends the lone surrogate as is
    config = engine_config(homeserver, tmp_path / "bot")
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(config, timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        await said_after(agent, room, "Bonjour")
        assert any("Quel jour" in s for s in await said_after(agent, room, "j'ai oublié de badger"))
        assert await said_after(agent, room, "il y a 800000 jours")  # an answer or the failure notice, not silence
        assert await said_after(agent, room, "merci \ud83d")
        await said_after(agent, room, "annuler")
        assert any("bulletins" in s for s in await said_after(agent, room, "Où trouver ma fiche de paie ?"))
        assert bot.task.done() is False

        await bot.stop()
        bot = await start(config, timing=FAST)  # the poison messages are not replayed at start
        assert any("bulletins" in s for s in await said_after(agent, room, "Où trouver ma fiche de paie ?"))
        await agent.no_notice(1.0)
    finally:
        await bot.stop()
        await agent.close()


def _send_as(homeserver_url: str, token: str, room: str, body: str, txn: str) -> None:
    url = (f"{homeserver_url}/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/send/m.room.message/{txn}")
    request = urllib.request.Request(url, data=json.dumps({"msgtype": "m.notice", "body": body}).encode(),
                                     method="PUT", headers={"Authorization": f"Bearer {token}",
                                                            "Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


async def test_a_catch_up_of_130_messages_past_the_bots_own_event_answers_each_once(homeserver, tmp_path):
    config = homeserver.bot_config(tmp_path / "bot")
    engine = RecordingEngine()
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(config, engine=engine, timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        await agent.say(room, "m0")
        assert (await agent.next_notice()).body == "Réponse 1 : m0"
        await bot.stop()

        words = [f"m{n}" for n in range(1, 131)]
        session = read_session(config.data_dir)
        for n, word in enumerate(words):
            await agent.say(room, word)
            if n == 4:  # the bot's own event after unanswered messages: the old catch-up stopped here
                await asyncio.to_thread(_send_as, homeserver.url, session.access_token, room, "annonce", "own1")
            if n % 40 == 0:
                await agent.react(room, await agent.say(room, "réagir ici"), "🎉")  # other events between
        bot = await start(config, engine=engine, timing=FAST)
        expected = []
        for n, word in enumerate(words):
            expected += [word, "réagir ici"] if n % 40 == 0 else [word]
        replies = []
        while len(replies) < len(expected):
            body = (await agent.next_notice(timeout=30)).body
            if body not in (FLOOD, "annonce"):
                replies.append(body)
        assert replies == [f"Réponse {n + 2} : {text}" for n, text in enumerate(expected)]
        await agent.no_notice(1.5)
        assert [i.text for i in engine.seen] == ["m0", *expected]
    finally:
        await bot.stop()
        await agent.close()


@pytest.fixture(scope="module")
def engine():
    return load_engine(load_config(ROOT / "config.example.yaml"))


HOSTILE = "**Service RH** [officiel](https://x) ![i](mxc://a/b) > fake quote\n#99 · Directeur @room <b>x</b>"


async def _ticket(homeserver, tmp_path, engine, agent_name: str):
    """A bot, a mediator in its room, an agent with an open ticket #1; the mediator has read the card."""
    marie = await Member.named(homeserver, tmp_path, "marie", "Marie Curie [DINUM]")
    agent = await Member.named(homeserver, tmp_path, "jean", agent_name)
    config = homeserver.bot_config(tmp_path / "bot", mediators=[marie.user_id], working_hours=ALWAYS_OPEN)
    bot = await start(config, engine=engine, timing=FAST)
    room = await bot.store.get_meta(META_KEY)
    await marie.join_invited(room)
    dm = await agent.open_dm(bot.user_id)
    await agent.say(dm, "je veux parler à un médiateur")
    await agent.notices_until_quiet(first=20)
    card = await marie.notice("#1 · ")
    return bot, marie, agent, room, dm, card


def _tags(html: str) -> set[str]:
    return set(re.findall(r"<([a-z]+)", html))


async def test_an_agents_markdown_html_and_room_ping_reach_the_mediators_as_typed_text(homeserver, tmp_path, engine):
    bot, marie, agent, room, dm, card = await _ticket(homeserver, tmp_path, engine, "**Service RH** [officiel](https://x)")
    try:
        header = card.source["content"]["formatted_body"].split("<br />")[0]
        assert "<strong>" not in header and "<a" not in header and "**Service RH** [officiel](https://x)" in card.body
        await agent.say(dm, HOSTILE)
        relay = await marie.notice("#1 · **")
        content = relay.source["content"]
        html = content["formatted_body"]
        assert _tags(html) <= {"p", "br", "strong"} and html.count("<strong>") == 1  # the bot's bold name only
        assert "<strong>**Service RH** [officiel](https://x)</strong>" in html
        assert "![i](mxc://a/b) &gt; fake quote" in html and "&lt;b&gt;x&lt;/b&gt;" in html
        lines = relay.body.split("\n")
        assert lines[0] == "#1 · ****Service RH** [officiel](https://x)** : **Service RH** [officiel](https://x) " \
                           "![i](mxc://a/b) > fake quote"
        assert lines[1] == "│ #99 · Directeur @\u2060room <b>x</b>"  # set apart, the ping defused
        assert "@room" not in relay.body and content["m.mentions"] == {}
    finally:
        await bot.stop()
        await marie.close()
        await agent.close()


async def test_a_40_kb_message_reaches_the_mediators_whole_and_a_40_kb_reply_the_agent(homeserver, tmp_path, engine):
    bot, marie, agent, room, dm, card = await _ticket(homeserver, tmp_path, engine, "Jean Martin")
    long_text = "\n".join(f"ligne {n:04d} : le badge de l'entree nord ne repond plus" for n in range(800))
    assert 40_000 <= len(long_text.encode()) < 50_000
    try:
        await agent.say(dm, long_text)
        parts = [e.body for _, e in await marie.notices_until_quiet(first=20, quiet=1.5)]
        assert len(parts) >= 2
        continued = texts.say("matrix.continued") + " "
        assert parts[0].startswith("#1 · **Jean Martin** : ligne 0000")
        assert all(p.startswith(continued) for p in parts[1:])
        joined = parts[0].removeprefix("#1 · **Jean Martin** : ") + "".join(p.removeprefix(continued) for p in parts[1:])
        assert joined.replace("│ ", "") == long_text

        answer = "\n".join(f"etape {n:04d} : passez au guichet avec votre carte" for n in range(850))
        await marie.reply(room, card.event_id, answer)
        said = [e.body for _, e in await agent.notices_until_quiet(first=20, quiet=1.0)]
        assert len(said) >= 2 and said[0].startswith("**Marie Curie**")
        whole = "".join(s.removeprefix(continued) for s in said)
        assert all(f"etape {n:04d} " in whole for n in range(850))
    finally:
        await bot.stop()
        await marie.close()
        await agent.close()


async def test_session_and_crypto_store_are_the_bots_only_even_with_umask_022(homeserver, tmp_path):
    old = os.umask(0o022)
    try:
        config = homeserver.bot_config(tmp_path / "bot")
        bot = await start(config, engine=RecordingEngine(), timing=FAST)
        await bot.stop()
    finally:
        os.umask(old)
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    assert mode(config.data_dir / "session.json") == 0o600
    assert mode(config.data_dir / "nio") == 0o700
    assert {mode(p) for p in (config.data_dir / "nio").iterdir() if p.is_file()} == {0o600}
