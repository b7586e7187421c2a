"""Logging in once and staying the same device: the session and nio's crypto store live in data_dir.

    data_dir/session.json   user_id, device_id, access_token (mode 0600)
    data_dir/nio/           nio's SQLite crypto store for that device (olm account, megolm sessions),
                            mode 0700, its files 0600 (they hold the device's private keys)

The two belong together: a device whose store is lost cannot be reused (its keys are on the
server already and the new ones are refused, so the bot would silently stop decrypting). So:
- session and store present: restore the login, no new device, every start;
- store missing or unreadable: log it clearly, set the broken store aside, log in as a NEW device;
- first start: log in with the password (user id, or e-mail through an m.id.thirdparty identifier),
  or adopt the configured access token (its device must be new: its keys are uploaded now).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from ..config import Config
from ..errors import BotError

log = logging.getLogger(__name__)


class LoginFailed(BotError):
    """The homeserver refused the credentials: nothing to retry, the admin must fix the config."""


@dataclass(frozen=True, kw_only=True)
class SavedSession:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str


def session_path(data_dir: Path) -> Path:
    return data_dir / "session.json"


def store_dir(data_dir: Path) -> Path:
    return data_dir / "nio"


def client_config() -> AsyncClientConfig:
    """nio does not retry on its own here: sending.py and the sync loop decide, and log, retries."""
    return AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False,
                             max_limit_exceeded=0, max_timeouts=0, request_timeout=60)


def read_session(data_dir: Path) -> SavedSession | None:
    try:
        return SavedSession(**json.loads(session_path(data_dir).read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        log.warning("saved session %s is unreadable (%s): logging in again", session_path(data_dir), exc)
        return None


def write_session(data_dir: Path, session: SavedSession) -> None:
    """Atomically, and readable by the bot's user only from the first byte (the token is a password)."""
    path = session_path(data_dir)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)  # a leftover of a crash: O_EXCL below must create the file itself
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(json.dumps(asdict(session), indent=2))
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def lock_down(store: Path) -> None:
    """nio's crypto store (the device's private keys) readable by the bot's user only: 0700, files 0600."""
    os.chmod(store, 0o700)
    for path in store.iterdir():
        if path.is_file():
            os.chmod(path, 0o600)


async def open_client(config: Config) -> AsyncClient:
    """A logged-in client whose crypto store is loaded and whose device keys are on the server."""
    assert config.homeserver, "open_client needs a homeserver"
    data_dir = config.data_dir
    store = store_dir(data_dir)
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    saved = read_session(data_dir)
    client = None
    if saved and _matches(saved, config):
        client = await _restore(config, saved)
    if client is None:
        client = await _new_login(config)
    lock_down(store)  # nio created its files with the process umask
    if client.should_upload_keys:
        await client.keys_upload()
    return client


def _matches(saved: SavedSession, config: Config) -> bool:
    same = saved.homeserver == config.homeserver and (not config.user_id or saved.user_id == config.user_id)
    if not same:
        log.warning("saved session is for %s on %s, the config says otherwise: logging in again",
                    saved.user_id, saved.homeserver)
    return same


async def _restore(config: Config, saved: SavedSession) -> AsyncClient | None:
    """The saved device, if its crypto store is intact and its token still valid."""
    store = store_dir(config.data_dir)
    db_file = store / f"{saved.user_id}_{saved.device_id}.db"
    client = AsyncClient(saved.homeserver, saved.user_id, device_id=saved.device_id,
                         store_path=str(store), config=client_config())
    if not db_file.exists():
        log.error("crypto store %s is missing: the bot cannot reuse device %s and logs in as a new device",
                  db_file, saved.device_id)
        await client.close()
        return None
    try:
        client.restore_login(saved.user_id, saved.device_id, saved.access_token)
        if client.olm is None:
            raise ValueError("no olm account in the store")
    except Exception as exc:  # nio raises many kinds of errors on a damaged store
        log.error("crypto store %s is unreadable (%s): setting it aside and logging in as a new device",
                  db_file, exc)
        await client.close()
        _set_aside(db_file)
        return None
    whoami = await client.whoami()
    if not isinstance(whoami, WhoamiResponse):
        log.error("saved access token refused (%s): logging in as a new device", whoami.status_code)
        await client.close()
        return None
    log.info("restored session of %s, device %s", saved.user_id, saved.device_id)
    return client


def _set_aside(db_file: Path) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for path in db_file.parent.glob(db_file.name + "*"):
        shutil.move(path, path.with_name(f"{path.name}.broken-{stamp}"))


async def _new_login(config: Config) -> AsyncClient:
    assert config.homeserver
    store = str(store_dir(config.data_dir))
    if config.password:
        client = AsyncClient(config.homeserver, config.user_id or "", store_path=store, config=client_config())
        response = await client.login_raw(_password_login(config))
        if not isinstance(response, LoginResponse):
            await client.close()
            raise LoginFailed(f"login refused by {config.homeserver}: {response.status_code} {response.message}")
    else:
        client = await _adopt_token(config, store)
    write_session(config.data_dir, SavedSession(homeserver=config.homeserver, user_id=client.user_id,
                                                device_id=client.device_id, access_token=client.access_token))
    log.info("logged in as %s, new device %s", client.user_id, client.device_id)
    return client


def _password_login(config: Config) -> dict:
    if config.user_id:
        identifier = {"type": "m.id.user", "user": config.user_id}
    else:
        identifier = {"type": "m.id.thirdparty", "medium": "email", "address": config.email}
    return {"type": "m.login.password", "identifier": identifier, "password": config.password,
            "initial_device_display_name": config.device_name}


async def _adopt_token(config: Config, store: str) -> AsyncClient:
    """An access token from the admin: its device becomes the bot's device, with a fresh store."""
    assert config.homeserver and config.access_token and config.user_id
    client = AsyncClient(config.homeserver, config.user_id, store_path=store, config=client_config())
    client.access_token = config.access_token
    whoami = await client.whoami()
    if not isinstance(whoami, WhoamiResponse) or not whoami.device_id:
        await client.close()
        raise LoginFailed(f"access_token refused by {config.homeserver}: {getattr(whoami, 'message', whoami)}")
    client.restore_login(whoami.user_id, whoami.device_id, config.access_token)
    return client
