"""Keeping what agents write only as long as the welcome message promises (`retention_days`).

The welcome tells every agent their messages are kept N days, then erased. This is where that
happens, in one transaction, called by the Matrix ticker once an hour:

    agents           a conversation state untouched for N days (it holds the recent transcript)
    outbox           sent items older than N days (their payload is the text that was sent)
    handled          event ids older than N days (only needed to skip a replayed event)
    ticket_messages  every message of a ticket closed more than N days ago, and its fields (the
                     search index loses their words with them: triggers, bot/ticket_store.py)
What stays: each ticket's number, topic, reason, times and mark, the audit trail of its status
changes and the yes/no feedback per topic: the figures of `!stats`, with no one's words in them.
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
    "ticket messages": "DELETE FROM ticket_messages WHERE ticket IN "
                       "(SELECT number FROM tickets WHERE status = 'closed' AND closed_at < :cutoff)",
    "ticket fields": "UPDATE tickets SET fields = '{}' WHERE status = 'closed' AND closed_at < :cutoff "
                     "AND fields != '{}'",
}


async def purge(db: aiosqlite.Connection, now: datetime, retention_days: int) -> dict[str, int]:
    """Erase what is older than the retention period; returns how many rows of each kind went."""
    cutoff = (now - timedelta(days=retention_days)).isoformat()
    counts = {}
    for what, sql in STATEMENTS.items():
        cursor = await db.execute(sql, {"cutoff": cutoff})
        counts[what] = cursor.rowcount
    if counts["ticket messages"]:  # triggers took their words out of the index; merging drops them from disk
        await db.execute("INSERT INTO ticket_search (ticket_search) VALUES ('optimize')")
    return counts
