"""What the knowledge files hold, as frozen values the rest of the core reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.case.book import CaseBook
from bot.model import Lang, Status

Texts = dict[Lang, str]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a knowledge file, reported as ``file:line: message``."""

    file: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {prefix}{self.message}"


class KnowledgeError(Exception):
    """The knowledge files have errors; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class SourceDoc:
    id: str
    title: str
    url: str


@dataclass(frozen=True)
class Route:
    """One escalation step a seller can take."""

    id: str
    name: Texts
    how: Texts
    cost: Texts
    sources: tuple[str, ...]


@dataclass(frozen=True)
class PlatformEvent:
    date: str
    event: str
    sources: tuple[str, ...]
    note: Texts = field(default_factory=dict)
    uncertain: bool = False


ROUTE_STEPS = ("summary", "complaint", "mediators", "deadlines")


@dataclass(frozen=True)
class RouteStep:
    """One part of a platform's own route: where its complaint system is (`complaint`), the
    mediators its terms name (`mediators`), its own time limits and notice periods
    (`deadlines`), or all that in a few words for the first message (`summary`), with its
    sources and the date it was checked."""

    step: str
    text: Texts
    sources: tuple[str, ...]
    reviewed: str
    uncertain: bool = False
    line: int = 0


@dataclass(frozen=True)
class Platform:
    """A marketplace, the names sellers give it, its dated history with the charter, and its own
    escalation route (`route`, empty when its terms were not checked)."""

    name: str
    aliases: tuple[str, ...]
    history: tuple[PlatformEvent, ...]
    file: str = ""
    line: int = 0
    route: tuple[RouteStep, ...] = ()

    def route_step(self, step: str) -> RouteStep | None:
        """The part of its own route of this kind, or None."""
        return next((r for r in self.route if r.step == step), None)

    def standing(self) -> tuple[Status, PlatformEvent | None]:
        """Today's status: the latest signing/renewal or refusal; none means unknown."""
        latest: PlatformEvent | None = None
        for event in sorted(self.history, key=lambda e: e.date):
            if event.event in ("signed", "renewed", "refused"):
                latest = event
        if latest is None:
            return "unknown", None
        return ("refused" if latest.event == "refused" else "signed"), latest

    def first(self, event: str) -> PlatformEvent | None:
        """The earliest event of a kind (e.g. when it first signed)."""
        matches = sorted((e for e in self.history if e.event == event), key=lambda e: e.date)
        return matches[0] if matches else None


@dataclass(frozen=True)
class Entry:
    """One answer and the phrasings sellers use to ask for it."""

    id: str
    kind: str
    topic: str
    reviewed: str
    sources: tuple[str, ...]
    escalation: tuple[str, ...]
    phrasings: dict[Lang, tuple[str, ...]]
    answer: Texts
    title: Texts
    file: str = ""
    line: int = 0
    phrasing_lines: dict[str, int] = field(default_factory=dict, compare=False)
    role: str = ""  # what the code asks this entry for (`platform-status`...); see ROLES
    short: Texts = field(default_factory=dict)  # the first message on a phone; `answer` = details

    def label(self, lang: Lang) -> str:
        """Short label for a suggestion button."""
        return self.title.get(lang) or self.title.get("fr") or self.id


@dataclass(frozen=True)
class WordLists:
    """The word lists of `words.yaml`, folded: what the engine ignores, rewrites or counts."""

    stopwords: frozenset[str] = frozenset()
    courtesy: frozenset[str] = frozenset()
    spellings: dict[str, str] = field(default_factory=dict)
    markers: dict[Lang, frozenset[str]] = field(default_factory=dict)
    context: dict[Lang, tuple[str, ...]] = field(default_factory=dict)  # sentences, not folded


@dataclass(frozen=True)
class Caveat:
    """A fact in a message that limits what the law gives (`caveats.yaml`)."""

    id: str
    text: Texts
    topics: tuple[str, ...]
    cues: tuple[str, ...] = ()
    before_year: int = 0
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Knowledge:
    entries: tuple[Entry, ...]
    platforms: tuple[Platform, ...]
    routes: dict[str, Route]
    sources: dict[str, SourceDoc]
    digest: str = ""
    synonyms: tuple[tuple[str, ...], ...] = ()
    words: WordLists = field(default_factory=WordLists)
    caveats: tuple[Caveat, ...] = ()
    cases: CaseBook | None = None  # the case builder's knowledge (`cases.yaml`), if any
    _by_id: dict[str, Entry] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update((entry.id, entry) for entry in self.entries)

    def entry(self, entry_id: str) -> Entry | None:
        """The entry with this id, or None."""
        return self._by_id.get(entry_id)

    def role(self, role: str) -> Entry | None:
        """The entry that plays `role` (`knowledge check` makes sure there is exactly one)."""
        return next((e for e in self.entries if e.role == role), None)
