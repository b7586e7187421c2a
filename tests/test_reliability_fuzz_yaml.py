"""YAML that explains instead of crashing: the real faq/*.yaml and flows/*.yaml, mutated the way an
author's slip (or a hostile file) would, go through the loaders of `faq check`. Whatever comes in,
nothing raises and every problem names its file and line. Then the three places where a file is
read: `faq check`, the start, and the hot reload (which keeps the last good version)."""
from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import load_config
from bot.conversation.engine import build_engine
from bot.errors import DataError, Problem
from bot.answering.faq import load_faq_text
from bot.conversation.flows.loading import load_flows_text
from bot.conversation.knowledge import load_knowledge, reload
from bot.answering.lexicon import load_lexicon_text
from bot.answering.matching import Matcher
from bot.answering.lexicon import Lexicon
from bot.yamlfile import MAX_BYTES, MAX_DEPTH

ROOT = Path(__file__).parent.parent
CONFIG = load_config(ROOT / "config.example.yaml")
SOURCES = {path.name: path.read_text(encoding="utf-8")
           for path in sorted([*(ROOT / "faq").glob("*.yaml"), *(ROOT / "flows").glob("*.yaml")])}

INSERTS = ("? [a, b]\n: x", "? {a: 1}\n: y", "1: un", "no: non", "~: vide", "null: rien", "3.5: x",
           "ancre: &a [x, y]", "alias: *a", "<<: *a", "a: &a [*a, *a]", "- &b x", "- *b", "clé: !!python/object x",
           "x: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), "\tclé: tab", "n: " + "9" * 5000,
           "d: 2025-13-45", "b: !!binary Zm9v", "s: !!set {a, b}", "t: 2025-03-14", "{", "]", "- - - -", ": x",
           "\"non fermé", "x: 'a", "%YAML 1.1", "---", "...", "x: |\n  bloc\n pas aligné", "id: [liste]",
           "titre: {a: b}", "questions: 12", "etapes: texte", "entrees: ~", "type: 7", "suite: [1, 2]",
           "choix: {texte: x}", "si: - a = b: c", "reponse:", "questions:\n  - [a, b]\n  - {c: d}")


def deep(depth: int) -> str:
    return "".join("  " * i + "- \n" for i in range(depth)) + "  " * depth + "x"


@st.composite
def mutated(draw) -> tuple[str, str]:
    """A real file, with one to four slips: lines deleted, duplicated, shifted, or odd lines put in."""
    name = draw(st.sampled_from(sorted(SOURCES)))
    lines = SOURCES[name].split("\n")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        kind = draw(st.sampled_from(("delete", "duplicate", "indent", "dedent", "insert", "insert", "tab",
                                     "deep", "cut", "char")))
        if kind == "delete" and lines:
            del lines[at]
        elif kind == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif kind == "indent" and lines:
            lines[at] = " " * draw(st.integers(1, 6)) + lines[at]
        elif kind == "dedent" and lines:
            lines[at] = lines[at].lstrip()
        elif kind == "insert":
            indent = " " * draw(st.sampled_from((0, 2, 4, 6)))
            lines.insert(at, indent + draw(st.sampled_from(INSERTS)).replace("\n", "\n" + indent))
        elif kind == "tab" and lines:
            lines[at] = "\t" + lines[at]
        elif kind == "deep" and draw(st.booleans()):
            lines.insert(at, deep(draw(st.integers(MAX_DEPTH - 3, MAX_DEPTH * 3))))
        elif kind == "deep":  # brackets: deep enough for Python's recursion limit
            depth = draw(st.integers(MAX_DEPTH - 3, 3000))
            lines.insert(at, draw(st.sampled_from(("x: ", "- ", ""))) + "[" * depth + "]" * depth)
        elif kind == "cut":
            lines = lines[:at]
        elif kind == "char" and lines:
            line = lines[at]
            where = draw(st.integers(0, len(line)))
            lines[at] = line[:where] + draw(st.sampled_from(":-[]{}&*!|>'\"#%@`,?\x00\ufeff")) + line[where:]
    return name, "\n".join(lines)


def load(name: str, text: str) -> list[Problem]:
    """What `faq check` does with this one file (the FAQ's entries also build a matcher)."""
    if name.startswith(("badge.", "mailbox.", "payslip.")):
        return load_flows_text(text, name, CONFIG.variables)[1]
    if name == "lexique.yaml":
        return load_lexicon_text(text, name)[1]
    faq, problems = load_faq_text(text, CONFIG.variables, name)
    Matcher(faq, Lexicon(), CONFIG.thresholds).decide("mon badge ne marche pas")
    return problems


def assert_explained(name: str, problems: list[Problem]) -> None:
    for problem in problems:
        assert isinstance(problem, Problem) and problem.file == name, problem
        assert isinstance(problem.line, int) and problem.line >= 1, problem
        assert str(problem).startswith(f"{name}:{problem.line}: ") and problem.message.strip(), problem


FUZZ = settings(max_examples=320, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


@FUZZ
@given(mutated())
def test_mutated_files_never_raise_and_each_problem_has_file_and_line(case):
    name, text = case
    assert_explained(name, load(name, text))


@FUZZ
@given(mutated())
def test_more_mutated_files_never_raise_and_each_problem_has_file_and_line(case):
    name, text = case  # a second batch: 640 files in all, each test under the time a CI run allows
    assert_explained(name, load(name, text))


def test_the_slips_of_the_issue_each_give_one_french_problem_at_their_line():
    base = SOURCES["transport.yaml"]
    for slip, word in (("? [a, b]\n: x\n", "clé invalide"), ("1: un\n", "entre guillemets"),
                       ("autre: deux\n1: un\n", "entre guillemets"),  # mixed key types (sorted() raised)
                       ("x: " + "[" * 3000 + "]" * 3000 + "\n", "imbrications"),  # RecursionError before
                       ("a: &a [x]\nb: *a\n", "ancre"), (deep(MAX_DEPTH + 1) + "\n", "imbrications"),
                       ("n: " + "9" * 5000 + "\n", "illisible")):
        [problem] = load("transport.yaml", slip + base)
        assert word in problem.message and problem.line <= slip.count("\n") + 1, (slip[:20], problem)


def test_an_alias_bomb_is_refused_at_once():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    started = time.perf_counter()
    [problem] = load("transport.yaml", bomb)
    assert time.perf_counter() - started < 1 and "ancre" in problem.message


# --- the three places where a file is read ---------------------------------------------------------

def copy_data(tmp_path: Path):
    shutil.copytree(ROOT / "faq", tmp_path / "faq")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    return dataclasses.replace(CONFIG, faq_dir=tmp_path / "faq", flows_dir=tmp_path / "flows",
                               data_dir=tmp_path / "data")


def test_faq_check_lists_problems_without_a_traceback_and_a_20_mb_file_is_refused_at_once(tmp_path):
    config = copy_data(tmp_path)
    (config.faq_dir / "enorme.yaml").write_text("entrees:\n" + "  - id: x\n" * 2_000_000, encoding="utf-8")
    (config.faq_dir / "cles.yaml").write_text("entrees:\n  - ? [a, b]\n    : x\n  - 1: y\n", encoding="utf-8")
    (config.flows_dir / "profond.yaml").write_text("id: x\n" + deep(500), encoding="utf-8")
    config_file = tmp_path / "config.yaml"
    config_file.write_text((ROOT / "config.example.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "helpdesk-bot"), "faq", "check", "-c", str(config_file),
                           "--faq", str(config.faq_dir)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert time.perf_counter() - started < 10
    out = done.stdout
    assert f"{config.faq_dir / 'enorme.yaml'}:1: fichier trop gros" in out
    assert f"{config.faq_dir / 'cles.yaml'}:2: clé invalide" in out
    assert (config.faq_dir / "enorme.yaml").stat().st_size > 20 * MAX_BYTES


def test_at_start_a_bad_file_is_a_data_error_and_a_hot_reload_keeps_the_last_good_version(tmp_path, caplog):
    config = copy_data(tmp_path)
    good, problems = load_knowledge(config)
    assert problems == []
    (config.faq_dir / "paie.yaml").write_text("entrees:\n  - ? [a, b]\n    : x\n", encoding="utf-8")
    (config.flows_dir / "badge.forgot_punch.yaml").write_text("id: a\nb: &x 1\nc: *x\n", encoding="utf-8")
    caplog.set_level(logging.ERROR)
    assert reload(config, good, logging.getLogger("test")) is good
    assert "paie.yaml:2: clé invalide" in caplog.text and "badge.forgot_punch.yaml:2: ancre" in caplog.text
    try:
        build_engine(config)
    except DataError as error:
        assert {p.line for p in error.problems} >= {2}
    else:
        raise AssertionError("a broken FAQ must stop the start with its problems")
