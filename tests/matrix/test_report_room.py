"""The head of the service does not run commands: with `report_room`, the running bot posts the
report there as an HTML file, encrypted like any upload, with a two-line summary; once a week,
and not again after a restart. Against the session's real Synapse."""
from __future__ import annotations

import asyncio
from dataclasses import replace

from nio import RoomEncryptedFile
from nio.crypto.attachments import decrypt_attachment

from bot.matrix import start

from ..conftest import FAST
from ..synapse import Agent, RecordingEngine


async def test_the_bot_posts_the_report_in_report_room_as_an_encrypted_file(homeserver, tmp_path):
    head = await Agent.create(homeserver, tmp_path / "head", "cheffe")
    files: asyncio.Queue = asyncio.Queue()

    async def on_file(room, event) -> None:
        await files.put(event)
    head.client.add_event_callback(on_file, RoomEncryptedFile)
    config = homeserver.bot_config(tmp_path / "bot")
    room = await head.create_room(config.user_id, direct=False, wait=False)
    timing = replace(FAST, tick_every=0.2)
    bot = await start(replace(config, report_room=room), engine=RecordingEngine(), timing=timing)
    try:
        event = await asyncio.wait_for(files.get(), 30)
        first, second = event.body.splitlines()
        assert first.startswith("📊 Le point de l'assistance du ") and "pièce jointe" in first
        assert second.endswith("demandes transmises aux médiateurs.")
        assert event.source["content"]["filename"].startswith("rapport-")
        response = await head.client.download(mxc=event.url)
        html = decrypt_attachment(response.body, event.key["k"], event.hashes["sha256"], event.iv).decode()
        assert html.startswith("<!DOCTYPE html>") and "Assistance des agents : le point" in html
        await asyncio.sleep(1.0)  # more ticks: the week is not over, nothing more is posted
        assert files.empty()
    finally:
        await bot.stop()
        await head.close()


async def test_the_weekly_post_is_due_once_a_week_even_across_restarts(tmp_path):
    from datetime import datetime, timedelta, timezone
    from pathlib import Path

    from bot.config import load_config
    from bot.reporting.cli import weekly_post
    from bot.storage.store import Store
    root = Path(__file__).parents[2]
    config = replace(load_config(root / "config.example.yaml"), data_dir=tmp_path, report_room="!rapport:x")
    monday = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)
    store = await Store.open(tmp_path)
    first = await weekly_post(store, config, now=monday)
    await store.close()
    store = await Store.open(tmp_path)  # a restart
    try:
        assert first is not None and first.room == "!rapport:x" and first.mimetype == "text/html"
        assert await weekly_post(store, config, now=monday + timedelta(days=6)) is None
        assert await weekly_post(store, config, now=monday + timedelta(days=7)) is not None
        assert await weekly_post(store, replace(config, report_room=None),
                                 now=monday + timedelta(days=30)) is None
    finally:
        await store.close()
