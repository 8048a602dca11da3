"""Staff reports: unanswered questions grouped by similarity, and feedback per entry."""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz import fuzz

from bot.normalise import normalise
from bot.settings import Settings
from bot.state import State

# Two logged questions this similar (token_set_ratio on normalised text: case, accents and SMS
# spellings folded, so "météo ?" and "meteo" are one question) count as one group.
CASE_OUTCOMES = ("completed", "cancelled", "expired")
GROUP_SIMILARITY = 70
# Grouping is bounded so that anyone filling the log cannot make a report slow: only the most
# recent questions are grouped (the terminal report reads more), and each question is compared
# with at most MAX_CANDIDATES groups, those sharing the most words with it (a group is reachable
# through its first MAX_POSTINGS groups per word). Cost: about questions x words x MAX_POSTINGS.
CHAT_MAX_QUESTIONS = 5_000
REPORT_MAX_QUESTIONS = 100_000
MAX_CANDIDATES = 20
MAX_POSTINGS = 64


@dataclass
class Group:
    example: str
    count: int
    closest: str | None
    score: float
    lang: str
    platforms: set[str] = field(default_factory=set)
    questions: list[str] = field(default_factory=list)
    key: str = ""  # the example, normalised


def group_unanswered(state: State, since: str,
                     limit: int = CHAT_MAX_QUESTIONS) -> list[Group]:
    """Fallbacks and weak answers since `since` (the `limit` most recent), grouped, most
    frequent first.

    A group's `closest` is the best-scoring entry the matcher found for any of its questions.
    """
    rows = state.unanswered_since(since, limit)
    grouper = _Grouper()
    for row in reversed(rows):
        group = grouper.place(row["text"], row["lang"])
        group.count += 1
        score = row["candidate_score"] or 0.0
        if row["candidate"] and (group.closest is None or score > group.score):
            group.closest, group.score = row["candidate"], score
        group.questions.append(row["text"])
        if row["platform"]:
            group.platforms.add(row["platform"])
    return sorted(grouper.groups, key=lambda g: g.count, reverse=True)


class _Grouper:
    """Finds the group of a question among the groups sharing words with it."""

    def __init__(self) -> None:
        self.groups: list[Group] = []
        self._exact: dict[str, Group] = {}
        self._postings: dict[str, list[int]] = defaultdict(list)

    def place(self, text: str, lang: str) -> Group:
        key = normalise(text)
        group = self._exact.get(key) or self._similar(key)
        if group is None:
            group = Group(text, 0, None, 0.0, lang, key=key)
            self._index(group)
        self._exact.setdefault(key, group)
        return group

    def _similar(self, key: str) -> Group | None:
        shared: Counter[int] = Counter()
        for word in set(key.split()):
            shared.update(self._postings.get(word, ()))
        for number, _ in shared.most_common(MAX_CANDIDATES):
            if fuzz.token_set_ratio(key, self.groups[number].key) >= GROUP_SIMILARITY:
                return self.groups[number]
        return None

    def _index(self, group: Group) -> None:
        number = len(self.groups)
        self.groups.append(group)
        for word in set(group.key.split()):
            postings = self._postings[word]
            if len(postings) < MAX_POSTINGS:
                postings.append(number)


def feedback_summary(state: State) -> list[dict[str, object]]:
    """Thumbs up and down per entry, the most disliked first."""
    return state.feedback_by_entry()


def _open_state(settings: Settings) -> State:
    from bot.state import open_state

    return open_state(settings)


def _valid_since(since: str | None) -> bool:
    """Whether --since is absent or a YYYY-MM-DD date (else said on stderr)."""
    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            print(f"charterbot: --since must be a date written YYYY-MM-DD, not '{since}'",
                  file=sys.stderr)
            return False
    return True


def print_unanswered(settings: Settings, since: str | None, as_json: bool) -> int:
    """`charterbot report unanswered`: groups, counts and the closest existing entry."""
    start = since or "0000"
    if not _valid_since(since):
        return 2
    state = _open_state(settings)
    groups = group_unanswered(state, start, REPORT_MAX_QUESTIONS)
    state.close()
    if as_json:
        print(json.dumps([{"example": g.example, "count": g.count, "closest": g.closest,
                           "score": g.score, "lang": g.lang, "platforms": sorted(g.platforms),
                           "questions": g.questions} for g in groups], ensure_ascii=False,
                         indent=2))
        return 0
    if not groups:
        print("No unanswered question recorded.")
    for g in groups:
        closest = f"closest entry: {g.closest} ({g.score:.2f})" if g.closest else "no close entry"
        print(f"{g.count:4d} × {g.example}  [{g.lang}; {closest}]")
    return 0


def print_feedback(settings: Settings, as_json: bool) -> int:
    """`charterbot report feedback`: 👍 / 👎 per entry."""
    state = _open_state(settings)
    rows = feedback_summary(state)
    state.close()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("No feedback recorded.")
    for row in rows:
        print(f"{row['entry']:40s} 👍 {row['up']:4d}  👎 {row['down']:4d}")
    return 0


def case_summary(state: State, since: str) -> dict[str, Any]:
    """Cases since `since`: totals per outcome, and per platform and problem (no content)."""
    rows = state.case_counts(since)
    outcomes: Counter[str] = Counter()
    by_platform: dict[str, Counter[str]] = defaultdict(Counter)
    by_problem: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        outcomes[row["outcome"]] += row["n"]
        by_platform[row["platform"] or "-"][row["outcome"]] += row["n"]
        by_problem[row["problem"] or "-"][row["outcome"]] += row["n"]

    def table(counts: dict[str, Counter[str]]) -> list[dict[str, Any]]:
        ranked = sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        return [{"name": name, "total": sum(c.values()), **{o: c[o] for o in CASE_OUTCOMES}}
                for name, c in ranked]

    return {"since": since, "outcomes": {o: outcomes[o] for o in CASE_OUTCOMES},
            "platforms": table(by_platform), "problems": table(by_problem)}


def print_cases(settings: Settings, since: str | None, as_json: bool) -> int:
    """`charterbot report cases`: how many cases were completed, cancelled or expired, by
    platform and by problem, so staff see which platforms cause most trouble."""
    if not _valid_since(since):
        return 2
    state = _open_state(settings)
    summary = case_summary(state, since or "0000")
    state.close()
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    totals = summary["outcomes"]
    print("Cases: " + ", ".join(f"{totals[o]} {o}" for o in CASE_OUTCOMES))
    for title, key in (("By platform", "platforms"), ("By problem", "problems")):
        print(f"\n{title}:")
        if not summary[key]:
            print("  (none)")
        for row in summary[key]:
            detail = ", ".join(f"{row[o]} {o}" for o in CASE_OUTCOMES if row[o])
            print(f"  {row['name']:24s} {row['total']:5d}  ({detail})")
    return 0
