"""Desk: the mediators' side, pure: which ticket a message belongs to, what a mediator's command does,
when a ticket closes or is reminded. Every move returns a Decision that the store writes in one
transaction; time comes in, nothing is sent or read from here.

    tickets.py   the life of a ticket as a transition table, and its card
    commands.py  a mediator's message parsed into a Command (`!prendre 12`...)
    room.py      a Command carried out in the mediators' room; replies relayed to the agent
    desk.py      the agent's side of a ticket, and the clock's moves (autoclose, reminders)
    ledger.py    what the store reads for a turn (Ledger) and what it writes back (Decision)
    canned.py    canned replies (reponses.yaml); hours.py working hours and French holidays

May import bot/conversation/, bot/answering/ and the shared modules; never storage, matrix or a driver.
"""
