"""`helpdesk-bot demo`: the whole bot on a throwaway Tchap-like Synapse, in one command.

    temp folder ─► Synapse on 127.0.0.1 (room-access-rules, room version 10) ─► bot, agent, mediator
      ─► the mediator opens the mediators' room ─► the real bot starts (FAQ, flows, store, E2EE)
      ─► the agent plays a short encrypted conversation: a FAQ answer, a clarification, a flow
         ending in a ticket that shows up in the mediators' room ─► printed as it happens
      ─► everything keeps running for a real client until Ctrl-C; then all is stopped and removed.
Every line shown is French and lives in bot/texts/matrix.yaml (demo_*).
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from . import texts
from .config import Config, load_config
from .matrix.localserver import LocalServer, start_synapse
from .matrix.person import Person
from .matrix.runner import RunningBot, load_engine, start


async def demo(config: Config | None = None, *, keep_running: bool = True) -> None:
    """Run the demo; returns only after Ctrl-C (or at once with keep_running=False, for tests)."""
    config = config or load_config(None)
    engine = load_engine(config)  # a broken FAQ fails here, before anything starts
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-demo-"))
    _quiet_logs()
    print(texts.say("matrix.demo_starting", folder=folder), flush=True)
    server: LocalServer | None = None
    people: list[Person] = []
    bot: RunningBot | None = None
    try:
        server = await asyncio.to_thread(start_synapse, folder / "synapse")
        accounts = {role: _register(server, role) for role in ("bot", "agente", "mediateur")}
        mediator = await Person.login(server.url, *accounts["mediateur"], folder / "mediator", device_name="mediateur")
        people.append(mediator)
        mediators_room = await mediator.create_room(accounts["bot"][0], direct=False, wait=False)
        bot_config = replace(config, homeserver=server.url, user_id=accounts["bot"][0], password=accounts["bot"][1],
                             access_token=None, email=None, data_dir=folder / "bot", allowed_domains=(),
                             allowed_users=(accounts["agente"][0], accounts["mediateur"][0]),
                             mediators_room=mediators_room, mediators=(accounts["mediateur"][0],))
        bot = await start(bot_config, engine=engine)
        await mediator.wait_for(lambda: mediator.has_joined(mediators_room, bot.user_id), 30)
        agent = await Person.login(server.url, *accounts["agente"], folder / "agent", device_name="telephone")
        people.append(agent)
        print(texts.say("matrix.demo_ready", url=server.url), flush=True)
        await _play(agent, await agent.create_room(bot.user_id), mediator)
        print(texts.say("matrix.demo_keep_running", url=server.url, agent=accounts["agente"][0],
                        agent_password=accounts["agente"][1], mediator=accounts["mediateur"][0],
                        mediator_password=accounts["mediateur"][1], bot=accounts["bot"][0]), flush=True)
        if keep_running:
            await asyncio.Event().wait()
    finally:
        await _stop(bot, people, server, folder)


def _register(server: LocalServer, role: str) -> tuple[str, str]:
    password = f"demo-{secrets.token_hex(4)}"
    return server.register(role, password)["user_id"], password


async def _play(agent: Person, room: str, mediator: Person) -> None:
    """Send each scripted line, print what the bot answers, and what reaches the mediators."""
    for line in texts.say("matrix.demo_script").split("\n"):
        print(texts.say("matrix.demo_agent", text=line), flush=True)
        await agent.say(room, line)
        for _, notice in await agent.notices_until_quiet(first=30):
            _print_block("matrix.demo_bot", notice.body)
    while not mediator.notices.empty():
        _, notice = mediator.notices.get_nowait()
        _print_block("matrix.demo_mediators", notice.body)


def _print_block(key: str, body: str) -> None:
    first, *rest = body.split("\n")
    print(texts.say(key, text=first), flush=True)
    for line in rest:
        print(texts.say("matrix.demo_indent", text=line), flush=True)


def _quiet_logs() -> None:
    """The transcript is the show: only problems are logged while the demo runs."""
    logging.getLogger("bot").setLevel(logging.WARNING)
    logging.getLogger("nio").setLevel(logging.ERROR)


async def _stop(bot: RunningBot | None, people: list[Person], server: LocalServer | None, folder: Path) -> None:
    for person in people:
        await person.close()
    if bot:
        await bot.stop()
    if server:
        await asyncio.to_thread(server.stop)
    shutil.rmtree(folder, ignore_errors=True)
    print(texts.say("matrix.demo_stopped", folder=folder), flush=True)
