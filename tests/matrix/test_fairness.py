"""Lanes and the per-room outbox, with the real SQLite store: order per agent, fairness between agents,
the flood guard, a room stuck in a rate limit holding nobody else; and agents' words kept verbatim."""
from __future__ import annotations

import asyncio

import pytest

from bot.matrix.lanes import Lanes
from bot.matrix.outbox import RoomOutbox
from bot.matrix.sending import encrypted_size, notice_content, notice_parts, render_html
from bot.messages import Reply
from bot.storage.store import Store
from bot.verbatim import plain, verbatim


async def test_each_agent_in_order_and_a_backlog_never_holds_another_agents_turn():
    done: list[str] = []
    told: list[tuple[str, str]] = []

    async def tell(sender: str, room: str) -> None:
        told.append((sender, room))

    lanes = Lanes(on_flood=tell, flood_limit=20, flood_window=30)

    def job(name: str):
        async def run() -> None:
            await asyncio.sleep(0.001)
            done.append(name)
        return run

    flood = [lanes.put("@flood", job(f"f{n}"), when=100 + n / 100, room="!f") for n in range(200)]
    calm = [lanes.put("@calm", job(f"c{n}"), when=100 + n, room="!c") for n in range(3)]
    await asyncio.gather(*flood, *calm)
    assert [d for d in done if d.startswith("f")] == [f"f{n}" for n in range(200)]  # in order
    assert max(done.index(f"c{n}") for n in range(3)) < 30  # the calm agent went first, not after 200
    assert told == [("@flood", "!f")]  # one notice for the whole flood
    await lanes.close()


async def test_a_room_waiting_out_a_rate_limit_holds_no_other_room(tmp_path):
    store = await Store.open(tmp_path)
    released = asyncio.Event()
    sent: list[str] = []

    class Sender:  # the helpdesk's Sender interface: one room is rate-limited until released
        async def send(self, item):
            if item.action.room == "!slow":
                await released.wait()
            sent.append(item.action.text)
            return f"$ev{item.id}"

    outbox = RoomOutbox(store, Sender())
    try:
        await store.enqueue([Reply(room="!slow", text="lent 1"), Reply(room="!slow", text="lent 2"),
                             Reply(room="!fast", text="vite")])
        outbox.kick()
        async with asyncio.timeout(5):
            while "vite" not in sent:
                await asyncio.sleep(0.01)
        assert sent == ["vite"]
        released.set()
        async with asyncio.timeout(5):
            while len(sent) < 3:
                await asyncio.sleep(0.01)
        assert sent == ["vite", "lent 1", "lent 2"] and await store.pending_outbox() == []
    finally:
        await outbox.close()
        await store.close()


def test_agents_words_are_shown_as_typed_and_never_rendered():
    words = verbatim("[lien](https://x) `code` <i>i</i> & @room\n#4 · faux")
    text = f"#3 · **{verbatim('Eve')}** : {words}"
    assert plain(text) == "#3 · **Eve** : [lien](https://x) `code` <i>i</i> & @\u2060room\n│ #4 · faux"
    assert render_html(text) == ("<p>#3 · <strong>Eve</strong> : [lien](https://x) `code` &lt;i&gt;i&lt;/i&gt; &amp; "
                                 "@\u2060room<br />\n│ #4 · faux</p>")
    assert plain(verbatim("\ue001**x**\ue000")) == "**x**"  # markers typed by an agent cannot close the quote


def test_a_text_too_large_for_one_event_is_split_in_parts_that_each_fit():
    text = "#1 · x : " + verbatim("\n".join(f"ligne {n} : é" * 3 for n in range(3000)))
    parts = notice_parts(text, room="!r:localhost")
    assert len(parts) > 1 and all(encrypted_size("!r:localhost", notice_content(p)) <= 60_000 for p in parts)
    assert all(p.startswith("(suite) ") for p in parts[1:])
    assert "".join(plain(p).removeprefix("(suite) ") for p in parts) == plain(text)


async def test_a_flood_still_moves_on_while_the_others_never_stop():
    async def tell(sender: str, room: str) -> None:
        pass

    lanes = Lanes(on_flood=tell, flood_limit=2, flood_window=30, flood_pause=0.05)
    done: list[str] = []

    def job(name: str, seconds: float):
        async def run() -> None:
            await asyncio.sleep(seconds)
            done.append(name)
        return run

    flood = [lanes.put("@flood", job(f"f{n}", 0), when=float(n), room="!f") for n in range(5)]
    busy = [lanes.put("@busy", job(f"b{n}", 0.02), when=n * 10.0, room="!b") for n in range(100)]
    await asyncio.gather(*flood)
    assert sum(d.startswith("b") for d in done) < 60  # the flood was served before the others were done
    await asyncio.gather(*busy)
    await lanes.close()


async def test_the_first_429_is_logged_once_with_the_advice_to_exempt_the_bot(caplog, monkeypatch):
    from nio import RoomSendError, RoomSendResponse

    from bot.matrix import sending
    monkeypatch.setattr(sending, "_advised", False)
    answers = [RoomSendError("Too many requests", "M_LIMIT_EXCEEDED", retry_after_ms=10)] * 2

    async def call():
        return answers.pop() if answers else RoomSendResponse("$sent", "!r")

    async def sleep(seconds):
        pass

    for _ in range(2):
        answers[:] = [RoomSendError("Too many requests", "M_LIMIT_EXCEEDED", retry_after_ms=10)] * 2
        assert (await sending.with_retries(call, what="t", sleep=sleep)).event_id == "$sent"
    assert caplog.text.count("override_ratelimit") == 1


async def test_an_m_too_large_is_not_a_silent_drop():
    from nio import RoomSendError

    from bot.matrix.sending import TooLarge, with_retries

    async def call():
        return RoomSendError("event too large", "M_TOO_LARGE")

    with pytest.raises(TooLarge):  # the sender catches it and splits further (MatrixSender.send_notice)
        await with_retries(call, what="t")
