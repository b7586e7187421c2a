"""When mediators are there, and how to tell an agent when a human will answer.

Pure: `now` is always a parameter, nothing here reads the clock. Every time is read in
Europe/Paris, whatever zone `now` carries (a naive `now` is taken as Paris time), because the
working hours in the config are the mediators' wall-clock hours, summer time included.

French public holidays are computed, not listed, so the bot never runs out of years: eight fixed
dates plus Easter Monday, Ascension and Whit Monday, placed from Easter Sunday by the anonymous
Gregorian algorithm (Meeus/Jones/Butcher). They count only when `hours.public_holidays` is set.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ..config import WorkingHours
from ..texts import say, words

PARIS = ZoneInfo("Europe/Paris")
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
SEARCH_DAYS = 400  # longer than any gap between two working days a config can express


def easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm): the movable holidays hang from it."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def french_holidays(year: int) -> frozenset[date]:
    """The eleven public holidays of metropolitan France in `year`."""
    sunday = easter(year)
    movable = (sunday + timedelta(days=1), sunday + timedelta(days=39), sunday + timedelta(days=50))
    return frozenset({date(year, m, d) for m, d in FIXED_HOLIDAYS} | set(movable))


def paris(now: datetime) -> datetime:
    """`now` as Paris wall-clock time; naive datetimes are already Paris time."""
    return now.replace(tzinfo=PARIS) if now.tzinfo is None else now.astimezone(PARIS)


def is_working_day(day: date, hours: WorkingHours) -> bool:
    if day.weekday() not in hours.days:
        return False
    return not (hours.public_holidays and day in french_holidays(day.year))


def is_open(now: datetime, hours: WorkingHours) -> bool:
    """True while mediators are expected at their desks (start included, end excluded)."""
    local = paris(now)
    return is_working_day(local.date(), hours) and hours.start <= local.time() < hours.end


def next_opening(now: datetime, hours: WorkingHours) -> datetime:
    """`now` itself when open, else the next start of a working day (Paris time).

    Raises ValueError when no day of the week is a working day: the config forbids an empty
    list, so reaching that is a programming error rather than something to tell an agent.
    """
    local = paris(now)
    if is_open(local, hours):
        return local
    for offset in range(SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        opening = datetime.combine(day, hours.start, tzinfo=PARIS)
        if opening > local and is_working_day(day, hours):
            return opening
    raise ValueError("working_hours has no working day")


def working_time(start: datetime, end: datetime, hours: WorkingHours) -> timedelta:
    """How much of [start, end) falls within working hours: what a ticket's wait means to the
    mediators (a ticket opened on Friday evening has not waited all weekend). Day by day, in
    Paris time; a ticket lives weeks at most (autoclose), so the loop stays short."""
    start, end = paris(start), paris(end)
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if is_working_day(day, hours):
            opening = datetime.combine(day, hours.start, tzinfo=PARIS)
            closing = datetime.combine(day, hours.end, tzinfo=PARIS)
            total += max(timedelta(), min(end, closing) - max(start, opening))
        day += timedelta(days=1)
    return total


def french_clock(moment: datetime) -> str:
    """8 h 30, 9 h: the way a French sentence writes an hour."""
    return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"


def when_text(now: datetime, hours: WorkingHours) -> str:
    """When a mediator will answer, as the end of a French sentence ("demain à 8 h 30")."""
    local = paris(now)
    opening = next_opening(local, hours)
    if opening == local:
        return say("tickets.when_now")
    days = (opening.date() - local.date()).days
    clock = french_clock(opening)
    if days == 0:
        return say("tickets.when_today", time=clock)
    if days == 1:
        return say("tickets.when_tomorrow", time=clock)
    if days < 7:
        return say("tickets.when_weekday", day=words("tickets.weekdays")[opening.weekday()], time=clock)
    month = words("tickets.months")[opening.month - 1]
    day = say("tickets.first_of_month") if opening.day == 1 else str(opening.day)
    return say("tickets.when_date", day=day, month=month, time=clock)


def age_text(delta: timedelta) -> str:
    """45 min, 2 h 05, 3 j: how long a ticket has waited, as mediators read it."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return say("tickets.age_minutes", minutes=minutes)
    if minutes < 24 * 60:
        return say("tickets.age_hours", hours=minutes // 60, minutes=minutes % 60)
    return say("tickets.age_days", days=minutes // (24 * 60))


def date_text(moment: datetime) -> str:
    """04/03 10:15, Paris time: when something happened to a ticket."""
    return paris(moment).strftime("%d/%m %H:%M")
