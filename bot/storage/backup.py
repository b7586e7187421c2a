"""A copy of data_dir taken while the bot runs, and putting it back.

    helpdesk.sqlite3        the store: tickets, conversations, outbox     SQLite online backup API
    nio/<user>_<device>.db  the crypto store: olm account, megolm keys    SQLite online backup API
    session.json            user id, device id, access token              copied
    cross_signing.json      the cross-signing private seeds               copied

SQLite's backup API reads a consistent snapshot page by page while the bot keeps writing (a plain
`cp` of a WAL database can catch it mid-transaction). The session, the crypto store and the
cross-signing keys are what make the restored bot the SAME device, still able to decrypt what agents
send: without them it logs in as a new device and every agent's client has to trust it again.

Everything is written 0600 in folders 0700: a backup holds agents' words and the bot's keys.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from ..errors import BotError
from ..texts import say

STORE = "helpdesk.sqlite3"
PLAIN = ("session.json", "cross_signing.json")
CRYPTO = "nio"


def _databases(data_dir: Path) -> list[Path]:
    """The SQLite files of data_dir, relative (their -wal / -shm are folded in by the backup)."""
    found = [Path(STORE)] if (data_dir / STORE).exists() else []
    crypto = data_dir / CRYPTO
    found += sorted(p.relative_to(data_dir) for p in crypto.glob("*.db")) if crypto.is_dir() else []
    return found


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _private_file(target: Path) -> None:
    """Created 0600 before a byte is written, whatever the umask."""
    _private_dir(target.parent)
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(target, 0o600)


def _copy_db(source: Path, target: Path) -> None:
    _private_file(target)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)  # a consistent snapshot, even while the bot writes
    finally:
        dst.close()
        src.close()


def _copy_file(source: Path, target: Path) -> None:
    _private_file(target)
    shutil.copyfile(source, target)


def backup(data_dir: Path, folder: Path) -> list[Path]:
    """Copy data_dir into the empty (or new) `folder`; returns the files written, relative."""
    if not (data_dir / STORE).exists():
        raise BotError(say("privacy.cli_restore_not_backup", folder=data_dir, file=STORE))
    if folder.exists() and any(folder.iterdir()):
        raise BotError(say("privacy.cli_restore_not_empty", folder=folder))
    _private_dir(folder)
    written = []
    for name in _databases(data_dir):
        _copy_db(data_dir / name, folder / name)
        written.append(name)
    for name in map(Path, PLAIN):
        if (data_dir / name).exists():
            _copy_file(data_dir / name, folder / name)
            written.append(name)
    return written


def restore(folder: Path, data_dir: Path, *, force: bool = False) -> list[Path]:
    """Put a backup back into data_dir (the bot stopped). A non-empty data_dir is refused unless `force`,
    which empties it first: a stale -wal next to a restored database would corrupt it."""
    if not (folder / STORE).exists():
        raise BotError(say("privacy.cli_restore_not_backup", folder=folder, file=STORE))
    if data_dir.exists() and any(data_dir.iterdir()):
        if not force:
            raise BotError(say("privacy.cli_restore_not_empty", folder=data_dir))
        for path in data_dir.iterdir():
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    _private_dir(data_dir)
    written = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder)
        _copy_file(path, data_dir / name)
        written.append(name)
    return written
