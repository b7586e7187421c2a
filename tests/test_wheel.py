"""The installed package, not the checkout: an editable install finds every data file in the source tree,
so a YAML file missing from pyproject.toml's package data would only show on a real install.

The wheel is built from a copy of bot/ (a stale build/ folder cannot fill the gap), installed without
-e into a fresh venv that borrows this venv's dependencies (a .pth line, no download), and run from a
folder outside the checkout, with the FAQ and flows given explicitly.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_its_data_and_checks_the_faq(tmp_path: Path):
    source = tmp_path / "source"
    shutil.copytree(ROOT / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", str(source), "-w", str(tmp_path / "dist")], check=True)
    wheel, = (tmp_path / "dist").glob("*.whl")

    data = {str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("*")
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    assert data - set(zipfile.ZipFile(wheel).namelist()) == set(), "add them to package data in pyproject.toml"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], check=True)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^data_dir: .*$", f"data_dir: {outside / 'data'}", text)
    text = re.sub(r"(?m)^faq_dir: .*$", f"faq_dir: {ROOT / 'faq'}", text)
    text = re.sub(r"(?m)^flows_dir: .*$", f"flows_dir: {ROOT / 'flows'}", text)
    (outside / "config.yaml").write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}

    where = subprocess.run([str(python), "-c", "import bot.answering.faq as m; print(m.__file__)"],
                           cwd=outside, env=env, check=True, capture_output=True, text=True).stdout
    assert Path(where.strip()).is_relative_to(venv), where
    done = subprocess.run([str(venv / "bin" / "helpdesk-bot"), "faq", "check", "-c", "config.yaml"],
                          cwd=outside, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(r"OK : \d+ entrées, [1-9]\d* parcours, [1-9]\d* exemples vérifiés\.\n", done.stdout), done.stdout
