"""Talking to the bot in a terminal, as an agent would: the same engine, store and outbox as on Matrix.

    stdin line ──► Incoming ──► Helpdesk.handle (store + engine) ──► ConsoleSender prints each action

Nothing here decides anything: the console is a third driver of the core, like the Matrix layer
and the demo. It uses the real SQLite store in `config.data_dir`, so quitting in the middle of a
flow and starting again resumes it, and a reply left unsent by a crash is printed at the next start.
Replies are printed exactly as the agent would read them; every other action goes on its own
line in square brackets (`[ticket opened: ...]`, `[flow started: ...]`, `[feedback: ...]`).
When stdin is not a terminal, each line is one message, so a conversation can be scripted.
"""
from __future__ import annotations

import asyncio
import io
import os
import re
import sys
import uuid
from datetime import datetime, timezone
from typing import Callable, TextIO

from .answering.encoder import encoder_for, service_for
from .config import Config
from .conversation.engine import build_engine
from .errors import StoreUnavailable
from .helpdesk import Helpdesk
from .answering.lexicon import surface
from .messages import Action, FlowEvent, Incoming, OpenTicket, RecordFeedback, Reply
from .storage.store import OutboxItem, Store
from .texts import say
from .verbatim import plain

SERVER = "console"


def describe(action: Action) -> str:
    """How an action shows in the console: a reply as its text, anything else as one bracketed line."""
    if isinstance(action, Reply):
        return plain(action.text)
    if isinstance(action, OpenTicket):
        fields = "".join(f" {name}={value}" for name, value in action.fields.items())
        return f"[ticket opened: {action.topic or action.reason}{fields}]"
    if isinstance(action, FlowEvent):
        return f"[flow {action.event}: {action.flow}]"
    if isinstance(action, RecordFeedback):
        return f"[feedback: {action.topic} {'helpful' if action.helpful else 'not helpful'}]"
    return f"[{type(action).__name__}]"


class ConsoleSender:
    """The console's `Sender`: prints each outbox item; nothing to deduplicate on a terminal."""

    def __init__(self, out: TextIO):
        self.out = out

    async def send(self, item: OutboxItem) -> str | None:
        print(describe(item.action), file=self.out, flush=True)
        return None


def agent_id(name: str) -> str:
    """A stable Matrix-like id for a console name, so `--as Alice` finds Alice's conversation again."""
    local = "-".join(surface(name)) or "agent"
    return f"@{re.sub(r'[^a-z0-9._-]', '', local)}:{SERVER}"


async def console(config: Config, agent_name: str, *, stdin: TextIO | None = None,
                  stdout: TextIO | None = None, clock: Callable[[], datetime] | None = None) -> int:
    """Run a conversation on stdin/stdout until end of input; returns the exit code."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    if isinstance(stdin, io.TextIOWrapper):
        stdin.reconfigure(errors="replace")  # bytes that are not UTF-8 are a message too, not a crash
    clock = clock or (lambda: datetime.now(timezone.utc))
    engine = build_engine(config, encoder_for(config.semantic))  # a broken FAQ stops here, with file:line problems
    encoding = service_for(engine, config.semantic)
    store = await Store.open(config.data_dir)
    try:
        helpdesk = Helpdesk(engine=engine, store=store, sender=ConsoleSender(stdout),
                            understand=encoding and encoding.understand)
        interactive = stdin.isatty()
        if interactive:
            print(say("console.intro", name=agent_name), file=stdout, flush=True)
        await helpdesk.drain()  # what a previous run decided but did not print
        sender, room = agent_id(agent_name), f"!{agent_id(agent_name)[1:]}"
        while (line := await _read_line(stdin, stdout, interactive)) is not None:
            incoming = Incoming(sender=sender, room=room, text=line, event_id=f"$console-{uuid.uuid4().hex}",
                                time=clock(), sender_name=agent_name)
            try:
                await helpdesk.handle(incoming)
            except StoreUnavailable:  # disk full, database locked: the agent retypes, the console goes on
                print(say("helpdesk.store_unavailable"), file=stdout, flush=True)
    finally:
        await store.close()
    return 0


async def _read_line(stdin: TextIO, stdout: TextIO, interactive: bool) -> str | None:
    """One message, or None at end of input; read in a thread so the event loop stays free."""
    if interactive:
        print(say("console.prompt"), end="", file=stdout, flush=True)
    line = await asyncio.to_thread(stdin.readline)
    if not line:
        return None
    return line.rstrip("\r\n")


def add_console_command(subparsers) -> None:
    """`helpdesk-bot console [--as NAME] [-c config.yaml]`, for a cli.py that wants it from here."""
    from pathlib import Path
    parser = subparsers.add_parser("console", help="talk to the bot in this terminal, as an agent would")
    parser.add_argument("--config", "-c", type=Path,
                        help="config file (default: config.yaml, else config.example.yaml)")
    parser.add_argument("--as", dest="name", default="agent", help="the agent's name (its conversation is kept)")
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    from pathlib import Path
    from .config import load_config
    path = args.config or next((p for p in (Path("config.yaml"), Path("config.example.yaml")) if p.exists()), None)
    os.umask(0o077)  # the store's files: the agent's words, readable by this user only
    return asyncio.run(console(load_config(path), args.name))
