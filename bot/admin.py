"""Staff-only chat commands: /stats, /unanswered, /reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.knowledge import Problem
from bot.loader import digest_of
from bot.model import Block, Lang, Reply
from bot.phrases import say

if TYPE_CHECKING:
    from bot.service import Charterbot

STATS_DAYS = 7
TOP_UNANSWERED = 10
MAX_PROBLEMS = 20  # knowledge problems listed in one chat message


def admin_reply(bot: Charterbot, command: str, lang: Lang) -> Reply:
    """The reply to an admin command (the caller has checked the person is an admin)."""
    if command == "reload":
        problems = bot.library.refresh(force=True)
        if problems:
            items = tuple(str(p) for p in problems[:MAX_PROBLEMS])
            return Reply("command", lang, (Block("paragraph", say("reload_failed", lang)),
                                           Block("list", items=items)))
        count = len(bot.library.knowledge.entries)
        return Reply("command", lang, (Block("paragraph", say("reloaded", lang, entries=count)),))
    if command == "stats":
        return Reply("command", lang, tuple(stats_blocks(bot, lang)))
    return Reply("command", lang, tuple(unanswered_blocks(bot, lang)))


def _since(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def stats_blocks(bot: Charterbot, lang: Lang) -> list[Block]:
    since = _since(STATS_DAYS)
    counts = bot.state.kinds_since(since)
    total = sum(counts.values())
    answered = counts.get("answer", 0) + counts.get("smalltalk", 0)
    share = round(100 * answered / total) if total else 0
    top = bot.state.top_entries_since(since, limit=5)
    head = {"fr": f"{STATS_DAYS} derniers jours : {total} questions, {share} % avec une réponse.",
            "en": f"Last {STATS_DAYS} days: {total} questions, {share}% answered."}[lang]
    items = tuple(f"{r['entry']}: {r['n']}" for r in top)
    blocks = [Block("paragraph", head)] + ([Block("list", items=items)] if items else [])
    cases = bot.state.case_counts(since)
    if cases:
        ended = {o: sum(r["n"] for r in cases if r["outcome"] == o)
                 for o in ("completed", "cancelled", "expired")}
        blocks.append(Block("paragraph", say("stats_cases", lang, **ended)))
    refused = _pending_problems(bot)
    if refused:  # a broken edit is waiting: staff should know the bot still serves the old one
        blocks += [Block("note", say("reload_failed", lang)),
                   Block("list", items=tuple(str(p) for p in refused[:MAX_PROBLEMS]))]
    return blocks


def _pending_problems(bot: Charterbot) -> list[Problem]:
    """The problems of a refused edit, while the files on disk still differ from what is served."""
    library = bot.library
    if not library.last_problems:
        return []
    try:
        changed = digest_of(library.folder) != library.knowledge.digest
    except OSError:
        changed = True
    return library.last_problems if changed else []


def unanswered_blocks(bot: Charterbot, lang: Lang) -> list[Block]:
    from bot.report import group_unanswered

    groups = group_unanswered(bot.state, _since(30))[:TOP_UNANSWERED]
    head = {"fr": "Questions sans bonne réponse (30 jours) :",
            "en": "Questions without a good answer (30 days):"}[lang]
    if not groups:
        return [Block("paragraph", {"fr": "Aucune question sans réponse.",
                                    "en": "No unanswered question."}[lang])]
    items = tuple(f"{g.count} × « {g.example} » → {g.closest or '-'}" for g in groups)
    return [Block("paragraph", head), Block("list", items=items)]
