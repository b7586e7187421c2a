"""Tickets in the real SQLite store: a desk turn writes ticket, audit, messages and outbox together;
sent events are linked to their ticket; two `!prendre` racing on two connections give one owner."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.verbatim import plain
from bot.config import config_from_dict
from bot.desk.desk import Desk
from bot.desk.room import MediatorsRoom
from bot.helpdesk import Helpdesk
from bot.desk.hours import PARIS
from bot.messages import Incoming, PostCard, RelayToAgent, ToMediators
from bot.storage.store import MIGRATIONS, Store
from bot.desk.tickets import Status

from ..desk.test_desk import AGENT, DM, MARIE, PAUL, ROOM, FakeEngine

T = datetime(2026, 3, 4, 10, 0, tzinfo=PARIS)
CONFIG = config_from_dict({"mediators": [MARIE, PAUL]}, base=Path("."))


class Engine:
    def handle(self, state, incoming):
        return FakeEngine()(state, incoming)


class ListSender:
    def __init__(self):
        self.sent = []

    async def send(self, item):
        self.sent.append(item.action)
        return f"$out{len(self.sent)}"


@pytest.fixture
async def helpdesk(tmp_path):
    store = await Store.open(tmp_path)
    desk = Helpdesk(engine=Engine(), store=store, sender=ListSender(), desk=Desk(CONFIG, {}))
    yield desk
    await store.close()


def said(event: str, sender: str, text: str, minutes: int = 0, reply_to: str | None = None) -> Incoming:
    room = ROOM if sender in (MARIE, PAUL) else DM
    return Incoming(sender=sender, room=room, text=text, event_id=event, time=T + timedelta(minutes=minutes),
                    reply_to=reply_to, sender_name=None)


async def test_a_ticket_is_stored_with_its_card_link_messages_and_audit(helpdesk):
    store = helpdesk.store
    assert await store.schema_version() == len(MIGRATIONS)
    await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))
    [ticket] = await store.tickets()
    assert (ticket.number, ticket.status, ticket.topic, ticket.fields) == (1, Status.OPEN, "badge", {"site": "Mairie"})
    sent = await helpdesk.drain()
    card = next(event for item, event in sent if isinstance(item.action, PostCard))
    assert await store.card_event(1) == card
    await helpdesk.turn(said("$a2", AGENT, "c'est urgent", 1))
    await helpdesk.mediator_turn(said("$m1", MARIE, "je m'en occupe", 2, reply_to=card))
    await helpdesk.mediator_turn(said("$m2", MARIE, "!note à rappeler", 3, reply_to="$m1"))
    await helpdesk.mediator_turn(said("$m3", MARIE, "!clore 1", 4))
    await helpdesk.turn(said("$a3", AGENT, "5", 5))
    sent = [item.action for item, _ in await helpdesk.drain()]
    assert [type(a).__name__ for a in sent] == ["ToMediators", "RelayToAgent", "Reply", "StoreNote", "Reply",
                                                "Reply", "Reply", "Reply", "ToMediators"]
    assert not [a for a in sent if getattr(a, "room", None) == DM and "à rappeler" in a.text]  # the note stays inside
    [ticket] = await store.tickets()
    assert (ticket.status, ticket.assignee, ticket.mark) == (Status.CLOSED, MARIE, 5)
    history = [(h.kind, h.text) for h in await store.ticket_history(1)]
    assert ("transcript", "mon badge ne marche plus") in history
    assert ("agent", "c'est urgent") in history
    assert ("mediator", "je m'en occupe") in history
    assert ("note", "à rappeler") in history
    assert [text for kind, text in history if kind == "audit"] == ["open", "reply", "close", "mark 5"]
    await helpdesk.mediator_turn(said("$m4", PAUL, "!ticket 1", 6), MediatorsRoom(names={MARIE: "Marie [DINUM]"}))
    shown = [plain(item.action.text) for item in await store.pending_outbox()][-1]
    assert "note de Marie : à rappeler" in shown and "Jean Martin : c'est urgent" in shown
    assert "suivi (Marie) : clôture" in shown and "suivi (Jean Martin) : note 5" in shown
    relay = next(a for a in sent if isinstance(a, RelayToAgent))
    assert relay.room == DM
    assert await store.ticket_of_event("$a2") == 1 and await store.ticket_of_event("$m1") == 1


async def test_a_replayed_event_changes_nothing(helpdesk):
    await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))
    assert await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur")) is False
    assert len(await helpdesk.store.tickets()) == 1
    assert len(await helpdesk.store.pending_outbox()) == 3


async def test_two_takes_racing_on_two_connections_give_one_owner(tmp_path):
    first = await Store.open(tmp_path)
    second = await Store.open(tmp_path)
    desk = Desk(CONFIG, {})
    try:
        one = Helpdesk(engine=Engine(), store=first, sender=ListSender(), desk=desk)
        two = Helpdesk(engine=Engine(), store=second, sender=ListSender(), desk=desk)
        await one.turn(said("$a1", AGENT, "je veux un médiateur"))
        await asyncio.gather(one.mediator_turn(said("$t1", MARIE, "!prendre 1", 1), MediatorsRoom()),
                             two.mediator_turn(said("$t2", PAUL, "!prendre 1", 1), MediatorsRoom()))
        [ticket] = await first.tickets()
        loser = PAUL if ticket.assignee == MARIE else MARIE
        texts = [i.action.text for i in await first.pending_outbox() if i.action.__class__.__name__ == "Reply"]
        assert sum(t.startswith("#1 pris par") for t in texts) == 1
        assert f"Le ticket #1 est déjà pris par {ticket.assignee}." in texts
        assert loser not in (ticket.assignee,)
        assert [h.text for h in await first.ticket_history(1) if h.kind == "audit"] == ["open", "take"]
    finally:
        await first.close()
        await second.close()


async def test_the_tick_reminds_once_and_survives_a_reopen_of_the_store(tmp_path):
    store = await Store.open(tmp_path)
    helpdesk = Helpdesk(engine=Engine(), store=store, sender=ListSender(), desk=Desk(CONFIG, {}))
    await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))
    assert await helpdesk.tick(T + timedelta(minutes=31)) is True
    await store.close()
    store = await Store.open(tmp_path)
    helpdesk = Helpdesk(engine=Engine(), store=store, sender=ListSender(), desk=Desk(CONFIG, {}))
    try:
        assert await helpdesk.tick(T + timedelta(minutes=40)) is False
        reminders = [i.action for i in await store.pending_outbox() if isinstance(i.action, ToMediators)]
        assert len(reminders) == 1 and reminders[0].text.startswith("Rappel : #1")
    finally:
        await store.close()


async def test_stats_count_the_agents_who_needed_a_human_this_week(helpdesk):
    await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))
    await helpdesk.turn(said("$b1", "@other:localhost", "bonjour", minutes=5))
    await helpdesk.drain()
    await helpdesk.mediator_turn(said("$m1", MARIE, "!stats", minutes=10), MediatorsRoom())
    figures = (await _sent(helpdesk))[-1]
    assert figures.room == ROOM and "agents passés par un médiateur cette semaine : 50 % (1 sur 2 agents venus écrire)" in figures.text


async def _sent(helpdesk):
    await helpdesk.drain()
    return helpdesk.sender.sent
