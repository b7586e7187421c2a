"""Shared fixtures. The Matrix suite runs against ONE real Tchap-like Synapse per test session
(room-access-rules module, room version 10), started on a free loopback port; every test gets
fresh users, so tests never see each other's rooms."""
from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest

from bot.config import Config, config_from_dict
from bot.matrix.bot import Timing
from bot.matrix.localserver import LocalServer, start_synapse

FAST = Timing(sync_timeout_ms=1000, undecryptable_notice_after=1.5, typing_after=0.3,
              first_backoff=0.2, max_backoff=1.0)


class Homeserver:
    """The session's Synapse, and fresh users on it."""

    def __init__(self, server: LocalServer):
        self.server = server
        self.url = server.url
        self._numbers = itertools.count()

    def new_user(self, prefix: str = "u", *, admin: bool = False) -> tuple[str, str]:
        name = f"{prefix}{next(self._numbers)}"
        password = f"pw-{name}"
        self.server.register(name, password, admin=admin)
        return f"@{name}:localhost", password

    def bot_config(self, directory: Path, **overrides) -> Config:
        """A bot account and the config a deployment would have for it, data in `directory`."""
        user_id, password = self.new_user("bot")
        data = {"homeserver": self.url, "user_id": user_id, "password": password, "data_dir": "data", **overrides}
        return config_from_dict(data, base=directory)


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory) -> Homeserver:
    server = start_synapse(tmp_path_factory.mktemp("synapse"))
    yield Homeserver(server)
    server.stop()


@pytest.fixture(autouse=True)
def _bot_logs(caplog):
    caplog.set_level(logging.INFO, logger="bot")
