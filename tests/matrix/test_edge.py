"""The pure parts of the Matrix layer, as transcripts: raw event JSON in, Incoming (or nothing) out;
who may invite; what a notice looks like; how sends are retried."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from nio import Event, RoomSendError, RoomSendResponse

from bot.matrix.access import may_invite, user_domains
from bot.matrix.events import convert, html_to_text, mentions
from bot.matrix.sending import Refused, RetryPolicy, notice_content, with_retries

BOT = "@bot:localhost"
AGENT = "@jeanne.martin-lyon.fr:agent.collectivites.tchap.gouv.fr"
SINCE = datetime(2026, 1, 1, tzinfo=timezone.utc)
TS = int(datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc).timestamp() * 1000)


def event(content: dict, *, type_: str = "m.room.message", sender: str = AGENT, ts: int = TS,
          event_id: str = "$e") -> Event:
    return Event.parse_event({"type": type_, "content": content, "sender": sender, "event_id": event_id,
                              "origin_server_ts": ts, "room_id": "!r:localhost"})


def text_of(ev: Event) -> str | None:
    incoming = convert(ev, room_id="!r:localhost", own_user=BOT, since=SINCE)
    return incoming.text if incoming else None


@pytest.mark.parametrize("content, expected", [
    ({"msgtype": "m.text", "body": "Bonjour"}, "Bonjour"),
    ({"msgtype": "m.text", "body": "**gras**", "format": "org.matrix.custom.html",
      "formatted_body": "<strong>gras</strong> &amp; <em>fin</em><br>ligne"}, "gras & fin\nligne"),
    ({"msgtype": "m.text", "body": "> <@bot:localhost> question ?\n\nma réponse",
      "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}, "ma réponse"),
    ({"msgtype": "m.text", "body": "x", "format": "org.matrix.custom.html",
      "formatted_body": "<mx-reply><blockquote>cité</blockquote></mx-reply>nouveau"}, "nouveau"),
    ({"msgtype": "m.emote", "body": "salue"}, "salue"),
    ({"msgtype": "m.notice", "body": "un autre bot"}, None),
    ({"msgtype": "m.image", "body": "photo.jpg", "url": "mxc://x/y"}, None),
    ({"msgtype": "m.text", "body": "   "}, None),
])
def test_messages(content, expected):
    assert text_of(event(content)) == expected


def test_a_reply_keeps_the_event_it_answers():
    ev = event({"msgtype": "m.text", "body": "oui", "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}})
    assert convert(ev, room_id="!r:localhost", own_user=BOT, since=SINCE).reply_to == "$q"


def test_a_message_in_a_thread_answers_the_thread_root():
    """Element puts a mediator's thread message under the card; Tchap for Android sends plain replies."""
    ev = event({"msgtype": "m.text", "body": "je m'en occupe",
                "m.relates_to": {"rel_type": "m.thread", "event_id": "$card", "is_falling_back": True,
                                 "m.in_reply_to": {"event_id": "$last-in-thread"}}})
    incoming = convert(ev, room_id="!r:localhost", own_user=BOT, since=SINCE)
    assert (incoming.text, incoming.reply_to) == ("je m'en occupe", "$card")


def test_an_edit_carries_the_new_text():
    ev = event({"msgtype": "m.text", "body": "* congé maladie",
                "m.new_content": {"msgtype": "m.text", "body": "congé maladie"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"}})
    incoming = convert(ev, room_id="!r:localhost", own_user=BOT, since=SINCE)
    assert (incoming.text, incoming.reply_to, incoming.event_id) == ("congé maladie", None, "$e")


@pytest.mark.parametrize("key, expected", [("👍", "👍"), ("👎️", "👎"), ("👍🏽", "👍"), ("🎉", None)])
def test_reactions(key, expected):
    ev = event({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$answer", "key": key}}, type_="m.reaction")
    incoming = convert(ev, room_id="!r:localhost", own_user=BOT, since=SINCE)
    assert (incoming.text if incoming else None) == expected
    if incoming:
        assert incoming.reply_to == "$answer"


@pytest.mark.parametrize("ev", [
    event({"msgtype": "m.text", "body": "moi-même"}, sender=BOT),
    event({"msgtype": "m.text", "body": "avant le premier démarrage"}, ts=int(SINCE.timestamp() * 1000) - 1),
    event({"redacts": "$x"}, type_="m.room.redaction"),
    event({"foo": "bar"}, type_="org.example.unknown"),
], ids=["own", "old", "redaction", "unknown"])
def test_dropped_at_the_edge(ev):
    assert convert(ev, room_id="!r:localhost", own_user=BOT, since=SINCE) is None


def test_the_time_comes_from_the_event():
    incoming = convert(event({"msgtype": "m.text", "body": "x"}), room_id="!r", own_user=BOT, since=SINCE)
    assert incoming.time == datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def test_mentions_are_read_from_m_mentions_only():
    assert mentions(event({"msgtype": "m.text", "body": "x", "m.mentions": {"user_ids": [BOT]}}), BOT)
    assert not mentions(event({"msgtype": "m.text", "body": "bot: @bot:localhost"}), BOT)


def test_html_to_text_keeps_lists_readable():
    assert html_to_text("<ul><li>un</li><li>deux</li></ul>").strip() == "- un\n\n- deux"


@pytest.mark.parametrize("user, allowed", [
    ("@jeanne.martin-lyon.fr:agent.collectivites.tchap.gouv.fr", True),   # e-mail domain in the local part
    ("@paul.durand-interieur.gouv.fr:agent.interieur.tchap.gouv.fr", True),  # server domain
    ("@chef:mairie.fr", True),                                          # allowed user
    ("@eve-evil.com:agent.externe.tchap.gouv.fr", False),
    ("@lyon.fr:evil.com", False),                                       # no hyphen: no e-mail domain
])
def test_who_may_invite(user, allowed):
    assert may_invite(user, allowed_users=("@chef:mairie.fr",),
                      allowed_domains=("lyon.fr", "interieur.tchap.gouv.fr")) is allowed


def test_user_domains_split_at_the_last_hyphen():
    assert user_domains("@marie-anne.dupont-saint-denis.fr:agent.tchap.gouv.fr") == (
        "agent.tchap.gouv.fr", "denis.fr")


def test_nobody_listed_means_open_to_all():
    assert may_invite("@qui:importe.fr", allowed_users=(), allowed_domains=())


def test_a_notice_is_markdown_rendered_with_user_html_escaped():
    content = notice_content("**Congés** : <img src=x onerror=alert(1)> [lien](javascript:alert(1))",
                             reply_to="$q")
    assert content["msgtype"] == "m.notice"
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q"}}
    html = content["formatted_body"]
    assert "<strong>Congés</strong>" in html
    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript' not in html


class Flaky:
    """A send that fails as listed, then succeeds; records the delays it was asked to wait."""

    def __init__(self, *failures):
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self):
        self.calls += 1
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        return RoomSendResponse("$sent", "!r")


async def test_retries_honour_retry_after_and_back_off_on_network_errors():
    slept: list[float] = []

    async def sleep(seconds):
        slept.append(seconds)

    limited = RoomSendError("Too many requests", "M_LIMIT_EXCEEDED", retry_after_ms=1500)
    call = Flaky(ConnectionResetError("reset"), limited, TimeoutError())
    response = await with_retries(call, what="test", sleep=sleep, policy=RetryPolicy(first_wait=0.5))
    assert response.event_id == "$sent"
    assert slept == [0.5, 1.5, 1.0]


async def test_a_refusal_is_not_retried():
    call = Flaky(RoomSendError("not allowed", "M_FORBIDDEN"))

    async def sleep(seconds):
        raise AssertionError("no wait for a refusal")

    with pytest.raises(Refused):
        await with_retries(call, what="test", sleep=sleep)
    assert call.calls == 1


async def test_network_errors_give_up_after_the_last_attempt():
    async def sleep(seconds):
        pass

    with pytest.raises(ConnectionResetError):
        await with_retries(Flaky(*[ConnectionResetError()] * 3), what="t", sleep=sleep, policy=RetryPolicy(attempts=3))
