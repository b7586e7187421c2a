"""The REAL conversation engine (the repo's faq/ and flows/, config.example.yaml's variables) behind
the real bot, in an encrypted DM on the real Synapse.

What the agent reads is compared with what the pure core decides for the same words (run beside
the test with the same engine): the Matrix path must say exactly that, once, in order — across a
restart in the middle of a flow, and after an admin edits (or breaks) the FAQ while the bot runs.
"""
from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.answering.encoder import encoder_for
from bot.conversation.engine import build_engine
from bot.matrix import start
from bot.messages import Incoming, Reply

from ..conftest import FAST
from ..synapse import Agent

ROOT = Path(__file__).parents[2]


def engine_config(homeserver, directory: Path, **overrides) -> Config:
    """config.example.yaml on the test homeserver: a fresh bot account, data in `directory`."""
    account = homeserver.bot_config(directory)
    example = load_config(ROOT / "config.example.yaml")
    return replace(example, homeserver=account.homeserver, user_id=account.user_id, password=account.password,
                   access_token=None, email=None, data_dir=account.data_dir, allowed_domains=(),
                   allowed_users=(), mediators_room=None, mediators=(), **overrides)


class Script:
    """The pure core fed the same words as the agent: what the bot is expected to say, turn by turn."""

    def __init__(self, config: Config, agent: str, room: str):
        self.encoder = encoder_for(config.semantic)  # the bot encodes what its matcher can use: so does the script
        self.engine = build_engine(config, self.encoder)
        self.agent, self.room = agent, room
        self.state: dict | None = None
        self.count = 0

    def says(self, text: str) -> list[str]:
        self.count += 1
        incoming = Incoming(sender=self.agent, room=self.room, text=text, event_id=f"$script{self.count}",
                            time=datetime.now(timezone.utc))
        if self.engine.knowledge.matcher.needs_vector(text):
            incoming = replace(incoming, vector=self.encoder.encode([text])[0])
        self.state, actions = self.engine.handle(self.state, incoming)
        return [a.text for a in actions if isinstance(a, Reply) and a.room == self.room]


async def exchange(agent: Agent, room: str, text: str, count: int) -> list[str]:
    """Say `text`, and return the bodies of the next `count` notices of the bot."""
    await agent.say(room, text)
    return [(await agent.next_notice(timeout=20)).body for _ in range(count)]


@pytest.fixture
async def agent(homeserver, tmp_path):
    agent = await Agent.create(homeserver, tmp_path / "agent")
    yield agent
    await agent.close()


async def test_a_flow_resumes_where_it_was_after_a_restart(homeserver, tmp_path, agent):
    config = engine_config(homeserver, tmp_path / "bot")
    bot = await start(config, timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        script = Script(config, agent.user_id, room)
        for text in ("j'ai oublié de badger", "hier"):
            expected = script.says(text)
            assert await exchange(agent, room, text, len(expected)) == expected
        assert "Qu'avez-vous oublié de badger ?" in expected[-1]
        await bot.stop()

        await agent.say(room, "les deux")  # while the bot is down
        bot = await start(config, timing=FAST)  # same data_dir: same device, same store
        expected = script.says("les deux")
        assert "arrivé(e)" in expected[-1]
        assert [(await agent.next_notice(timeout=20)).body for _ in expected] == expected
        for text in ("7h30", "16h30"):
            expected = script.says(text)
            assert await exchange(agent, room, text, len(expected)) == expected
        assert "commentaire" in expected[-1]
        await agent.say(room, "réunion dehors")  # the end: the request, then what the ticket desk says
        said = [notice.body for _, notice in await agent.notices_until_quiet(first=20, quiet=1.5)]
        assert said[0].startswith("Merci ! Je transmets la régularisation du ")
        assert len(said) == len(set(said))  # nothing twice
        state = await bot.store.load_state(agent.user_id)
        assert state["flow"] is None
    finally:
        await bot.stop()


async def test_a_clarification_answered_by_its_number(homeserver, tmp_path, agent):
    config = engine_config(homeserver, tmp_path / "bot")
    bot = await start(config, timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        script = Script(config, agent.user_id, room)
        expected = script.says("fiche de paie")
        said = await exchange(agent, room, "fiche de paie", len(expected))
        assert said == expected and "Vous voulez parler de :" in said[-1]
        number = _first_plain_answer(script)  # an answer, not a hand-over that would open a ticket
        expected = script.says(str(number))
        assert await exchange(agent, room, str(number), len(expected)) == expected
        assert expected and "Vous voulez parler de :" not in expected[-1]
        await agent.no_notice(0.5)
    finally:
        await bot.stop()


def _first_plain_answer(script: Script) -> int:
    """The number of the first offered topic the FAQ answers itself."""
    faq = script.engine.knowledge.faq
    options = script.state["pending"]["options"]
    return next(n for n, topic in enumerate(options, 1) if faq.get(topic).kind == "answer")


def _copy_knowledge(directory: Path) -> tuple[Path, Path]:
    faq, flows = directory / "faq", directory / "flows"
    shutil.copytree(ROOT / "faq", faq)
    shutil.copytree(ROOT / "flows", flows)
    return faq, flows


async def _wait_for_log(caplog, text: str, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while text not in caplog.text:
            await asyncio.sleep(0.05)


async def test_an_faq_edit_is_live_and_a_broken_one_keeps_the_last_good_version(homeserver, tmp_path, agent, caplog):
    faq, flows = _copy_knowledge(tmp_path)
    config = engine_config(homeserver, tmp_path / "bot", faq_dir=faq, flows_dir=flows)
    question = "ma boîte mail est pleine"
    bot = await start(config, timing=FAST, reload_every=0.2)
    try:
        room = await agent.open_dm(bot.user_id)
        said = await exchange(agent, room, question, 2)  # the welcome, then the answer
        assert "Pour faire de la place :" in said[1]

        path = faq / "messagerie.yaml"
        path.write_text(path.read_text().replace("Pour faire de la place :", "Pour libérer de l'espace :"))
        await _wait_for_log(caplog, "FAQ/flows reloaded")
        assert "Pour libérer de l'espace :" in (await exchange(agent, room, question, 1))[0]

        path.write_text(path.read_text() + "\n  - id: [pas fermé\n")
        await _wait_for_log(caplog, "the bot keeps the last good version")
        assert re.search(rf"{re.escape(str(path))}:\d+: « \[ » ouvert", caplog.text)  # file:line: message, for the admin
        assert "Pour libérer de l'espace :" in (await exchange(agent, room, question, 1))[0]
        await agent.no_notice(0.5)
    finally:
        await bot.stop()
