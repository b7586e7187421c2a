"""The bot's memory: SQLite migrations, state, outbox, tickets' tables, retention, erasure and backup."""
