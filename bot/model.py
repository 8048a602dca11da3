"""The platform-neutral values that flow between adapters and the core.

An adapter turns a platform event into a `Message`, hands it to `Charterbot.handle`, and renders the
`Reply` it gets back. Nothing here knows Telegram, Slack or a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["fr", "en"]
Kind = Literal["answer", "clarify", "fallback", "smalltalk", "command", "notice"]
Status = Literal["signed", "refused", "unknown"]
BlockKind = Literal["paragraph", "list", "steps", "heading", "note"]
Command = Literal[
    "start", "help", "signatories", "escalate", "language", "forget", "stats", "unanswered", "reload"
]

LANGS: tuple[Lang, ...] = ("fr", "en")


@dataclass(frozen=True)
class Message:
    """One thing a person said to the bot.

    `user` is the platform's own id prefixed by the channel (``telegram:42``, ``slack:T1:U9``); the core
    pseudonymises it before storing anything. `command` is set when the adapter recognised a command
    (``/signataires`` -> ``signatories``); `entry` when a button asks for one entry by id; `lang` when
    the adapter knows the language for sure (otherwise the core detects it).
    """

    text: str
    user: str = "anonymous"
    channel: str = "console"
    command: Command | None = None
    args: str = ""
    entry: str | None = None
    lang: Lang | None = None
    attachment: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Block:
    """A piece of reply text; `items` holds the lines of a list or of numbered steps."""

    kind: BlockKind
    text: str = ""
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformStatus:
    """Where one platform stands with the charter today, and how it got there."""

    name: str
    status: Status
    since: str | None
    summary: str
    uncertain: bool = False


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Suggestion:
    """An entry the person may have meant, with a short label for a button."""

    entry: str
    label: str


@dataclass(frozen=True)
class Reply:
    """Everything an adapter needs to answer; `text` is the plain rendering of the blocks."""

    kind: Kind
    lang: Lang
    blocks: tuple[Block, ...]
    platforms: tuple[PlatformStatus, ...] = ()
    sources: tuple[Source, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    confidence: float = 0.0
    entry: str | None = None
    reviewed: str | None = None
    feedback: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Plain text of the reply (blocks, then sources and review date), for consoles and JSON."""
        from bot.render import plain_text

        return plain_text(self)

    def to_json(self) -> dict[str, object]:
        """The `ask --json` contract: keep these names; fields may be added, never renamed."""
        return {
            "lang": self.lang,
            "kind": self.kind,
            "text": self.text,
            "platforms": [
                {
                    "name": p.name,
                    "status": p.status,
                    "since": p.since,
                    "summary": p.summary,
                    "uncertain": p.uncertain,
                }
                for p in self.platforms
            ],
            "sources": [{"title": s.title, "url": s.url} for s in self.sources],
            "suggestions": [{"entry": s.entry, "label": s.label} for s in self.suggestions],
            "confidence": round(self.confidence, 3),
            "entry": self.entry,
            "reviewed": self.reviewed,
        }
