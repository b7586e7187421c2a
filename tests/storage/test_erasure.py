"""An agent's data erased, on request and at the end of retention, in the real SQLite store with the real
conversation engine: afterwards a marker word the agent wrote is nowhere in the raw bytes of data_dir
(tables, outbox, WAL), the bot's own events that carried it are queued for redaction, what stays is
pseudonymous counts, and another agent's data is untouched."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.desk.desk import Desk
from bot.desk.room import MediatorsRoom
from bot.helpdesk import Helpdesk
from bot.matrix.runner import load_engine
from bot.messages import Incoming, Redact, Reply, ToMediators
from bot.storage.store import Store
from bot.desk.tickets import Status

from ..desk.test_desk import MARIE, ROOM
from ..storage.test_tickets import CONFIG, T, ListSender

ROOT = Path(__file__).parents[2]
JEAN, JEAN_DM, MARKER = "@jean.zorg:agent.tchap.gouv.fr", "!dmjean:tchap", "zorglubette"
ANNE, ANNE_DM, ANNE_MARKER = "@anne.brontos:agent.tchap.gouv.fr", "!dmanne:tchap", "brontosaurix"


@pytest.fixture(scope="module")
def engine():
    return load_engine(load_config(ROOT / "config.example.yaml"))


@pytest.fixture
async def helpdesk(tmp_path, engine):
    store = await Store.open(tmp_path / "data")
    yield Helpdesk(engine=engine, store=store, sender=ListSender(), desk=Desk(CONFIG, {}))
    await store.close()


class Clock:
    def __init__(self):
        self.minutes = 0

    def said(self, sender: str, text: str) -> Incoming:
        self.minutes += 1
        room = {JEAN: JEAN_DM, ANNE: ANNE_DM}.get(sender, ROOM)
        return Incoming(sender=sender, room=room, text=text, event_id=f"$e{self.minutes}",
                        time=T + timedelta(minutes=self.minutes), sender_name=sender[1:5].title())


async def _life(helpdesk: Helpdesk, clock: Clock) -> None:
    """Jean asks, gets a ticket, writes to it; Marie answers and notes; Anne has her own ticket."""
    for sender, text in ((JEAN, f"ma badgeuse {MARKER} ne marche plus"), (JEAN, "médiateur"),
                         (JEAN, f"le lecteur {MARKER} clignote rouge"), (ANNE, f"médiateur svp {ANNE_MARKER}"),
                         (ANNE, f"toujours {ANNE_MARKER}")):
        await helpdesk.turn(clock.said(sender, text))
        await helpdesk.drain()
    for text in (f"!r 1 je regarde votre {MARKER}", f"!note 1 {MARKER} à changer", "!ticket 1"):
        await helpdesk.mediator_turn(clock.said(MARIE, text), MediatorsRoom())
        await helpdesk.drain()


def _files(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


async def _rows(store: Store, sql: str) -> list:
    async with store._db.execute(sql) as cursor:
        return list(await cursor.fetchall())


async def test_mes_donnees_lists_what_is_kept_and_until_when(helpdesk):
    clock = Clock()
    await _life(helpdesk, clock)
    await helpdesk.turn(clock.said(JEAN, "quelles données gardez-vous ?"))
    [(item, _)] = await helpdesk.drain()
    text = item.action.text
    assert item.action.room == JEAN_DM and text.startswith("Voici ce que la ligne d'aide garde sur vous :")
    assert "notre conversation récente (depuis le 04/03/2026)" in text and "effacée le 02/06/2026" in text  # T + 90 days
    assert "1 demande en cours (n° 1) : gardée avec ses messages" in text and "effacer mes données" in text
    assert "votre application Tchap" in text


async def test_effacer_mes_donnees_asks_then_erases_every_trace_of_that_agent_only(helpdesk, tmp_path):
    store, clock = helpdesk.store, Clock()
    await _life(helpdesk, clock)
    events_of_jean = {r[0] for r in await _rows(store, "SELECT event_id FROM sent_events WHERE agent = "
                                                       f"'{JEAN}' OR ticket = 1")}
    events_of_anne = {r[0] for r in await _rows(store, "SELECT event_id FROM sent_events WHERE ticket = 2")}
    card = await store.card_event(1)
    topic = (await store.tickets())[0].topic
    assert card in events_of_jean and events_of_anne and MARKER.encode() in _files(tmp_path / "data")

    # with an open ticket, the request is not relayed to the mediators: it is asked to be confirmed
    await helpdesk.turn(clock.said(JEAN, "Effacer mes données"))
    [(asked, _)] = await helpdesk.drain()
    assert isinstance(asked.action, Reply) and "Répondez « oui » ou « non »" in asked.action.text
    await helpdesk.turn(clock.said(JEAN, "oui"))
    sent = [item.action for item, _ in await helpdesk.drain()]

    done, told, *redactions = sent
    assert done.room == JEAN_DM and done.text.startswith("C'est fait :")
    assert isinstance(told, ToMediators) and told.text.startswith("#1 clos : l'agent a demandé l'effacement")
    assert all(isinstance(r, Redact) for r in redactions)
    assert {r.event_id for r in redactions} == events_of_jean | {_sent_id(helpdesk, asked)}  # the question too
    assert not {r.event_id for r in redactions} & events_of_anne
    assert {r.room for r in redactions if r.event_id == card} == {None}  # None: the mediators' room

    # nothing of Jean's words anywhere on disk (tables, outbox, WAL); Anne's are all there
    raw = _files(tmp_path / "data")
    assert MARKER.encode() not in raw and JEAN.encode() not in raw
    assert ANNE_MARKER.encode() in raw
    [one, two] = await store.tickets()
    assert (one.status, one.agent_name, one.room, one.reason, one.fields) == (Status.CLOSED, None, "", "", {})
    assert one.agent.startswith("anon:") and one.topic == topic  # the count by topic stays
    assert (two.agent, two.status) == (ANNE, Status.OPEN) and await store.ticket_history(2)
    assert await store.load_state(JEAN) is None and await store.load_state(ANNE) is not None
    [audit] = await _rows(store, "SELECT asked_by, subject, rows, events FROM erasures")
    assert audit["asked_by"] == "agent" and audit["subject"] == one.agent
    assert audit["rows"] > 10 and audit["events"] == len(redactions)

    # he is a stranger now, welcomed again: only this new conversation is kept
    await helpdesk.turn(clock.said(JEAN, "mes données"))
    welcome, summary = [item.action.text for item, _ in await helpdesk.drain()]
    assert welcome.startswith("Bonjour") and "notre conversation récente" in summary
    assert not any(word in summary for word in ("demande en cours", "demandes en cours", "demande close", "demandes closes", "avis (oui"))


def _sent_id(helpdesk: Helpdesk, item) -> str:
    return f"$out{helpdesk.sender.sent.index(item.action) + 1}"


async def test_non_keeps_everything_and_an_unrelated_message_drops_the_question(helpdesk):
    store, clock = helpdesk.store, Clock()
    await _life(helpdesk, clock)
    before = await _rows(store, "SELECT COUNT(*) FROM ticket_messages")
    await helpdesk.turn(clock.said(JEAN, "supprimer mes données"))
    await helpdesk.turn(clock.said(JEAN, "non"))
    said = [item.action for item, _ in await helpdesk.drain()]
    assert said[-1].text == "D'accord, rien n'a été effacé."
    await helpdesk.turn(clock.said(JEAN, "effacer mes données"))
    await helpdesk.turn(clock.said(JEAN, "le badge clignote encore"))  # relayed to the ticket, not an answer
    await helpdesk.turn(clock.said(JEAN, "oui"))  # no longer a confirmation
    await helpdesk.drain()
    assert (await store.tickets())[0].agent == JEAN
    assert (await _rows(store, "SELECT COUNT(*) FROM ticket_messages"))[0][0] > before[0][0]
    assert not await _rows(store, "SELECT * FROM erasures")


async def test_an_agent_who_writes_english_reads_the_summary_and_the_erasure_in_english(helpdesk):
    clock = Clock()
    await helpdesk.turn(clock.said(ANNE, "Hello, how do I check my hours balance in the app?"))
    await helpdesk.turn(clock.said(ANNE, "what data do you keep about me"))
    shown = [item.action.text for item, _ in await helpdesk.drain() if isinstance(item.action, Reply)][-1]
    assert shown.startswith("Here is what the help line keeps about you:")
    assert "our recent conversation (since 04/03/2026)" in shown and "« delete my data »" in shown
    await helpdesk.turn(clock.said(ANNE, "delete my data"))
    [(asked, _)] = await helpdesk.drain()
    assert asked.action.text.endswith("Answer « yes » or « no ».")
    await helpdesk.turn(clock.said(ANNE, "yes"))
    said = [item.action.text for item, _ in await helpdesk.drain() if isinstance(item.action, Reply)]
    assert said[-1].startswith("Done: ") and "Only anonymous numbers are left." in said[-1]


async def test_a_failed_message_shown_to_the_mediators_is_redacted_when_its_agent_is_erased(helpdesk):
    clock = Clock()
    assert await helpdesk.record_failure(event_id="$broken", agent=ANNE, room=ANNE_DM, text=f"odd {ANNE_MARKER}",
                                         error="KeyError", time=T)
    sent = await helpdesk.drain()
    [(shown, _)] = [(item, n) for item, n in sent if isinstance(item.action, ToMediators)]
    assert ANNE_MARKER in shown.action.text
    await helpdesk.turn(clock.said(ANNE, "effacer mes données"))
    await helpdesk.drain()
    await helpdesk.turn(clock.said(ANNE, "oui"))
    redacted = {item.action.event_id for item, _ in await helpdesk.drain() if isinstance(item.action, Redact)}
    assert _sent_id(helpdesk, shown) in redacted
    assert not await helpdesk.store.failed_events()


async def test_retention_leaves_pseudonymous_counts_and_redacts_the_mediators_copies(helpdesk, tmp_path):
    store, clock = helpdesk.store, Clock()
    await _life(helpdesk, clock)
    await helpdesk.mediator_turn(clock.said(MARIE, "!clore 1"), MediatorsRoom())
    await helpdesk.drain()
    card = await store.card_event(1)
    mediators_events = {r[0] for r in await _rows(store, "SELECT event_id FROM sent_events WHERE ticket = 1 "
                                                         "AND room IS NULL")}

    erased = await store.purge(T + timedelta(days=400), 90)  # the clock moved on
    redactions = [item.action for item, _ in await helpdesk.drain()]
    assert erased["tickets"] == 1 and erased["sent events redacted"] == len(redactions)
    assert {r.event_id for r in redactions} >= mediators_events and card in mediators_events
    raw = _files(tmp_path / "data")
    assert MARKER.encode() not in raw and JEAN.encode() not in raw
    [one, two] = await store.tickets()
    assert one.agent.startswith("anon:") and one.assignee.startswith("anon:") and one.assignee_name is None
    assert (one.room, one.reason, one.status) == ("", "", Status.CLOSED) and one.first_reply_at is not None
    assert two.agent == ANNE and ANNE_MARKER.encode() in raw  # an open ticket keeps its words, however old
    feedback = await store.feedback()
    assert all(f.agent.startswith("anon:") or f.agent == "" for f in feedback)


async def test_the_migration_ties_the_events_already_sent_to_their_agent(tmp_path, monkeypatch):
    """A store of the previous schema, with a card and a DM answer already sent: after the upgrade an
    erasure still finds both to redact."""
    import bot.storage.store
    migrations = bot.storage.store.MIGRATIONS
    previous = migrations[:next(i for i, m in enumerate(migrations) if "CREATE TABLE sent_events" in m)]
    monkeypatch.setattr(bot.storage.store, "MIGRATIONS", previous)
    store = await Store.open(tmp_path)
    async with store.transaction() as db:
        await db.execute("INSERT INTO handled (event_id, agent, handled_at) VALUES ('$q', ?, ?)", (JEAN, T.isoformat()))
        await db.execute("INSERT INTO tickets (number, agent, room, status, reason, fields, opened_at, updated_at) "
                         "VALUES (1, ?, ?, 'open', 'r', '{}', ?, ?)", (JEAN, JEAN_DM, T.isoformat(), T.isoformat()))
        for txn, event, kind, payload in (
                ("t1", "$card", "PostCard", {"__type__": "PostCard", "ticket": 1, "text": MARKER}),
                ("t2", "$answer", "Reply", {"__type__": "Reply", "room": JEAN_DM, "text": "x", "reply_to": None})):
            await db.execute("INSERT INTO outbox (txn_id, event_id, kind, payload, created_at, sent_at, sent_event_id) "
                             "VALUES (?, '$q', ?, ?, ?, ?, ?)",
                             (txn, kind, json.dumps(payload), T.isoformat(), T.isoformat(), event))
        await db.execute("INSERT INTO ticket_events (event_id, ticket, kind) VALUES ('$card', 1, 'card')")
    await store.close()
    monkeypatch.undo()

    store = await Store.open(tmp_path)
    try:
        erased = await store.forget(JEAN, T, "admin:test")
        assert sorted((r.event_id, r.room) for r in erased.actions if isinstance(r, Redact)) == [
            ("$answer", JEAN_DM), ("$card", None)]
        assert MARKER.encode() not in _files(tmp_path)
    finally:
        await store.close()


async def test_one_entry_covers_a_new_table_a_full_text_index_and_a_pseudonymous_log(helpdesk, tmp_path, monkeypatch):
    """What the merge adds for the FTS index of `!cherche` and the decision log: one Place each."""
    from bot.storage import erasure
    store, clock = helpdesk.store, Clock()
    await _life(helpdesk, clock)
    async with store.transaction() as db:
        await db.execute("CREATE VIRTUAL TABLE search USING fts5(ticket UNINDEXED, text)")
        await db.execute("INSERT INTO search (ticket, text) SELECT ticket, text FROM ticket_messages")
        await db.execute("CREATE TABLE later_log (agent TEXT, text TEXT, vector BLOB)")
        await db.execute("INSERT INTO later_log VALUES (pseudonym(?), ?, ?), (pseudonym(?), ?, ?)",
                         (JEAN, f"badgeuse {MARKER}", MARKER.encode(), ANNE, ANNE_MARKER, b"\0"))
    monkeypatch.setattr(erasure, "PLACES", (
        *erasure.PLACES,
        erasure.Place(table="search", ticket="ticket", after=("INSERT INTO search (search) VALUES ('optimize')",)),
        erasure.Place(table="later_log", agent="agent", pseudonymous=True)))
    await store.checkpoint()
    assert MARKER.encode() in _files(tmp_path / "data")

    erased = await store.forget(JEAN, T + timedelta(days=1), "admin:test")
    assert erased.rows["search"] > 0 and erased.rows["later_log"] == 1
    raw = _files(tmp_path / "data")
    assert MARKER.encode() not in raw and ANNE_MARKER.encode() in raw  # 'optimize' rewrote the index's segments
    [(anne,)] = await _rows(store, "SELECT COUNT(*) FROM search WHERE search MATCH 'brontosaurix'")
    assert anne >= 2  # Anne's messages are still found


async def test_an_item_erased_while_it_was_being_sent_is_redacted_when_it_lands(helpdesk):
    store, clock = helpdesk.store, Clock()
    await _life(helpdesk, clock)
    await helpdesk.turn(clock.said(JEAN, "mes demandes"))
    [sending] = await store.pending_outbox()  # the drain has taken it...
    await store.forget(JEAN, T + timedelta(days=1), "admin:test")  # ...the erasure runs meanwhile
    await store.mark_sent(sending, "$late")
    pending = [item.action for item in await store.pending_outbox()]
    assert Redact(event_id="$late", room=JEAN_DM) in pending
