"""`helpdesk-bot console`, run for real: a subprocess fed one message per line on a pipe.

Each test gets its own data_dir (the SQLite store), with the repository's faq/ and flows/ and the
variables of config.example.yaml. Two runs on the same data_dir show that a flow survives a restart.
"""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.console import agent_id, describe
from bot.messages import FlowEvent, OpenTicket, RecordFeedback, Reply, TranscriptLine
from bot.texts import say

ROOT = Path(__file__).parent.parent
BOT = Path(sys.executable).parent / "helpdesk-bot"
WELCOME_FIRST_LINE = say("conversation.welcome", retention_days=90).splitlines()[0]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """config.example.yaml with data in tmp_path and the repository's FAQ and flows, words only
    (the semantic matcher is tested in test_hybrid.py; here every run would embed the FAQ anew)."""
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^data_dir: .*$", f"data_dir: {tmp_path / 'data'}", text)
    text = re.sub(r"(?m)^faq_dir: .*$", f"faq_dir: {ROOT / 'faq'}", text)
    text = re.sub(r"(?m)^flows_dir: .*$", f"flows_dir: {ROOT / 'flows'}", text)
    text = re.sub(r"(?m)^  encoder: bundled$", '  encoder: "off"', text)  # fresh process and data_dir each run
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run(config_file: Path, *messages: str, name: str = "Camille") -> list[str]:
    """The console's output lines for these messages (one per line on stdin)."""
    done = subprocess.run([str(BOT), "console", "-c", str(config_file), "--as", name],
                          input="".join(f"{m}\n" for m in messages), capture_output=True, text=True,
                          timeout=60, cwd=config_file.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_scripted_answer_and_feedback(config_file):
    lines = run(config_file, "ma boite mail est pleine", "oui")
    assert lines[0] == WELCOME_FIRST_LINE
    assert say("conversation.feedback_question") in lines
    assert lines[-2:] == [say("conversation.feedback_thanks"), "[feedback: mailbox.full helpful]"]


def test_a_flow_resumes_across_two_runs(config_file):
    first = run(config_file, "jai oublié de badger", "hier")
    assert "[flow started: badge.forgot_punch]" in first
    assert first[-3:] == ["1. L'arrivée", "2. Le départ", "3. Les deux"]
    second = run(config_file, "l'arrivée", "7h30", "non")
    assert WELCOME_FIRST_LINE not in second
    ticket = [line for line in second if line.startswith("[ticket opened:")]
    assert len(ticket) == 1 and re.fullmatch(
        r"\[ticket opened: badge\.forgot_punch date=\d{4}-\d\d-\d\d oubli=L'arrivée heure_arrivee=07:30\]", ticket[0])
    assert second[-1] == "[flow finished: badge.forgot_punch]"


def test_a_mediator_from_the_middle_of_a_flow(config_file):
    lines = run(config_file, "duplicata fiche de paie", "médiateur")
    assert lines[-3:] == ["Je préviens un médiateur : il vous répondra ici, du lundi au vendredi, de 8 h 30 à 17 h 30.",
                          "[ticket opened: payslip.duplicate]", "[flow cancelled: payslip.duplicate]"]


def test_each_name_has_its_own_conversation(config_file):
    run(config_file, "jai oublié de badger", name="Camille")
    other = run(config_file, "hier", name="Dominique")
    assert other[0] == WELCOME_FIRST_LINE and "[flow" not in " ".join(other)


def test_empty_lines_and_end_of_input(config_file):
    assert run(config_file, "", "   ")[-2:] == [say("conversation.not_understood")] * 2
    assert run(config_file) == []


AT = datetime(2025, 5, 14, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("action, shown", [
    (Reply(room="!r", text="Bonjour\nà vous"), "Bonjour\nà vous"),
    (OpenTicket(agent="@a:x", room="!r", reason="duplicata", topic="payslip.duplicate",
                fields={"mois": "2025-03,2025-04"},
                transcript=(TranscriptLine(time=AT, author="agent", text="x"),)),
     "[ticket opened: payslip.duplicate mois=2025-03,2025-04]"),
    (OpenTicket(agent="@a:x", room="!r", reason="L'agent demande à parler à un médiateur"),
     "[ticket opened: L'agent demande à parler à un médiateur]"),
    (FlowEvent(agent="@a:x", flow="badge.forgot_punch", event="started"), "[flow started: badge.forgot_punch]"),
    (RecordFeedback(agent="@a:x", topic="mailbox.full", helpful=True, time=AT), "[feedback: mailbox.full helpful]"),
    (RecordFeedback(agent="@a:x", topic="mailbox.full", helpful=False, time=AT), "[feedback: mailbox.full not helpful]"),
])
def test_describe(action, shown):
    assert describe(action) == shown


@pytest.mark.parametrize("name, agent", [("Camille", "@camille:console"), ("Jean Dupré", "@jean-dupre:console"),
                                         ("", "@agent:console")])
def test_agent_id(name, agent):
    assert agent_id(name) == agent
