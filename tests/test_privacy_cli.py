"""The admin's side, through `helpdesk-bot` itself: `forget` asks, erases and prints counts (the bot sends
the redactions later from the outbox); `backup` copies data_dir with 0600 files while a connection
writes; `restore` refuses a non-empty data_dir unless --force."""
from __future__ import annotations

import asyncio
import io
import json
import stat
from pathlib import Path

import pytest

from bot.cli import main
from bot.desk.desk import Desk
from bot.helpdesk import Helpdesk
from bot.storage.store import Store

from .storage.test_erasure import ANNE, JEAN, MARKER, Clock, _files, _life, engine  # noqa: F401  (engine: fixture)
from .storage.test_tickets import CONFIG, ListSender


@pytest.fixture
async def lived(tmp_path, engine):  # noqa: F811
    """A config file and a data_dir where Jean and Anne each have a ticket."""
    (tmp_path / "config.yaml").write_text("data_dir: data\n")
    store = await Store.open(tmp_path / "data")
    helpdesk = Helpdesk(engine=engine, store=store, sender=ListSender(), desk=Desk(CONFIG, {}))
    await _life(helpdesk, Clock())
    await store.close()
    return tmp_path / "config.yaml"


async def _pending(data_dir: Path) -> list[str]:
    store = await Store.open(data_dir)
    try:
        return [type(item.action).__name__ for item in await store.pending_outbox()]
    finally:
        await store.close()


async def _run(argv: list[str], monkeypatch, capsys, answer: str = "") -> tuple[int, str]:
    """The command as an admin types it (in a thread: it runs its own event loop)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    code = await asyncio.to_thread(main, argv)
    return code, capsys.readouterr().out


async def test_forget_asks_then_erases_and_leaves_the_redactions_to_the_bot(lived, monkeypatch, capsys):
    data = lived.parent / "data"
    code, out = await _run(["forget", JEAN, "-c", str(lived)], monkeypatch, capsys, answer="non\n")
    assert code == 1 and "Rien n'a été effacé." in out and MARKER.encode() in _files(data)

    code, out = await _run(["forget", JEAN, "--yes", "-c", str(lived)], monkeypatch, capsys)
    assert code == 0 and f"{JEAN} : " in out and "1 demande(s) en cours close(s)" in out
    assert "ticket_messages : " in out
    assert MARKER.encode() not in _files(data) and JEAN.encode() not in _files(data)
    pending = await _pending(data)
    assert pending[0] == "ToMediators" and set(pending[1:]) == {"Redact"} and len(pending) > 4
    assert (await _run(["forget", "jean", "--yes", "-c", str(lived)], monkeypatch, capsys))[0] == 1  # not a Matrix id
    (lived.parent / "other.yaml").write_text("data_dir: nowhere\n")
    assert (await _run(["forget", JEAN, "--yes", "-c", str(lived.parent / "other.yaml")], monkeypatch, capsys))[0] == 1
    assert not (lived.parent / "nowhere").exists()  # a wrong config creates no empty store


async def test_backup_is_private_and_restore_refuses_to_overwrite(lived, tmp_path, monkeypatch, capsys):
    data = lived.parent / "data"
    (data / "session.json").write_text(json.dumps({"device_id": "BOTDEVICE"}))
    (data / "nio").mkdir()
    writer = await Store.open(data)  # the bot is running: a connection with a fresh write in its WAL
    try:
        await writer.set_meta("written_while_backing_up", "yes")
        code, out = await _run(["backup", str(tmp_path / "saved"), "-c", str(lived)], monkeypatch, capsys)
    finally:
        await writer.close()
    assert code == 0 and "0600" in out
    saved = tmp_path / "saved"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in saved.rglob("*") if p.is_file()} == {
        "helpdesk.sqlite3": 0o600, "session.json": 0o600}

    assert (await _run(["restore", str(saved), "-c", str(lived)], monkeypatch, capsys))[0] == 1  # data_dir not empty
    code, out = await _run(["restore", str(saved), "-c", str(lived), "--force"], monkeypatch, capsys)
    assert code == 0
    restored = await Store.open(data)
    try:
        assert await restored.get_meta("written_while_backing_up") == "yes"
        assert [t.agent for t in await restored.tickets()] == [JEAN, ANNE]
    finally:
        await restored.close()
    assert json.loads((data / "session.json").read_text()) == {"device_id": "BOTDEVICE"}
