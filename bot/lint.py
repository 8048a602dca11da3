"""`charterbot knowledge check`: the staff's linter over a knowledge folder."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from bot.knowledge import Knowledge, KnowledgeError, Problem
from bot.loader import load_knowledge

DEFAULT_MAX_AGE_DAYS = 365


def lint(folder: Path, max_age_days: int | None = None, today: date | None = None) -> list[Problem]:
    """Every problem in the folder: errors (schema, syntax) and warnings (content checks)."""
    try:
        knowledge, warnings = load_knowledge(folder)
    except KnowledgeError as exc:
        return exc.problems
    return warnings + stale_entries(knowledge, max_age_days or DEFAULT_MAX_AGE_DAYS,
                                    today or date.today())


def stale_entries(knowledge: Knowledge, max_age_days: int, today: date) -> list[Problem]:
    """A warning for each entry whose facts were last reviewed too long ago."""
    limit = today - timedelta(days=max_age_days)
    return [Problem(e.file, e.line, f"entry '{e.id}' was last reviewed on {e.reviewed}, more than "
                    f"{max_age_days} days ago: check its facts", "warning")
            for e in knowledge.entries if e.reviewed and date.fromisoformat(e.reviewed) < limit]
