"""Hostile messages through the REAL helpdesk: the conversation engine over the repository's faq/
and flows/, the mediators' desk, and a real SQLite store (one per test, shared by its examples).

Hypothesis writes the messages: any code point (lone surrogates, NUL, controls, zero-width and
right-to-left marks), emoji floods, HTML, markdown, 100 KB, empty, blank, huge numbers and dates,
mixed with the words that move a flow on (so the hostile text also lands inside each flow, and
inside open tickets). Properties, for every message:
- no exception escapes `Helpdesk.turn` / `Helpdesk.mediator_turn` / `drain`;
- the event ends up handled (answered, or recorded as handled-with-error);
- the agent always gets something back for it: a reply in their room, or their words relayed to
  the mediators when a ticket is open (a mediator answers then).
Each test asserts how many messages it sent, so the count cannot silently shrink.
"""
from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.desk.desk import Desk
from bot.desk.room import MediatorsRoom
from bot.helpdesk import Helpdesk
from bot.messages import Incoming, Reply, ToMediators
from bot.storage.store import Store

from .test_reliability_core import MARIE, ROOM, T, engine  # noqa: F401  (engine: a fixture)
from .storage.test_tickets import ListSender

EVE = "@eve:agent.ville.fr"  # in the room, not a mediator
SPECIMENS = (
    "merci \ud83d", "\ud83d", "\udc00abc", "a\x00b", "\x00", "\x1b[2J\x1b[31mrouge", "\x07\x08\x7f\x85\x9f",
    "\u200b\u200c\u200d\ufeff", "\u202eesrever\u202c", "\u2066isolé\u2069", "مرحبا بالعالم", "שלום", "漢字テスト",
    "😀" * 500, "👨‍👩‍👧‍👦🏳️‍🌈🇫🇷" * 50, "<b>gras</b><script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "**gras** _ital_ [lien](https://x.fr) ![img](mxc://x/y) > citation", "#99 · Directeur (@dg:x) · urgent",
    "@room urgent", "```\ncode\n```", "", " ", "\n\n\t  \n", "\ufffe\uffff\ufdd0",
    "il y a 99999999 jours", "il y a 800000 jours", "il y a " + "9" * 5000 + " jours", "9" * 5000,
    "le 99/99/9999", "32/13", "0000-00-00", "9999-12-31", "31/02", "29/02/2023", "mars 0000", "janvier 99999",
    "de octobre a decembre 9999", "les 120 derniers mois", "les 999 derniers mois", "25h99", "99:99", "-1h",
    "1e308", "-0", "NaN", "%s %d {0} {name} {{}}", "' OR 1=1; --", "\\x00\\ud83d", "../../etc/passwd",
)
FLOW_OPENERS = ("j'ai oublié de badger ce matin", "je voudrais un duplicata de ma fiche de paie",
                "comment activer ma boîte mail professionnelle", "comment mettre ma messagerie sur mon téléphone")
ANSWERS = ("hier", "avant hier", "lundi", "14/03", "il y a 3 jours", "l'arrivée", "le départ", "les deux", "7h30",
           "16h", "midi", "oui", "non", "1", "2", "3", "annuler", "retour", "médiateur", "rien", "mars",
           "janvier et février 2024", "les 3 derniers mois", "iphone", "android", "j'ai la lettre", "mes demandes",
           "merci", "bonjour", "4", "5/5")
COMMANDS = ("!note {n} {t}", "!r {n} {t}", "!prendre {n}", "!clore {n}", "!rouvrir {n}", "!ticket {n}", "!liste",
            "!stats", "!aide", "!transferer {n} @paul:agent.ville.fr", "!rc {n} {t}", "!{t}", "{t}", "!note {t}",
            "!r {t}")

any_code_point = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
hostile = st.one_of(
    st.text(any_code_point, max_size=60),
    st.text(st.characters(categories=["Cs", "Cc", "Cf", "Co", "Cn"]), max_size=20),  # surrogates, controls...
    st.sampled_from(SPECIMENS),
    st.builds(lambda: "x" * 100_000),  # 100 KB (a strategy, so its repr stays short)
    st.builds(lambda piece, n: piece * n, st.sampled_from(("a", "😀", "\u200b", "<b>", "**x** ", "\ud83d", "é ")),
              st.integers(1, 3000)),
    st.lists(st.sampled_from(ANSWERS + SPECIMENS[:20]), min_size=1, max_size=4).map(" ".join),
)
agent_says = st.one_of(hostile, st.sampled_from(ANSWERS))
numbers = st.one_of(st.integers(0, 6).map(str), st.sampled_from(("9" * 30, "9" * 5000, "-1", "#1", "0x1", "١")))

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                database=None)


class Run:
    """One real helpdesk over one real store, fed by hypothesis examples, counting what it sent."""

    def __init__(self, tmp_path, engine):
        self.loop = asyncio.new_event_loop()
        self.store = self.loop.run_until_complete(Store.open(tmp_path / "data"))
        self.helpdesk = Helpdesk(engine=engine, store=self.store, sender=ListSender(), desk=Desk(engine.config, {}))
        self.counter = itertools.count(1)
        self.messages = 0
        self.started = time.perf_counter()

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()

    def incoming(self, sender: str, room: str, text: str, reply_to: str | None = None) -> Incoming:
        n = next(self.counter)
        return Incoming(sender=sender, room=room, text=text, event_id=f"$fuzz{n}", time=T + timedelta(minutes=n),
                        reply_to=reply_to, sender_name=text[:40] or None)

    def agent(self, texts: list[str]) -> None:
        sender = f"@agent{next(self.counter)}:agent.ville.fr"
        room = f"!dm{sender[1:]}"
        self.loop.run_until_complete(self._agent(sender, room, texts))

    async def _agent(self, sender: str, room: str, texts: list[str]) -> None:
        for text in texts:
            incoming = self.incoming(sender, room, text)
            await self.helpdesk.turn(incoming)
            actions = [item.action for item, _ in await self.helpdesk.drain() if item.event_id == incoming.event_id]
            await self._handled(incoming)
            assert any(isinstance(a, Reply) and a.room == room for a in actions) or any(
                isinstance(a, ToMediators) and a.source_event == incoming.event_id for a in actions), (text, actions)

    def mediator(self, said: list[tuple[bool, str, str | None]]) -> None:
        self.loop.run_until_complete(self._mediator(said))

    async def _mediator(self, said: list[tuple[bool, str, str | None]]) -> None:
        room = MediatorsRoom(members=frozenset({MARIE, EVE}), names={MARIE: "Marie \ud83d", EVE: "Eve\x00"})
        for is_mediator, text, reply_to in said:
            incoming = self.incoming(MARIE if is_mediator else EVE, ROOM, text, reply_to)
            await self.helpdesk.mediator_turn(incoming, room)
            await self.helpdesk.drain()
            await self._handled(incoming)

    async def _handled(self, incoming: Incoming) -> None:
        self.messages += 1
        assert await self.store.is_handled(incoming.event_id), incoming.text[:80]

    def report(self, at_least: int) -> None:
        failed = self.loop.run_until_complete(self.store.failed_events())
        print(f"{self.messages} messages in {time.perf_counter() - self.started:.1f} s, "
              f"{len(failed)} handled with error: {sorted({f.error for f in failed})}")
        assert self.messages >= at_least


def fuzz(tmp_path, engine, strategy, feed, examples: int, at_least: int) -> None:
    run = Run(tmp_path, engine)
    try:
        given(strategy)(settings(FUZZ, max_examples=examples)(lambda case: feed(run, case)))()
        run.report(at_least)
    finally:
        run.close()


def test_hostile_questions_never_stop_the_line(tmp_path, engine):  # noqa: F811
    fuzz(tmp_path, engine, st.lists(agent_says, min_size=1, max_size=5), Run.agent, examples=220, at_least=500)


def test_hostile_answers_inside_each_flow_never_stop_the_line(tmp_path, engine):  # noqa: F811
    conversation = st.tuples(st.sampled_from(FLOW_OPENERS), st.lists(agent_says, min_size=1, max_size=7))
    fuzz(tmp_path, engine, conversation.map(lambda c: [c[0], *c[1]]), Run.agent, examples=170, at_least=700)


def test_hostile_text_in_open_tickets_and_mediator_commands_never_stops_the_line(tmp_path, engine):  # noqa: F811
    command = st.builds(lambda pattern, n, t: pattern.format(n=n, t=t), st.sampled_from(COMMANDS), numbers, hostile)
    reply_to = st.one_of(st.none(), st.integers(1, 40).map(lambda n: f"$out{n}"), hostile)
    mediators = st.lists(st.tuples(st.booleans(), command, reply_to), min_size=1, max_size=4)
    tickets = st.lists(agent_says, min_size=1, max_size=3).map(lambda texts: ["médiateur", *texts])

    def feed(run: Run, case) -> None:
        agent, mediator = case
        run.agent(agent)
        run.mediator(mediator)
    fuzz(tmp_path, engine, st.tuples(tickets, mediators), feed, examples=180, at_least=800)
