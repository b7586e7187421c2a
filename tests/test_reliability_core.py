"""No message can stop the line (issue 8), on the real engine, desk and SQLite store.

Text is made safe at the edge (bot/safetext.py, `Incoming`); parsers say "not understood" to
numbers out of range; an error one event meets is recorded against that event (kept, the sender
told once, a counter, the traceback in the log) and the next message is answered; a store that
cannot write is `StoreUnavailable`, and nothing is recorded until it can.
"""
from __future__ import annotations

import dataclasses
import logging
import sqlite3
import stat
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.desk.commands import parse_command
from bot.config import load_config
from bot.conversation.engine import build_engine
from bot.conversation.dates import parse_date, parse_months
from bot.desk.desk import Desk
from bot.desk.room import MediatorsRoom
from bot.errors import StoreUnavailable
from bot.helpdesk import Helpdesk
from bot.messages import Incoming, Media, Reply, ToMediators
from bot.safetext import safe_text
from bot.storage.store import FILE_NAME, Store
from bot.texts import say
from bot.verbatim import plain, verbatim

from .storage.test_tickets import ListSender

ROOT = Path(__file__).parent.parent
T = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
AGENT, DM = "@camille:agent.ville.fr", "!dm-camille:agent.ville.fr"
MARIE, ROOM = "@marie:agent.ville.fr", "!mediateurs:agent.ville.fr"
FAILED = say("helpdesk.event_failed")


def config(tmp_path: Path):
    return dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=tmp_path / "data",
                               faq_dir=ROOT / "faq", flows_dir=ROOT / "flows", mediators=(MARIE,))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return build_engine(config(tmp_path_factory.mktemp("engine")))


@pytest.fixture
async def helpdesk(tmp_path, engine):
    store = await Store.open(tmp_path / "data")
    desk = Helpdesk(engine=engine, store=store, sender=ListSender(), desk=Desk(engine.config, {}))
    yield desk
    await store.close()


def said(number: int, text: str, sender: str = AGENT, **more) -> Incoming:
    room = ROOM if sender == MARIE else DM
    return Incoming(sender=sender, room=room, text=text, event_id=f"$e{number}", time=T + timedelta(minutes=number),
                    **more)


async def replies(helpdesk: Helpdesk, incoming: Incoming, room: MediatorsRoom | None = None) -> list[str]:
    """What the agent (or the room) reads in answer to one message."""
    await (helpdesk.turn(incoming) if room is None else helpdesk.mediator_turn(incoming, room))
    return [item.action.text for item, _ in await helpdesk.drain() if isinstance(item.action, Reply)]


# --- text made safe at the edge ------------------------------------------------------------------

@pytest.mark.parametrize("raw, safe", [
    ("merci \ud83d", "merci \ufffd"),                       # half an emoji
    ("\ud83d\ude00 bien", "😀 bien"),                        # a pair of halves is the emoji
    ("a\x00b\x07c\x1b[2Jd\x85e\x7f", "abc[2Jde"),           # NUL, bell, escape, C1, DEL
    ("ligne 1\r\nligne 2\rligne 3\tfin", "ligne 1\nligne 2\nligne 3\tfin"),
    ("x\ufffe\uffff\ufdd0\U0001fffe", "x\ufffd\ufffd\ufffd\ufffd"),  # non-characters
    ("👨‍👩‍👧 é\u200b\u202eabc مرحبا", "👨‍👩‍👧 é\u200b\u202eabc مرحبا"),  # kept as typed
])
def test_safe_text_removes_what_breaks_and_keeps_what_is_written(raw, safe):
    assert safe_text(raw) == safe
    safe_text(raw).encode("utf-8")  # what SQLite needs


def test_an_incoming_is_safe_whoever_builds_it():
    incoming = Incoming(sender="@a\x00:x", room="!r\ud800:x", text="merci \ud83d\x00", event_id="$e\udfff",
                        time=T, sender_name="**RH**\x1b", reply_to="$r\x00",
                        media=Media(msgtype="m.file", name="a\ud83d.pdf", url="mxc://x/y", file={"k\x00": ["v\ud800"]}))
    assert (incoming.text, incoming.sender, incoming.sender_name) == ("merci \ufffd", "@a:x", "**RH**")
    assert incoming.media.name == "a\ufffd.pdf" and incoming.media.file == {"k": ["v\ufffd"]}


# --- numbers out of range are "not understood" ---------------------------------------------------

@pytest.mark.parametrize("text", ["il y a 800000 jours", "il y a 99999999 jours", "il y a 9999999999999 jours",
                                  "il y a " + "9" * 5000 + " jours", "le " + "1" * 5000])
def test_a_day_too_far_back_is_not_a_date(text):
    assert parse_date(text, date(2026, 3, 4)) is None


@pytest.mark.parametrize("text", ["mars 0000", "0000-03", "03/0000", "janvier " + "2" * 5000, "mars 99999"])
def test_a_year_out_of_range_is_not_a_month(text):
    assert parse_months(text, date(2026, 3, 4)) is None


def test_a_ticket_number_of_five_thousand_digits_is_not_a_number():
    assert parse_command("!note " + "9" * 5000 + " x").ticket is None


async def test_the_two_poison_messages_of_the_issue_are_answered_and_the_next_question_too(helpdesk):
    assert await replies(helpdesk, said(1, "jai oublié de badger"))
    asked_again = await replies(helpdesk, said(2, "il y a 800000 jours"))
    assert asked_again and FAILED not in asked_again  # the flow asks again, with an example
    assert await replies(helpdesk, said(3, "annuler"))
    assert await replies(helpdesk, said(4, "merci \ud83d"))
    answer = await replies(helpdesk, said(5, "ma boite mail est pleine"))
    assert any("corbeille" in text for text in answer)
    assert helpdesk.failed_events == 0 and await helpdesk.store.failed_events() == []


# --- an error while deciding is that event's alone -----------------------------------------------

class Bomb(Exception):
    """What a bug deep in the core would raise on one odd message."""


class FragileEngine:
    """The real engine, except that it raises on one word: a stand-in for any bug an input meets."""

    def __init__(self, engine):
        self.engine = engine

    def handle(self, state, incoming):
        if "kaboom" in incoming.text:
            raise Bomb("met an odd message")
        return self.engine.handle(state, incoming)


async def test_a_message_the_engine_fails_on_is_kept_told_once_counted_logged_and_the_line_goes_on(
        helpdesk, engine, caplog):
    helpdesk.engine = FragileEngine(engine)
    caplog.set_level(logging.ERROR, logger="bot.helpdesk")
    assert await helpdesk.turn(said(1, "kaboom mon badge \ud83d"))
    sent = [item.action for item, _ in await helpdesk.drain()]
    assert [(a.text, a.reply_to) for a in sent if isinstance(a, Reply)] == [(FAILED, "$e1")]
    assert "médiateur" in FAILED
    [shown] = [a for a in sent if isinstance(a, ToMediators)]  # « conservé pour l'équipe »: the team sees it
    assert AGENT in shown.text and "kaboom mon badge \ufffd" in plain(shown.text)
    assert verbatim("kaboom mon badge \ufffd") in shown.text  # as typed, never rendered as markdown
    [failed] = await helpdesk.store.failed_events()
    assert (failed.event_id, failed.agent, failed.room, failed.text, failed.error) == \
        ("$e1", AGENT, DM, "kaboom mon badge \ufffd", "Bomb")
    assert helpdesk.failed_events == 1
    assert "$e1" in caplog.text and "Traceback" in caplog.text and "kaboom" not in caplog.messages[0]

    assert not await helpdesk.turn(said(1, "kaboom mon badge \ud83d"))  # a replay: not told twice
    assert await helpdesk.drain() == [] and helpdesk.failed_events == 1
    assert any("corbeille" in t for t in await replies(helpdesk, said(2, "ma boite mail est pleine")))


async def test_an_agent_who_writes_english_is_told_in_english_that_a_message_failed(helpdesk, engine):
    helpdesk.engine = FragileEngine(engine)
    assert await helpdesk.turn(said(1, "kaboom, my badge does not work and I cannot clock in"))
    [notice] = [item.action.text for item, _ in await helpdesk.drain() if isinstance(item.action, Reply)]
    assert notice.startswith("Sorry, I could not handle this message.") and "« mediator »" in notice


async def test_a_mediator_command_that_fails_is_answered_in_the_room(helpdesk, engine, monkeypatch):
    def broken(self, ledger, incoming, room):
        raise Bomb("!note met a bug")
    monkeypatch.setattr(Desk, "mediator_turn", broken)
    assert await replies(helpdesk, said(1, "!note 1 bonjour", sender=MARIE), MediatorsRoom()) == \
        [say("helpdesk.event_failed_room")]
    [failed] = await helpdesk.store.failed_events()
    assert (failed.agent, failed.room, failed.text) == (MARIE, ROOM, "!note 1 bonjour")


async def test_the_matrix_layer_can_record_an_event_that_never_became_an_incoming(helpdesk):
    assert await helpdesk.record_failure(event_id="$raw", agent=AGENT, room=DM, text="corps\x00 \ud83d",
                                         error=KeyError("content"))
    assert not await helpdesk.record_failure(event_id="$raw", agent=AGENT, room=DM, text="", error="KeyError")
    [failed] = await helpdesk.store.failed_events()
    assert (failed.text, failed.error) == ("corps \ufffd", "KeyError")
    sent = [item.action for item, _ in await helpdesk.drain()]
    assert [a.text for a in sent if isinstance(a, Reply)] == [FAILED]
    assert [plain(a.text).endswith("corps \ufffd") for a in sent if isinstance(a, ToMediators)] == [True]
    assert await helpdesk.store.is_handled("$raw")


async def test_an_agent_with_an_open_ticket_whose_message_fails_is_told_and_the_relay_goes_on(
        helpdesk, engine, monkeypatch):
    assert await replies(helpdesk, said(1, "je veux parler à un médiateur"))
    real = Desk._relay

    def fragile(self, ticket, incoming):
        if "kaboom" in incoming.text:
            raise Bomb("relay met a bug")
        return real(self, ticket, incoming)
    monkeypatch.setattr(Desk, "_relay", fragile)
    assert await replies(helpdesk, said(2, "kaboom")) == [FAILED]
    await helpdesk.turn(said(3, "toujours là"))
    relayed = [item.action for item, _ in await helpdesk.drain()]
    assert [a.body for a in relayed if isinstance(a, ToMediators) and a.author] == ["toujours là"]


# --- the store failing is not the event's fault --------------------------------------------------

async def test_a_locked_database_is_store_unavailable_and_the_event_is_handled_once_it_is_free(helpdesk, tmp_path):
    await helpdesk.store._db.execute("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(tmp_path / "data" / FILE_NAME, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable):
            await helpdesk.turn(said(1, "ma boite mail est pleine"))
        with pytest.raises(StoreUnavailable):
            await helpdesk.mediator_turn(said(2, "!liste", sender=MARIE), MediatorsRoom())
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not await helpdesk.store.is_handled("$e1") and helpdesk.failed_events == 0
    assert any("corbeille" in t for t in await replies(helpdesk, said(1, "ma boite mail est pleine")))


async def test_a_closed_store_is_store_unavailable_not_a_failed_event(tmp_path, engine):
    store = await Store.open(tmp_path)
    helpdesk = Helpdesk(engine=engine, store=store, sender=ListSender(), desk=Desk(engine.config, {}))
    await store.close()
    with pytest.raises(StoreUnavailable):
        await helpdesk.turn(said(1, "bonjour"))
    with pytest.raises(StoreUnavailable):
        await helpdesk.record_failure(event_id="$x", agent=AGENT, room=DM, text="x", error="Bomb")
    assert helpdesk.failed_events == 0


async def test_an_outbox_item_that_no_longer_decodes_does_not_block_the_others(helpdesk):
    await helpdesk.store.enqueue([Reply(room=DM, text="premier")])
    async with helpdesk.store.transaction() as db:
        await db.execute("UPDATE outbox SET kind = 'Renamed'")
    await helpdesk.store.enqueue([Reply(room=DM, text="second")])
    assert [item.action.text for item, _ in await helpdesk.drain()] == ["second"]


# --- files readable by the bot's user only -------------------------------------------------------

async def test_data_dir_is_0700_and_the_database_files_0600_whatever_the_umask(tmp_path):
    import os
    old = os.umask(0o022)
    try:
        existing = tmp_path / "data"
        existing.mkdir(mode=0o755)
        store = await Store.open(existing)
        await store.set_meta("x", "y")
        files = sorted(p.name for p in existing.iterdir())
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in existing.iterdir()}
        await store.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o700
    assert FILE_NAME in files and set(modes.values()) == {0o600}, modes



def test_the_console_survives_bytes_that_are_not_text_and_answers_the_next_question(tmp_path):
    import os
    import re
    import subprocess
    import sys
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    for key, value in (("data_dir", tmp_path / "data"), ("faq_dir", ROOT / "faq"), ("flows_dir", ROOT / "flows")):
        text = re.sub(rf"(?m)^{key}: .*$", f"{key}: {value}", text)
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    hostile = b"merci \xed\xa0\xbd\x00\x1b[2J\xff\xfe\njai oubli\xc3\xa9 de badger\nil y a 800000 jours\nannuler\n"
    done = subprocess.run([str(Path(sys.executable).parent / "helpdesk-bot"), "console", "-c", "config.yaml"],
                          input=hostile + "ma boite mail est pleine\n".encode(), capture_output=True, timeout=60,
                          cwd=tmp_path, preexec_fn=lambda: os.umask(0o022))
    out = done.stdout.decode("utf-8")
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    assert "corbeille" in out and FAILED not in out  # the question after the hostile lines is answered
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()} == {0o600}
