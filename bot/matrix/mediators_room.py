"""The mediators' room: the configured one, or the one the bot created at its first start.

Without `mediators_room` in the config, the bot creates it once and keeps its id in the store
(meta `mediators_room`), so a restart finds the same room. Tchap's rules shape the creation:
- NOT direct: a direct room refuses a third member, and the mediators are several;
- private and encrypted, like every Tchap room holding agents' requests;
- the configured mediators are invited and get power level 50 (Tchap refuses lowering the
  invite level of a restricted room, and 50 is what lets a mediator invite a colleague).
Mediators who join later cannot read what was said before they joined (no past keys): the
tickets still open are listed to each mediator who joins (bot/matrix/bot.py).
"""
from __future__ import annotations

import logging
from dataclasses import replace

from nio import AsyncClient, RoomCreateResponse, RoomPreset, RoomVisibility

from ..desk.canned import load_canned
from ..reporting.cli import terms_of
from ..config import Config
from ..desk.desk import Desk
from ..storage.store import Store
from ..texts import say

log = logging.getLogger(__name__)

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
META_KEY = "mediators_room"
MEDIATOR_LEVEL = 50


def load_desk(config: Config) -> Desk:
    """The desk over the config and its canned replies; a broken replies file stops the start."""
    return Desk(config, load_canned(config.canned_replies, config.variables), terms=terms_of(config))


async def ensure_mediators_room(client: AsyncClient, store: Store, config: Config) -> Config:
    """The config with `mediators_room` set: configured, remembered, or created now."""
    if config.mediators_room:
        return config
    saved = await store.get_meta(META_KEY)
    if saved:
        return replace(config, mediators_room=saved)
    if not config.mediators:
        log.warning("no mediators_room and no mediators configured: tickets cannot reach anyone")
        return config
    room = await _create(client, config)
    if room is None:
        return config
    await store.set_meta(META_KEY, room)
    log.info("created the mediators' room %s and invited %s", room, ", ".join(config.mediators))
    return replace(config, mediators_room=room)


async def _create(client: AsyncClient, config: Config) -> str | None:
    levels = {"users": {client.user_id: 100, **{m: MEDIATOR_LEVEL for m in config.mediators}}}
    response = await client.room_create(visibility=RoomVisibility.private, preset=RoomPreset.private_chat,
                                        is_direct=False, name=say("tickets.room_name"),
                                        topic=say("tickets.room_topic"), invite=list(config.mediators),
                                        initial_state=[ENCRYPTION], power_level_override=levels)
    if not isinstance(response, RoomCreateResponse):
        log.error("could not create the mediators' room: %s %s", response.status_code, response.message)
        return None
    return response.room_id
