"""The decision log: what the bot made of each message, for `faq gaps`, `!lacunes` and the report.

One row per message the engine read, written in the same transaction as the turn (the engine's
RecordDecision action, bot/messages.py). The agent appears only as a pseudonym: an HMAC of the
user id keyed by the store's secret (SQL `pseudonym()`, bot/storage/erasure.py, the same name
tickets get at the end of retention), so distinct agents can be counted and one agent's rows
erased, but the id cannot be read back. The words (`text`) and the meaning (`vector`, float32 little-endian) go at the end of
`retention_days` (bot/retention.py); the counts stay.
"""
from __future__ import annotations

from datetime import datetime

import aiosqlite

from ..answering.gaps import Logged
from ..messages import RecordDecision

MIGRATION = """
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    agent TEXT NOT NULL,
    outcome TEXT NOT NULL,
    topic TEXT,
    score REAL,
    second REAL,
    followup TEXT,
    text TEXT,
    vector BLOB
);
CREATE INDEX decisions_time ON decisions(time);
CREATE INDEX decisions_agent ON decisions(agent, outcome, id);
"""
# what a follow-up settles: the latest decision of that agent with this outcome
SETTLED = {"helpful": "answer", "rejected": "answer", "picked": "clarify", "unpicked": "clarify"}


async def pseudonym(db: aiosqlite.Connection, user: str) -> str:
    """Stable per agent and store, unreadable without the key: enough to count, nothing to name."""
    async with db.execute("SELECT pseudonym(?)", (user,)) as cursor:
        (name,) = await cursor.fetchone()
    return name


async def write(db: aiosqlite.Connection, record: RecordDecision) -> None:
    agent = await pseudonym(db, record.agent)
    if record.settles in SETTLED:
        await _settle(db, agent, record)
    await db.execute(
        "INSERT INTO decisions (time, agent, outcome, topic, score, second, text, vector) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (record.time.isoformat(), agent, record.outcome, record.topic, record.score, record.second,
         record.text, record.vector))


async def _settle(db: aiosqlite.Connection, agent: str, record: RecordDecision) -> None:
    """Mark the answer or clarification this message reacted to (a 👎 names its topic: only that answer)."""
    outcome = SETTLED[record.settles or ""]
    topic_clause = " AND topic = :topic" if outcome == "answer" and record.topic else ""
    await db.execute(
        "UPDATE decisions SET followup = :followup WHERE id = (SELECT MAX(id) FROM decisions "
        f"WHERE agent = :agent AND outcome = :outcome{topic_clause})",
        {"followup": record.settles, "agent": agent, "outcome": outcome, "topic": record.topic})


async def rows(db: aiosqlite.Connection, since: datetime | None) -> list[Logged]:
    """From `since` on, oldest first; with None, only the rows still holding their words (any age)."""
    where, values = ("time >= ?", (since.isoformat(),)) if since else ("text IS NOT NULL", ())
    async with db.execute(
            "SELECT time, agent, outcome, topic, score, followup, text, vector FROM decisions "
            f"WHERE {where} ORDER BY id", values) as cursor:
        found = await cursor.fetchall()
    return [Logged(time=datetime.fromisoformat(r[0]), agent=r[1], outcome=r[2], topic=r[3], score=r[4],
                   followup=r[5], text=r[6], vector=r[7]) for r in found]
