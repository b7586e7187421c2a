"""The Matrix (Tchap) driver of the helpdesk, split by idea:

    session.py        log in once, keep the device and its crypto store in data_dir
    crosssign.py      the bot's cross-signing identity (no red shield, readable in Tchap)
    access.py         who may invite the bot (allowed users and domains), pure
    events.py         nio events ─► Incoming, once, at the edge
    undecryptable.py  messages waiting for their key, and the notice when it does not come
    sending.py        outbox items ─► m.notice sends with retries and a stable txn id
    bot.py            the sync loop
    runner.py         start / run / check: building and stopping all of the above
    localserver.py    a throwaway Tchap-like Synapse on loopback (demo, tests, benchmark)
    person.py         a person on a real nio client, the other side of the bot (demo, tests, benchmark)

It decides nothing about a conversation or a ticket: it turns events into Incoming and sends what the
store's outbox holds. May import bot/helpdesk.py (one turn) and every package below it; never a driver.
"""
from .runner import RunningBot, check, run, start

__all__ = ["RunningBot", "check", "run", "start"]
