"""What the decision log tells the head of the service: the HTML report, its charts, the weekly
post, and the `faq gaps` / `report` commands.

May import: storage, desk, conversation, answering and the shared modules; never matrix or the
drivers (the Matrix driver calls `weekly_post`). Grouping messages by meaning is answering's
(bot/answering/gaps.py): the desk's `!lacunes` uses it too.
"""
