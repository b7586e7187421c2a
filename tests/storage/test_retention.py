"""What the welcome promises: an agent's words are erased after retention_days, in the real SQLite
store; open tickets and the figures of !stats stay."""
from __future__ import annotations

from datetime import timedelta

from bot.desk.desk import Desk
from bot.desk.room import MediatorsRoom
from bot.helpdesk import Helpdesk
from bot.storage.store import Store

from .test_tickets import CONFIG, T, Engine, ListSender, said
from ..desk.test_desk import AGENT, MARIE



async def _count(store: Store, sql: str) -> int:
    async with store._db.execute(sql) as cursor:
        return (await cursor.fetchone())[0]


async def test_words_are_erased_after_the_retention_period_but_not_before(tmp_path):
    store = await Store.open(tmp_path)
    helpdesk = Helpdesk(engine=Engine(), store=store, sender=ListSender(), desk=Desk(CONFIG, {}))
    try:
        await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))
        await helpdesk.mediator_turn(said("$m1", MARIE, "!clore 1", minutes=5), MediatorsRoom())
        await helpdesk.drain()
        messages_before = await _count(store, "SELECT COUNT(*) FROM ticket_messages")
        assert messages_before > 0

        assert not any((await store.purge(T + timedelta(days=30), 90)).values())  # too early: nothing goes
        assert await _count(store, "SELECT COUNT(*) FROM ticket_messages") == messages_before

        erased = await store.purge(T + timedelta(days=400), 90)
        assert erased["ticket_messages"] == messages_before and erased["sent messages"] > 0
        assert await _count(store, "SELECT COUNT(*) FROM ticket_messages") == 0
        assert await _count(store, "SELECT COUNT(*) FROM outbox WHERE kind != 'Redact'") == 0  # redactions wait
        assert await store.load_state(AGENT) is None
        [ticket] = await store.tickets()  # the figures stay, without anyone's words
        assert (ticket.number, ticket.fields) == (1, {})
        assert await _count(store, "SELECT COUNT(*) FROM ticket_audit") > 0
    finally:
        await store.close()


async def test_an_open_ticket_keeps_its_messages_however_old(tmp_path):
    store = await Store.open(tmp_path)
    helpdesk = Helpdesk(engine=Engine(), store=store, sender=ListSender(), desk=Desk(CONFIG, {}))
    try:
        await helpdesk.turn(said("$a1", AGENT, "je veux un médiateur"))
        await helpdesk.drain()
        before = await _count(store, "SELECT COUNT(*) FROM ticket_messages")
        await store.purge(T + timedelta(days=400), 90)
        assert await _count(store, "SELECT COUNT(*) FROM ticket_messages") == before > 0
    finally:
        await store.close()
