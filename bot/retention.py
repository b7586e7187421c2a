"""Keeping what agents write only as long as the welcome message promises (`retention_days`).

The welcome tells every agent their messages are kept N days, then erased. This is where that
happens, in one transaction, called by the Matrix ticker once an hour:

    agents           a conversation state untouched for N days (it holds the recent transcript)
    outbox           sent items older than N days (their payload is the text that was sent)
    handled          event ids older than N days (only needed to skip a replayed event)
    ticket_messages  every message of a ticket closed more than N days ago, and its fields
    decisions        the words and the vector of each message decided N days ago (the row stays)
What stays: each ticket's number, topic, reason, times and mark, the audit trail of its status
changes, the yes/no feedback per topic and the decision log's counts (time, pseudonym, topic,
outcome, scores): the figures of `!stats` and of the report, with no one's words in them.
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
    "decision texts": "UPDATE decisions SET text = NULL, vector = NULL WHERE time < :cutoff "
                      "AND (text IS NOT NULL OR vector IS NOT NULL)",
}


async def purge(db: aiosqlite.Connection, now: datetime, retention_days: int) -> dict[str, int]:
    """Erase what is older than the retention period; returns how many rows of each kind went."""
    cutoff = (now - timedelta(days=retention_days)).isoformat()
    counts = {}
    for what, sql in STATEMENTS.items():
        cursor = await db.execute(sql, {"cutoff": cutoff})
        counts[what] = cursor.rowcount
    return counts
