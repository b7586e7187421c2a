"""The head of the service's report, opened as a person would: in headless Chromium (Debian's
`chromium`, driven by playwright over the DevTools protocol, no browser downloaded), on a phone-sized
and a desktop-sized screen. No console error, every chart drawn at its size, nothing fetched from
outside, and no agent named or quoted."""
from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from benchmarks import report as bench
from benchmarks.scripted_run import LOST_NAVIGO, OTHER_NEEDS
from bot.config import load_config
from bot.reporting import cli
from bot.reporting.report import working_time

ROOT = Path(__file__).parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)  # a Friday
DAYS = 30


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    config = dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=folder)

    async def make() -> str:
        await bench.fill(folder, agents=150, days=40, now=NOW)
        return await cli.report(config, days=DAYS, now=NOW)
    path = folder / "rapport.html"
    path.write_text(asyncio.run(make()), encoding="utf-8")
    return path


def test_the_page_is_self_contained_and_quotes_no_one(page_file):
    html = page_file.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<img|@import|url\(|https?://(?!www\.w3\.org/2000/svg)", html)
    assert "@agent" not in html  # no user id
    assert not any(text in html for need in (LOST_NAVIGO, *OTHER_NEEDS) for text in need)  # no agent's sentence
    assert "navigo" in html  # ...but the words a gap shares
    assert len(html.encode()) < 1024 * 1024


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by .ci/run")
@pytest.mark.parametrize("width, height", [(390, 844), (1280, 900)])
def test_chromium_draws_every_chart_without_a_console_error(page_file, tmp_path, width, height):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            charts = page.query_selector_all("svg.chart")
            assert len(charts) == 4
            sizes = [c.bounding_box() for c in charts]
            for box in sizes:  # fits the screen, and is drawn
                assert 0 < box["width"] <= width and box["height"] > 0
            bars = [len(c.query_selector_all("rect.bar")) for c in charts]
            assert bars[0] == DAYS  # one bar per day
            assert bars[3] % 2 == 0  # opened and closed, per week
            assert all(bars)
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert (tmp_path / "report.png").stat().st_size > 10_000
            assert errors == []
            assert requests == [page_file.as_uri()]
        finally:
            browser.close()


def test_times_are_counted_in_working_hours():
    config = load_config(ROOT / "config.example.yaml")
    friday_evening = datetime(2026, 11, 27, 17, 30, tzinfo=timezone.utc)  # 18:30 in Paris
    monday_morning = datetime(2026, 11, 30, 8, 30, tzinfo=timezone.utc)  # 9:30 in Paris
    hours = config.working_hours
    opens = hours.start.hour * 60 + hours.start.minute
    expected = timedelta(minutes=max(0, 9 * 60 + 30 - opens))
    assert working_time(friday_evening, monday_morning, config) == expected
