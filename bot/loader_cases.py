"""Read and validate `knowledge/cases.yaml`, the case builder's problems, rules and templates.

Every problem must have its request and evidence in both languages (its own part of the letters),
every template and rule only known {placeholders}, every id it cites must exist: a mistake is a
``file:line: message`` problem like everywhere else in the knowledge, and the bot keeps the last
good version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.case.book import (
    MISSING_KEYS,
    NOTICE_KINDS,
    NOTICE_PLACEHOLDERS,
    NOTICE_TEXTS,
    PLACEHOLDERS,
    RULE_PLACEHOLDERS,
    SAID_KINDS,
    TEMPLATE_IDS,
    CaseBook,
    CaseProblem,
    CaseRule,
    Notice,
    Template,
    placeholders,
)
from bot.knowledge import Entry, Platform, Problem, SourceDoc
from bot.model import LANGS, Lang

TOP_KEYS = {"platforms", "links", "problems", "rules", "notices", "said", "missing", "templates",
            "deadlines"}
PROBLEM_KEYS = {"id", "label", "entries", "notice", "rules", "request", "evidence"}
RULE_KEYS = {"id", "text", "sources", "signatories"}
TEMPLATE_KEYS = {"id", "title", "file", "text"}
LINK_KEYS = ("mediateur", "reporting")


def read_cases(check: Any, parse: Callable[[Path], Any], path: Path,
               sources: dict[str, SourceDoc], platforms: list[Platform],
               entries: list[Entry]) -> CaseBook | None:
    """The case book, or None when the knowledge has no `cases.yaml` (no case builder)."""
    if not path.exists() and not path.is_symlink():
        return None
    data = parse(path)
    if data is None:
        return None
    if not isinstance(data, dict):
        check.error(data, "cases.yaml must be a mapping (problems:, rules:, templates:, ...)", 1)
        return None
    check.keys(data, TOP_KEYS, "cases.yaml")
    rules = _rules(check, data.get("rules"), sources)
    book = CaseBook(
        platforms=_platforms(check, data, platforms),
        links=_links(check, data.get("links"), sources),
        problems=_problems(check, data.get("problems"), rules, entries),
        rules=rules,
        notices=_notices(check, data.get("notices")),
        notice_texts=_keyed_texts(check, (data.get("notices") or {}).get("texts")
                                  if isinstance(data.get("notices"), dict) else None,
                                  NOTICE_TEXTS, "notices: texts", NOTICE_PLACEHOLDERS),
        said=_keyed_texts(check, data.get("said"), SAID_KINDS, "said", frozenset()),
        missing=_keyed_texts(check, data.get("missing"), MISSING_KEYS, "missing", frozenset()),
        templates=_templates(check, data.get("templates")),
        deadlines=_deadlines(check, data.get("deadlines")),
    )
    return book


def _platforms(check: Any, data: dict[str, Any], known: list[Platform]) -> tuple[str, ...]:
    names = {p.name for p in known}
    listed = check.text_list(data, "platforms")
    for name in listed:
        if name not in names:
            check.error(data.get("platforms"), f"platform '{name}' is not in platforms.yaml")
    return tuple(n for n in listed if n in names)


def _links(check: Any, value: Any, sources: dict[str, SourceDoc]) -> dict[str, str]:
    if not isinstance(value, dict):
        check.error(value, f"'links' needs {', '.join(LINK_KEYS)}: ids from sources.yaml", 1)
        return {}
    out = {}
    for key in LINK_KEYS:
        source = value.get(key)
        if not isinstance(source, str) or source not in sources:
            check.error(value, f"links: '{key}' must be an id from sources.yaml")
        else:
            out[key] = sources[source].url
    return out


def _rules(check: Any, value: Any, sources: dict[str, SourceDoc]) -> dict[str, CaseRule]:
    from bot.loader import check_sources

    out: dict[str, CaseRule] = {}
    for record in _records(check, value, "rules"):
        check.keys(record, RULE_KEYS, "a rule")
        rule_id = check.text(record, "id")
        text = check.texts(record, "text")
        _placeholders(check, record.get("text"), text, RULE_PLACEHOLDERS, f"rule '{rule_id}'")
        if rule_id in out:
            check.error(record, f"rule id '{rule_id}' is used twice")
        out[rule_id] = CaseRule(rule_id, text, check_sources(check, record, sources),
                                _flag(check, record, "signatories"))
    return out


def _flag(check: Any, record: Any, key: str) -> bool:
    """A yes/no field (`true` or `false`; absent is false)."""
    value = record.get(key)
    if value is None:
        return False
    if str(value).strip().lower() not in ("true", "false"):
        check.error(value, f"'{key}' must be true or false, not '{value}'")
    return str(value).strip().lower() == "true"


def _problems(check: Any, value: Any, rules: dict[str, CaseRule],
              entries: list[Entry]) -> tuple[CaseProblem, ...]:
    known_entries = {e.id for e in entries}
    out: list[CaseProblem] = []
    for record in _records(check, value, "problems"):
        check.keys(record, PROBLEM_KEYS, "a problem")
        problem_id = check.text(record, "id")
        notice = check.text(record, "notice")
        if notice and notice not in NOTICE_KINDS:
            check.error(record.get("notice"), f"notice '{notice}' is not one of "
                        f"{', '.join(NOTICE_KINDS)}")
        cited = check.text_list(record, "rules")
        for rule in cited:
            if rule not in rules:
                check.error(record.get("rules"), f"rule '{rule}' is not defined under 'rules:'")
        linked = check.text_list(record, "entries")
        for entry in linked:
            if entry not in known_entries:
                check.error(record.get("entries"), f"entry '{entry}' does not exist")
        if "request" not in record:
            check.error(record, f"problem '{problem_id}' has no 'request' (the letter's "
                        "request for it), with 'fr:' and 'en:'")
        if any(p.id == problem_id for p in out):
            check.error(record, f"problem id '{problem_id}' is used twice")
        out.append(CaseProblem(problem_id, check.texts(record, "label"), linked, notice, cited,
                               check.texts(record, "request", required=False),
                               _lists(check, record, "evidence")))
    if value is not None and not out:
        check.error(value, "'problems' lists no problem")
    linked_anywhere = {e for p in out for e in p.entries}
    for entry in entries:
        if entry.topic == "problems" and entry.id not in linked_anywhere:
            check.problems.append(Problem(
                check.file, getattr(value, "line", 0), f"entry '{entry.id}' is a problem no case "
                "problem lists under 'entries:': its answer offers no 'Prepare my complaint'",
                "warning"))
    return tuple(out)


def _notices(check: Any, value: Any) -> dict[str, Notice]:
    if not isinstance(value, dict):
        check.error(value, "'notices' needs 'termination:', 'terms:' and 'texts:'", 1)
        return {}
    out: dict[str, Notice] = {}
    for kind in ("termination", "terms"):
        record = value.get(kind)
        if not isinstance(record, dict) or not re.fullmatch(r"[0-9]{1,4}", str(record.get("days", ""))):
            check.error(value, f"notices: '{kind}' needs 'days:' (a number) and 'rule:'")
            continue
        out[kind] = Notice(int(record["days"]), check.texts(record, "rule"))
    return out


def _keyed_texts(check: Any, value: Any, keys: tuple[str, ...], what: str,
                 allowed: frozenset[str] | dict[str, frozenset[str]]
                 ) -> dict[str, dict[Lang, str]]:
    if not isinstance(value, dict):
        check.error(value, f"'{what}' needs {', '.join(keys)}, each with 'fr:' and 'en:'", 1)
        return {}
    out = {}
    for key in keys:
        if key not in value:
            check.error(value, f"'{what}' has no '{key}:'")
            continue
        texts = check.texts(value, key)
        known = allowed.get(key, frozenset()) if isinstance(allowed, dict) else allowed
        _placeholders(check, value.get(key), texts, known, f"{what}: {key}")
        out[key] = texts
    return out


def _templates(check: Any, value: Any) -> tuple[Template, ...]:
    out: list[Template] = []
    for record in _records(check, value, "templates"):
        check.keys(record, TEMPLATE_KEYS, "a template")
        template_id = check.text(record, "id")
        if template_id not in TEMPLATE_IDS:
            check.error(record.get("id"), f"template '{template_id}' is not one of "
                        f"{', '.join(TEMPLATE_IDS)}")
        text = check.texts(record, "text")
        _placeholders(check, record.get("text"), text, PLACEHOLDERS, f"template '{template_id}'")
        out.append(Template(template_id, check.texts(record, "title"),
                            check.texts(record, "file"), text))
    present = {t.id for t in out}
    for missing in (t for t in TEMPLATE_IDS if t not in present):
        check.error(value, f"no template '{missing}' (the case builder writes it)", 1)
    return tuple(out)


def _deadlines(check: Any, value: Any) -> dict[str, dict[Lang, tuple[str, ...]]]:
    if not isinstance(value, dict):
        check.error(value, "'deadlines' needs 'always:' and a list per notice kind", 1)
        return {}
    out = {}
    for key, record in value.items():
        if key != "always" and key not in NOTICE_KINDS:
            check.error(record, f"deadlines: '{key}' is not 'always' or a notice kind")
        out[str(key)] = _lists(check, value, str(key))
    return out


def _lists(check: Any, record: Any, key: str) -> dict[Lang, tuple[str, ...]]:
    """A field with one list of lines per language."""
    value = record.get(key)
    if not isinstance(value, dict):
        check.error(record, f"'{key}' needs 'fr:' and 'en:' lists")
        return {}
    out: dict[Lang, tuple[str, ...]] = {}
    for lang in LANGS:
        if lang not in value:
            check.error(value, f"'{key}' has no '{lang}:' list")
        out[lang] = check.text_list(value, lang)
    return out


def _records(check: Any, value: Any, what: str) -> list[Any]:
    if value is None:
        check.error(value, f"cases.yaml needs '{what}:'", 1)
        return []
    return list(check.items(value, what))


def _placeholders(check: Any, where: Any, texts: dict[Lang, str], allowed: frozenset[str],
                  what: str) -> None:
    for lang, text in texts.items():
        try:
            names = placeholders(text)
        except ValueError:
            check.error(where, f"{what} ({lang}): a '{{' or '}}' is not closed (write "
                        "placeholders as {name})")
            continue
        for name in names:
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                check.error(where, f"{what} ({lang}): unknown placeholder '{{{name}}}' "
                            f"(known: {known})")
