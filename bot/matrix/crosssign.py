"""The bot's cross-signing identity, so Element and Tchap see its device as "verified by its owner".

Without it, Element shows a red shield on each of the bot's messages, and a client that only
shares keys with cross-signed devices (Tchap's "exclude insecure devices") never lets the bot
read a message. nio has no cross-signing, so this speaks the client-server API directly:

    first start:  make master, self-signing and user-signing keys (ed25519), upload the public
                  halves (user-interactive auth answered with the password when asked), then sign
                  the bot's device with the self-signing key;
    new device:   the saved self-signing key signs it (no new identity, agents keep trusting it);
    otherwise:    nothing: the device is already signed.

The private seeds stay in data_dir/cross_signing.json (mode 0600), next to the session.
"""
from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa
from nio import AsyncClient

log = logging.getLogger(__name__)

KEY_NAMES = ("master", "self_signing", "user_signing")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class SigningKey:
    """One ed25519 cross-signing key, rebuilt from its 32-byte seed."""

    def __init__(self, seed: bytes | None = None):
        self._key = ECC.construct(curve="ed25519", seed=seed) if seed else ECC.generate(curve="ed25519")
        self.seed: bytes = self._key.seed
        self.public: str = _b64(self._key.public_key().export_key(format="raw"))

    def signature(self, obj: dict) -> str:
        unsigned = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
        return _b64(eddsa.new(self._key, "rfc8032").sign(canonical_json(unsigned)))

    def sign(self, obj: dict, user_id: str) -> dict:
        signatures = dict(obj.get("signatures", {}))
        signatures[user_id] = {**signatures.get(user_id, {}), f"ed25519:{self.public}": self.signature(obj)}
        return {**obj, "signatures": signatures}

    def key_object(self, user_id: str, usage: str) -> dict:
        return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{self.public}": self.public}}


@dataclass(frozen=True, kw_only=True)
class Identity:
    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey
    signed_devices: tuple[str, ...] = ()


def identity_path(data_dir: Path) -> Path:
    return data_dir / "cross_signing.json"


def load_identity(data_dir: Path) -> Identity | None:
    try:
        data = json.loads(identity_path(data_dir).read_text())
    except FileNotFoundError:
        return None
    keys = {name: SigningKey(base64.b64decode(data[name])) for name in KEY_NAMES}
    return Identity(**keys, signed_devices=tuple(data.get("signed_devices", ())))


def save_identity(data_dir: Path, identity: Identity) -> None:
    path = identity_path(data_dir)
    data = {name: base64.b64encode(getattr(identity, name).seed).decode() for name in KEY_NAMES}
    data["signed_devices"] = list(identity.signed_devices)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    tmp.replace(path)


class CrossSigningError(Exception):
    """The homeserver refused our keys or signatures; the bot still runs, with a red shield."""


async def ensure_cross_signed(client: AsyncClient, data_dir: Path, *, password: str | None) -> None:
    """Make sure the bot's current device is signed by its own cross-signing identity."""
    identity = load_identity(data_dir)
    if identity and client.device_id in identity.signed_devices:
        return
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {client.access_token}"}) as http:
        api = _Api(http, client.homeserver, client.user_id)
        if identity is None or await api.server_master_key() != identity.master.public:
            identity = Identity(master=SigningKey(), self_signing=SigningKey(), user_signing=SigningKey())
            await api.upload_identity(identity, password)
            log.info("created the bot's cross-signing identity (master key %s)", identity.master.public)
        device_keys = await api.device_keys(client.device_id)
        await api.upload_signature(client.device_id, identity.self_signing.sign(device_keys, client.user_id),
                                   identity.self_signing)
    save_identity(data_dir, Identity(master=identity.master, self_signing=identity.self_signing,
                                     user_signing=identity.user_signing,
                                     signed_devices=(*identity.signed_devices, client.device_id)))
    log.info("device %s is signed by the bot's cross-signing identity", client.device_id)


class _Api:
    """The three client-server endpoints cross-signing needs."""

    def __init__(self, http: aiohttp.ClientSession, homeserver: str, user_id: str):
        self.http, self.base, self.user_id = http, f"{homeserver}/_matrix/client/v3", user_id

    async def server_master_key(self) -> str | None:
        body = await self._post("/keys/query", {"device_keys": {self.user_id: []}})
        keys = body.get("master_keys", {}).get(self.user_id, {}).get("keys", {})
        return next(iter(keys.values()), None)

    async def device_keys(self, device_id: str) -> dict:
        body = await self._post("/keys/query", {"device_keys": {self.user_id: [device_id]}})
        try:
            return body["device_keys"][self.user_id][device_id]
        except KeyError:
            raise CrossSigningError(f"device {device_id} has no keys on the server yet") from None

    async def upload_identity(self, identity: Identity, password: str | None) -> None:
        uid, master = self.user_id, identity.master
        body: dict[str, Any] = {
            "master_key": master.key_object(uid, "master"),
            "self_signing_key": master.sign(identity.self_signing.key_object(uid, "self_signing"), uid),
            "user_signing_key": master.sign(identity.user_signing.key_object(uid, "user_signing"), uid),
        }
        async with self.http.post(self.base + "/keys/device_signing/upload", json=body) as response:
            if response.status == 200:
                return
            challenge = await response.json()
        if response.status != 401 or not password:
            raise CrossSigningError(f"cross-signing keys refused: {response.status} {challenge}")
        body["auth"] = {"type": "m.login.password", "session": challenge.get("session"), "password": password,
                        "identifier": {"type": "m.id.user", "user": uid}}
        await self._post("/keys/device_signing/upload", body)

    async def upload_signature(self, device_id: str, signed: dict, key: SigningKey) -> None:
        mine = signed["signatures"][self.user_id][f"ed25519:{key.public}"]
        only_ours = {**{k: v for k, v in signed.items() if k not in ("signatures", "unsigned")},
                     "signatures": {self.user_id: {f"ed25519:{key.public}": mine}}}
        body = await self._post("/keys/signatures/upload", {self.user_id: {device_id: only_ours}})
        if body.get("failures"):
            raise CrossSigningError(f"device signature refused: {body['failures']}")

    async def _post(self, path: str, body: dict) -> dict:
        async with self.http.post(self.base + path, json=body) as response:
            data = await response.json()
            if response.status != 200:
                raise CrossSigningError(f"{path}: {response.status} {data}")
            return data
