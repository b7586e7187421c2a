"""When mediators are there: French public holidays, opening times across weekends and holidays,
and the French words an agent reads ("demain à 8 h 30")."""
from datetime import date, datetime, time

import pytest

from bot.config import WorkingHours
from bot.desk.hours import PARIS, easter, french_holidays, is_open, next_opening, when_text

HOURS = WorkingHours(days=(0, 1, 2, 3, 4), start=time(8, 30), end=time(17, 30), public_holidays=True)
NO_HOLIDAYS = WorkingHours(days=(0, 1, 2, 3, 4), start=time(8, 30), end=time(17, 30), public_holidays=False)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize("year, sunday", [
    (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)),
    (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25)), (2285, date(2285, 3, 22)),
])
def test_easter(year, sunday):
    assert easter(year) == sunday


@pytest.mark.parametrize("day", [
    date(2026, 1, 1), date(2026, 4, 6),    # Easter Monday
    date(2026, 5, 1), date(2026, 5, 8),
    date(2026, 5, 14),                     # Ascension
    date(2026, 5, 25),                     # Whit Monday
    date(2026, 7, 14), date(2026, 8, 15), date(2026, 11, 1), date(2026, 11, 11), date(2026, 12, 25),
    date(2025, 4, 21), date(2025, 5, 29), date(2025, 6, 9),
])
def test_holidays(day):
    assert day in french_holidays(day.year)


def test_eleven_holidays_and_no_more():
    assert len(french_holidays(2026)) == 11
    assert date(2026, 4, 5) not in french_holidays(2026)     # Easter Sunday is a Sunday anyway
    assert date(2026, 4, 7) not in french_holidays(2026)


@pytest.mark.parametrize("now, hours, expected", [
    (at(2026, 3, 4, 10, 0), HOURS, True),         # Wednesday morning
    (at(2026, 3, 4, 8, 30), HOURS, True),         # opening minute included
    (at(2026, 3, 4, 8, 29), HOURS, False),
    (at(2026, 3, 4, 17, 30), HOURS, False),       # closing minute excluded
    (at(2026, 3, 7, 10, 0), HOURS, False),        # Saturday
    (at(2026, 4, 6, 10, 0), HOURS, False),        # Easter Monday
    (at(2026, 4, 6, 10, 0), NO_HOLIDAYS, True),   # holidays not observed
    (datetime(2026, 3, 4, 7, 45), HOURS, False),  # naive: Paris time
    (datetime.fromisoformat("2026-07-01T07:00:00+00:00"), HOURS, True),   # 9:00 in Paris (summer)
    (datetime.fromisoformat("2026-01-07T07:00:00+00:00"), HOURS, False),  # 8:00 in Paris (winter)
])
def test_is_open(now, hours, expected):
    assert is_open(now, hours) is expected


@pytest.mark.parametrize("now, opening", [
    (at(2026, 3, 4, 10, 0), at(2026, 3, 4, 10, 0)),    # open: now
    (at(2026, 3, 4, 7, 0), at(2026, 3, 4, 8, 30)),     # early: this morning
    (at(2026, 3, 4, 18, 0), at(2026, 3, 5, 8, 30)),    # evening: tomorrow
    (at(2026, 3, 6, 17, 30), at(2026, 3, 9, 8, 30)),   # Friday close: Monday
    (at(2026, 3, 7, 12, 0), at(2026, 3, 9, 8, 30)),    # Saturday: Monday
    (at(2026, 3, 8, 23, 59), at(2026, 3, 9, 8, 30)),   # Sunday night: Monday
    (at(2026, 4, 3, 18, 0), at(2026, 4, 7, 8, 30)),    # Easter weekend: Tuesday
    (at(2026, 5, 13, 18, 0), at(2026, 5, 15, 8, 30)),  # eve of Ascension: Friday
    (at(2026, 12, 31, 18, 0), at(2027, 1, 4, 8, 30)),  # New Year's Day, then a weekend
])
def test_next_opening(now, opening):
    assert next_opening(now, HOURS) == opening


def test_next_opening_with_no_working_day_is_a_programming_error():
    with pytest.raises(ValueError):
        next_opening(at(2026, 3, 4, 10, 0), WorkingHours(days=(), start=time(8), end=time(9),
                                                        public_holidays=False))


@pytest.mark.parametrize("now, text", [
    (at(2026, 3, 4, 10, 0), "dès maintenant"),
    (at(2026, 3, 4, 7, 0), "aujourd'hui à 8 h 30"),
    (at(2026, 3, 4, 18, 0), "demain à 8 h 30"),
    (at(2026, 3, 6, 18, 0), "lundi à 8 h 30"),
    (at(2026, 4, 3, 18, 0), "mardi à 8 h 30"),
])
def test_when_text(now, text):
    assert when_text(now, HOURS) == text


def test_when_text_far_away_and_on_the_hour():
    summer = WorkingHours(days=(0,), start=time(9, 0), end=time(12, 0), public_holidays=True)
    # Monday 25 May 2026 is Whit Monday: the next Monday is 1 June.
    assert when_text(at(2026, 5, 18, 13, 0), summer) == "le 1er juin à 9 h"
