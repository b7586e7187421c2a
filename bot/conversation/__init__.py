"""Conversation: what the bot says next to one agent, pure: (state, message) -> (new state, actions).

    engine.py      the steps a message goes through: welcome, expiry, human, flow, pending, question
    state.py       what the bot remembers of an agent between two messages; the Turn being handled
    intents.py     oui, non, annuler, médiateur, a number: read from the agent's words
    guided.py      a guided flow inside the conversation; flows/ the flow language and its runner
    dates.py       French dates, months and times; transcript.py the lines a mediator will read
    knowledge.py   FAQ, lexicon and flows loaded together; a bad edit keeps the last good version

May import bot/answering/ and the shared modules at the top of bot/; never the desk, storage, matrix
or a driver.
"""
