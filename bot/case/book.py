"""What `knowledge/cases.yaml` holds: the case builder's problems, rules, notices and templates."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from bot.model import Lang

Texts = dict[Lang, str]

# Every {placeholder} a template may use; `knowledge check` refuses any other.
PLACEHOLDERS = frozenset({
    "platform", "problem", "date", "notice_date", "said", "references", "request", "rules",
    "notice_check", "complaint_route", "mediators", "mediateur_url", "reporting_url", "evidence",
    "deadlines", "sources", "today",
})
TEMPLATE_IDS = ("complaint", "mediation", "checklist")  # the three papers, in the order sent
NOTICE_KINDS = ("none", "restriction", "termination", "terms")
NOTICE_TEXTS = ("short", "none", "kept", "unknown", "no_reasons", "vague")
# The placeholders each notice text is filled with (any other is refused by `knowledge check`)
NOTICE_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "short": frozenset({"date", "notice_date", "given", "days", "rule"}),
    "kept": frozenset({"date", "notice_date", "given", "days", "rule"}),
    "none": frozenset({"date", "days", "rule"}),
    "unknown": frozenset({"date", "days", "rule"}),
    "no_reasons": frozenset(),
    "vague": frozenset(),
}
SAID_KINDS = ("none", "vague", "pasted", "missing")
MISSING_KEYS = ("platform", "problem", "date", "references", "complaint_route", "mediators")
RULE_PLACEHOLDERS = frozenset({"platform"})


def placeholders(text: str) -> list[str]:
    """The {names} a template uses, in order (a stray brace raises ValueError)."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


@dataclass(frozen=True)
class CaseRule:
    """One rule a letter quotes; `signatories` rules only for a platform that signed."""

    id: str
    text: Texts
    sources: tuple[str, ...]
    signatories: bool = False


@dataclass(frozen=True)
class CaseProblem:
    """A problem a seller can pick, the answers that lead to it, and what its letters say."""

    id: str
    label: Texts
    entries: tuple[str, ...]
    notice: str
    rules: tuple[str, ...]
    request: Texts
    evidence: dict[Lang, tuple[str, ...]]


@dataclass(frozen=True)
class Template:
    id: str
    title: Texts
    file: Texts
    text: Texts


@dataclass(frozen=True)
class Notice:
    days: int
    rule: Texts


@dataclass(frozen=True)
class CaseBook:
    platforms: tuple[str, ...] = ()
    links: dict[str, str] = field(default_factory=dict)
    problems: tuple[CaseProblem, ...] = ()
    rules: dict[str, CaseRule] = field(default_factory=dict)
    notices: dict[str, Notice] = field(default_factory=dict)
    notice_texts: dict[str, Texts] = field(default_factory=dict)
    said: dict[str, Texts] = field(default_factory=dict)
    missing: dict[str, Texts] = field(default_factory=dict)
    templates: tuple[Template, ...] = ()
    deadlines: dict[str, dict[Lang, tuple[str, ...]]] = field(default_factory=dict)

    def problem(self, problem_id: str) -> CaseProblem | None:
        return next((p for p in self.problems if p.id == problem_id), None)

    def problem_for_entry(self, entry_id: str) -> CaseProblem | None:
        """The problem an answer's "Prepare my complaint" button starts with, if any."""
        return next((p for p in self.problems if entry_id in p.entries), None)


def case_book_from_dict(data: dict[str, Any]) -> CaseBook:
    """The book back from `asdict(book)` (the knowledge index stores it as JSON)."""
    def lists(value: dict[str, list[str]]) -> dict[Lang, tuple[str, ...]]:
        return {lang: tuple(items) for lang, items in value.items()}  # type: ignore[misc]

    return CaseBook(
        platforms=tuple(data["platforms"]), links=data["links"],
        problems=tuple(CaseProblem(**{**p, "entries": tuple(p["entries"]),
                                      "rules": tuple(p["rules"]),
                                      "evidence": lists(p["evidence"])})
                       for p in data["problems"]),
        rules={k: CaseRule(**{**r, "sources": tuple(r["sources"])})
               for k, r in data["rules"].items()},
        notices={k: Notice(**n) for k, n in data["notices"].items()},
        notice_texts=data["notice_texts"], said=data["said"], missing=data["missing"],
        templates=tuple(Template(**t) for t in data["templates"]),
        deadlines={k: lists(v) for k, v in data["deadlines"].items()},
    )
