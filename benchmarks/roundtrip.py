"""Reply round trip: the helpdesk bot against a bare echo bot, side by side on one local Synapse.

    python benchmarks/roundtrip.py [--messages 300] [--runs 3] [--phases]

One throwaway Tchap-like Synapse; two bots, each in an encrypted DM with its own agent (matrix-nio):
- echo:     a bare nio bot that answers every message with an m.notice (the floor: sync + send);
- helpdesk: the real bot (bot.matrix.start: store, outbox, engine on the repo's FAQ, E2EE).
The two bots run in a process of their own, as a deployed bot does, and the agents in this one:
otherwise what a bot does after its answer is sent (marking it sent, its read receipt, the sync
that brings back its own message) would sit on the agent's event loop and be counted as latency.
Messages alternate between the two, so both see the same server load, and which bot goes first
alternates too (the one going second inherits the first one's leftovers: its agent's next sync,
its read receipt). The time measured is from the agent's send to the first notice it gets back.
Prints p50 / p95 / p99 for each and the ratios, for each of `--runs` runs on the same server and
for all runs together (one run of a few hundred messages moves by a few percent from run to run).
The helpdesk runs as configured (semantic matching on, the bundled encoder): its messages
alternate between FAQ questions (mostly settled by the words) and paraphrases written here (not
the FAQ's examples, nor the evaluation sets'), and the share that really goes through the encoder
is printed. Then the delay of a second agent: while one agent's 600-character story is being
encoded, another agent sends a message the words settle; its round trip is compared with the
same message sent alone.
`--phases` also prints, from the bots' process, where each bot's time goes: from the sync response
that brings a message to the start of the answer's PUT, the PUT itself, and the helpdesk's engine
and store calls (medians per call, in ms).
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, MatrixRoom, RoomMessageText, InviteMemberEvent

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.hybrid import HybridMatcher  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.conversation.knowledge import load_knowledge  # noqa: E402
from bot.matrix import start  # noqa: E402
from bot.matrix.bot import Timing  # noqa: E402
from bot.matrix.localserver import start_synapse  # noqa: E402
from bot.matrix.person import Person  # noqa: E402


PARAPHRASES = [  # situations, not the topics' names; only topics the bot answers (a ticket would end the run)
    "mon portable est neuf et je ne peux plus faire mes heures dessus",
    "quelqu'un a pris mon sac au vestiaire avec la carte du pointage dedans",
    "je fais 40 km en TER chaque jour, la collectivité participe ?",
    "je n'arrive plus à lire mes messages du travail, il me demande un code que j'ai oublié",
    "c'est quoi l'adresse pour m'écrire au boulot",
    "un message me dit de cliquer vite sinon ma boîte sera supprimée",
    "il paraît qu'on doit choisir nos délégués en ligne, je m'y prends comment",
    "j'ai fait beaucoup de soirées ce mois-ci, je peux savoir où j'en suis",
    "plus rien n'arrive dans ma boîte, elle déborde",
    "l'appli pour les horaires refuse mes codes depuis ce matin",
    "je voudrais regarder ce que j'ai touché en janvier sans attendre le courrier",
    "mon pass navigo a été renouvelé en septembre, vous avez besoin du papier ?",
    "j'ai tapé n'importe quoi plusieurs fois et maintenant c'est fermé pour moi",
    "j'ai une question sur mon contrat, vers qui je me tourne",
    "emails bounce back saying there is no more room",
    "my clocking card fell out of my pocket somewhere in the park",
]
LONG_STORY = ("bonjour, je me permets de vous écrire parce que depuis la semaine dernière j'ai un souci que je "
              "n'arrive pas à régler seule : le matin quand j'arrive à l'atelier je passe ma carte devant la "
              "machine comme d'habitude, le voyant devient vert, mais le soir quand je regarde sur mon téléphone "
              "il n'y a rien d'enregistré pour l'arrivée, seulement le départ, et ma responsable dit qu'elle ne "
              "peut pas valider mes journées comme ça ; j'ai demandé à deux collègues et eux n'ont pas ce problème, "
              "est-ce que vous pouvez me dire ce que je dois faire pour que mes heures soient bien comptées ? merci")


class EchoBot:
    """The baseline: nio's own sync loop, a callback, one encrypted send."""

    def __init__(self, url: str, user_id: str, password: str, store: Path):
        store.mkdir(parents=True)
        self.client = AsyncClient(url, user_id, store_path=str(store),
                                  config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False))
        self.password = password
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.client.login(self.password, device_name="echo")
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        await self.client.sync(timeout=0)  # history is not answered
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_event_callback(self._on_text, RoomMessageText)
        self.task = asyncio.create_task(self.client.sync_forever(timeout=30_000))

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.client.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != self.client.user_id:
            await self.client.room_send(room.room_id, "m.room.message",
                                        {"msgtype": "m.notice", "body": f"écho : {event.body}"},
                                        ignore_unverified_devices=True)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close()


class Phases:
    """Wall-clock timings taken by wrapping a few methods of the running bots (behaviour unchanged)."""

    STORE_CALLS = ("is_direct", "is_handled", "desk_turn", "commit_turn", "load_state", "save_sync_token",
                   "pending_outbox", "mark_sent")

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self._synced: dict[str, float] = {}

    def watch_http(self, client: AsyncClient, bot: str) -> None:
        send = client.send

        async def timed(method: str, path: str, *args, **kwargs):
            started = time.perf_counter()
            response = await send(method, path, *args, **kwargs)
            ended = time.perf_counter()
            kind = path.split("?")[0].split("/_matrix/client/")[-1]
            self.times[f"{bot}: http {method} {_shape(kind)}"].append(ended - started)
            if "/sync" in path:
                self._synced[bot] = ended
            elif "/send/m.room." in path:
                self.times[f"{bot}: sync response -> answer PUT"].append(started - self._synced.get(bot, started))
                self.times[f"{bot}: answer PUT"].append(ended - started)
            return response
        client.send = timed

    def watch_calls(self, obj: object, names: tuple[str, ...], label: str) -> None:
        for name in names:
            if hasattr(obj, name):
                setattr(obj, name, self._timed(getattr(obj, name), f"{label}.{name}"))

    def _timed(self, call, label: str):
        if asyncio.iscoroutinefunction(call):
            @functools.wraps(call)
            async def timed_async(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return await call(*args, **kwargs)
                finally:
                    self.times[label].append(time.perf_counter() - started)
            return timed_async

        @functools.wraps(call)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.times[label].append(time.perf_counter() - started)
        return timed

    def print(self) -> None:
        print("Where the bots' time goes (median ms per call, calls counted):", file=sys.stderr)
        for label in sorted(self.times):
            values = self.times[label]
            print(f"  {label:44}{statistics.median(values) * 1000:>8.2f}{len(values):>7}", file=sys.stderr)


def _shape(path: str) -> str:
    """A request path without its ids (rooms, events, users, transaction ids)."""
    return "/".join(part if part.isalpha() or part in ("v3", "r0") or part.startswith("m.") else "*"
                    for part in path.split("/"))


async def round_trip(agent: Person, room: str, text: str) -> float:
    """Seconds from send to the first notice back; later notices of the same turn are drained."""
    while not agent.notices.empty():
        agent.notices.get_nowait()
    started = time.perf_counter()
    await agent.say(room, text)
    await agent.next_notice(timeout=30)
    elapsed = time.perf_counter() - started
    try:
        while True:
            await asyncio.wait_for(agent.notices.get(), 0.05)
    except TimeoutError:
        pass
    return elapsed


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": statistics.median(samples) * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


async def main(messages: int, runs: int, phases: bool) -> None:
    logging.basicConfig(level=logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    server = await asyncio.to_thread(start_synapse, folder / "synapse")
    config = load_config(ROOT / "config.example.yaml")
    knowledge, _ = load_knowledge(config)
    faq_questions = [e.questions[0] for e in knowledge.faq.entries if e.kind == "answer" and e.questions]
    questions = [q for n, faq_question in enumerate(faq_questions)
                 for q in (faq_question, *(PARAPHRASES * 2)[2 * n:2 * n + 2])]
    thresholds = config.semantic.thresholds[config.semantic.model_id]
    probe = HybridMatcher(knowledge.matcher.lexical, None, thresholds)  # the words' shortcut, without a model
    encoded = [q for q in questions if knowledge.matcher.lexical.weights(q) and not probe.settles(q)]
    settled = next(q for q in faq_questions if probe.settles(q))
    people: list[Person] = []
    bots: asyncio.subprocess.Process | None = None
    try:
        accounts = {name: [server.register(name, f"pw-{name}")["user_id"], f"pw-{name}"]
                    for name in ("echo", "helpdesk", "agent_echo", "agent_helpdesk", "agent_second")}
        bots = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--bots", json.dumps({"url": server.url, "folder": str(folder),
                                                            "accounts": accounts, "phases": phases}),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        if (await bots.stdout.readline()).strip() != b"ready":
            raise RuntimeError("the bots did not start (see their errors above)")
        rooms = {}
        for kind in ("echo", "helpdesk"):
            agent = await Person.login(server.url, *accounts[f"agent_{kind}"], folder / f"agent_{kind}")
            people.append(agent)
            rooms[kind] = (agent, await agent.create_room(accounts[kind][0]))
        second = await Person.login(server.url, *accounts["agent_second"], folder / "agent_second")
        people.append(second)
        rooms["second"] = (second, await second.create_room(accounts["helpdesk"][0]))
        for kind in rooms:  # warm-up: key exchange and the helpdesk's welcome
            await round_trip(*rooms[kind], "Bonjour")
        print(f"Reply round trip, encrypted DM, local Synapse: {messages} messages per bot and run "
              f"({len(questions)} distinct messages, {100 * len(encoded) / len(questions):.0f} % of them through "
              f"the encoder), alternating", flush=True)
        pooled: dict[str, list[float]] = {"echo": [], "helpdesk": []}
        for run in range(1, runs + 1):
            samples = await measure(rooms, questions, messages)
            report(f"run {run}", samples)
            for kind, values in samples.items():
                pooled[kind] += values
        if runs > 1:
            report(f"all {runs} runs", pooled)
        await second_agent_delay(rooms["helpdesk"], rooms["second"], settled)
    finally:
        for person in people:
            await person.close()
        if bots is not None:
            bots.stdin.close()  # the bots stop at end of input
            await bots.wait()
        await asyncio.to_thread(server.stop)
        shutil.rmtree(folder, ignore_errors=True)


async def serve_bots(setup: dict) -> None:
    """The bots' own process, as deployed: their work never runs on the agents' event loop."""
    logging.basicConfig(level=logging.ERROR)
    folder, accounts = Path(setup["folder"]), setup["accounts"]
    echo = EchoBot(setup["url"], *accounts["echo"], folder / "echo")
    await echo.start()
    config = load_config(ROOT / "config.example.yaml")
    helpdesk = await start(replace(config, homeserver=setup["url"], user_id=accounts["helpdesk"][0],
                                   password=accounts["helpdesk"][1], data_dir=folder / "helpdesk",
                                   allowed_domains=(), allowed_users=(), mediators_room=None, mediators=()),
                           timing=Timing())
    phases = Phases() if setup["phases"] else None
    if phases:
        phases.watch_http(echo.client, "echo")
        phases.watch_http(helpdesk.client, "helpdesk")
        phases.watch_calls(helpdesk.bot.helpdesk.engine, ("handle",), "engine")
        phases.watch_calls(helpdesk.store, Phases.STORE_CALLS, "store")
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)
    finally:
        await helpdesk.stop()
        await echo.stop()
        if phases:
            phases.print()


async def measure(rooms: dict[str, tuple[Person, str]], questions: list[str], messages: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"echo": [], "helpdesk": []}
    for i in range(messages):
        text = questions[i % len(questions)]
        for kind in ("echo", "helpdesk") if i % 2 == 0 else ("helpdesk", "echo"):
            samples[kind].append(await round_trip(*rooms[kind], text))
    return samples


async def second_agent_delay(first: tuple[Person, str], second: tuple[Person, str], settled: str,
                             times: int = 10) -> None:
    """A settled message sent alone, then sent while another agent's 600-character story encodes."""
    alone, during = [], []
    for _ in range(times):
        alone.append(await round_trip(*second, settled))
        story = asyncio.create_task(round_trip(*first, LONG_STORY[:600]))
        await asyncio.sleep(0.02)  # the story reaches the bot first
        during.append(await round_trip(*second, settled))
        await story
    delay = (statistics.median(during) - statistics.median(alone)) * 1000
    print(f"second agent, settled message: alone p50 {statistics.median(alone) * 1000:.1f} ms, while a "
          f"600-char story encodes p50 {statistics.median(during) * 1000:.1f} ms: delay {delay:.1f} ms (target <= 50)")


def report(title: str, samples: dict[str, list[float]]) -> None:
    stats = {kind: percentiles(values) for kind, values in samples.items()}
    print(f"{title:12}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for kind, row in stats.items():
        print(f"{kind:12}" + "".join(f"{row[p]:>10.1f}" for p in ("p50", "p95", "p99")))
    ratio = {p: stats["helpdesk"][p] / stats["echo"][p] for p in ("p50", "p95", "p99")}
    print(f"{'ratio':12}" + "".join(f"{ratio[p]:>10.2f}" for p in ("p50", "p95", "p99")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--phases", action="store_true", help="also print where the bots' time goes")
    parser.add_argument("--bots", help=argparse.SUPPRESS)  # internal: run the bots' process
    arguments = parser.parse_args()
    if arguments.bots:
        asyncio.run(serve_bots(json.loads(arguments.bots)))
    else:
        asyncio.run(main(arguments.messages, arguments.runs, arguments.phases))
