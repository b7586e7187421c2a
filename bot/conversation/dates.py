"""Reading the dates, months and times that agents type on a phone, in French, and writing them back.

Pure: the caller passes `today`; nothing here reads the clock. Each parser takes the raw answer
("avant hier", "14/03", "de octobre a decembre 2022", "8 h 15") and returns a typed value, or None
when it cannot read it for sure, so that the flow asks again with an example instead of guessing.

Ambiguity is resolved toward the past, because flows ask about past events (a missed punch, past
payslips): "14/03" typed on 10 March is last year's 14 March, "lundi" is the latest Monday (today
included), "lundi dernier" the latest Monday before today, "mars" the latest March. An explicit year
is kept as typed, even in the future: the flow decides whether that is acceptable.

Typing is forgiving where it is cheap: case, accents, apostrophes, "1er", "8 h 15", and month or
weekday names one letter off ("fevier", "juilet"). Short words (mai, mars) must be exact, so that
"mais" never becomes May.

Numbers are bounded where they are read: "il y a 800000 jours", a 5,000-digit "year" or month
number are not understood (None, the flow asks again), never an exception.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta

from rapidfuzz.distance import OSA

YearMonth = tuple[int, int]

MONTHS = ("janvier", "fevrier", "mars", "avril", "mai", "juin",
          "juillet", "aout", "septembre", "octobre", "novembre", "decembre")
MONTH_ABBREVIATIONS = {"janv": 1, "fev": 2, "fevr": 2, "avr": 4, "juil": 7, "sept": 9, "sep": 9,
                       "oct": 10, "nov": 11, "dec": 12}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# An agent who writes English answers in English: its names, exact (no typo allowance, so that
# "june" is never a misspelt "juin" of another month). "mar" stays out: French reads it as mardi.
ENGLISH_MONTHS = ("january", "february", "march", "april", "may", "june",
                  "july", "august", "september", "october", "november", "december")
ENGLISH_MONTH_ABBREVIATIONS = {"jan": 1, "feb": 2, "apr": 4, "jun": 6, "jul": 7, "aug": 8}
ENGLISH_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_DAYS_AGO = 36600   # a hundred years: anything further back is not a date an agent means
YEARS = range(1, 10000)  # what datetime.date can hold
NUMBER_WORDS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
                "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12,
                "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}

_TODAY = re.compile(r"\b(aujourd ?hui|auj|ce matin|ce midi|ce soir|cet? apres ?midi|cet aprem|tout a l heure|tantot"
                    r"|today|this morning|this afternoon|this evening|tonight|earlier today)\b")
_DAY_BEFORE = re.compile(r"\b(avant ?hier|day before yesterday)\b")
_YESTERDAY = re.compile(r"\b(hier|yesterday|last night)\b")
_DAYS_AGO = re.compile(r"\b(?:il y a (\d{1,9}|un|deux|trois|quatre|cinq|six) jours?"
                       r"|(\d{1,9}|a|one|two|three|four|five|six) days? ago)\b")
_MONTH_DAY = re.compile(r"\b([a-z]+) (\d{1,2})(?:st|nd|rd|th)?(?: (\d{4}))?\b")  # "march 3rd 2025"
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2}) ?[/.-] ?(\d{1,2})(?: ?[/.-] ?(\d{4}|\d{2}))?\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:er|st|nd|rd|th)?(?: of)? ([a-z]+)(?: (\d{4}|\d{2}))?\b")
_DAY_ONLY = re.compile(r"^(?:le |on the |the |on )?(\d{1,2})(?:er|st|nd|rd|th)?$")
_LAST = re.compile(r"\b(dernier|derniere|passe|passee|last)\b")
_LAST_N_MONTHS = re.compile(r"\b(?:(\d{1,2}|" + "|".join(NUMBER_WORDS) + r") derniers mois"
                            r"|last (\d{1,2}|two|three|four|five|six) months)\b")
_PREVIOUS_MONTH = re.compile(r"\b(le )?(dernier mois|mois dernier|mois passe|mois precedent|last month|previous month)\b")
_THIS_MONTH = re.compile(r"\b(ce mois( ci)?|this month)\b")
_TIME = re.compile(r"\b(\d{1,2}) ?(?:h(?![a-z])|:) ?(\d{2})?(?!\d)")
_TWELVE_HOURS = re.compile(r"\b(\d{1,2})(?::(\d{2}))? ?(am|pm)\b")
_BARE_TIME = re.compile(r"^(\d{1,2})(?:[.,](\d{2}))?$")
_AFTERNOON = re.compile(r"^ ?(de l |du |l )?(apres ?midi|aprem|soir|pm)\b")


def fold(text: str) -> str:
    """Lower case without accents, apostrophes and punctuation turned into spaces (keeps / : . - , for
    numbers), so that "Aujourd’hui" and "aujourdhui" read alike."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w/:.,-]+|_", " ", text)
    text = re.sub(r"(?<![\d])[.,-]|[.,-](?![\d])", " ", text)
    return " ".join(text.split())


def _lookup(word: str, names: tuple[str, ...]) -> int | None:
    """1-based index of `word` in `names`, allowing one typo from 5 letters and two from 7."""
    if word in names:
        return names.index(word) + 1
    if len(word) < 5:
        return None
    allowed = 1 if len(word) < 7 else 2
    close = [i for i, name in enumerate(names) if OSA.distance(word, name) <= allowed]
    return close[0] + 1 if len(close) == 1 else None


def month_number(word: str) -> int | None:
    """1-12 for a French month name, abbreviation or near miss ("fevier"), or an English one, else None."""
    if word in ENGLISH_MONTHS:
        return ENGLISH_MONTHS.index(word) + 1
    return MONTH_ABBREVIATIONS.get(word) or ENGLISH_MONTH_ABBREVIATIONS.get(word) or _lookup(word, MONTHS)


def weekday_number(word: str) -> int | None:
    """1-7 (Monday first) for a French weekday or near miss, or an English one, else None."""
    return ENGLISH_WEEKDAYS.index(word) + 1 if word in ENGLISH_WEEKDAYS else _lookup(word, WEEKDAYS)


# --- dates ------------------------------------------------------------------------------------------

def parse_date(text: str, today: date) -> date | None:
    """The day an agent means: "hier", "lundi dernier", "14/03", "3 mars 2025", "le 3"..."""
    t = fold(text)
    if _DAY_BEFORE.search(t):
        return today - timedelta(days=2)
    if _YESTERDAY.search(t):
        return today - timedelta(days=1)
    if _TODAY.search(t):
        return today
    if match := _DAYS_AGO.search(t):
        days = _number(match[1] or match[2])
        return today - timedelta(days=days) if days <= min(MAX_DAYS_AGO, today.toordinal() - 1) else None
    return _explicit_date(t, today) or _weekday(t, today)


def _explicit_date(t: str, today: date) -> date | None:
    if match := _ISO_DATE.search(t):
        return _valid(int(match[1]), int(match[2]), int(match[3]))
    if match := _NUMERIC_DATE.search(t):
        return _day_month(int(match[1]), int(match[2]), match[3], today)
    for match in _DAY_MONTH.finditer(t):
        month = month_number(match[2])
        if month:
            return _day_month(int(match[1]), month, match[3], today)
    for match in _MONTH_DAY.finditer(t):
        if match[1] in ENGLISH_MONTHS or match[1] in ENGLISH_MONTH_ABBREVIATIONS:
            return _day_month(int(match[2]), month_number(match[1]), match[3], today)
    day = _DAY_ONLY.match(_drop_weekday(t))
    return _latest_day(int(day[1]), today) if day else None


def _day_month(day: int, month: int, year: str | None, today: date) -> date | None:
    if year:
        return _valid(_full_year(year), month, day)
    for back in range(0, 8):  # 8 years back always meets a 29 February
        found = _valid(today.year - back, month, day)
        if found and found <= today:
            return found
    return None


def _latest_day(day: int, today: date) -> date | None:
    """"le 3": the latest 3rd on or before today."""
    year, month = today.year, today.month
    for _ in range(12):
        found = _valid(year, month, day)
        if found and found <= today:
            return found
        year, month = _add((year, month), -1)
    return None


def _weekday(t: str, today: date) -> date | None:
    days = [weekday_number(word) for word in t.split()]
    days = [d for d in days if d]
    if len(days) != 1:
        return None
    back = (today.weekday() - (days[0] - 1)) % 7
    if back == 0 and _LAST.search(t):
        back = 7
    return today - timedelta(days=back)


def _drop_weekday(t: str) -> str:
    return " ".join(w for w in t.split() if not weekday_number(w))


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_year(text: str) -> int:
    return int(text) + 2000 if len(text) == 2 else int(text)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


# --- months -----------------------------------------------------------------------------------------

def parse_months(text: str, today: date) -> list[YearMonth] | None:
    """The payslip months an agent means, sorted: "mars", "03/2025", "janvier et fevrier 2024",
    "de octobre a decembre 2022", "les 3 derniers mois" (the 3 months before the current one)."""
    t = fold(re.sub(r"(?<=[^\W\d_]) *- *(?=[^\W\d_])", " a ", text))  # "janvier-mars" is a range
    current = (today.year, today.month)
    if match := _LAST_N_MONTHS.search(t):
        count = _number(match[1] or match[2])
        return _span(_add(current, -count), _add(current, -1)) if 0 < count <= 120 else None
    if _PREVIOUS_MONTH.search(t):
        return [_add(current, -1)]
    if _THIS_MONTH.search(t):
        return [current]
    items = _month_items(t, current)
    if items is None:
        return None
    months = _expand(_assign_years(items), current)
    return sorted(set(months)) or None


def _month_items(t: str, current: YearMonth) -> list[list] | None:
    """Tokens as [kind, month, year, explicit]: "m" a month, "y" a year, "to" a range mark."""
    items: list[list] = []
    for token in re.findall(r"\d{1,2}/\d{4}|\d{1,2}/\d{2}|\d{4}-\d{1,2}|\d+|[a-z]+", t):
        if token.isdigit() and len(token) > 4:
            return None  # no month or year has five digits
        if "/" in token or "-" in token:
            first, second = re.split(r"[/-]", token)
            month, year = (int(second), int(first)) if "-" in token else (int(first), _full_year(second))
            if not 1 <= month <= 12 or year not in YEARS:
                return None
            items.append(["m", month, year, True])
        elif token.isdigit():
            number = int(token)
            if len(token) == 4:
                if number not in YEARS:
                    return None
                items.append(["y", 0, number, True])
            elif number > 12 and len(token) == 2 and items and items[-1][0] == "m":
                items.append(["y", 0, 2000 + number, True])
            elif 1 <= number <= 12:
                items.append(["m", number, None, False])
        elif token in ("a", "au", "jusqu", "jusqua", "to", "until", "till", "through"):
            items.append(["to", 0, None, False])
        elif month := month_number(token):
            items.append(["m", month, None, False])
    years = [i for i in items if i[0] == "y"]
    if years and not any(i[0] == "m" for i in items):  # "2024": the whole year, up to now
        year = years[0][2]
        last = current[1] if year == current[0] else 12
        return [["m", 1, year, True], ["to", 0, None, False], ["m", last, year, True]]
    return items


def _assign_years(items: list[list]) -> list[list]:
    """A year applies to the months written before it ("janvier et fevrier 2024"), then to the
    months after it that have none ("janvier 2023 et fevrier")."""
    pending = None
    for item in reversed(items):
        if item[0] == "y":
            pending = item[2]
        elif item[0] == "m" and item[2] is None and pending:
            item[2], item[3] = pending, True
    seen = None
    for item in items:
        if item[0] == "y":
            seen = item[2]
        elif item[0] == "m" and item[2] is None and seen:
            item[2] = seen
    return [i for i in items if i[0] != "y"]


def _expand(items: list[list], current: YearMonth) -> list[YearMonth]:
    months: list[YearMonth] = []
    index = 0
    while index < len(items):
        item = items[index]
        if item[0] == "m" and index + 2 < len(items) and items[index + 1][0] == "to" and items[index + 2][0] == "m":
            months += _range(item, items[index + 2], current)
            index += 3
            continue
        if item[0] == "m":
            months.append((item[2], item[1]) if item[2] else _latest_month(item[1], current))
        index += 1
    return months


def _range(start: list, end: list, current: YearMonth) -> list[YearMonth]:
    if start[2] is None and end[2] is None:
        last = _latest_month(end[1], current)
        return _span(_latest_month(start[1], last), last)
    if start[2] is None:
        last = (end[2], end[1])
        return _span(_latest_month(start[1], last), last)
    first = (start[2], start[1])
    last = (end[2] or start[2], end[1])
    if last < first and not end[3]:  # "d'octobre 2022 a fevrier": February of the next year
        last = (last[0] + 1, last[1])
    return _span(first, last)


def _latest_month(month: int, limit: YearMonth) -> YearMonth:
    return (limit[0], month) if month <= limit[1] else (limit[0] - 1, month)


def _span(first: YearMonth, last: YearMonth) -> list[YearMonth]:
    months = []
    while first <= last and len(months) < 240:
        months.append(first)
        first = _add(first, 1)
    return months


def _add(month: YearMonth, count: int) -> YearMonth:
    index = month[0] * 12 + month[1] - 1 + count
    return (index // 12, index % 12 + 1)


def months_ago(month: YearMonth, today: date) -> int:
    """How many calendar months before today's month: 0 for this month, 1 for the previous one."""
    return (today.year - month[0]) * 12 + today.month - month[1]


# --- times ------------------------------------------------------------------------------------------

def parse_times(text: str) -> list[time] | None:
    """Every time in the answer, in order: "7h30 et 16h", "de 8 h 15 a midi", "2h de l'aprem"."""
    t = fold(text)
    t = _TWELVE_HOURS.sub(_to_24h, t)  # "4 pm", "7:30 am": an English writer's clock
    t = re.sub(r"\b(midi|noon)\b", "12h", t)
    t = re.sub(r"\b(minuit|midnight)\b", "0h", t)
    t = re.sub(r"\bheures?\b", "h", t)
    t = re.sub(r"h et demie?\b", "h30", t)
    t = re.sub(r"h et quart\b", "h15", t)
    if bare := _BARE_TIME.match(t):
        return _times([(bare[1], bare[2], "")])
    return _times([(m[1], m[2], t[m.end():]) for m in _TIME.finditer(t)])


def _to_24h(match: re.Match) -> str:
    if not 1 <= int(match[1]) <= 12:
        return match[0]  # "13 pm", "0 am": not a 12-hour clock time, left for the checks below
    hour = int(match[1]) % 12 + (12 if match[3] == "pm" else 0)
    return f"{hour}h{match[2] or ''}"


def _times(found: list[tuple[str, str | None, str]]) -> list[time] | None:
    times = []
    for hour_text, minute_text, after in found:
        hour, minute = int(hour_text), int(minute_text or 0)
        if _AFTERNOON.match(after) and hour < 12:
            hour += 12
        if hour > 23 or minute > 59:
            return None
        times.append(time(hour, minute))
    return times or None


def parse_time(text: str) -> time | None:
    """One time ("7h30", "07:30", "midi", "8 h 15"); None when there is none or more than one."""
    times = parse_times(text)
    return times[0] if times and len(times) == 1 else None


# --- writing back -----------------------------------------------------------------------------------

def french_date(day: date) -> str:
    """"vendredi 14/03/2025": the weekday lets the agent check the bot understood the right day."""
    return f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"


def french_month(month: YearMonth) -> str:
    names = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")
    return f"{names[month[1] - 1]} {month[0]}"


def french_time(moment: time) -> str:
    return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"


# --- finding a value inside a longer message (pre-filling a flow from its opening message) -----------
# The parsers above read an answer to one question, where every number is meant. An opening message
# ("j'ai perdu 2 badges hier") carries other numbers: these finders only take what unmistakably is a
# date, a month or a clock time, and return None when there is none or more than one reading.

_CLOCK = re.compile(r"\b(?:(?:a|vers|de|des|jusqu a|avant|apres) )?(\d{1,2}) ?(?:h|:) ?(\d{2})?(?!\w)")
_SPELLED_CLOCK = re.compile(r"\b(?:a|vers|de|des|jusqu a|avant|apres) (\d{1,2}) ?heures?\b")
_DURATION = re.compile(r" ?(sup|supplementaires?|de (plus|moins|retard|trop)|en (plus|moins))\b")
_MONTH_RELATIVE = (_LAST_N_MONTHS, _PREVIOUS_MONTH, _THIS_MONTH)


def find_date(text: str, today: date) -> date | None:
    """The one day a message names ("hier", "lundi dernier", "le 14/03", "3 mars"), or None.

    A weekday counts only written in full and singular: "les lundis" is a habit, not a day."""
    t = fold(text)
    relative = parse_date(" ".join(w for w in t.split() if w not in WEEKDAYS and w.rstrip("s") not in WEEKDAYS), today)
    if relative is not None and not _DAY_ONLY.match(t):
        return relative
    days = [w for w in t.split() if w in WEEKDAYS]
    if len(set(days)) != 1:
        return None
    last = re.search(rf"\b{days[0]} (dernier|passe)\b", t)  # "n'est pas passé mardi" is not "mardi passé"
    return _weekday(f"{days[0]} dernier" if last else days[0], today)


def find_months(text: str, today: date) -> list[YearMonth] | None:
    """The months a message names by name ("ma paie d'octobre", "mars 2019", "de janvier a mars") or
    relative to now ("le mois dernier", "mes 3 derniers mois"); a bare number or year is not a month."""
    t = fold(re.sub(r"(?<=[^\W\d_]) *- *(?=[^\W\d_])", " a ", text))
    for pattern in _MONTH_RELATIVE:
        if match := pattern.search(t):
            return parse_months(match[0], today)
    kept: list[str] = []
    words = t.split()
    for n, word in enumerate(words):
        if word == "may" and not _names_a_month(words, n):
            continue  # "I may need it": the verb, not the month
        if _month_name(word):
            kept.append(word)
        elif kept and (re.fullmatch(r"\d{4}", word) or word in ("a", "au", "et", "jusqu", "to", "and", "until")):
            kept.append(word)
    while kept and not (_month_name(kept[-1]) or kept[-1].isdigit()):
        kept.pop()
    return parse_months(" ".join(kept), today) if kept else None


def _month_name(word: str) -> bool:
    """A month written out (French, near misses from 5 letters, or English); abbreviations are not
    enough in a free message ("oct" may be anything there)."""
    return word in ENGLISH_MONTHS or bool(_lookup(word, MONTHS))


def _names_a_month(words: list[str], n: int) -> bool:
    """"in may", "of may 2024", "march to may": the month; "I may", "may I": the verb."""
    before = words[n - 1] if n else ""
    after = words[n + 1] if n + 1 < len(words) else ""
    return before in ("in", "of", "for", "from", "to", "and", "since") or bool(re.fullmatch(r"\d{4}", after))


def find_times(text: str) -> list[time] | None:
    """The clock times of a message: "17h", "a 7h30", "vers 16:45", "a 5 heures", "midi"; a duration
    ("il me manque 3 heures", "2h sup") is not a time."""
    t = _TWELVE_HOURS.sub(_to_24h, fold(text))
    t = re.sub(r"\b(a|vers|at|around) (midi|noon)\b", r"\1 12h", t)
    found: list[time] = []
    clocks = [(m[1], m[2], m.end()) for m in _CLOCK.finditer(t)] + [(m[1], None, m.end()) for m in _SPELLED_CLOCK.finditer(t)]
    for hour, minute, end in clocks:
        after = t[end:]
        if _DURATION.match(after):
            continue
        moment = _times([(hour, minute, after)])
        if moment:
            found.append(moment[0])
    return sorted(set(found)) or None
