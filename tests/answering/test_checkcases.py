"""The authors' safety net: faq/exemples-a-verifier.yaml run by `faq check` and by the hot reload.

The story of the issue: an author adds « j'ai perdu mon pass navigo » as a way to ask for a lost
badge; the case that says this message must get no answer now fails, at its line, and a running
bot keeps the previous FAQ and tells the mediators' room why.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from bot.answering.checkcases import Case, load_cases, verdict
from bot.config import load_config
from bot.answering.faq import CASES_FILE
from bot.conversation.knowledge import load_knowledge, reload_checked
from bot.answering.matching import Candidate, Decision

ROOT = Path(__file__).parents[2]
LOST_BADGE_QUESTION = "      - j'ai perdu mon badge\n"


def copy(tmp_path: Path):
    faq, flows = tmp_path / "faq", tmp_path / "flows"
    shutil.copytree(ROOT / "faq", faq)
    shutil.copytree(ROOT / "flows", flows)
    config = dataclasses.replace(load_config(ROOT / "config.example.yaml"), faq_dir=faq, flows_dir=flows,
                                 data_dir=tmp_path / "data")
    return config, faq


def case_line(faq: Path, message: str) -> int:
    lines = (faq / CASES_FILE).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip() == f"- message: {message}")


def steal_navigo(faq: Path) -> None:
    path = faq / "badgeuse.yaml"
    text = path.read_text(encoding="utf-8")
    assert LOST_BADGE_QUESTION in text
    path.write_text(text.replace(LOST_BADGE_QUESTION, LOST_BADGE_QUESTION + "      - j'ai perdu mon pass navigo\n"),
                    encoding="utf-8")


def test_the_repository_passes_its_own_cases_and_has_about_sixty():
    config = load_config(ROOT / "config.example.yaml")
    knowledge, problems = load_knowledge(config)
    cases, _ = load_cases(ROOT / "faq" / CASES_FILE, {e.id for e in knowledge.faq.entries})
    assert problems == [] and len(cases) >= 55
    assert {c.topic for c in cases} == {e.id for e in knowledge.faq.entries} | {None}  # every topic, and "aucun"


def test_an_example_that_steals_another_case_is_a_problem_at_the_case(tmp_path):
    config, faq = copy(tmp_path)
    steal_navigo(faq)
    _, problems = load_knowledge(config)
    line = case_line(faq, "j'ai perdu mon pass navigo")
    assert [str(p) for p in problems] == [
        f"{faq / CASES_FILE}:{line}: exemple « j'ai perdu mon pass navigo » : attendu aucune réponse, "
        "obtenu la réponse de badge.lost_card (score 100)"]


def test_a_topic_that_gets_no_answer_is_a_problem(tmp_path):
    config, faq = copy(tmp_path)
    (faq / CASES_FILE).write_text("exemples:\n  - message: la piscine est fermée\n    sujet: mailbox.full\n",
                                  encoding="utf-8")
    _, problems = load_knowledge(config)
    assert [str(p) for p in problems] == [
        f"{faq / CASES_FILE}:2: exemple « la piscine est fermée » : attendu mailbox.full, obtenu aucune réponse"]


def test_a_case_naming_an_unknown_topic_or_written_wrong(tmp_path):
    path = tmp_path / CASES_FILE
    path.write_text("exemples:\n  - message: badge perdu\n    sujet: badge.perdu\n  - message: rien\n",
                    encoding="utf-8")
    _, problems = load_cases(path, {"badge.lost_card"})
    assert [f"{p.line}: {p.message}" for p in problems] == [
        "3: sujet « badge.perdu » inconnu : mettez l'id d'une entrée de la FAQ, ou « aucun »",
        "4: un exemple s'écrit « - message: la phrase d'un agent » puis, dessous, « sujet: id du sujet » "
        "(ou « sujet: aucun »)"]


def _decision(kind: str, *ids: str) -> Decision:
    return Decision(kind=kind, candidates=tuple(Candidate(id=i, score=90.0 - n) for n, i in enumerate(ids)))


@pytest.mark.parametrize("topic, decision, fine", [
    ("a", _decision("answer", "a", "b"), True),
    ("a", _decision("clarify", "b", "a"), True),        # the agent picks it among the choices
    ("a", _decision("clarify", "b", "c"), False),
    ("a", _decision("answer", "b", "a"), False),        # a confident answer for another topic
    ("a", _decision("none", "a"), False),
    (None, _decision("none", "a"), True),
    (None, _decision("clarify", "a", "b"), True),       # asking is harmless for an out-of-scope message
    (None, _decision("answer", "a"), False),
])
def test_what_makes_a_case_fail_survives_a_matcher_that_scores_differently(topic, decision, fine):
    case = Case(message="m", topic=topic, file="f", line=1)
    assert (verdict(case, decision) is None) is fine


def test_the_hot_reload_keeps_the_last_good_version_when_a_case_breaks(tmp_path, caplog):
    import logging
    config, faq = copy(tmp_path)
    good, problems = load_knowledge(config)
    assert problems == []
    steal_navigo(faq)
    kept, problems = reload_checked(config, good, logging.getLogger("bot.test"))
    assert kept is good and len(problems) == 1
    assert good.matcher.decide("j'ai perdu mon pass navigo").kind != "answer"


async def test_a_running_bot_tells_the_mediators_room_why_an_edit_was_refused(homeserver, tmp_path, caplog):
    from bot.matrix import start
    from ..conftest import FAST
    from ..matrix.test_engine import _copy_knowledge, _wait_for_log, engine_config
    from ..matrix.test_tickets import Member
    marie = await Member.named(homeserver, tmp_path, "marie", "Marie [Mairie]")
    faq, flows = _copy_knowledge(tmp_path)
    config = dataclasses.replace(engine_config(homeserver, tmp_path / "bot", faq_dir=faq, flows_dir=flows),
                                 mediators=(marie.user_id,))
    bot = await start(config, timing=FAST, reload_every=0.2)
    try:
        await marie.join_invited(bot.bot.config.mediators_room)
        steal_navigo(faq)
        await _wait_for_log(caplog, "the bot keeps the last good version")
        notice = await marie.notice("⚠️ Modification de la FAQ refusée (1 problème(s)) : l'assistant garde la "
                                    "version précédente.")
        line = case_line(faq, "j'ai perdu mon pass navigo")
        assert f"exemples-a-verifier.yaml:{line}: exemple « j'ai perdu mon pass navigo » : attendu aucune " \
               "réponse, obtenu la réponse de badge.lost_card" in notice.body
    finally:
        await bot.stop()


def test_a_matcher_out_of_reach_is_said_and_does_not_refuse_the_edit(tmp_path, caplog):
    from bot.answering.checkcases import check

    def unreachable(text):
        raise ConnectionError("encodeur distant injoignable (127.0.0.1:9)")
    config, faq = copy(tmp_path)
    assert check(faq, {"badge.lost_card", "mailbox.full"} | {e.id for e in load_knowledge(config)[0].faq.entries},
                 unreachable) == []
    assert "exemples non vérifiés : le moteur de recherche ne répond pas (encodeur distant injoignable" in caplog.text
