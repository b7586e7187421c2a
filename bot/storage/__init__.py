"""The SQLite side of the bot: its tables and what is erased when."""
