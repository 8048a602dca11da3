"""The platform-neutral values that flow between adapters and the core.

An adapter turns a platform event into a `Message`, hands it to `Charterbot.handle`, and renders the
`Reply` it gets back. Nothing here knows Telegram, Slack or a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["fr", "en"]
Kind = Literal["answer", "clarify", "fallback", "smalltalk", "command", "notice", "case"]
Status = Literal["signed", "refused", "unknown"]
BlockKind = Literal["paragraph", "list", "steps", "heading", "note"]
Command = Literal[
    "start", "help", "signatories", "escalate", "language", "forget", "stats", "unanswered",
    "reload", "case", "cancel",
]

LANGS: tuple[Lang, ...] = ("fr", "en")


@dataclass(frozen=True)
class Message:
    """One thing a person said to the bot.

    `user` is the platform's own id prefixed by the channel (``telegram:42``, ``slack:T1:U9``); the core
    pseudonymises it before storing anything. `command` is set when the adapter recognised a command
    (``/signataires`` -> ``signatories``); `entry` when a button asks for one entry by id, with
    `more` when it asks for the details behind a button of that entry's answer (`platform`: the
    platform that answer was about); `lang` when the adapter knows the language for sure
    (otherwise the core detects it); `answer` when a case-builder button (a `Choice`) was
    pressed. `command="case"` starts the case builder (`args`: the story, if any), `"cancel"`
    drops a case under way.
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
    more: str | None = None      # with `entry`: the details button pressed (an Expansion id)
    platform: str | None = None  # with `entry`: the platform the answered question named
    answer: str | None = None    # a pressed `Choice` (its `value`): a step of the case builder
    in_public: bool = False      # said in a group or channel: no case is built or continued there
    delivery: str | None = None  # the platform's id of this delivery: the same id again is a retry


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
class Choice:
    """A button of the case builder: the adapter sends `value` back as `Message.answer`."""

    label: str
    value: str


@dataclass(frozen=True)
class Document:
    """A paper the case builder prepared: `text` is sent as a message, `data` as the editable
    file `filename` (`media_type` says its format)."""

    kind: str
    title: str
    text: str
    filename: str
    data: bytes = b""
    media_type: str = "text/plain"


@dataclass(frozen=True)
class Expansion:
    """Details behind a button of an answer: `steps` (how to escalate), `sources`, `details`.

    `blocks` and `sources` are what an adapter renders when the button is pressed; `text` is
    their plain rendering (the JSON contract's `more[].text`).
    """

    id: str
    label: str
    blocks: tuple[Block, ...] = ()
    sources: tuple[Source, ...] = ()
    reviewed: str | None = None
    lang: Lang = "fr"

    @property
    def text(self) -> str:
        from bot.render import expansion_text

        return expansion_text(self)


@dataclass(frozen=True)
class Reply:
    """Everything an adapter needs to answer.

    `blocks` is the full answer (`charterbot ask --full`); `first`, when not empty, is the short
    first message a seller sees on a phone, with the rest behind the buttons listed in `more`.
    `text` is the plain rendering of that first message (of `blocks` when there is no `first`).
    """

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
    first: tuple[Block, ...] = ()
    more: tuple[Expansion, ...] = ()
    choices: tuple[Choice, ...] = ()      # case-builder buttons (each sends `Message.answer`)
    documents: tuple[Document, ...] = ()  # papers to send after the reply, each message + file

    @property
    def text(self) -> str:
        """Plain text of the first message as the seller sees it (buttons aside)."""
        from bot.render import plain_text

        return plain_text(self)

    @property
    def full_text(self) -> str:
        """Plain text of everything: the full answer, sources and review date (`ask --full`)."""
        from bot.render import full_text

        return full_text(self)

    def expansion(self, expansion_id: str) -> Expansion | None:
        """The details behind one button, or None."""
        return next((e for e in self.more if e.id == expansion_id), None)

    def to_json(self, full: bool = False) -> dict[str, object]:
        """The `ask --json` contract: keep these names; fields may be added, never renamed.

        `text` is the first message as the seller sees it (everything with `full`); `more` lists
        the details behind its buttons."""
        return {
            "lang": self.lang,
            "kind": self.kind,
            "text": self.full_text if full else self.text,
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
            "more": [{"id": e.id, "label": e.label, "text": e.text} for e in self.more],
            "choices": [{"label": c.label, "value": c.value} for c in self.choices],
            "documents": [{"kind": d.kind, "title": d.title, "filename": d.filename,
                           "text": d.text} for d in self.documents],
        }
