"""The case builder's conversation as a pure state machine: a `Draft` and an answer in, the next
`Draft` out. No storage, clock or network: the desk around it (`bot.case.desk`) keeps drafts and
the day, and `Reader` lends it the engine's reading of free text.

Steps, in order (a step already known, e.g. pre-filled from a story, is skipped):
  confirm   only for a pre-filled case: "Amazon, account closed, 1 December: right?"
  platform  buttons for the usual platforms, any name typed
  problem   buttons, or a description the engine reads
  date      when it happened (buttons today / yesterday / don't know, or a typed date)
  notice    when the platform warned (only for problems with a notice period)
  said      what the platform said: nothing, something vague, or the pasted message
  refs      seller id, order or ticket numbers (optional)
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Protocol

from bot.case.book import CaseBook
from bot.case.dates import read_date
from bot.model import Lang

STEPS = ("confirm", "platform", "problem", "date", "notice", "said", "refs")
NOTICE_STEP_FOR = ("termination", "terms")  # problems whose letter checks a notice period
MAX_PLATFORM_CHARS = 60
MAX_SAID_CHARS = 2000   # a pasted notice: enough for the platform's email, bounded in storage
MAX_REFS_CHARS = 300

# Button values (short: Telegram's callback data is 64 bytes with its prefix)
OK, EDIT, SKIP = "ok", "edit", "r:skip"
TODAY, YESTERDAY, UNKNOWN = "d:today", "d:yesterday", "d:unknown"
NOT_WARNED, WARNED_SAME_DAY, NOTICE_UNKNOWN = "n:none", "n:same", "n:unknown"
SAID_NONE, SAID_VAGUE = "s:none", "s:vague"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # kept out of the papers
START = "new"  # "new|<problem>|<platform>|<day>": the button under an answer
DEEP_LINK = "dossier"  # /start dossier[_<problem>_<platform>_<yyyymmdd>] opens a case
# Typed instead of a button: "not warned" at the notice question, "nothing" / "vague" at the
# question about what the platform said (short answers only: a pasted notice is quoted as is)
_NOT_WARNED = re.compile(r"\b(pas (été )?(prévenu|averti)e?s?|jamais|aucun (préavis|avertissement)|"
                         r"sans (préavis|prévenir|avertissement)|never|no (notice|warning)|"
                         r"not (warned|told)|without (notice|warning))\b", re.IGNORECASE)
_SAME_DAY = re.compile(r"\b(le )?(même jour|jour même|same day)\b", re.IGNORECASE)
_SAID_NOTHING = re.compile(r"^\W*(rien|aucun\w*( motif| message| explication| raison)?|"
                           r"pas de (motif|raison|message|explication)|sans (motif|raison)|"
                           r"nothing|none|no (reason|message|explanation)|no)\W*$", re.IGNORECASE)
_SAID_VAGUE = re.compile(r"^\W*(vague|flou|g[ée]n[ée]ral|un message (vague|g[ée]n[ée]ral)|"
                         r"sans d[ée]tails?|generic|general|no details?)\W*$", re.IGNORECASE)
SHORT_ANSWER = 60        # characters: a longer answer to "what did it say?" is a pasted message
MAX_DESCRIBED_CHARS = 200
CUT = " […]"             # marks a pasted message cut at MAX_SAID_CHARS
# "I don't know" typed at a date question: the papers then mark the date to fill in
_DONT_KNOW = re.compile(r"\b(sai[st]? (pas|plus)|sai[st]? pas|aucune id[ée]e|je ne sais|"
                        r"don'?t (know|remember)|not sure|no idea|unknown|inconnue?|"
                        r"plus (trop|du tout)|oubli[ée])\b", re.IGNORECASE)


class Reader(Protocol):
    """What the flow asks the engine about free text."""

    def platform(self, text: str) -> str | None:
        """The known platform a text names, or None."""

    def problem(self, text: str) -> str | None:
        """The case problem a description is about, or None."""


@dataclass(frozen=True)
class Draft:
    """A case under way: what the seller said so far (ISO days; "none" = not warned)."""

    lang: Lang
    step: str = "platform"
    platform: str = ""
    known: bool = False     # `platform` is a name from platforms.yaml (else as typed)
    problem: str = ""
    date: str = ""
    notice: str = ""
    said: str = ""          # "none", "vague", or "" with `said_text` pasted
    said_text: str = ""
    refs: str = ""
    answered: tuple[str, ...] = ()  # steps the seller has been through (or skipped)
    retried: bool = False   # the last answer was not understood: the next one is taken as is
    final: str = ""         # step "done": a hash of the answer that finished it (see `answer_key`)
    delivery: str = ""      # the platform's id of the delivery that brought the last answer
    pressed: str = ""       # the button value of the last answer ("" when it was typed)
    described: str = ""     # what happened, as typed, when no listed problem fitted ("other")
    version: int = 0        # the stored version this draft was read at (not stored in the JSON)

    def to_json(self) -> str:
        values = asdict(self)
        values.pop("version")
        return json.dumps(values, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> Draft:
        values = json.loads(data)
        values["answered"] = tuple(values.get("answered", ()))
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Outcome:
    """The draft after an answer, whether that answer was not understood, and whether it was a
    button of an earlier question (`stale`: nothing changes, the current question is asked)."""

    draft: Draft
    misunderstood: bool = False
    stale: bool = False
    hint: str = ""          # with `misunderstood`: the phrase key saying why, if not the usual


# Which step each kind of button value answers (a press on an older question is not applied)
_VALUE_STEPS = (("p:", "platform"), ("k:", "problem"), ("d:", "date"), ("n:", "notice"),
                ("s:", "said"), ("r:", "refs"), (OK, "confirm"), (EDIT, "confirm"))


def step_of(value: str) -> str | None:
    """The step a button value answers, or None for a value of no step."""
    return next((step for prefix, step in _VALUE_STEPS
                 if value == prefix or prefix.endswith(":") and value.startswith(prefix)), None)


def answer_key(text: str, value: str) -> str:
    """A short hash of an answer: the same answer delivered twice (a platform's retry after a
    failed send) is recognised without keeping its text."""
    return hashlib.sha256(f"{value}\x00{text.strip()}".encode("utf-8", "replace")).hexdigest()[:16]


def start(lang: Lang, book: CaseBook, problem: str = "", platform: str = "", known: bool = False,
          day: str = "") -> Draft:
    """A new case, pre-filled with what a story told; with anything pre-filled, it starts by
    asking the seller to confirm."""
    if problem and book.problem(problem) is None:
        problem = ""
    draft = Draft(lang=lang, platform=platform[:MAX_PLATFORM_CHARS], known=known and bool(platform),
                  problem=problem, date=day)
    if problem or platform:
        return replace(draft, step="confirm")
    return replace(draft, step=next_step(draft, book) or "platform")


def next_step(draft: Draft, book: CaseBook) -> str | None:
    """The first step still to ask, or None when the papers can be written."""
    for step in STEPS[1:]:
        if step in draft.answered:
            continue
        if step == "platform" and draft.platform or step == "problem" and draft.problem:
            continue
        if step == "date" and draft.date:
            continue
        if step == "notice" and not needs_notice(draft, book):
            continue
        return step
    return None


def needs_notice(draft: Draft, book: CaseBook) -> bool:
    problem = book.problem(draft.problem)
    return problem is not None and problem.notice in NOTICE_STEP_FOR


def answer(draft: Draft, book: CaseBook, reader: Reader, today: date, text: str = "",
           value: str = "") -> Outcome:
    """Apply the seller's answer (a typed `text` or a button `value`) to the current step."""
    step = draft.step
    if value and step_of(value) not in (None, step):
        return Outcome(draft, stale=True)
    if step == "confirm":
        return _confirm(draft, book, value or _yes_no(text))
    handler = _HANDLERS.get(step)
    if handler is None:
        return Outcome(replace(draft, step=next_step(draft, book) or "refs"))
    clean = _CONTROL.sub("", text).strip()
    updated = handler(draft, book, reader, today, clean, value)
    if updated is None:  # not understood: ask again once, then take what was typed
        if draft.retried:
            updated = _give_up(draft, clean)
        else:
            return Outcome(replace(draft, retried=True), misunderstood=True,
                           hint=_hint(draft, clean, today))
    updated = replace(updated, answered=(*updated.answered, step), retried=False)
    following = next_step(updated, book)
    if following is None:
        return Outcome(replace(updated, step="done", final=answer_key(text, value)))
    return Outcome(replace(updated, step=following))


def _confirm(draft: Draft, book: CaseBook, value: str) -> Outcome:
    if value == OK:
        moved = replace(draft, answered=(*draft.answered, "confirm"))
        return Outcome(replace(moved, step=next_step(moved, book) or "done"))
    if value == EDIT:
        fresh = Draft(lang=draft.lang, answered=("confirm",))
        return Outcome(replace(fresh, step="platform"))
    return Outcome(draft, misunderstood=True)


def _yes_no(text: str) -> str:
    word = text.strip().lower().rstrip(" !.")
    if word in {"oui", "yes", "ok", "d'accord", "c'est ça", "exact", "y", "o"}:
        return OK
    if word in {"non", "no", "n", "corriger", "modifier", "edit"}:
        return EDIT
    return ""


def _platform(draft: Draft, book: CaseBook, reader: Reader, today: date, text: str,
              value: str) -> Draft | None:
    if value.startswith("p:") and value[2:] in book.platforms:
        return replace(draft, platform=value[2:], known=True)
    if not text:
        return None
    named = reader.platform(text)
    if named:
        return replace(draft, platform=named, known=True)
    return replace(draft, platform=" ".join(text.split())[:MAX_PLATFORM_CHARS], known=False)


def _problem(draft: Draft, book: CaseBook, reader: Reader, today: date, text: str,
             value: str) -> Draft | None:
    wanted = value[2:] if value.startswith("k:") else ""
    if not wanted and text:
        if text.isascii() and text.isdigit() and 1 <= int(text) <= len(book.problems):
            wanted = book.problems[int(text) - 1].id
        else:
            folded = text.lower()
            wanted = next((p.id for p in book.problems
                           if folded in {p.label[lang].lower() for lang in p.label}), "")
            wanted = wanted or reader.problem(text) or ""
    return replace(draft, problem=wanted) if book.problem(wanted) else None


def coming_change(draft: Draft, book: CaseBook) -> bool:
    """Whether the measure may still be to come (a change of terms or fees announced ahead)."""
    problem = book.problem(draft.problem)
    return problem is not None and problem.notice == "terms"


def _date(draft: Draft, book: CaseBook, reader: Reader, today: date, text: str,
          value: str) -> Draft | None:
    if value in (TODAY, YESTERDAY):
        day = today if value == TODAY else today - timedelta(days=1)
        return replace(draft, date=day.isoformat())
    if value == UNKNOWN or _DONT_KNOW.search(text):
        return replace(draft, date="")
    found = read_date(text, today, future=coming_change(draft, book)) if text else None
    return replace(draft, date=found.isoformat()) if found else None


def _notice(draft: Draft, book: CaseBook, reader: Reader, today: date, text: str,
            value: str) -> Draft | None:
    if value == NOT_WARNED or _NOT_WARNED.search(text):
        return replace(draft, notice="none")
    if value == WARNED_SAME_DAY or _SAME_DAY.search(text):
        return replace(draft, notice=draft.date or "same")
    if value == NOTICE_UNKNOWN or _DONT_KNOW.search(text):
        return replace(draft, notice="")
    found = read_date(text, today, before=iso_day(draft.date)) if text else None
    if found is None or _notice_after_measure(draft, found):
        return None
    return replace(draft, notice=found.isoformat())


def _notice_after_measure(draft: Draft, warned: date) -> bool:
    measure = iso_day(draft.date)
    return measure is not None and warned > measure


def iso_day(value: str) -> date | None:
    """The day an ISO text names ("2026-12-01"), or None ("", "none", "same", garbage)."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _hint(draft: Draft, text: str, today: date) -> str:
    """Why an answer was not taken, when it is not just "not understood"."""
    if draft.step == "notice" and text:
        warned = read_date(text, today, before=iso_day(draft.date))
        if warned is not None and _notice_after_measure(draft, warned):
            return "case_notice_after"
    return ""


def _said(draft: Draft, book: CaseBook, reader: Reader, today: date, text: str,
          value: str) -> Draft | None:
    if value in (SAID_NONE, SAID_VAGUE):
        return replace(draft, said=value[2:], said_text="")
    if not text:
        return None
    if len(text) <= SHORT_ANSWER and _SAID_NOTHING.match(text):
        return replace(draft, said="none", said_text="")
    if len(text) <= SHORT_ANSWER and _SAID_VAGUE.match(text):
        return replace(draft, said="vague", said_text="")
    pasted = text if len(text) <= MAX_SAID_CHARS else text[:MAX_SAID_CHARS].rstrip() + CUT
    return replace(draft, said="", said_text=pasted)


def _refs(draft: Draft, book: CaseBook, reader: Reader, today: date, text: str,
          value: str) -> Draft | None:
    if value == SKIP:
        return replace(draft, refs="")
    if not text:
        return None
    return replace(draft, refs=" ".join(text.split())[:MAX_REFS_CHARS])


def _give_up(draft: Draft, text: str) -> Draft:
    """A second answer not understood: go on without it (the papers mark it to fill in)."""
    if draft.step == "problem":  # the seller's own words say what happened, in the papers
        return replace(draft, problem="other",
                       described=" ".join(text.split())[:MAX_DESCRIBED_CHARS])
    return draft


_HANDLERS = {"platform": _platform, "problem": _problem, "date": _date, "notice": _notice,
             "said": _said, "refs": _refs}


def start_payload(value: str) -> str | None:
    """A start button's value as a deep-link payload (Telegram's /start: 64 characters of
    A-Z a-z 0-9 _ -, read case-insensitively): "dossier_closure_fnac-darty_20261201"."""
    started = parse_start(value)
    if started is None:
        return None
    problem, platform, day = started
    if not (problem or platform or day):
        return DEEP_LINK
    payload = "_".join((DEEP_LINK, problem, slug(platform), day.replace("-", "")))
    return payload if len(payload) <= 64 and re.fullmatch(r"[a-z0-9_-]+", payload) else DEEP_LINK


def parse_payload(payload: str, platforms: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(problem, platform, day) from `start_payload`'s text; None if it is not one."""
    parts = payload.strip().lower().split("_")
    if parts[0] != DEEP_LINK or len(parts) not in (1, 4):
        return None
    if len(parts) == 1:
        return "", "", ""
    problem, platform_slug, day = parts[1:]
    platform = next((name for name in platforms if slug(name) == platform_slug), "")
    iso = f"{day[:4]}-{day[4:6]}-{day[6:]}" if len(day) == 8 and day.isdigit() else ""
    return problem, platform, (parse_start(f"{START}|{problem}|{platform}|{iso}") or ("", "", ""))[2]


def slug(name: str) -> str:
    """"Fnac Darty" -> "fnac-darty": lowercase ASCII letters and digits, dashes between."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    kept = "".join(c.lower() if c.isalnum() else "-" for c in plain)
    return "-".join(p for p in kept.split("-") if p)


def start_value(problem: str, platform: str, day: str) -> str:
    """The value of the "Prepare my complaint" button: what the answered story told."""
    return "|".join((START, problem, platform, day))


def parse_start(value: str) -> tuple[str, str, str] | None:
    """(problem, platform, day) from a start button's value, or None for any other value."""
    parts = value.split("|")
    if len(parts) != 4 or parts[0] != START:
        return None
    problem, platform, day = parts[1:]
    try:
        day = date.fromisoformat(day).isoformat() if day else ""
    except ValueError:
        day = ""
    return problem, platform, day
