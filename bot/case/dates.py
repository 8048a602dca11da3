"""Dates a seller types ("hier", "le 3 mars", "12/11/2026", "2 weeks ago"), read with dateparser.

Past days are meant (what happened) unless a coming change is asked about, day first as in
France; "10 jours avant" counts back from the day of the measure. A story's dates are searched
for, leaving out bare years ("je vends depuis 2018") and durations ("retenus 90 jours"). Only a
bounded part of a text is read: dateparser's search slows down sharply on long, number-heavy
texts (1.5 s for 2,000 characters of digits, measured).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

LANGUAGES = ["fr", "en"]
_RELATIVE = re.compile(r"\b(il y a|ago|hier|avant-hier|yesterday|today|aujourd'hui|dernier|"
                       r"derni[eè]re|last)\b", re.IGNORECASE)
_DAY_NUMBER = re.compile(r"\d")
_DURATION = re.compile(r"^\s*\d+\s*(jours?|days?|semaines?|weeks?|mois|months?|ans?|years?)\s*$",
                       re.IGNORECASE)
_YEAR_ONLY = re.compile(r"^\D*\d{4}\D*$")
MAX_CHARS = 120  # a date answer is read up to here (and searched when it is not a date alone)
MAX_NUMBERS = 8  # a story with more numbers than this is not searched for a day (cost, and noise)
_BEFORE = re.compile(r"\b(\d{1,3})\s*(jours?|j|days?|semaines?|weeks?)\s+"
                     r"(avant|plus t[oô]t|auparavant|before|earlier)\b", re.IGNORECASE)
# A story's day pre-fills a case only when the story is this short ("Amazon a fermé mon compte
# hier"): in a long story the first day named is often not the day of the measure (measured on
# the real development messages: "il y a 15 ans", "inscrit en novembre 2024"...), and searching
# one costs 8-30 ms.
STORY_MAX_CHARS = 300
# Whether a story names a day at all: a numeric date (12/11, 12.11.2026), a day and a month
# ("3 mars", "March 3rd"), or a relative day ("hier", "il y a 3 jours", "2 weeks ago"). Only then
# is it searched: amounts and durations ("15 %", "retenus 90 jours") are not days, and a search
# costs milliseconds (measured: handle went from 1,134 to 395 answers/s when every digit led to one)
_MONTH = (r"(janv|f[eé]vr|mars|avr|mai|juin|juil|ao[uû]t|sept|oct|nov|d[eé]c|jan|feb|mar|apr|may|"
          r"jun|jul|aug|sep|dec)[a-zéû]*\.?")
_MAYBE_A_DAY = re.compile(
    r"\b\d{1,2}[/.-]\d{1,2}([/.-]\d{2,4})?\b"
    rf"|\b\d{{1,2}}(er|st|nd|rd|th)?\s+{_MONTH}(?![a-z])"
    rf"|\b{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?\b"
    r"|\b(hier|avant-hier|yesterday|today|aujourd'?hui|ce matin|this morning)\b"
    r"|\bil y a\s+\w+\s+(jours?|semaines?|mois)\b|\b\w+\s+(days?|weeks?|months?)\s+ago\b"
    r"|\b(la semaine|le mois) derni[eè]re?\b|\blast (week|month)\b",
    re.IGNORECASE)


def _settings(today: date) -> dict[str, Any]:
    return {"RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "PREFER_DATES_FROM": "past", "DATE_ORDER": "DMY",
            "REQUIRE_PARTS": ["day", "month"]}


def read_date(text: str, today: date, before: date | None = None,
              future: bool = False) -> date | None:
    """The day a short answer names, or None. Never after `today` unless `future`; with
    `before` (the day of the measure), "10 jours avant" / "2 weeks before" counts back from it."""
    import dateparser

    text = text.strip()[:MAX_CHARS]
    counted = _BEFORE.search(text)
    if counted and before is not None:
        days = int(counted.group(1)) * (7 if counted.group(2)[0] in "sw" else 1)
        return before - timedelta(days=days)
    if not text or len(re.findall(r"\d+", text)) > MAX_NUMBERS:
        return None
    settings = _settings(today)
    if _RELATIVE.search(text):  # "hier", "3 days ago" have no day or month of their own
        settings.pop("REQUIRE_PARTS")
    found = dateparser.parse(text, languages=LANGUAGES, settings=settings)
    day = found.date() if found is not None else find_date(text, today, future)
    if day is None:
        return None
    return day if future or day <= today else None


def story_date(story: str, today: date) -> date | None:
    """The day a short story names, to pre-fill a case; None for a long one."""
    if (len(story) > STORY_MAX_CHARS or not _MAYBE_A_DAY.search(story)
            or len(re.findall(r"\d+", story)) > MAX_NUMBERS):
        return None
    return find_date(story, today)


def find_date(story: str, today: date, future: bool = False) -> date | None:
    """The first day a story names ("Amazon a fermé mon compte hier"), or None."""
    from dateparser.search import search_dates

    found = search_dates(story[:STORY_MAX_CHARS], languages=LANGUAGES,
                         settings=_settings(today)) or []
    for words, when in found:
        if _DURATION.match(words) or _YEAR_ONLY.match(words) and not _RELATIVE.search(words):
            continue
        if not (_DAY_NUMBER.search(words) or _RELATIVE.search(words)):
            continue  # a month alone ("en octobre") is not a day
        day = when.date()
        if future or day <= today:
            return day
    return None
