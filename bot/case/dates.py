"""Dates a seller types ("hier", "le 3 mars", "12/11/2026", "2 weeks ago"), read with dateparser.

Only past days are meant (what happened), day first as in France; a story's dates are searched for,
leaving out bare years ("je vends depuis 2018") and durations ("retenus 90 jours").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

LANGUAGES = ["fr", "en"]
_RELATIVE = re.compile(r"\b(il y a|ago|hier|avant-hier|yesterday|today|aujourd'hui|dernier|"
                       r"derni[eè]re|last)\b", re.IGNORECASE)
_DAY_NUMBER = re.compile(r"\d")
_DURATION = re.compile(r"^\s*\d+\s*(jours?|days?|semaines?|weeks?|mois|months?|ans?|years?)\s*$",
                       re.IGNORECASE)
_YEAR_ONLY = re.compile(r"^\D*\d{4}\D*$")
MAX_CHARS = 200  # a date answer longer than this is a story, searched rather than parsed
# A story's day pre-fills a case only when the story is this short ("Amazon a fermé mon compte
# hier"): in a long story the first day named is often not the day of the measure (measured on
# the real development messages: "il y a 15 ans", "inscrit en novembre 2024"...), and searching
# one costs 8-30 ms.
STORY_MAX_CHARS = 300
# Whether a text may name a day at all (a digit, "hier", "ago", a month): the search runs only then
_MAYBE_A_DAY = re.compile(r"\d|hier|yesterday|ago\b|il y a|aujourd|today|janv|f[eé]vr|mars|march|"
                          r"avril|april|\bmai\b|\bmay\b|juin|june|juil|july|ao[uû]t|august|sept|"
                          r"octob|novem|d[eé]cem", re.IGNORECASE)


def _settings(today: date) -> dict[str, Any]:
    return {"RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "PREFER_DATES_FROM": "past", "DATE_ORDER": "DMY",
            "REQUIRE_PARTS": ["day", "month"]}


def read_date(text: str, today: date) -> date | None:
    """The day a short answer names, or None; never after `today`."""
    import dateparser

    text = text.strip()
    if not text or len(text) > MAX_CHARS:
        return find_date(text, today) if text else None
    settings = _settings(today)
    if _RELATIVE.search(text):  # "hier", "3 days ago" have no day or month of their own
        settings.pop("REQUIRE_PARTS")
    found = dateparser.parse(text, languages=LANGUAGES, settings=settings)
    if found is None:
        return find_date(text, today)
    day = found.date()
    return day if day <= today else None


def story_date(story: str, today: date) -> date | None:
    """The day a short story names, to pre-fill a case; None for a long one."""
    if len(story) > STORY_MAX_CHARS or not _MAYBE_A_DAY.search(story):
        return None
    return find_date(story, today)


def find_date(story: str, today: date) -> date | None:
    """The first day a story names ("Amazon a fermé mon compte hier"), or None."""
    from dateparser.search import search_dates

    found = search_dates(story[:2000], languages=LANGUAGES, settings=_settings(today)) or []
    for words, when in found:
        if _DURATION.match(words) or _YEAR_ONLY.match(words) and not _RELATIVE.search(words):
            continue
        if not (_DAY_NUMBER.search(words) or _RELATIVE.search(words)):
            continue  # a month alone ("en octobre") is not a day
        day = when.date()
        if day <= today:
            return day
    return None
