"""`/metrics` (Prometheus) and `/healthz` of a running bot, on one small aiohttp server.

Off unless `metrics.port` is set; bound to `metrics.host` (127.0.0.1 by default: the figures
name no one, but nothing outside the machine needs them unless an admin says so). aiohttp comes
with matrix-nio and runs on the bot's own event loop: every handler awaits (the store's reads go
through aiosqlite's thread), so a scrape never holds up a turn.

`/healthz` answers 200 when the bot can do its job, 503 otherwise, with a one-line reason:
    the sync loop has stopped                 -> 503 "sync loop stopped: <error>"
    the last sync could not reach the server  -> 503 "homeserver unreachable"
    no sync answered for stale_after_seconds  -> 503 "no successful sync for N s" (a hung loop)
    the store does not answer a trivial read  -> 503 "store not answering: <error>"
    otherwise                                 -> 200 "ok: last sync N s ago"
A failed sync marks the server unreachable at once (bot/matrix/bot.py), so a stopped homeserver
shows within one sync; the staleness bound only catches a loop stuck without failing.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from aiohttp import web

from .. import metrics
from ..config import Metrics
from ..storage.store import Store
from .bot import MatrixBot

log = logging.getLogger(__name__)

STORE_TIMEOUT = 5.0  # seconds: a store slower than this is as good as down for a health check


@dataclass(frozen=True, kw_only=True)
class Health:
    ok: bool
    reason: str


class HealthServer:
    """Serves the bot's figures and health; `start()` then `stop()`."""

    def __init__(self, *, bot: MatrixBot, store: Store, task: asyncio.Task, settings: Metrics):
        self.bot, self.store, self.task, self.settings = bot, store, task, settings
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.host, self.settings.port).start()
        log.info("metrics and health on http://%s:%d/metrics and /healthz", self.settings.host, self.settings.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def health(self) -> tuple[Health, dict]:
        """The verdict, and the store's figures read on the way (None when it did not answer)."""
        gauges: dict = {}
        if self.task.done():
            error = None if self.task.cancelled() else self.task.exception()
            return Health(ok=False, reason=f"sync loop stopped: {error or 'cancelled'}"), gauges
        try:
            gauges = await asyncio.wait_for(self.store.gauges(), STORE_TIMEOUT)
        except Exception as exc:  # any failure of the store is the answer, not a crash of the check
            return Health(ok=False, reason=f"store not answering: {exc or type(exc).__name__}"), gauges
        if self.bot.reachable is False:
            return Health(ok=False, reason="homeserver unreachable"), gauges
        age = self._sync_age()
        if age is None:
            return Health(ok=False, reason="no successful sync yet"), gauges
        if age > self.settings.stale_after_seconds:
            return Health(ok=False, reason=f"no successful sync for {age:.0f} s"), gauges
        return Health(ok=True, reason=f"ok: last sync {age:.1f} s ago"), gauges

    def _sync_age(self) -> float | None:
        last = self.bot.last_sync_ok
        return None if last is None else time.monotonic() - last

    async def _healthz(self, request: web.Request) -> web.Response:
        health, _ = await self.health()
        return web.Response(status=200 if health.ok else 503, text=health.reason + "\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        _, gauges = await self.health()
        oldest = gauges.get("oldest_untaken")
        snapshot = metrics.Snapshot(
            outbox_depth=gauges.get("outbox_depth", 0), tickets_open=gauges.get("tickets_open", 0),
            tickets_taken=gauges.get("tickets_taken", 0),
            oldest_untaken_age=(datetime.now(timezone.utc) - oldest).total_seconds() if oldest else None,
            failed_events=getattr(self.bot.helpdesk, "failed_events", 0),
            undecryptable_waiting=len(self.bot.undecryptable), homeserver_reachable=self.bot.reachable,
            last_sync_age=self._sync_age())
        return web.Response(body=metrics.render(snapshot), headers={"Content-Type": metrics.CONTENT_TYPE})
