"""The mediators' tools: `!cherche` over the store's full-text index (kept in step with the
tickets' messages, retention and erasure), `!tickets` and reminders in working time with the
overdue ones marked, `!mes-tickets`, the French forms a mediator guesses, topic titles for agents."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import bot.storage.store
from bot.desk.commands import Command, Verb, parse_command
from bot.config import config_from_dict
from bot.desk.desk import Desk
from bot.desk.room import MediatorsRoom
from bot.desk.hours import PARIS, working_time
from bot.desk.ledger import Ledger, SearchHit
from bot.messages import Incoming
from bot.storage.store import Store
from bot.storage.tickets import search_tickets
from bot.desk.tickets import needs_reminder, new_ticket, take

from ..desk.test_desk import AGENT, DM, MARIE, PAUL, ROOM
from ..storage.test_tickets import Engine, ListSender, said

CONFIG = config_from_dict({"mediators": [MARIE, PAUL]}, base=Path("."))  # 8:30-17:30 Mon-Fri, reminders 30/60
WEDNESDAY = datetime(2026, 3, 4, 10, 0, tzinfo=PARIS)


@pytest.mark.parametrize("text, command", [
    ("!liste", Command(verb=Verb.LIST)),
    ("!tickets", Command(verb=Verb.LIST)),
    ("!fermer 3", Command(verb=Verb.CLOSE, ticket=3)),
    ("!clôturer 3", Command(verb=Verb.CLOSE, ticket=3)),
    ("!Clôture 3", Command(verb=Verb.HELP, problem="Je ne connais pas la commande « !Clôture ».")),
    ("!chercher badge perdu", Command(verb=Verb.SEARCH, text="badge perdu")),
    ("!cherche  Dupont ", Command(verb=Verb.SEARCH, text="Dupont")),
    ("!aide", Command(verb=Verb.HELP)),
    ("!mes-tickets", Command(verb=Verb.MINE)),
    ("!mes tickets", Command(verb=Verb.MINE)),
    ("!prends 4", Command(verb=Verb.TAKE, ticket=4)),
    ("!voir 4", Command(verb=Verb.SHOW, ticket=4)),
    ("!répondre 4 c'est fait", Command(verb=Verb.REPLY, ticket=4, text="c'est fait")),
])
def test_the_french_forms_a_mediator_guesses(text, command):
    assert parse_command(text) == command


def test_a_search_without_words_says_what_is_missing():
    command = parse_command("!cherche")
    assert command.verb is Verb.HELP and "mots à chercher" in command.problem


@pytest.mark.parametrize("start, end, minutes", [
    (datetime(2026, 3, 4, 10, 0), datetime(2026, 3, 4, 10, 45), 45),    # within a day
    (datetime(2026, 3, 6, 17, 0), datetime(2026, 3, 9, 9, 0), 60),      # Friday 17:00 -> Monday 9:00
    (datetime(2026, 3, 4, 20, 0), datetime(2026, 3, 5, 8, 0), 0),       # a night
    (datetime(2026, 4, 30, 17, 0), datetime(2026, 5, 4, 8, 45), 30 + 15),  # Friday 1 May is a public holiday
])
def test_working_time(start, end, minutes):
    assert working_time(start.replace(tzinfo=PARIS), end.replace(tzinfo=PARIS), CONFIG.working_hours) == \
        timedelta(minutes=minutes)


def test_a_ticket_opened_late_is_reminded_after_30_working_minutes_the_next_morning():
    ticket = new_ticket(number=1, agent=AGENT, room=DM, reason="r", now=datetime(2026, 3, 4, 17, 20, tzinfo=PARIS))
    thursday = datetime(2026, 3, 5, tzinfo=PARIS)
    assert not needs_reminder(ticket, thursday.replace(hour=8, minute=39), None, CONFIG)  # 10 + 9 min
    assert needs_reminder(ticket, thursday.replace(hour=8, minute=50), None, CONFIG)
    reminded = thursday.replace(hour=8, minute=50)
    assert not needs_reminder(ticket, thursday.replace(hour=9, minute=49), reminded, CONFIG)
    assert needs_reminder(ticket, thursday.replace(hour=9, minute=50), reminded, CONFIG)


def mediator(text: str, sender: str = MARIE, now: datetime = WEDNESDAY) -> Incoming:
    return Incoming(sender=sender, room=ROOM, text=text, event_id="$m", time=now, sender_name="Marie Curie")


def ledger(*tickets, found=()) -> Ledger:
    return Ledger(tickets={t.number: t for t in tickets}, next_number=len(tickets) + 1, found=found)


def answer(desk: Desk, book: Ledger, text: str, **kw) -> str:
    return desk.mediator_turn(book, mediator(text, **kw), MediatorsRoom()).actions[0].text


def test_tickets_shows_the_wait_in_working_time_and_marks_the_overdue_ones():
    desk = Desk(CONFIG, {})
    friday = datetime(2026, 3, 6, 17, 10, tzinfo=PARIS)
    old = new_ticket(number=1, agent=AGENT, room=DM, reason="r", now=friday, agent_name="Jean", topic="badge.lost")
    fresh = new_ticket(number=2, agent="@b:s", room="!b", reason="r", now=friday.replace(hour=17, minute=25))
    taken = take(new_ticket(number=3, agent="@c:s", room="!c", reason="Paie", now=friday), mediator=MARIE,
                 name="Marie", now=friday)
    monday = datetime(2026, 3, 9, 8, 45, tzinfo=PARIS)
    lines = answer(desk, ledger(old, fresh, taken), "!liste", now=monday).splitlines()
    assert lines[1:] == ["- #1 · 35 min · Jean · badge.lost · libre · ⚠️ en retard",  # 20 on Friday + 15 on Monday
                         "- #3 · 35 min · @c:s · Paie · pris par Marie",  # taken: never overdue
                         "- #2 · 20 min · @b:s · r · libre"]
    mine = answer(desk, ledger(old, fresh, taken), "!mes-tickets", now=monday).splitlines()
    assert mine == ["Vos tickets en cours (attente en heures ouvrées) :", "- #3 · 35 min · @c:s · Paie · pris par Marie"]
    assert answer(desk, ledger(old), "!mes-tickets", sender=PAUL) == "Vous n'avez aucun ticket en cours."


def test_agents_read_the_topic_title_never_its_id():
    desk = Desk(CONFIG, {})
    ticket = new_ticket(number=4, agent=AGENT, room=DM, reason="Oubli de pointage signalé", now=WEDNESDAY,
                        topic="badge.forgot_punch")
    asked = Incoming(sender=AGENT, room=DM, text="mes demandes", event_id="$a", time=WEDNESDAY)
    text = desk.agent_turn(ledger(ticket), asked, lambda s, i: (s, [])).actions[0].text
    assert "badge.forgot_punch" not in text
    assert "n° 4 · Oubli de badgeage, pointage à régulariser · en attente d'un médiateur" in text
    unknown = replace(ticket, topic="some.unknown_id")
    assert "n° 4 · Oubli de pointage signalé ·" in desk.agent_turn(ledger(unknown), asked, lambda s, i: (s, [])) \
        .actions[0].text


def test_search_lists_the_store_hits_with_their_extract_and_the_tickets_whose_topic_title_matches():
    desk = Desk(CONFIG, {})
    one = new_ticket(number=1, agent=AGENT, room=DM, reason="r", now=WEDNESDAY, agent_name="Jean", topic="payslip.error")
    two = new_ticket(number=2, agent="@b:s", room="!b", reason="r", now=WEDNESDAY, topic="badge.forgot_punch")
    found = (SearchHit(ticket=1, extract="mon **badge** ne marche plus"),)
    lines = answer(desk, ledger(one, two, found=found), "!cherche badge").splitlines()
    assert lines == ["Tickets contenant « badge », du plus récent au plus ancien :",
                     "- #2 · 04/03 10:00 · @b:s · badge.forgot_punch · ouvert, libre",  # title « Oubli de badgeage… »
                     "- #1 · 04/03 10:00 · Jean · payslip.error · ouvert, libre",
                     "  « mon **badge** ne marche plus »"]
    assert answer(desk, ledger(one), "!cherche tondeuse") == "Aucun ticket ne contient « tondeuse »."
    assert Desk.search_wanted("!chercher badge perdu") == ("badge", "perdu") and Desk.search_wanted("!tickets") is None


# --- the index in the real store -------------------------------------------------------------------

@pytest.fixture
async def helpdesk(tmp_path):
    from bot.helpdesk import Helpdesk
    store = await Store.open(tmp_path)
    yield Helpdesk(engine=Engine(), store=store, sender=ListSender(), desk=Desk(CONFIG, {}))
    await store.close()


async def found(store: Store, *words: str) -> list[int]:
    return [hit.ticket for hit in await search_tickets(store._db, words)]


async def test_the_index_follows_messages_agents_topics_retention_and_erasure(helpdesk):
    store = helpdesk.store
    await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))  # ticket 1, transcript « mon badge ne marche plus »
    await helpdesk.turn(said("$a2", AGENT, "le lecteur du hall est cassé", minutes=1))  # relayed: a message of #1
    assert await found(store, "badg") == [1]  # a prefix
    assert await found(store, "lecteur", "jean") == [1]  # words from a message AND the agent's name
    assert await found(store, "hall", "badge") == [1]  # two messages of one ticket
    assert await found(store, "Cassé") == await found(store, "casse") == [1]  # case and accents do not matter
    assert await found(store, "badge", "tondeuse") == []
    assert await found(store, '"; DROP TABLE tickets; --') == []  # typed punctuation is plain text

    await helpdesk.mediator_turn(said("$m1", MARIE, "!clore 1", minutes=2))
    later = said("$a3", AGENT, "x", minutes=2).time + timedelta(days=200)
    erased = await store.purge(later, 90)
    assert erased["ticket_messages"] >= 2
    assert await found(store, "lecteur") == [] and await found(store, "marche") == []  # gone with their messages
    assert await found(store, "badge") == [1]  # the ticket's row stays (its topic: kept for !stats)
    assert await found(store, "jean") == []  # ...pseudonymised: the agent's name left the index too

    async with store.transaction() as db:  # an erasure (issue 12) deletes the rows: the index follows
        await db.execute("UPDATE tickets SET agent_name = NULL, agent = 'erased' WHERE number = 1")
    assert await found(store, "jean") == []
    async with store._db.execute("SELECT count(*) FROM ticket_search WHERE ticket_search MATCH 'martin'") as cursor:
        assert (await cursor.fetchone())[0] == 0


async def test_the_migration_indexes_the_tickets_already_there(tmp_path, monkeypatch):
    from bot.helpdesk import Helpdesk
    everything = bot.storage.store.MIGRATIONS
    monkeypatch.setattr(bot.storage.store, "MIGRATIONS", everything[:next(i for i, m in enumerate(everything) if "ticket_search" in m)])  # before the index
    store = await Store.open(tmp_path)
    await Helpdesk(engine=Engine(), store=store, sender=ListSender(), desk=Desk(CONFIG, {})).turn(
        said("$a1", AGENT, "je veux un médiateur"))
    await store.close()
    monkeypatch.setattr(bot.storage.store, "MIGRATIONS", everything)
    store = await Store.open(tmp_path)
    try:
        assert await store.schema_version() == len(everything)
        assert await found(store, "badge", "martin") == [1]
    finally:
        await store.close()


async def test_cherche_goes_through_the_desk_turn(helpdesk):
    await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))
    await helpdesk.mediator_turn(said("$m1", MARIE, "!chercher marche"))
    reply = [a for a in (i.action for i in await helpdesk.store.pending_outbox()) if getattr(a, "reply_to", None)][-1]
    assert reply.text.splitlines()[1].startswith("- #1 · 04/03 10:00 · Jean Martin · badge · ouvert, libre")
    assert "**marche**" in reply.text


async def test_gauges_count_open_tickets_and_the_oldest_untaken(helpdesk):
    store = helpdesk.store
    assert await store.gauges() == {"outbox_depth": 0, "tickets_open": 0, "tickets_taken": 0, "oldest_untaken": None}
    await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))
    gauges = await store.gauges()
    assert gauges["tickets_open"] == 1 and gauges["oldest_untaken"] == said("$", AGENT, "").time
    assert gauges["outbox_depth"] >= 2  # the agent's answer and the card, not sent yet
    await helpdesk.mediator_turn(said("$m1", MARIE, "!prendre 1"))
    gauges = await store.gauges()
    assert (gauges["tickets_open"], gauges["tickets_taken"], gauges["oldest_untaken"]) == (0, 1, None)
