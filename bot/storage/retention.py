"""Keeping what agents write only as long as the welcome message promises (`retention_days`).

The welcome tells every agent their messages are kept N days, then erased. This is where that
happens, in one transaction, called by the Matrix ticker once an hour. Every column that can hold
someone's words is listed here (tests/storage/test_reliability_retention.py searches the raw files for a
word after the purge):

    agents           a conversation state untouched for N days; in the others, transcript lines
                     older than N days (an agent who writes once a month keeps 20 lines for years)
    outbox           sent items older than N days (their payload is the text that was sent)
    handled          event ids older than N days (only needed to skip a replayed event)
    a ticket closed more than N days ago goes through bot/storage/erasure.py's ticket places (the same
                     list as an erasure): messages and links deleted, reason and fields emptied, agent,
                     mediators and audit authors pseudonymised; its card and relays in the mediators'
                     room are redacted; feedback older than N days is pseudonymised
    decisions        the words and the vector of each message decided N days ago (the row stays)
    failed_events    events that could not be handled, older than N days (their text is kept for a mediator)
What stays: each ticket's number, topic, times and mark, its status changes with pseudonymous
authors, and the yes/no feedback per topic: the figures of `!stats`, with no one's words or name.
Open tickets are never touched, however old: a mediator still needs them.
The store then zeroes the freed pages (secure_delete) and truncates its WAL (bot/store.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiosqlite

OLD_CLOSED = "SELECT number FROM tickets WHERE status = 'closed' AND closed_at < :cutoff"

STATEMENTS = {
    "conversations": "DELETE FROM agents WHERE updated_at < :cutoff",
    "transcript lines": "UPDATE agents SET state = json_set(state, '$.transcript', "
                        "(SELECT json_group_array(json(line.value)) FROM json_each(agents.state, '$.transcript') AS line "
                        "WHERE json_extract(line.value, '$[0]') >= :cutoff)) "
                        "WHERE EXISTS (SELECT 1 FROM json_each(agents.state, '$.transcript') AS line "
                        "WHERE json_extract(line.value, '$[0]') < :cutoff)",
    "sent messages": "DELETE FROM outbox WHERE sent_at IS NOT NULL AND created_at < :cutoff",
    "handled events": "DELETE FROM handled WHERE handled_at < :cutoff "
                      "AND event_id NOT IN (SELECT event_id FROM outbox WHERE event_id IS NOT NULL)",
    "failed events": "DELETE FROM failed_events WHERE time < :cutoff",
    "decision texts": "UPDATE decisions SET text = NULL, vector = NULL WHERE time < :cutoff "
                      "AND (text IS NOT NULL OR vector IS NOT NULL)",
}


async def purge(db: aiosqlite.Connection, now: datetime, retention_days: int) -> dict[str, int]:
    """Erase what is older than the retention period; returns how many rows of each kind went."""
    cutoff = (now - timedelta(days=retention_days)).astimezone(timezone.utc).isoformat()
    counts = {}
    for what, sql in STATEMENTS.items():
        cursor = await db.execute(sql, {"cutoff": cutoff})
        counts[what] = cursor.rowcount
    return counts
