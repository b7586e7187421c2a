"""Storage: what is written, and in which transaction. SQLite (WAL, numbered migrations): one turn's
conversation state, handled event, ticket moves and outbox items are committed together.

    store.py      the Store: opening, migrations, commit_turn, the outbox
    tickets.py    tickets, their messages, event links and audit trail in SQLite
    retention.py  agents' words erased after retention_days, in one transaction

May import bot/desk/ (the Ledger it reads, the Decision it writes), the packages below it and the shared
modules; never matrix or a driver.
"""
