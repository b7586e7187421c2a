"""The report on a big store: 90 days of a line used by 1,000 agents; prints the time and the size.

    .venv/bin/python benchmarks/report.py [--agents 1000] [--days 90] [--html FILE]

The store is written directly (decision log, feedback, tickets with replies, closures and marks,
working-hours shaped), through the real schema and migrations: the turns themselves are measured
elsewhere (benchmarks/roundtrip.py). Then `helpdesk-bot report` is timed as the head of the
service's weekly run would do it. Target: the page stays under 1 MB. Also the data of the
README's screenshot: --agents 150 --days 30 --fixed --screenshot docs/report.png.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scripted_run import LOST_NAVIGO, OTHER_NEEDS  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.reporting import cli  # noqa: E402
from bot.storage.store import Store  # noqa: E402

TOPICS = ["mailbox.password_forgotten", "badge.forgot_punch", "payslip.online_access", "mailbox.full",
          "badge.lost_card", "transport.reimbursement", "mailbox.activate", "badge.balance", "hr.contact",
          "payslip.duplicate", "mailbox.phone_setup", "transport.proof"]
OUTCOMES = [("answer", 50), ("flow", 12), ("smalltalk", 8), ("clarify", 8), ("none", 7), ("ticket", 4),
            ("reply", 8), ("flow_step", 3)]


def _when(rng: random.Random, day: datetime) -> datetime:
    """Mostly office hours on weekdays, some evenings and weekends."""
    hour = rng.choice([7, 8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17, 19, 21])
    return day + timedelta(hours=hour - 2, minutes=rng.randrange(60))


async def fill(folder: Path, *, agents: int, days: int, now: datetime, seed: int = 3) -> int:
    rng = random.Random(seed)
    store = await Store.open(folder)
    names = [await store.pseudonym(f"@agent{n}:ville.example.fr") for n in range(agents)]
    weights = [w for _, w in OUTCOMES]
    decisions, feedback, tickets = [], [], []
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    needs = [LOST_NAVIGO, *OTHER_NEEDS]
    for d in range(days + 1):
        day = start + timedelta(days=d)
        per_day = rng.randint(20, 40) if day.weekday() >= 5 else rng.randint(180, 320)
        for _ in range(per_day):
            moment = _when(rng, day)
            if moment > now:
                continue
            agent = rng.choice(names)
            outcome = rng.choices([o for o, _ in OUTCOMES], weights)[0]
            topic = rng.choice(TOPICS[: rng.randint(1, len(TOPICS))])
            text, followup = None, None
            if outcome == "answer":
                followup = rng.choices([None, "helpful", "rejected"], [5, 4, 1])[0]
                if followup:
                    feedback.append((agent, topic, int(followup == "helpful"), moment.isoformat()))
            if outcome in ("none", "clarify") and now - moment < timedelta(days=30):
                text = rng.choice(rng.choice(needs))  # words only inside retention, as purge leaves them
            decisions.append((moment.isoformat(), agent, outcome, topic, rng.uniform(20, 100), followup, text))
            if outcome == "ticket":
                first = moment + timedelta(minutes=rng.randint(5, 600))
                closed = first + timedelta(hours=rng.randint(1, 72)) if rng.random() < 0.9 else None
                closed = closed if closed and closed < now else None
                tickets.append((len(tickets) + 1, agent, "!dm", "closed" if closed else "open", topic, "demande",
                                "{}", moment.isoformat(), (closed or first).isoformat(),
                                closed.isoformat() if closed else None, first.isoformat(),
                                rng.choice([None, 3, 4, 5, 5, 2]) if closed else None))
    async with store.transaction() as db:
        await db.executemany("INSERT INTO decisions (time, agent, outcome, topic, score, followup, text) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", decisions)
        await db.executemany("INSERT INTO feedback (agent, topic, helpful, time) VALUES (?, ?, ?, ?)", feedback)
        await db.executemany("INSERT INTO tickets (number, agent, room, status, topic, reason, fields, opened_at, "
                             "updated_at, closed_at, first_reply_at, mark) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             tickets)
    await store.close()
    return len(decisions)


async def main(args) -> Path | None:
    folder = Path(tempfile.mkdtemp())
    config = dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=folder)
    now = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc) if args.fixed else datetime.now(timezone.utc)
    began = time.perf_counter()
    count = await fill(folder, agents=args.agents, days=args.days, now=now)
    print(f"store: {count} logged messages from {args.agents} agents over {args.days} days "
          f"({time.perf_counter() - began:.1f} s to write)")
    began = time.perf_counter()
    page = await cli.report(config, days=args.days, now=now)
    print(f"report: {time.perf_counter() - began:.2f} s, {len(page.encode()) / 1024:.0f} KB (target < 1024 KB)")
    if args.html or args.screenshot:
        html = Path(args.html or folder / "rapport.html")
        html.write_text(page, encoding="utf-8")
        print(f"written to {html}")
    return html if args.screenshot else None


def screenshot(html: Path, png: Path) -> None:
    """The page as Debian's chromium draws it (playwright over DevTools; no browser downloaded)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 800, "height": 900})
        page.goto(html.resolve().as_uri())
        page.screenshot(path=str(png), full_page=True)
        browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--fixed", action="store_true", help="a fixed 'now', for a reproducible page")
    parser.add_argument("--screenshot", type=Path, help="also save the page as Chromium draws it (PNG)")
    arguments = parser.parse_args()
    html = asyncio.run(main(arguments))
    if html is not None:  # playwright's sync API, outside the event loop
        screenshot(html, arguments.screenshot)
        print(f"screenshot: {arguments.screenshot}")
