"""The decision log, through the real engine, desk and SQLite store: what a FAQ author will read
in `faq gaps` and the head of the service in the report, and what retention leaves of it."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_config
from bot.conversation.engine import build_engine
from bot.desk.desk import Desk
from bot.helpdesk import Helpdesk
from bot.storage.store import Store

from benchmarks.scripted_run import NullSender, WithVector

ROOT = Path(__file__).parents[2]
START = datetime(2025, 5, 14, 9, 0, tzinfo=timezone.utc)
CAMILLE = "@camille.durand:agent.ville.example.fr"
YANIS = "@yanis.martin:agent.ville.example.fr"


def config(tmp_path: Path):
    return dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=tmp_path)


class Line:
    """Agents writing to the bot through the same Helpdesk as on Matrix; one minute between messages."""

    def __init__(self, store: Store, cfg):
        self.store = store
        self.helpdesk = Helpdesk(engine=build_engine(cfg), store=store, sender=NullSender(), desk=Desk(cfg, {}))
        self.time = START
        self.count = 0

    async def say(self, agent: str, text: str, *, after: timedelta = timedelta(minutes=1), vector=None) -> None:
        self.time += after
        self.count += 1
        incoming = WithVector(sender=agent, room=f"!dm-{agent}", text=text, event_id=f"$e{self.count}",
                              time=self.time, vector=vector)
        await self.helpdesk.handle(incoming)


@pytest.fixture
async def line(tmp_path):
    store = await Store.open(tmp_path)
    try:
        yield Line(store, config(tmp_path))
    finally:
        await store.close()


async def logged(line: Line) -> list:
    return await line.store.decisions(START - timedelta(days=1))


async def test_every_message_is_logged_under_a_pseudonym_with_its_outcome(line):
    await line.say(CAMILLE, "ma boite mail est pleine")
    await line.say(YANIS, "quelle est la recette de la tarte aux pommes")
    rows = await logged(line)
    assert [(r.outcome, r.topic, r.text) for r in rows] == [
        ("answer", "mailbox.full", "ma boite mail est pleine"),
        ("none", rows[1].topic, "quelle est la recette de la tarte aux pommes")]
    assert rows[0].score == 100.0
    assert rows[0].agent == await line.store.pseudonym(CAMILLE) != rows[1].agent
    assert "camille" not in rows[0].agent
    async with line.store._db.execute("SELECT COUNT(*) FROM decisions WHERE agent LIKE '%camille%'") as cursor:
        assert (await cursor.fetchone())[0] == 0


@pytest.mark.parametrize("reply", ["non", "👎"])
async def test_a_no_after_an_answer_marks_that_answer_rejected(line, reply):
    await line.say(CAMILLE, "ma boite mail est pleine")
    await line.say(CAMILLE, reply)
    answer, feedback = await logged(line)
    assert (answer.outcome, answer.followup) == ("answer", "rejected")
    assert (feedback.outcome, feedback.text) == ("reply", None)  # "non" itself is nobody's question


async def test_a_yes_marks_it_helpful(line):
    await line.say(CAMILLE, "ma boite mail est pleine")
    await line.say(CAMILLE, "oui merci")
    assert (await logged(line))[0].followup == "helpful"


async def test_a_clarification_picked_or_not(line):
    await line.say(CAMILLE, "probleme de paie")
    await line.say(CAMILLE, "2")
    await line.say(YANIS, "probleme de paie")
    await line.say(YANIS, "ma boite mail est pleine")  # none of the offered topics: a gap
    rows = await logged(line)
    assert [(r.outcome, r.followup) for r in rows] == [
        ("clarify", "picked"), (rows[1].outcome, None), ("clarify", "unpicked"), ("answer", None)]
    assert rows[1].outcome in ("answer", "ticket")  # the second offered topic, whichever it is
    assert rows[1].topic.startswith("payslip.") and rows[1].text is None  # a pick's words are not kept


async def test_a_no_that_answers_a_flow_question_is_not_feedback(line):
    await line.say(CAMILLE, "activer ma boite mail")
    await line.say(CAMILLE, "non")
    rows = await logged(line)
    assert [(r.outcome, r.topic, r.followup, r.text) for r in rows] == [
        ("flow", "mailbox.activate", None, "activer ma boite mail"),
        ("ticket", "mailbox.activate", None, None)]  # no letter: a mediator; a slot's value is never kept


async def test_the_vector_of_the_message_is_kept_as_float32(line):
    vector = np.linspace(-1, 1, 384, dtype=np.float32)
    vector /= np.linalg.norm(vector)
    await line.say(CAMILLE, "ma boite mail est pleine", vector=vector)
    [row] = await logged(line)
    assert np.array_equal(np.frombuffer(row.vector, dtype="<f4"), vector)


async def test_retention_erases_words_and_vectors_and_keeps_the_counts(line):
    await line.say(CAMILLE, "ma boite mail est pleine", vector=np.ones(4, dtype=np.float32) / 2)
    await line.say(CAMILLE, "non")
    assert (await line.store.purge(START + timedelta(days=30), 90))["decision texts"] == 0
    assert (await logged(line))[0].text is not None
    erased = await line.store.purge(START + timedelta(days=91), 90)
    assert erased["decision texts"] == 1
    rows = await logged(line)
    assert [(r.outcome, r.topic, r.followup, r.text, r.vector) for r in rows] == [
        ("answer", "mailbox.full", "rejected", None, None), ("reply", "mailbox.full", None, None, None)]


async def test_the_pseudonym_key_survives_a_restart_and_differs_between_stores(tmp_path):
    first = await Store.open(tmp_path / "a")
    name = await first.pseudonym(CAMILLE)
    await first.close()
    again = await Store.open(tmp_path / "a")
    other = await Store.open(tmp_path / "b")
    try:
        assert await again.pseudonym(CAMILLE) == name != await other.pseudonym(CAMILLE)
    finally:
        await again.close()
        await other.close()
