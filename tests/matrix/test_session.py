"""Ways in for the bot: e-mail + password, an admin's access token; and the cross-signing identity."""
from __future__ import annotations

import json
import stat
from dataclasses import replace
import urllib.request

from bot.matrix import start
from bot.matrix.crosssign import identity_path, load_identity
from bot.matrix.session import read_session

from ..conftest import FAST
from ..synapse import Agent, RecordingEngine


def _admin_put(homeserver, path: str, body: dict) -> dict:
    admin, password = homeserver.new_user("admin", admin=True)
    login = json.dumps({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": admin},
                        "password": password}).encode()
    token = json.load(urllib.request.urlopen(urllib.request.Request(
        f"{homeserver.url}/_matrix/client/v3/login", data=login, headers={"Content-Type": "application/json"})))[
        "access_token"]
    request = urllib.request.Request(f"{homeserver.url}{path}", data=json.dumps(body).encode(), method="PUT",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))


async def _answers(homeserver, tmp_path, bot) -> None:
    agent = await Agent.create(homeserver, tmp_path / "agent")
    try:
        room = await agent.open_dm(bot.user_id)
        await agent.say(room, "bonjour")
        assert (await agent.next_notice()).body == "Réponse 1 : bonjour"
    finally:
        await agent.close()


async def test_login_with_an_email_address(homeserver, tmp_path):
    bot_id, password = homeserver.new_user("botmail")
    _admin_put(homeserver, f"/_synapse/admin/v2/users/{bot_id}",
               {"threepids": [{"medium": "email", "address": "assistance@mairie.fr"}]})
    config = homeserver.bot_config(tmp_path / "bot")  # a base, then the e-mail account instead
    config = replace(config, user_id=None, email="assistance@mairie.fr", password=password)
    bot = await start(config, engine=RecordingEngine(), timing=FAST)
    try:
        assert bot.user_id == bot_id
        await _answers(homeserver, tmp_path, bot)
    finally:
        await bot.stop()


async def test_an_access_token_from_the_admin_is_adopted(homeserver, tmp_path):
    registered = homeserver.server.register("bottoken", "pw-bottoken")
    config = homeserver.bot_config(tmp_path / "bot", user_id=registered["user_id"], password=None,
                                   access_token=registered["access_token"])
    bot = await start(config, engine=RecordingEngine(), timing=FAST)
    try:
        assert bot.client.device_id == registered["device_id"]
        assert read_session(config.data_dir).device_id == registered["device_id"]
        await _answers(homeserver, tmp_path, bot)
    finally:
        await bot.stop()


async def test_cross_signing_keys_are_private_and_reused_for_the_next_start(homeserver, tmp_path):
    config = homeserver.bot_config(tmp_path / "bot")
    bot = await start(config, engine=RecordingEngine(), timing=FAST)
    await bot.stop()
    path = identity_path(config.data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = load_identity(config.data_dir)
    assert first.signed_devices == (read_session(config.data_dir).device_id,)

    bot = await start(config, engine=RecordingEngine(), timing=FAST)  # same device: nothing to do
    await bot.stop()
    assert load_identity(config.data_dir).master.public == first.master.public
    assert stat.S_IMODE((config.data_dir / "session.json").stat().st_mode) == 0o600
