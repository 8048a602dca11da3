"""`charterbot knowledge check`: the staff's linter over a knowledge folder.

Errors (syntax, schema, unknown ids, missing answers) come from the loader and stop the check: the bot
would refuse these files. When the files load, content checks add warnings, each as ``file:line``:

- an entry not reviewed for a long time (``--max-age`` / ``CHARTERBOT_REVIEW_MAX_DAYS``, 365 days);
- two entries with near-duplicate phrasings (a seller typing it could get either answer);
- a phrasing that the engine gives to another entry than its own;
- a well-known marketplace named in an entry but missing from platforms.yaml;
- an entry whose first message (its `short`, else its `answer`) is too long for one phone
  screen, or the same as another entry's.

A platform route step without a source is an error of the loader.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.compose import FIRST_MESSAGE_TARGET, first_blocks, word_count
from bot.engine import Engine
from bot.knowledge import Entry, Knowledge, KnowledgeError, Problem
from bot.loader import load_knowledge
from bot.model import LANGS
from bot.normalise import normalise, words
from bot.render import block_text
from bot.settings import ConfigError

DEFAULT_MAX_AGE_DAYS = 365
MAX_AGE_ENV = "CHARTERBOT_REVIEW_MAX_DAYS"

# Two phrasings of different entries at least this similar (rapidfuzz `ratio`, 0-100, on normalised
# text) are near-duplicates. 92 catches the same words with a typo or different punctuation, not
# "qui a signé la charte" / "qui a rédigé la charte" (91), which mean different things.
NEAR_DUPLICATE_SIMILARITY = 92

# Marketplaces sellers are likely to name. One named in an entry without a record in platforms.yaml
# is a warning: the bot would not recognise it in questions nor give its status. Words that are
# also common words (Wish, Carrefour "crossroads", Boulanger "baker", Faire "to do") are left out.
MARKETPLACES = (
    "Amazon", "Cdiscount", "eBay", "Fnac", "Darty", "Rakuten", "PriceMinister", "Leboncoin",
    "La Redoute", "ManoMano", "Conforama", "Back Market", "AliExpress", "Alibaba", "Vinted", "Etsy",
    "Temu", "Shein", "Zalando", "Veepee", "Rue du Commerce", "Leroy Merlin", "Decathlon",
    "Galeries Lafayette", "Spartoo", "Vestiaire Collective", "Showroomprivé", "TikTok Shop",
    "Certideal", "LDLC", "Auchan", "Cultura", "Joom", "Allegro", "Kaufland", "Bol.com", "Otto",
    "Wallapop", "Depop", "Selency", "Label Emmaüs", "Ubaldi", "Walmart", "Mercado Libre", "Asos",
    "Catawiki", "Fruugo", "Miravia", "eMAG", "Ankorstore", "Beebs", "Pinduoduo",
)


def lint(folder: Path, max_age_days: int | None = None, today: date | None = None) -> list[Problem]:
    """Every problem in the folder: errors (schema, syntax) and warnings (content checks).

    `max_age_days` defaults to CHARTERBOT_REVIEW_MAX_DAYS, else 365 (raises ConfigError when that
    variable is not a whole number of days).
    """
    try:
        knowledge, warnings = load_knowledge(folder)
    except KnowledgeError as exc:
        return exc.problems
    max_age = review_max_days() if max_age_days is None else max_age_days
    found = (stale_entries(knowledge, max_age, today or date.today())
             + near_duplicates(knowledge) + misleading_phrasings(knowledge)
             + unknown_platforms(knowledge, folder) + long_first_messages(knowledge)
             + same_first_messages(knowledge))
    return warnings + sorted(found, key=lambda p: (p.file, p.line))


def review_max_days(env: Mapping[str, str] | None = None) -> int:
    """CHARTERBOT_REVIEW_MAX_DAYS, or DEFAULT_MAX_AGE_DAYS when it is not set."""
    value = (os.environ if env is None else env).get(MAX_AGE_ENV, "").strip()
    if not value:
        return DEFAULT_MAX_AGE_DAYS
    if not (value.isascii() and value.isdigit()):
        raise ConfigError(f"{MAX_AGE_ENV} must be a whole number of days, not '{value}'")
    return int(value)


def stale_entries(knowledge: Knowledge, max_age_days: int, today: date) -> list[Problem]:
    """A warning for each entry whose facts were last reviewed too long ago."""
    limit = today - timedelta(days=max_age_days)
    return [Problem(e.file, e.line, f"entry '{e.id}' was last reviewed on {e.reviewed}, more than "
                    f"{max_age_days} days ago: check its facts", "warning")
            for e in knowledge.entries if e.reviewed and date.fromisoformat(e.reviewed) < limit]


def _entry_phrasings(entry: Entry) -> Iterator[str]:
    for lang in ("fr", "en"):
        yield from entry.phrasings.get(lang, ())


def _phrasings(knowledge: Knowledge) -> Iterator[tuple[Entry, str]]:
    for entry in knowledge.entries:
        for text in _entry_phrasings(entry):
            yield entry, text


def _where(entry: Entry, phrasing: str) -> int:
    return entry.phrasing_lines.get(phrasing, entry.line)


def near_duplicates(knowledge: Knowledge) -> list[Problem]:
    """A warning for each phrasing almost identical to a phrasing of another entry."""
    items = list(_phrasings(knowledge))
    texts = [normalise(text) for _, text in items]
    out = []
    for j, (entry, text) in enumerate(items):
        if not texts[j]:
            continue
        # only earlier phrasings: each pair is reported once, on the later one
        for _, score, i in process.extract(texts[j], texts[:j], scorer=fuzz.ratio, processor=None,
                                           score_cutoff=NEAR_DUPLICATE_SIMILARITY, limit=None):
            other, other_text = items[i]
            if other.id == entry.id:
                continue
            out.append(Problem(entry.file, _where(entry, text),
                               f"phrasing '{text}' of entry '{entry.id}' is almost the same as "
                               f"'{other_text}' of entry '{other.id}' "
                               f"({other.file}:{_where(other, other_text)}, {score:.0f}% alike): "
                               "a seller may get either answer; keep it in one entry only",
                               "warning"))
    return out


def misleading_phrasings(knowledge: Knowledge, engine: Engine | None = None) -> list[Problem]:
    """A warning for each phrasing the engine gives to another entry than its own."""
    engine = engine or Engine(knowledge)
    out = []
    for entry, text in _phrasings(knowledge):
        # without the exact-phrasing shortcut: which entry a seller typing it slightly
        # differently would get
        decision = engine.decide(text, exact=False)
        winner = decision.entry or decision.outside
        if winner is None or winner.id == entry.id or decision.verdict != "answer" and \
                entry.kind == "outside":
            continue  # its own entry, nothing decided, or an out-of-scope example refused
        if entry.role in ("platform-status", "signatory-list") and winner.role in (
                "platform-status", "signatory-list"):
            continue  # chosen by the "names a platform or not" rule
        out.append(Problem(entry.file, _where(entry, text),
                           f"phrasing '{text}' of entry '{entry.id}' matches entry '{winner.id}' "
                           f"({winner.file}:{winner.line}) better than its own: asked in other "
                           f"words, it gets that answer; use words specific to '{entry.id}' or "
                           "move it", "warning"))
    return out


def _keys(name: str) -> set[str]:
    tokens = words(name)
    return {" ".join(tokens), "".join(tokens)} if tokens else set()


def _names(tokens: list[str], name: list[str]) -> bool:
    """Whether the folded words contain the name's words in a row (or glued: 'backmarket')."""
    size = len(name)
    return any(tokens[i:i + size] == name for i in range(len(tokens) - size + 1)) or (
        size > 1 and "".join(name) in tokens)


def _line_naming(path: Path, start: int, name: list[str]) -> int:
    """The first line from `start` on that names the marketplace (for answers and titles)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return start
    for number in range(max(start, 1), len(lines) + 1):
        if _names(words(lines[number - 1]), name):
            return number
    return start


def unknown_platforms(knowledge: Knowledge, folder: Path) -> list[Problem]:
    """A warning for each well-known marketplace an entry names that platforms.yaml lacks."""
    known: set[str] = set()
    for platform in knowledge.platforms:
        for alias in (platform.name, *platform.aliases):
            known |= _keys(alias)
    missing = [(name, words(name)) for name in MARKETPLACES if not _keys(name) & known]
    out: dict[tuple[str, int, str], Problem] = {}
    for entry in knowledge.entries:
        texts = [(text, _where(entry, text)) for text in _entry_phrasings(entry)]
        texts += [(text, 0) for text in (*entry.answer.values(), *entry.title.values())]
        for text, line in texts:
            tokens = words(text)
            for name, name_words in missing:
                if not _names(tokens, name_words):
                    continue
                at = line or _line_naming(folder.parent / entry.file, entry.line, name_words)
                out.setdefault((entry.file, at, name), Problem(
                    entry.file, at, f"{name} is not in platforms.yaml: entry '{entry.id}' names it, "
                    "but the bot will not recognise it in questions nor give its status; add it "
                    "there (with 'history: []' if it never signed the charter)", "warning"))
    return list(out.values())


def first_message_of(knowledge: Knowledge, entry: Entry, lang: str) -> str:
    """The first message a seller gets for the entry, with no platform named."""
    language = next(code for code in LANGS if code == lang)
    return "\n\n".join(block_text(b) for b in first_blocks(knowledge, entry, [], language, (),
                                                             False))


def _answered(knowledge: Knowledge) -> Iterator[Entry]:
    return (e for e in knowledge.entries if e.kind == "answer")


def long_first_messages(knowledge: Knowledge) -> list[Problem]:
    """A warning for each entry whose first message is longer than a phone screen."""
    out = []
    for entry in _answered(knowledge):
        for lang in LANGS:
            count = word_count(first_message_of(knowledge, entry, lang))
            if count > FIRST_MESSAGE_TARGET:
                field = "short" if entry.short.get(lang) else "answer"
                out.append(Problem(entry.file, entry.line, f"the first message of entry "
                                   f"'{entry.id}' ({lang}) is {count} words, more than the "
                                   f"{FIRST_MESSAGE_TARGET} a phone shows in one screen: "
                                   f"shorten its '{field}'" + (
                                       "" if field == "short" else
                                       " or add a 'short' text (the answer then becomes the "
                                       "details)"), "warning"))
    return out


def same_first_messages(knowledge: Knowledge) -> list[Problem]:
    """A warning for each entry whose first message is word for word another entry's."""
    seen: dict[tuple[str, str], Entry] = {}
    out = []
    for entry in _answered(knowledge):
        for lang in LANGS:
            key = (lang, " ".join(normalise(first_message_of(knowledge, entry, lang)).split()))
            other = seen.setdefault(key, entry)
            if other is not entry:
                out.append(Problem(entry.file, entry.line, f"entry '{entry.id}' ({lang}) starts "
                                   f"with the same first message as '{other.id}' "
                                   f"({other.file}:{other.line}): write a first message for "
                                   "each question", "warning"))
    return out
