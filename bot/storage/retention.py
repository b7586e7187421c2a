"""Keeping what agents write only as long as the welcome message promises (`retention_days`).

The welcome tells every agent their messages are kept N days, then erased. This is where that
happens, in one transaction, called by the Matrix ticker once an hour:

    agents           a conversation state untouched for N days (it holds the recent transcript)
    outbox           sent items older than N days (their payload is the text that was sent)
    handled          event ids older than N days (only needed to skip a replayed event)
    a ticket closed more than N days ago goes through bot/storage/erasure.py's ticket places (the same
                     list as an erasure): messages and links deleted, reason and fields emptied, agent,
                     mediators and audit authors pseudonymised; its card and relays in the mediators'
                     room are redacted; feedback older than N days is pseudonymised
What stays: each ticket's number, topic, times and mark, its status changes with pseudonymous
authors, and the yes/no feedback per topic: the figures of `!stats`, with no one's words or name.
Open tickets are never touched, however old: a mediator still needs them.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

STATEMENTS = {
    "conversations": "DELETE FROM agents WHERE updated_at < :cutoff",
    "sent messages": "DELETE FROM outbox WHERE sent_at IS NOT NULL AND created_at < :cutoff",
    "handled events": "DELETE FROM handled WHERE handled_at < :cutoff "
                      "AND event_id NOT IN (SELECT event_id FROM outbox WHERE event_id IS NOT NULL)",
}


async def purge(db: aiosqlite.Connection, now: datetime, retention_days: int) -> dict[str, int]:
    """Erase what is older than the retention period; returns how many rows of each kind went."""
    cutoff = (now - timedelta(days=retention_days)).isoformat()
    counts = {}
    for what, sql in STATEMENTS.items():
        cursor = await db.execute(sql, {"cutoff": cutoff})
        counts[what] = cursor.rowcount
    return counts
