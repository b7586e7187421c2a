"""What the bot understands when an agent types a date, months or a time (today: Wednesday 12 March 2025)."""
from datetime import date, time

import pytest

from bot.conversation.dates import (find_date, find_months, find_times, french_date, french_month, french_time,
                                    parse_date, parse_months, parse_time,
                                    parse_times)

TODAY = date(2025, 3, 12)  # a Wednesday


@pytest.mark.parametrize("typed, meant", [
    ("hier", date(2025, 3, 11)),
    ("Hier soir", date(2025, 3, 11)),
    ("avant-hier", date(2025, 3, 10)),
    ("avant hier", date(2025, 3, 10)),
    ("aujourd'hui", TODAY),
    ("Aujourd’hui", TODAY),
    ("aujourdhui", TODAY),
    ("ce matin", TODAY),
    ("il y a 3 jours", date(2025, 3, 9)),
    ("lundi", date(2025, 3, 10)),
    ("lundi dernier", date(2025, 3, 10)),
    ("mardi dernier", date(2025, 3, 11)),
    ("mercredi", TODAY),                       # today is a Wednesday
    ("mercredi dernier", date(2025, 3, 5)),    # "dernier" on the same weekday: a week ago
    ("vendredi", date(2025, 3, 7)),
    ("VENDREDI DERNIER", date(2025, 3, 7)),
    ("mecredi dernier", date(2025, 3, 5)),     # one letter missing
    ("10/03", date(2025, 3, 10)),
    ("14/03", date(2024, 3, 14)),              # not yet this year: last year's
    ("14/03/2025", date(2025, 3, 14)),         # an explicit year is kept; the flow refuses the future
    ("14/03/24", date(2024, 3, 14)),
    ("14.03", date(2024, 3, 14)),
    ("1 mars", date(2025, 3, 1)),
    ("1er mars", date(2025, 3, 1)),
    ("le 14 mars", date(2024, 3, 14)),
    ("3 mars 2025", date(2025, 3, 3)),
    ("3 fevier 2025", date(2025, 2, 3)),
    ("vendredi 7 mars", date(2025, 3, 7)),
    ("le 3", date(2025, 3, 3)),
    ("le 20", date(2025, 2, 20)),              # the latest 20th
    ("le 31", date(2025, 1, 31)),              # February has no 31st
    ("29/02", date(2024, 2, 29)),
    ("2025-03-01", date(2025, 3, 1)),
    ("31/02", None),
    ("je sais plus", None),
    ("", None),
    ("7h30", None),
])
def test_dates(typed, meant):
    assert parse_date(typed, TODAY) == meant


@pytest.mark.parametrize("typed, meant", [
    ("mars", [(2025, 3)]),
    ("Mars 2025", [(2025, 3)]),
    ("avril", [(2024, 4)]),                    # April 2025 has not come yet
    ("février", [(2025, 2)]),
    ("fevrier", [(2025, 2)]),
    ("fevier", [(2025, 2)]),
    ("juilet 2024", [(2024, 7)]),
    ("mai", [(2024, 5)]),
    ("03/2025", [(2025, 3)]),
    ("3/24", [(2024, 3)]),
    ("2024-11", [(2024, 11)]),
    ("decembre 24", [(2024, 12)]),
    ("3", [(2025, 3)]),
    ("1 et 2", [(2025, 1), (2025, 2)]),
    ("janvier et fevrier 2024", [(2024, 1), (2024, 2)]),
    ("janvier 2023 et fevrier", [(2023, 1), (2023, 2)]),
    ("de octobre a decembre 2022", [(2022, 10), (2022, 11), (2022, 12)]),
    ("d'octobre 2022 à février", [(2022, 10), (2022, 11), (2022, 12), (2023, 1), (2023, 2)]),
    ("de novembre à février", [(2024, 11), (2024, 12), (2025, 1), (2025, 2)]),
    ("janvier-mars", [(2025, 1), (2025, 2), (2025, 3)]),
    ("les 3 derniers mois", [(2024, 12), (2025, 1), (2025, 2)]),
    ("les trois derniers mois", [(2024, 12), (2025, 1), (2025, 2)]),
    ("le mois dernier", [(2025, 2)]),
    ("ce mois-ci", [(2025, 3)]),
    ("2025", [(2025, 1), (2025, 2), (2025, 3)]),   # the whole year, up to now
    ("mais non", None),                           # "mais" is not "mai"
    ("13/2024", None),
    ("aucune idee", None),
])
def test_months(typed, meant):
    assert parse_months(typed, TODAY) == meant


@pytest.mark.parametrize("typed, meant", [
    ("7h30", [time(7, 30)]),
    ("7h", [time(7)]),
    ("7H30", [time(7, 30)]),
    ("07:30", [time(7, 30)]),
    ("19h30", [time(19, 30)]),
    ("8 h 15", [time(8, 15)]),
    ("8 heures 15", [time(8, 15)]),
    ("midi", [time(12)]),
    ("midi et demi", [time(12, 30)]),
    ("minuit", [time(0)]),
    ("7", [time(7)]),
    ("7.30", [time(7, 30)]),
    ("vers 16h30", [time(16, 30)]),
    ("2h de l'aprem", [time(14)]),
    ("7h30 et 16h", [time(7, 30), time(16)]),
    ("de 8h a midi", [time(8), time(12)]),
    ("25h", None),
    ("7h75", None),
    ("2 hier", None),
    ("je sais pas", None),
])
def test_times(typed, meant):
    assert parse_times(typed) == meant


def test_a_single_time_refuses_two():
    assert parse_time("7h30") == time(7, 30)
    assert parse_time("7h30 et 16h") is None


def test_written_back_in_french():
    assert french_date(date(2025, 3, 11)) == "mardi 11/03/2025"
    assert french_month((2025, 8)) == "août 2025"
    assert french_time(time(7, 30)) == "7h30"
    assert french_time(time(16)) == "16h"


@pytest.mark.parametrize("typed, meant", [  # an agent who writes English answers in English
    ("yesterday", date(2025, 3, 11)),
    ("I forgot yesterday evening", date(2025, 3, 11)),
    ("the day before yesterday", date(2025, 3, 10)),
    ("this morning", TODAY),
    ("3 days ago", date(2025, 3, 9)),
    ("Monday", date(2025, 3, 10)),
    ("last wednesday", date(2025, 3, 5)),
    ("March 3rd", date(2025, 3, 3)),
    ("3rd of March", date(2025, 3, 3)),
    ("on the 14th", date(2025, 2, 14)),
    ("june 30 2024", date(2024, 6, 30)),
])
def test_english_dates(typed, meant):
    assert parse_date(typed, TODAY) == meant


@pytest.mark.parametrize("typed, meant", [
    ("last month", [(2025, 2)]),
    ("this month", [(2025, 3)]),
    ("the last 3 months", [(2024, 12), (2025, 1), (2025, 2)]),
    ("january and february", [(2025, 1), (2025, 2)]),
    ("from october to december 2024", [(2024, 10), (2024, 11), (2024, 12)]),
])
def test_english_months(typed, meant):
    assert parse_months(typed, TODAY) == meant


def test_english_times_on_a_twelve_hour_clock():
    assert parse_times("7:30 am and 4 pm") == [time(7, 30), time(16, 0)]
    assert parse_times("noon") == [time(12, 0)] and parse_times("12 am") == [time(0, 0)]
    assert parse_times("99 pm") is None and parse_times("13:75 pm") is None  # no clock shows these


def test_an_english_opening_message_carries_its_day_months_and_time():
    assert find_date("I forgot to clock out last Monday", TODAY) == date(2025, 3, 10)
    assert find_times("I left at 5 pm") == [time(17, 0)]
    assert find_months("I need my payslips for january and february", TODAY) == [(2025, 1), (2025, 2)]
    assert find_months("my payslip for may", TODAY) == [(2024, 5)]
    assert find_months("I may need it for the bank", TODAY) is None  # the verb, not the month
