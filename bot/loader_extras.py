"""Read and validate the engine's own knowledge files: `words.yaml`, `caveats.yaml`, entry roles.

Kept apart from `loader` so that each file format has a short reader of its own; both report
problems the same way (``file:line: message``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.knowledge import Caveat, Entry, Problem, SourceDoc, WordLists
from bot.model import LANGS, Lang
from bot.normalise import fold_words

# What code asks the knowledge for by role, never by entry id: each exactly once.
ROLES = ("platform-status", "signatory-list", "escalation-overview", "help", "charter-overview")
CAVEAT_KEYS = {"id", "text", "topics", "cues", "before_year", "sources"}
WORD_KEYS = {"stopwords", "courtesy", "spellings", "markers", "context"}
_FOLDED = re.compile(r"^[a-z0-9]+(?:[ -][a-z0-9]+)*$")


def read_words(check: Any, parse: Callable[[Path], Any], path: Path) -> WordLists:
    """The word lists; every word must be written folded so that it can ever match."""
    if not path.exists() and not path.is_symlink():
        return WordLists()
    data = parse(path)
    if data is None:
        return WordLists()
    if not isinstance(data, dict):
        check.error(data, "words.yaml must be a mapping (stopwords:, courtesy:, spellings:, markers:)")
        return WordLists()
    check.keys(data, WORD_KEYS, "the word lists")
    spellings = {}
    raw_spellings = data.get("spellings") or {}
    if not isinstance(raw_spellings, dict):
        check.error(raw_spellings, "'spellings' must map a spelling to the word it stands for")
        raw_spellings = {}
    for key, value in raw_spellings.items():
        _check_folded(check, key, raw_spellings)
        spellings[str(key)] = " ".join(fold_words(str(value)))
    return WordLists(
        stopwords=_by_lang_union(check, data, "stopwords"),
        courtesy=_word_set(check, data, "courtesy"),
        spellings=spellings,
        markers={lang: frozenset(_word_list(check, data.get("markers", {}), lang))
                 for lang in LANGS} if isinstance(data.get("markers"), dict) else {},
        context=_sentences(check, data),
    )


def _sentences(check: Any, data: dict[str, Any]) -> dict[Lang, tuple[str, ...]]:
    """`context`: sentences sellers add around their problem, per language (optional)."""
    value = data.get("context")
    if value is None:
        return {}
    if not isinstance(value, dict):
        check.error(value, "'context' needs 'fr:' and 'en:' lists of sentences")
        return {}
    return {lang: check.text_list(value, lang) for lang in LANGS}


def _by_lang_union(check: Any, data: dict[str, Any], key: str) -> frozenset[str]:
    value = data.get(key)
    if not isinstance(value, dict):
        check.error(value if value is not None else data, f"'{key}' needs 'fr:' and 'en:' lists")
        return frozenset()
    return frozenset(w for lang in LANGS for w in _word_list(check, value, lang))


def _word_set(check: Any, data: dict[str, Any], key: str) -> frozenset[str]:
    return frozenset(_word_list(check, data, key))


def _word_list(check: Any, data: Any, key: str) -> list[str]:
    """Space-separated folded words under `key`."""
    value = data.get(key) if isinstance(data, dict) else None
    if value is None:
        check.error(data, f"missing '{key}'")
        return []
    out = []
    for word in str(value).split():
        _check_folded(check, word, value)
        out.append(word)
    return out


def _check_folded(check: Any, word: object, where: object) -> None:
    if not _FOLDED.match(str(word)):
        check.error(where, f"'{word}' must be written in lower case without accents "
                    "or punctuation (it could never match)")


def read_caveats(check: Any, parse: Callable[[Path], Any], path: Path,
                 sources: dict[str, SourceDoc], topics: tuple[str, ...]) -> tuple[Caveat, ...]:
    """The caveats; each needs a text in both languages, topics, and cues or a year."""
    from bot.loader import check_sources

    if not path.exists() and not path.is_symlink():
        return ()
    out: list[Caveat] = []
    for record in check.items(parse(path), "caveats"):
        check.keys(record, CAVEAT_KEYS, "a caveat")
        cues = tuple(" ".join(fold_words(c)) for c in check.text_list(record, "cues"))
        year = _year(check, record)
        if not cues and not year:
            check.error(record, "a caveat needs 'cues' or 'before_year'")
        wanted = check.text_list(record, "topics")
        for topic in wanted:
            if topic not in topics:
                check.error(record.get("topics"), f"topic '{topic}' is not one of {', '.join(topics)}")
        out.append(Caveat(check.text(record, "id"), check.texts(record, "text"), wanted,
                          tuple(c for c in cues if c), year,
                          check_sources(check, record, sources, required=False)))
    return tuple(out)


def _year(check: Any, record: dict[str, Any]) -> int:
    raw = record.get("before_year")
    if raw is None:
        return 0
    if not re.fullmatch(r"[0-9]{4}", str(raw)) or not 1990 <= int(raw) <= 2100:
        check.error(raw, f"'before_year' must be a year such as 2020, not '{raw}'")
        return 0
    return int(raw)


def check_roles(problems: list[Problem], entries: list[Entry], label: str) -> None:
    """Every role the code needs is played by exactly one entry; unknown roles are errors."""
    holders: dict[str, list[Entry]] = {role: [] for role in ROLES}
    for entry in entries:
        if entry.role and entry.role not in holders:
            problems.append(Problem(entry.file, entry.line, f"role '{entry.role}' is not one of "
                                    f"{', '.join(ROLES)}"))
        elif entry.role:
            holders[entry.role].append(entry)
    for role, found in holders.items():
        if not found:
            problems.append(Problem(label, 0, f"no entry has 'role: {role}' (the bot needs one)"))
        for extra in found[1:]:
            problems.append(Problem(extra.file, extra.line, f"role '{role}' is already played "
                                    f"by '{found[0].id}'"))

