"""The head of the service's page: one self-contained HTML file in French, charts in inline SVG.

Pure: it takes the decision log, the feedback and the tickets, and returns the page. No agent is
named or quoted: agents are counted by pseudonym, and the gaps appear as their nearest topic,
their size and the words they share (said by two agents at least, bot/answering/gaps.py).
Times to first reply and to close are counted in working hours (bot/hours.py), so a ticket
opened on Friday evening and answered on Monday morning did not wait 60 hours.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from ..config import Config
from ..desk.hours import is_working_day, paris
from ..texts import say
from ..desk.tickets import Ticket
from . import charts
from ..answering.gaps import Gap, Logged

ANSWERED = ("answer", "flow", "smalltalk")
OUTCOMES = ("answer", "flow", "smalltalk", "clarify", "none", "ticket", "ticket_message", "flow_step", "reply", "desk")


@dataclass(frozen=True, kw_only=True)
class Feedback:
    helpful: bool
    time: datetime


@dataclass(frozen=True, kw_only=True)
class ReportData:
    decisions: list[Logged]
    feedback: list[Feedback]
    tickets: list[Ticket]
    gaps: list[Gap]


def working_time(start: datetime, end: datetime, config: Config) -> timedelta:
    """The part of [start, end] inside working hours, day by day in Paris time."""
    hours = config.working_hours
    start, end = paris(start), paris(end)
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if is_working_day(day, hours):
            opens = datetime.combine(day, hours.start, start.tzinfo)
            closes = datetime.combine(day, hours.end, start.tzinfo)
            overlap = min(end, closes) - max(start, opens)
            total += max(overlap, timedelta())
        day += timedelta(days=1)
    return total


def _hours(values: list[timedelta]) -> tuple[str, str]:
    """(median, 90th percentile) in French hours and minutes, or a dash."""
    if not values:
        return "—", "—"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return _duration(statistics.median(ordered)), _duration(p90)


def _duration(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, kw_only=True)
class Headline:
    """The figures the page opens with, and the weekly post's summary says."""

    first: date
    last: date
    messages: int
    agents: int
    answered_percent: int
    tickets: int


def headline(data: ReportData, *, now: datetime, days: int) -> Headline:
    today = paris(now).date()
    first = today - timedelta(days=days - 1)
    rows = [r for r in data.decisions if paris(r.time).date() >= first]
    questions = [r for r in rows if r.outcome in ("answer", "flow", "smalltalk", "clarify", "none", "ticket")]
    answered = sum(r.outcome in ANSWERED for r in questions)
    return Headline(first=first, last=today, messages=len(rows), agents=len({r.agent for r in rows}),
                    answered_percent=round(100 * answered / len(questions)) if questions else 0,
                    tickets=sum(paris(t.opened_at).date() >= first for t in data.tickets))


def summary(data: ReportData, *, now: datetime, days: int) -> str:
    """Two lines for the weekly post: the period, then the headline figures."""
    h = headline(data, now=now, days=days)
    return "\n".join([say("report.post_period", first=h.first.strftime("%d/%m/%Y"), last=h.last.strftime("%d/%m/%Y")),
                      say("report.post_figures", messages=h.messages, agents=h.agents, percent=h.answered_percent,
                          tickets=h.tickets)])


def build(data: ReportData, config: Config, *, now: datetime, days: int) -> str:
    h = headline(data, now=now, days=days)
    today, first = h.last, h.first
    rows = [r for r in data.decisions if paris(r.time).date() >= first]
    per_day = Counter(paris(r.time).date() for r in rows)
    day_list = _days(first, today)
    outcomes = Counter(r.outcome for r in rows)
    topics = Counter(r.topic for r in rows if r.outcome in ANSWERED and r.topic)
    feedback = [f for f in data.feedback if paris(f.time).date() >= first]
    helpful = sum(f.helpful for f in feedback)
    tickets = [t for t in data.tickets if paris(t.opened_at).date() >= first]
    marks = Counter(t.mark for t in tickets if t.mark is not None)
    weeks = sorted({_monday(d) for d in day_list})
    opened = Counter(_monday(paris(t.opened_at).date()) for t in tickets)
    closed = Counter(_monday(paris(t.closed_at).date()) for t in data.tickets
                     if t.closed_at and paris(t.closed_at).date() >= first)
    first_reply = [working_time(t.opened_at, t.first_reply_at, config) for t in tickets if t.first_reply_at]
    resolution = [working_time(t.opened_at, t.closed_at, config) for t in tickets if t.closed_at]
    sections = [
        _figures([(say("report.messages"), h.messages), (say("report.agents"), h.agents),
                  (say("report.answered_share"), f"{h.answered_percent} %"), (say("report.tickets_opened"), h.tickets)]),
        _section(say("report.per_day"), charts.columns(
            say("report.per_day"), [d.strftime("%d/%m") for d in day_list],
            [(say("report.messages"), [per_day[d] for d in day_list])], every=max(1, len(day_list) // 10))),
        _section(say("report.outcomes"), charts.ranked(
            say("report.outcomes"), [(say(f"report.outcome_{o}"), outcomes[o]) for o in OUTCOMES if outcomes[o]])),
        _section(say("report.top_topics"), charts.ranked(say("report.top_topics"), topics.most_common(10))),
        _gaps(data.gaps),
        _section(say("report.feedback"), _table(
            [(say("report.helpful"), helpful), (say("report.not_helpful"), len(feedback) - helpful)]
            + [(say("report.mark", mark=m), marks[m]) for m in range(5, 0, -1)])),
        _section(say("report.tickets_per_week"), charts.columns(
            say("report.tickets_per_week"), [w.strftime("%d/%m") for w in weeks],
            [(say("report.opened"), [opened[w] for w in weeks]), (say("report.closed"), [closed[w] for w in weeks])])
            + f'<p class="legend"><span class="k0"></span>{say("report.opened")} '
              f'<span class="k1"></span>{say("report.closed")}</p>'),
        _section(say("report.times"), _table(
            [(say("report.first_reply"), " · ".join(_labelled(_hours(first_reply)))),
             (say("report.resolution"), " · ".join(_labelled(_hours(resolution))))])
            + f'<p class="note">{escape(say("report.times_note"))}</p>'),
    ]
    period = say("report.period", first=first.strftime("%d/%m/%Y"), last=today.strftime("%d/%m/%Y"), days=days)
    return PAGE.format(title=escape(say("report.title")), period=escape(period), body="\n".join(sections),
                       footer=escape(say("report.footer", retention_days=config.retention_days)))


def _labelled(pair: tuple[str, str]) -> list[str]:
    return [say("report.median", value=pair[0]), say("report.p90", value=pair[1])]


def _figures(items: list[tuple[str, object]]) -> str:
    cells = "".join(f'<div class="figure"><b>{escape(str(v))}</b><span>{escape(k)}</span></div>' for k, v in items)
    return f'<section class="figures">{cells}</section>'


def _section(title: str, body: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{body}</section>"


def _table(rows: list[tuple[str, object]]) -> str:
    lines = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{lines}</table>"


def _gaps(gaps: list[Gap], shown: int = 8) -> str:
    """Nearest topic, size and shared words: never an agent's sentence."""
    if not gaps:
        return _section(say("report.top_gaps"), f"<p>{escape(say('authors.gaps_none'))}</p>")
    head = "".join(f"<th>{escape(say(k))}</th>" for k in ("report.gap_size", "report.gap_topic", "report.gap_words",
                                                           "report.gap_action"))
    lines = "".join(
        f"<tr><td>{g.count}</td><td>{escape(g.topic or '—')}</td><td>{escape(', '.join(g.words) or '—')}</td>"
        f"<td>{escape(g.action)}</td></tr>" for g in gaps[:shown])
    return _section(say("report.top_gaps"), f'<table class="gaps"><tr>{head}</tr>{lines}</table>'
                                            f'<p class="note">{escape(say("report.gaps_note"))}</p>')


PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 760px;
       padding: 12px; color: #222; line-height: 1.4; }}
h1 {{ font-size: 1.4em; margin: .2em 0; }} h2 {{ font-size: 1.1em; margin: 1.2em 0 .4em; }}
.period {{ color: #555; margin: 0 0 1em; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 8px; }}
.figure {{ flex: 1 1 140px; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }}
.figure b {{ display: block; font-size: 1.6em; }} .figure span {{ color: #555; font-size: .9em; }}
svg.chart {{ width: 100%; height: auto; display: block; }}
table {{ border-collapse: collapse; width: 100%; font-size: .95em; table-layout: fixed; }}
th, td {{ text-align: left; padding: 4px 6px; border-bottom: 1px solid #eee; vertical-align: top;
          overflow-wrap: break-word; }}
.note, footer {{ color: #666; font-size: .85em; }}
.legend span {{ display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; }}
.legend .k0 {{ background: #2b6cb0; }} .legend .k1 {{ background: #dd6b20; }}
@media print {{ body {{ max-width: none; }} section {{ break-inside: avoid; }} }}
</style></head>
<body><h1>{title}</h1><p class="period">{period}</p>
{body}
<footer><p>{footer}</p></footer>
</body></html>
"""
