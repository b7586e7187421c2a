"""A throwaway Tchap-like Synapse on 127.0.0.1, for the demo, the tests and the benchmark.

Tchap-like means: the room-access-rules module Tchap's servers run (a direct room stays between
its two members), room version 10 (which that module needs), no federation. For speed and tests:
SQLite, bcrypt_rounds 4, every rate limit relaxed, users registered with the shared secret
(about 20 ms each). Synapse answers about 2 s after start; `stop()` leaves nothing running.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

_BIG = "{per_second: 10000, burst_count: 100000}"
_RATE_LIMITS = ["rc_message", "rc_registration", "rc_joins_per_room", "rc_room_creation", "rc_key_requests",
                "rc_3pid_validation", "rc_admin_redaction", "rc_media_create", "rc_profile", "rc_reports",
                "rc_user_directory", "rc_delayed_event_mgmt"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(directory: Path, port: int) -> Path:
    """homeserver.yaml, log config and signing key for a loopback-only test server."""
    directory = directory.resolve()
    (directory / "media_store").mkdir(parents=True, exist_ok=True)
    limits = "\n".join(f"{name}: {_BIG}" for name in _RATE_LIMITS)
    config = textwrap.dedent(f"""\
        server_name: "localhost"
        public_baseurl: "http://127.0.0.1:{port}/"
        pid_file: {directory}/homeserver.pid
        listeners:
          - {{port: {port}, bind_addresses: ['127.0.0.1'], type: http, tls: false,
              resources: [{{names: [client], compress: false}}]}}
        database: {{name: sqlite3, args: {{database: {directory}/homeserver.db}}}}
        log_config: "{directory}/log.config"
        media_store_path: {directory}/media_store
        signing_key_path: "{directory}/localhost.signing.key"
        registration_shared_secret: "{secrets.token_hex(16)}"
        macaroon_secret_key: "{secrets.token_hex(16)}"
        form_secret: "{secrets.token_hex(16)}"
        report_stats: false
        bcrypt_rounds: 4
        enable_registration: false
        trusted_key_servers: []
        suppress_key_server_warning: true
        federation_domain_whitelist: []
        presence: {{enabled: false}}
        url_preview_enabled: false
        enable_metrics: false
        rc_login: {{address: {_BIG}, account: {_BIG}, failed_attempts: {_BIG}}}
        rc_joins: {{local: {_BIG}, remote: {_BIG}}}
        rc_invites: {{per_room: {_BIG}, per_user: {_BIG}, per_issuer: {_BIG}}}
        rc_presence: {{per_user: {_BIG}}}
        # Tchap: the room access rules module, which needs room version 10
        modules:
          - module: room_access_rules.RoomAccessRules
            config: {{id_server: "localhost", domains_forbidden_when_restricted: []}}
        default_room_version: "10"
        """) + limits + "\n"
    path = directory / "homeserver.yaml"
    path.write_text(config)
    (directory / "log.config").write_text(textwrap.dedent(f"""\
        version: 1
        formatters: {{precise: {{format: '%(asctime)s - %(name)s - %(levelname)s - %(message)s'}}}}
        handlers: {{file: {{class: logging.FileHandler, formatter: precise, filename: {directory}/homeserver.log}}}}
        root: {{level: WARNING, handlers: [file]}}
        disable_existing_loggers: false
        """))
    _signing_key(directory / "localhost.signing.key")
    return path


def _signing_key(path: Path) -> None:
    """Written directly (signedjson ships with Synapse): saves a 2 s `--generate-keys` run."""
    if path.exists():
        return
    from signedjson.key import generate_signing_key, write_signing_keys
    with path.open("w") as f:
        write_signing_keys(f, [generate_signing_key("a_" + secrets.token_hex(2))])


@dataclass(kw_only=True)
class LocalServer:
    url: str
    directory: Path
    secret: str
    process: subprocess.Popen

    def register(self, name: str, password: str, *, admin: bool = False) -> dict:
        """Create a user with the shared secret; returns user_id, access_token, device_id."""
        nonce = json.load(urllib.request.urlopen(f"{self.url}/_synapse/admin/v1/register"))["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        body = json.dumps({"nonce": nonce, "username": name, "password": password, "admin": admin,
                           "mac": mac.hexdigest()}).encode()
        request = urllib.request.Request(f"{self.url}/_synapse/admin/v1/register", data=body,
                                         headers={"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(request))

    def restart(self, timeout: float = 90) -> None:
        """Start the stopped server again, same folder and port (tests of an unreachable homeserver)."""
        self.stop()
        self.process = _launch(self.directory)
        _wait_until_up(self, timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_synapse(directory: Path, *, port: int | None = None, timeout: float = 90) -> LocalServer:
    """Write the config, start Synapse and wait until it answers /versions."""
    config = write_config(directory, port or free_port())
    secret = next(line.split('"')[1] for line in config.read_text().splitlines()
                  if line.startswith("registration_shared_secret"))
    url = next(line.split('"')[1] for line in config.read_text().splitlines()
               if line.startswith("public_baseurl")).rstrip("/")
    server = LocalServer(url=url, directory=directory, secret=secret, process=_launch(directory))
    _wait_until_up(server, timeout)
    return server


def _launch(directory: Path) -> subprocess.Popen:
    log_file = (directory / "stdout.log").open("a")
    return subprocess.Popen([sys.executable, "-m", "synapse.app.homeserver", "-c", str(directory / "homeserver.yaml")],
                            stdout=log_file, stderr=subprocess.STDOUT, cwd=directory)


def _wait_until_up(server: LocalServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{server.url}/_matrix/client/versions", timeout=1)
            return
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                log = server.directory / "homeserver.log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"Synapse did not start in {server.directory}:\n{tail}") from None
            time.sleep(0.05)
