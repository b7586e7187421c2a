"""Starting and stopping the Matrix bot: config ─► store, session, cross-signing, engine ─► sync loop.

`run(config)` is what `helpdesk-bot run -c config.yaml` calls; it returns only when cancelled
(Ctrl-C, SIGTERM) or on an error an admin must fix (refused login). `start(...)` gives tests, the
demo and the benchmark a running bot they can stop. `check(config)` is `run --check`.
Stopping closes everything it opened, in reverse order: sync loop, client, store.
While it runs, faq/ and flows/ are looked at every few seconds: an admin's edit is live for the next
message, a broken edit is logged `file:line: message` and the last good version keeps answering.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from datetime import datetime, timezone

from nio import AsyncClient, JoinResponse

from .. import logs
from ..conversation import knowledge
from ..config import Config, path_problems
from ..answering.encoder import service_for
from ..errors import ConfigError
from ..helpdesk import Engine, Helpdesk
from ..messages import ToMediators
from ..storage.store import Store
from .bot import MatrixBot, Timing
from .crosssign import CrossSigningError, ensure_cross_signed
from .health import HealthServer
from .mediators_room import ensure_mediators_room, load_desk
from .sending import NETWORK_ERRORS, MatrixSender
from .session import open_client

log = logging.getLogger(__name__)

RELOAD_EVERY = 5.0  # seconds between two looks at the FAQ and flow files (a few stat calls)


def load_engine(config: Config) -> Engine:
    """The conversation core; imported here so the Matrix layer never depends on its internals."""
    from ..answering.encoder import encoder_for
    from ..conversation.engine import build_engine
    return build_engine(config, encoder_for(config.semantic))


def check(config: Config) -> None:
    """`run --check`: the config is valid (already, once loaded) and the FAQ and flows load.

    Raises ConfigError or DataError with every problem; returns quietly when all is well.
    """
    if not config.homeserver:
        raise ConfigError("« homeserver » est obligatoire pour lancer le bot sur Matrix")
    problems = path_problems(config)
    if problems:
        raise ConfigError("\n".join(problems))
    load_engine(config)
    load_desk(config)


@dataclass(kw_only=True)
class RunningBot:
    """A started bot: its parts, for tests and the demo, and `stop()` to close it all."""

    bot: MatrixBot
    client: AsyncClient
    store: Store
    task: asyncio.Task
    health: HealthServer | None = None

    @property
    def user_id(self) -> str:
        return self.client.user_id

    async def stop(self) -> None:
        if self.health is not None:
            await self.health.stop()
        self.task.cancel()
        try:
            await self.task
        except (asyncio.CancelledError, Exception):
            pass
        await self.client.close()
        await self.store.close()


async def start(config: Config, *, engine: Engine | None = None, timing: Timing = Timing(),
                reload_every: float = RELOAD_EVERY) -> RunningBot:
    """Log in (or restore the session), cross-sign, and start syncing; returns after the first sync."""
    engine = engine or load_engine(config)
    desk = load_desk(config)  # a broken canned replies file stops here, before any network call
    store = await Store.open(config.data_dir)
    try:
        client = await _connect(config, timing)
    except BaseException:
        await store.close()
        raise
    logs.add_secret(client.access_token)  # a password login made a token the config does not hold
    try:
        await ensure_cross_signed(client, config.data_dir, password=config.password)
    except (CrossSigningError, *NETWORK_ERRORS) as exc:
        log.error("the bot's device is not cross-signed (%s): Element shows a red shield on its messages", exc)
    if not config.allowed_users and not config.allowed_domains:
        log.warning("no allowed_users nor allowed_domains: the bot accepts invites from anyone")
    since = await store.first_start(datetime.now(timezone.utc))
    config = await ensure_mediators_room(client, store, config)
    if config.report_room:  # invited before the start: join (joining again is harmless)
        joined = await client.join(config.report_room)
        if not isinstance(joined, JoinResponse):
            log.error("report_room %s: cannot join (%s); invite the bot there", config.report_room, joined)
    encoding = service_for(engine, config.semantic)  # the message's vector, computed off the event loop
    helpdesk = Helpdesk(engine=engine, store=store, desk=desk, understand=encoding and encoding.understand,
                        sender=MatrixSender(client, mediators_room=config.mediators_room, cards=store.card_event))
    bot = MatrixBot(client=client, store=store, helpdesk=helpdesk, config=config, since=since, timing=timing)
    task = asyncio.create_task(bot.run_forever(), name="matrix-sync")
    _reload_knowledge_while(task, helpdesk, every=reload_every)
    running = RunningBot(bot=bot, client=client, store=store, task=task)
    if config.metrics.port is not None:  # up before the first sync: /healthz says 503 while starting
        running.health = HealthServer(bot=bot, store=store, task=task, settings=config.metrics)
        try:
            await running.health.start()
        except OSError as exc:  # the port is taken, or the host is not an address of this machine
            running.health = None
            await running.stop()
            settings = config.metrics
            raise ConfigError(f"« metrics » : impossible d'écouter sur {settings.host}:{settings.port} ({exc})") from exc
    ready = asyncio.create_task(bot.ready.wait())
    await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        await running.stop()
        task.result()  # raises the loop's error
    log.info("%s is listening (device %s)", client.user_id, client.device_id)
    return running


def _reload_knowledge_while(task: asyncio.Task, helpdesk: Helpdesk, *, every: float) -> None:
    """Watch faq/ and flows/ for as long as `task` (the sync loop) runs; nothing to stop by hand."""
    from ..conversation.engine import Engine as Conversation
    if not isinstance(helpdesk.engine, Conversation):
        return  # a stand-in engine (tests) has no files to reload
    watcher = asyncio.create_task(_watch_knowledge(helpdesk, every), name="knowledge-reload")
    task.add_done_callback(lambda _: watcher.cancel())


async def _watch_knowledge(helpdesk: Helpdesk, every: float) -> None:
    """Swap the engine for one on the edited files, between two turns; on any problem keep the old one.

    Engines are immutable in use: a turn already running finishes on the version it started with.
    Loading takes ~150 ms, so it runs in a thread and the sync loop keeps answering meanwhile.
    """
    from ..conversation.engine import Engine as Conversation
    config = helpdesk.engine.config
    seen = knowledge.signature(config)
    while True:
        await asyncio.sleep(every)
        now = knowledge.signature(config)
        if now == seen:
            continue
        seen = now  # a rejected edit is reported once, not at every look
        current = helpdesk.engine
        try:
            fresh, problems = await asyncio.to_thread(knowledge.reload_checked, config, current.knowledge, log)
        except Exception:  # a bug in loading must not stop the watching, nor the bot
            log.exception("FAQ/flows reload failed: the bot keeps the last good version")
            continue
        if problems:  # the authors are told in the mediators' room, where someone reads
            await helpdesk.store.enqueue([ToMediators(text=knowledge.rejection_notice(problems))])
            await helpdesk.drain()
        if fresh is not current.knowledge:
            helpdesk.engine = Conversation(current.config, fresh)


async def _connect(config: Config, timing: Timing) -> AsyncClient:
    """open_client, waiting for an unreachable homeserver instead of failing the start."""
    backoff = timing.first_backoff
    warned = False
    while True:
        try:
            return await open_client(config)
        except NETWORK_ERRORS as exc:
            if not warned:
                log.warning("homeserver %s unreachable (%s): waiting", config.homeserver, exc or type(exc).__name__)
                warned = True
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, timing.max_backoff)


async def run(config: Config, *, engine: Engine | None = None) -> None:
    """Run the bot until cancelled or sent SIGTERM/SIGINT; everything is closed on the way out.

    Every file the bot creates (store, session, crypto store) is for its own user only: umask 077."""
    os.umask(0o077)
    running = await start(config, engine=engine)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, running.task.cancel)
    try:
        await running.task
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await running.stop()
