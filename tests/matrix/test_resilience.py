"""What must hold when things go wrong: restarts, unreadable messages, unwanted invites."""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace

from nio import RoomSendResponse
from nio.api import Api

from bot import texts
from bot.matrix import start

from bot.matrix.localserver import start_synapse

from ..conftest import FAST, Homeserver
from ..synapse import Agent, RecordingEngine


async def test_restart_between_messages_loses_nothing_and_repeats_nothing(homeserver, tmp_path):
    config = homeserver.bot_config(tmp_path / "bot")
    engine = RecordingEngine()
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(config, engine=engine, timing=FAST)
    device = bot.client.device_id
    try:
        room = await agent.open_dm(bot.user_id)
        await agent.say(room, "un")
        assert (await agent.next_notice()).body == "Réponse 1 : un"
        await bot.stop()

        await agent.say(room, "deux")  # while the bot is down
        await agent.say(room, "trois")
        bot = await start(config, engine=engine, timing=FAST)
        assert bot.client.device_id == device  # the session was restored, not a new login
        assert [(await agent.next_notice()).body for _ in range(2)] == ["Réponse 2 : deux", "Réponse 3 : trois"]
        await agent.say(room, "quatre")  # still decrypting after the restart
        assert (await agent.next_notice()).body == "Réponse 4 : quatre"
        await agent.no_notice(1.0)
        assert [i.text for i in engine.seen] == ["un", "deux", "trois", "quatre"]
    finally:
        await bot.stop()
        await agent.close()


async def test_more_messages_than_one_sync_holds_are_backfilled_in_order(homeserver, tmp_path):
    config = homeserver.bot_config(tmp_path / "bot")
    timing = replace(FAST, timeline_limit=2)
    engine = RecordingEngine()
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(config, engine=engine, timing=timing)
    try:
        room = await agent.open_dm(bot.user_id)
        await agent.say(room, "m0")
        await agent.next_notice()
        await bot.stop()
        words = [f"m{n}" for n in range(1, 8)]
        for word in words:
            await agent.say(room, word)
        bot = await start(config, engine=engine, timing=timing)
        replies = [(await agent.next_notice()).body for _ in words]
        assert replies == [f"Réponse {n + 1} : m{n}" for n in range(1, 8)]
        await agent.no_notice(0.5)
    finally:
        await bot.stop()
        await agent.close()


async def test_a_lost_crypto_store_means_a_new_device_said_in_the_log(homeserver, tmp_path, caplog):
    config = homeserver.bot_config(tmp_path / "bot")
    bot = await start(config, engine=RecordingEngine(), timing=FAST)
    first_device = bot.client.device_id
    await bot.stop()
    for path in (config.data_dir / "nio").glob("*.db*"):
        path.unlink()

    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(config, engine=RecordingEngine(), timing=FAST)
    try:
        assert bot.client.device_id != first_device
        assert "crypto store" in caplog.text and "new device" in caplog.text
        room = await agent.open_dm(bot.user_id)
        await agent.say(room, "toujours là ?")
        assert (await agent.next_notice()).body == "Réponse 1 : toujours là ?"
    finally:
        await bot.stop()
        await agent.close()


def _send_raw(agent: Agent, room: str, event_type: str, content: dict):
    return agent.client._send(RoomSendResponse, *Api.room_send(agent.client.access_token, room, event_type,
                                                               content, f"raw{id(content)}"), (room,))


async def _send_without_key(agent, room: str, body: str):
    """Send `body` encrypted with a megolm session the bot is not given; returns what sending
    answered and a function that hands the key over later, from that first message on."""
    olm = agent.client.olm
    olm.create_outbound_group_session(room)
    session = olm.outbound_group_sessions[room]
    first_key = session.session_key
    session.shared = True
    encrypted = olm.group_encrypt(room, {"type": "m.room.message", "content": {"msgtype": "m.text", "body": body}})
    sent = await _send_raw(agent, room, "m.room.encrypted", encrypted)

    async def give_key() -> None:
        olm.outbound_group_sessions[room] = _LateKey(session, first_key)
        await agent.client.share_group_session(room, ignore_unverified_devices=True)
    return sent, give_key


class _LateKey:
    """The agent's outbound session, shared from message 0 instead of its current index."""

    def __init__(self, session, session_key: str):
        self._session, self.session_key, self.shared = session, session_key, False

    def __getattr__(self, name: str):
        return getattr(self._session, name)


async def test_an_undecryptable_message_gets_the_notice_then_an_answer_when_its_key_arrives(homeserver, tmp_path):
    engine = RecordingEngine()
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(homeserver.bot_config(tmp_path / "bot"), engine=engine, timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        sent, give_key = await _send_without_key(agent, room, "message secret")
        assert isinstance(sent, RoomSendResponse), sent

        notice = await agent.next_notice(timeout=10)
        assert notice.body == texts.say("matrix.undecryptable")
        assert engine.seen == []

        await give_key()  # now the agent's client hands the key over, late, from the first message on
        assert (await agent.next_notice()).body == "Réponse 1 : message secret"
    finally:
        await bot.stop()
        await agent.close()


def _membership(homeserver, token: str, room: str, user: str) -> str | None:
    url = (f"{homeserver.url}/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/state/m.room.member/"
           f"{urllib.parse.quote(user)}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        return json.load(urllib.request.urlopen(request))["membership"]
    except urllib.error.HTTPError:
        return None


async def test_an_invite_from_a_user_not_allowed_is_declined(homeserver, tmp_path, caplog):
    config = homeserver.bot_config(tmp_path / "bot", allowed_domains=["interieur.gouv.fr"])
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(config, engine=RecordingEngine(), timing=FAST)
    try:
        response = await agent.client.room_create(is_direct=True, invite=[bot.user_id])
        room = response.room_id
        async with asyncio.timeout(10):
            while _membership(homeserver, agent.client.access_token, room, bot.user_id) != "leave":
                await asyncio.sleep(0.05)
        assert f"declined the invite of {agent.user_id}" in caplog.text
    finally:
        await bot.stop()
        await agent.close()


async def test_an_invite_from_an_allowed_user_is_accepted(homeserver, tmp_path):
    agent = await Agent.create(homeserver, tmp_path / "agent")
    config = homeserver.bot_config(tmp_path / "bot", allowed_domains=["interieur.gouv.fr"],
                                   allowed_users=[agent.user_id])
    bot = await start(config, engine=RecordingEngine(), timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        await agent.say(room, "bonjour")
        assert (await agent.next_notice()).body == "Réponse 1 : bonjour"
    finally:
        await bot.stop()
        await agent.close()


async def test_an_unreachable_homeserver_is_waited_for_and_logged_once_each_way(tmp_path, caplog):
    server = await asyncio.to_thread(start_synapse, tmp_path / "synapse")  # its own server, to stop it
    homeserver = Homeserver(server)
    agent = await Agent.create(homeserver, tmp_path / "agent")
    bot = await start(homeserver.bot_config(tmp_path / "bot"), engine=RecordingEngine(), timing=FAST)
    try:
        room = await agent.open_dm(bot.user_id)
        await agent.say(room, "un")
        assert (await agent.next_notice()).body == "Réponse 1 : un"

        await asyncio.to_thread(server.stop)
        await asyncio.sleep(3)  # several failed syncs
        await asyncio.to_thread(server.restart)
        await agent.say(room, "deux")
        assert (await agent.next_notice(timeout=30)).body == "Réponse 2 : deux"
        assert caplog.text.count("unreachable") == 1
        assert caplog.text.count("reachable again") == 1
    finally:
        await bot.stop()
        await agent.close()
        server.stop()
