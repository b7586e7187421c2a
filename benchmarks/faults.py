"""Faults: kill -9 of the bot, a homeserver outage and a flooding agent, counted from the agents' side.

    python benchmarks/faults.py [--agents 8] [--kills 10] [--outage 30] [--flood 200]

One throwaway Tchap-like Synapse (every rate limit relaxed: as if the bot were exempt); the real bot
(bot.matrix.start: store, lanes, outbox, E2EE) in a process of its own, as deployed, behind a counting
engine that answers every message once, as a rich reply to it, so each agent can tell which of its
messages were answered, and how often. Encrypted agents (matrix-nio, bot/matrix/person.py) in this
process. Phases:
1. kills: every agent sends a message every ~1 s; `--kills` times, at a random moment, the bot's
   process gets SIGKILL and is started again at once; "first reply after restart" is from the new
   process's start to the first answer it sends (its server timestamp after the kill; process start,
   session restore and first sync included);
2. outage: Synapse stopped for `--outage` seconds while the bot runs, then started again; an agent
   writes as soon as it is back: "first reply after the outage" is from Synapse's return to that answer;
3. flood: the others' reply times (send to answer) p50 / p95 while they each ask one question
   every `--every` seconds, first alone for 10 s (the baseline), then while one agent sends
   `--flood` messages as fast as it can.
At the end every message sent must have exactly one answer: lost = none, duplicated = more than one.
The bot's process is `python benchmarks/faults.py --bot JSON` (tests/matrix/test_faults.py uses it too).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import config_from_dict  # noqa: E402
from bot.matrix.person import Person  # noqa: E402
from bot.messages import Reply  # noqa: E402

ANSWER = "reçu "


class CountingEngine:
    """Answers every message once, as a rich reply to it: the agents count answers per message."""

    def handle(self, state, incoming):
        return state or {}, [Reply(room=incoming.room, text=ANSWER + incoming.text, reply_to=incoming.event_id)]


# --- the bot's process


async def serve_bot(setup: dict) -> None:
    """The bot as deployed, until killed (or its stdin closes)."""
    from bot.matrix import start
    from bot.matrix.bot import Timing
    logging.basicConfig(level=logging.WARNING, format="bot: %(levelname)s %(name)s: %(message)s")
    config = config_from_dict({"homeserver": setup["url"], "user_id": setup["user"], "password": setup["password"],
                               "data_dir": setup["data_dir"]}, base=Path(setup["data_dir"]))
    running = await start(config, engine=CountingEngine(), timing=Timing(sync_timeout_ms=setup.get("sync_ms", 30_000)))
    print("ready", flush=True)
    try:
        await asyncio.to_thread(sys.stdin.read)
    finally:
        await running.stop()


@dataclass
class BotProcess:
    """Starts, kills -9 and restarts the bot's process; `started` is when the last one was spawned."""

    setup: dict
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0

    async def start(self, *, wait_ready: bool = True) -> None:
        self.started = time.perf_counter()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--bot", json.dumps(self.setup),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        if wait_ready and (await self.process.stdout.readline()).strip() != b"ready":
            raise RuntimeError("the bot did not start (see its errors above)")

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                await self.kill()


# --- the agents' side


@dataclass(kw_only=True)
class Counted:
    """One agent, its DM with the bot, and per message sent: when, and how many answers came."""

    person: Person
    room: str
    sent: dict[str, float] = field(default_factory=dict)  # event id -> send time
    answers: Counter = field(default_factory=Counter)  # event id -> answers received
    answered_at: dict[str, float] = field(default_factory=dict)
    sent_by_server_at: list[tuple[float, float]] = field(default_factory=list)  # (server time, arrival) per answer

    async def listen(self) -> None:
        while True:
            _, event = await self.person.notices.get()
            if not event.body.startswith(ANSWER):
                continue  # the welcome, the flood guard's notice
            relates = event.source["content"].get("m.relates_to", {}).get("m.in_reply_to", {})
            replied = relates.get("event_id")
            now = time.perf_counter()
            self.answers[replied] += 1
            self.answered_at.setdefault(replied, now)
            self.sent_by_server_at.append((event.server_timestamp / 1000, now))

    async def say(self, text: str) -> str | None:
        started = time.perf_counter()
        try:
            event_id = await self.person.say(self.room, text)
        except Exception:  # the homeserver is down: this message was never sent, nothing to count
            return None
        self.sent[event_id] = started
        return event_id


def tally(agents: list[Counted]) -> tuple[int, int, int]:
    """(messages sent, lost, duplicated) over every agent."""
    sent = sum(len(a.sent) for a in agents)
    lost = sum(1 for a in agents for e in a.sent if a.answers[e] == 0)
    duplicated = sum(1 for a in agents for e in a.sent if a.answers[e] > 1)
    return sent, lost, duplicated


async def wait_all_answered(agents: list[Counted], timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and any(a.answers[e] == 0 for a in agents for e in a.sent):
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)  # time for a duplicate to show


async def open_agents(server, bot_user: str, folder: Path, count: int) -> tuple[list[Counted], list[asyncio.Task]]:
    agents, listeners = [], []
    for n in range(count):
        name = f"agent{n}_{random.randrange(10**6)}"
        user = server.register(name, f"pw-{name}")["user_id"]
        person = await Person.login(server.url, user, f"pw-{name}", folder / name)
        room = await person.create_room(bot_user)
        agent = Counted(person=person, room=room)
        listeners.append(asyncio.create_task(agent.listen()))
        agents.append(agent)
    for n, agent in enumerate(agents):  # key exchange and one answer each before anything is measured
        await agent.say(f"bonjour {n}")
    await wait_all_answered(agents, 60)
    return agents, listeners


async def first_answer_after(agents: list[Counted], moment: float, *, sent_since: float | None = None,
                             timeout: float = 60) -> float:
    """Seconds from `moment` (perf_counter) to the first answer arriving after it; with `sent_since`
    (wall clock), only answers the homeserver received since then (so none the killed bot sent)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        times = [arrival for a in agents for server, arrival in a.sent_by_server_at
                 if arrival > moment and (sent_since is None or server > sent_since)]
        if times:
            return min(times) - moment
        await asyncio.sleep(0.02)
    return float("inf")


async def chatter(agents: list[Counted], stop: asyncio.Event, every: float, label: str) -> None:
    """Each agent says something every `every` seconds (a little jitter), until `stop`."""
    async def one(n: int, agent: Counted) -> None:
        count = 0
        while not stop.is_set():
            count += 1
            await agent.say(f"{label} {n}-{count}")
            await asyncio.sleep(every * random.uniform(0.7, 1.3))
    await asyncio.gather(*(one(n, a) for n, a in enumerate(agents)))


async def kills(bot: BotProcess, agents: list[Counted], times: int, *, between: tuple[float, float]) -> list[float]:
    """Kill -9 the bot `times` times at random moments during chatter; the first reply after each restart."""
    stop = asyncio.Event()
    talking = asyncio.create_task(chatter(agents, stop, 1.0, "k"))
    firsts = []
    try:
        for _ in range(times):
            await asyncio.sleep(random.uniform(*between))
            await bot.kill()
            killed = time.time()
            await bot.start(wait_ready=False)
            firsts.append(await first_answer_after(agents, bot.started, sent_since=killed))
            assert (await bot.process.stdout.readline()).strip() == b"ready"
    finally:
        stop.set()
        await talking
    return firsts


async def replies_while(agents: list[Counted], every: float, *, seconds: float) -> list[float]:
    """Reply times (send to answer) of `agents` chatting for `seconds`, nobody else writing."""
    before = {id(a): set(a.sent) for a in agents}
    stop = asyncio.Event()
    talking = asyncio.create_task(chatter(agents, stop, every, "calme"))
    await asyncio.sleep(seconds)
    stop.set()
    await talking
    await wait_all_answered(agents, 30)
    return [a.answered_at[e] - a.sent[e] for a in agents for e in a.sent if e not in before[id(a)] and e in a.answered_at]


async def close(bot: BotProcess, agents: list[Counted], listeners: list[asyncio.Task]) -> None:
    """The agents' listeners and clients, then the bot's process (the benchmark's and the test's ending)."""
    for task in listeners:
        task.cancel()
    for agent in agents:
        await agent.person.close()
    await bot.stop()


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


async def main(arguments: argparse.Namespace) -> None:
    from bot.matrix.localserver import start_synapse
    logging.basicConfig(level=logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-faults-"))
    server = await asyncio.to_thread(start_synapse, folder / "synapse")
    bot = BotProcess({"url": server.url, "data_dir": str(folder / "bot")})
    agents: list[Counted] = []
    listeners: list[asyncio.Task] = []
    try:
        account = server.register("helpdesk", "pw-helpdesk")
        bot.setup.update(user=account["user_id"], password="pw-helpdesk")
        await bot.start()
        agents, listeners = await open_agents(server, account["user_id"], folder / "agents", arguments.agents)
        print(f"{arguments.agents} encrypted agents, bot in its own process, local Synapse", flush=True)

        restarts = await kills(bot, agents, arguments.kills, between=(2.0, 6.0))
        print(f"kills done: first reply after restart {', '.join(f'{t:.1f}' for t in restarts)} s", flush=True)

        await asyncio.to_thread(server.stop)
        await asyncio.sleep(arguments.outage)
        await asyncio.to_thread(server.restart)
        back, back_wall = time.perf_counter(), time.time()
        while await agents[0].say("de retour ?") is None:
            await asyncio.sleep(0.2)
        outage = await first_answer_after(agents, back, sent_since=back_wall)
        print(f"outage done: first reply {outage:.1f} s after the homeserver's return", flush=True)

        others = agents[1:]
        quiet = await replies_while(others, arguments.every, seconds=10)
        marks = {id(a): set(a.sent) for a in others}
        flooder, stop = agents[0], asyncio.Event()
        talking = asyncio.create_task(chatter(others, stop, arguments.every, "q"))
        flood_start = time.perf_counter()
        for n in range(arguments.flood):
            await flooder.say(f"flood {n}")
        sent_in = time.perf_counter() - flood_start
        deadline = time.perf_counter() + 300
        while any(flooder.answers[e] == 0 for e in flooder.sent) and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        print(f"flood done: {arguments.flood} sent in {sent_in:.1f} s, all answered "
              f"{time.perf_counter() - flood_start:.1f} s after the first", flush=True)
        stop.set()
        await talking
        await wait_all_answered(agents, 120)
        during = [a.answered_at[e] - a.sent[e] for a in others for e in a.sent
                  if e not in marks[id(a)] and e in a.answered_at]

        sent, lost, duplicated = tally(agents)
        rows = [("messages sent", f"{sent}"), ("lost", f"{lost}"), ("duplicated", f"{duplicated}"),
                ("kill -9 of the bot", f"{len(restarts)}"),
                ("first reply after restart, median / max", f"{statistics.median(restarts):.2f} s / {max(restarts):.2f} s"),
                (f"first reply after a {arguments.outage:.0f} s outage", f"{outage:.2f} s"),
                ("others' replies before the flood, p50 / p95", f"{statistics.median(quiet):.2f} s / {percentile(quiet, 95):.2f} s"),
                (f"others' replies during a {arguments.flood}-message flood", f"{len(during)}"),
                ("  p50 / p95", f"{statistics.median(during):.2f} s / {percentile(during, 95):.2f} s")]
        print()
        for name, value in rows:
            print(f"{name:48}{value:>20}")
    finally:
        await close(bot, agents, listeners)
        await asyncio.to_thread(server.stop)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--flood", type=int, default=200)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between two questions of each other agent")
    parser.add_argument("--bot", help=argparse.SUPPRESS)  # internal: run the bot's process
    arguments = parser.parse_args()
    if arguments.bot:
        asyncio.run(serve_bot(json.loads(arguments.bot)))
    else:
        asyncio.run(main(arguments))
