"""The `helpdesk-bot faq` commands as a script or an evaluator would call them.

`faq match --jsonl` is a contract for other tools: one JSON object per input line, in order,
with exactly the keys below; these tests hold it to that. The commands run as subprocesses
from the project root with the example config and the real faq/.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CLI = ROOT / ".venv" / "bin" / "helpdesk-bot"
DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.yaml"  # shared/ lies beside the project
KEYS = {"question", "decision", "id", "score", "candidates"}

LINES = [
    "jai perdu mon badge",
    "",
    "Bonjour !",
    "mdp messagerie oublié, je fais comment ?",
    "la météo de demain à Lyon",
    "   ",
    "« guillemets » et émojis 👍",
    "remboursement navigo",
]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "faq", *args, "-c", "config.example.yaml"], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def matched() -> list[dict]:
    result = run("match", "--jsonl", stdin="".join(f"{line}\n" for line in LINES))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_one_object_per_line_in_the_same_order(matched):
    assert [obj["question"] for obj in matched] == LINES


def test_exact_keys(matched):
    assert [set(obj) for obj in matched] == [KEYS] * len(LINES)


def test_decision_is_answer_clarify_or_none(matched):
    assert {obj["decision"] for obj in matched} <= {"answer", "clarify", "none"}


def test_id_is_null_exactly_when_decision_is_none(matched):
    assert all((obj["decision"] == "none") == (obj["id"] is None) for obj in matched)
    assert {obj["decision"] for obj in matched} >= {"answer", "none"}  # both cases were exercised


def test_id_is_the_first_candidate_when_there_is_one(matched):
    for obj in matched:
        if obj["id"] is not None:
            assert obj["id"] == obj["candidates"][0]["id"]
            assert obj["score"] == obj["candidates"][0]["score"]


def test_candidates_are_at_most_three_with_id_and_score(matched):
    for obj in matched:
        assert len(obj["candidates"]) <= 3
        assert all(set(c) == {"id", "score"} and isinstance(c["id"], str) for c in obj["candidates"])
        scores = [c["score"] for c in obj["candidates"]]
        assert scores == sorted(scores, reverse=True)


def test_scores_are_between_0_and_100(matched):
    scores = [obj["score"] for obj in matched] + [c["score"] for obj in matched for c in obj["candidates"]]
    assert all(isinstance(s, (int, float)) and 0 <= s <= 100 for s in scores)


def test_empty_and_blank_lines_are_none(matched):
    assert [matched[i] for i in (1, 5)] == [
        {"question": "", "decision": "none", "id": None, "score": 0.0, "candidates": []},
        {"question": "   ", "decision": "none", "id": None, "score": 0.0, "candidates": []},
    ]


def test_clear_questions_get_their_answer(matched):
    assert [(matched[i]["decision"], matched[i]["id"]) for i in (0, 2, 3, 7)] == [
        ("answer", "badge.lost_card"),
        ("answer", "smalltalk.greeting"),
        ("answer", "mailbox.password_forgotten"),
        ("answer", "transport.reimbursement"),
    ]


def test_out_of_scope_is_none(matched):
    assert matched[4]["decision"] == "none"


def test_non_ascii_text_comes_back_unchanged(matched):
    assert matched[6]["question"] == "« guillemets » et émojis 👍"


def test_no_input_no_output():
    result = run("match", "--jsonl", stdin="")
    assert (result.returncode, result.stdout) == (0, "")


def test_windows_line_endings_are_not_echoed():
    result = run("match", "--jsonl", stdin="badge perdu\r\n")
    assert json.loads(result.stdout)["question"] == "badge perdu"


def test_ask_prints_the_decision_and_the_ranking():
    result = run("ask", "j'ai perdu mon badge")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "décision : réponse (answer)"
    assert lines[1].split() == ["100.0", "badge.lost_card"]
    assert "pourquoi : les mots suffisent (score 100.0 ≥ 80.0) : le sens n'est pas calculé" in lines
    assert lines[-1].startswith("termes : ")


def test_ask_out_of_scope_says_none():
    result = run("ask", "quel temps fera-t-il demain")
    assert result.stdout.splitlines()[0] == "décision : pas de réponse (un médiateur est proposé) (none)"


@pytest.mark.skipif(not DEV_SET.exists(), reason="shared dev set not available")
def test_eval_prints_the_summary_lines():
    result = run("eval", str(DEV_SET))
    assert result.returncode == 0, result.stderr
    summary = result.stdout.splitlines()[-2:]
    assert summary[0].startswith("in-scope: ") and "correct" in summary[0] and "missed" in summary[0]
    assert summary[1].startswith("out-of-scope: ") and "false answers" in summary[1]
