"""A core Reply as Telegram HTML messages and an inline keyboard (pure functions, no network).

Everything in a Reply is plain text; here it is escaped, given light formatting (bold headings,
italic notes, bullets, numbered steps, sources as links) and cut into messages that fit Telegram's
4,096-character limit on block, then line, then word boundaries, never inside a tag or an entity.
Buttons carry compact callback data: ``e:<lang>:<entry>`` opens an entry in the language of the
reply it came with, ``m:<lang>:<more>:<entry>[:<platform>]`` the details behind a button of an
answer (steps, sources, details; for the platform the question named), ``f:+:<entry>`` and
``f:-:<entry>`` are 👍 and 👎, ``c:<lang>:<value>`` a case-builder choice (its value goes back to the
core as `Message.answer`); a button whose data would not fit Telegram's 64 bytes is left out (a
details button first drops its platform). A case builder's paper (`Reply.documents`) is sent as
messages too: `document_messages` renders it like a reply.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from bot.model import LANGS, Block, Document, Lang, Reply
from bot.phrases import long_date, say

TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096
CALLBACK_LIMIT = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64 bytes
ENTRY_PREFIX = "e:"
MORE_PREFIX = "m:"
FEEDBACK_PREFIX = "f:"
CHOICE_PREFIX = "c:"
MORE_PER_ROW = 2
CHOICES_PER_ROW = 2
LONG_LABEL = 20  # characters: a choice with a longer label gets a row of its own
THUMBS = {True: ("👍", "+"), False: ("👎", "-")}
BULLET = "• "
_TOKENS = re.compile(r"\S+\s*|\s+")
_SAFE_LINK = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


@dataclass(frozen=True)
class Piece:
    """One line of a message: `prefix` on its first part only, `text` (plain) between tags."""

    text: str
    open: str = ""
    close: str = ""
    prefix: str = ""

    def html(self) -> str:
        """The whole line as HTML."""
        return f"{self.prefix}{self.open}{escape(self.text)}{self.close}"

    def parts(self, limit: int) -> list[str]:
        """The line cut into HTML parts of at most `limit` UTF-16 units, tags closed in each."""
        overhead = size(self.prefix) + size(self.open) + size(self.close)
        texts = split_text(self.text, max(limit - overhead, 1))
        return [f"{self.prefix if i == 0 else ''}{self.open}{escape(t)}{self.close}"
                for i, t in enumerate(texts)]


@dataclass(frozen=True)
class Press:
    """What a button press asks for: open `entry` (in `lang`), the details `more` of its answer
    about `platform`, rate it (`useful` True/False), or answer the case builder (`answer`, the
    pressed choice's value; `entry` is then empty)."""

    entry: str
    useful: bool | None = None
    lang: Lang | None = None
    more: str | None = None
    platform: str | None = None
    answer: str | None = None


def escape(text: str) -> str:
    """Text safe inside Telegram HTML: &, < and > become entities."""
    return html.escape(text, quote=False)


def size(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), so emoji count twice."""
    return len(text.encode("utf-16-le")) // 2


# --- text --------------------------------------------------------------------------------------

def render(reply: Reply, limit: int = TEXT_LIMIT) -> list[str]:
    """The reply as HTML messages of at most `limit` characters each (empty for an empty reply)."""
    return pack(paragraphs(reply), limit)


def paragraphs(reply: Reply) -> list[list[Piece]]:
    """The reply's paragraphs, each a list of lines: the short first message when there is one
    (the rest is behind its buttons), else the blocks, then sources, then review date."""
    if reply.first:
        return [p for p in (block_pieces(b) for b in reply.first) if p]
    out = [block_pieces(b) for b in reply.blocks]
    if reply.sources:
        heading = Piece(say("sources", reply.lang), "<b>", "</b>")
        out.append([heading, *(source_piece(s.title, s.url) for s in reply.sources)])
    if reply.reviewed:
        reviewed = say("reviewed", reply.lang, date=long_date(reply.reviewed, reply.lang))
        out.append([Piece(reviewed, "<i>", "</i>")])
    return [p for p in out if p]


def document_messages(document: Document, limit: int = TEXT_LIMIT) -> list[str]:
    """A case paper as HTML messages: its title in bold, then its text, a paragraph per group of
    lines ("- " lines as bullets), cut to `limit` like any reply."""
    paras: list[list[Piece]] = [[Piece(document.title, "<b>", "</b>")]]
    for para in re.split(r"\n\s*\n", document.text):
        lines = [line.rstrip() for line in para.splitlines() if line.strip()]
        pieces = [Piece(line[2:], prefix=BULLET) if line.startswith("- ") else Piece(line)
                  for line in lines]
        if pieces:
            paras.append(pieces)
    return pack(paras, limit)


def block_pieces(block: Block) -> list[Piece]:
    """One block's lines: bold heading, italic note, bullets, numbered steps, or plain text."""
    if block.kind == "list":
        return [Piece(item, prefix=BULLET) for item in block.items]
    if block.kind == "steps":
        return [Piece(item, prefix=f"{n}. ") for n, item in enumerate(block.items, 1)]
    if not block.text.strip():
        return []
    if block.kind == "heading":
        return [Piece(block.text, "<b>", "</b>")]
    if block.kind == "note":
        return [Piece(block.text, "<i>", "</i>")]
    return [Piece(block.text)]


def source_piece(title: str, url: str) -> Piece:
    """A source as a link; a URL that is not plain http(s) is shown as text, never linked."""
    if _SAFE_LINK.match(url):
        return Piece(title, f'<a href="{html.escape(url, quote=True)}">', "</a>", BULLET)
    return Piece(f"{title} ({url})", prefix=BULLET)


def pack(paras: list[list[Piece]], limit: int = TEXT_LIMIT) -> list[str]:
    """Paragraphs into messages: whole ones when they fit, else line by line, else by words."""
    units: list[tuple[str, str]] = []  # (separator before, html)
    for para in paras:
        whole = "\n".join(p.html() for p in para)
        if size(whole) <= limit:
            units.append(("\n\n", whole))
            continue
        parts = [part for piece in para for part in piece.parts(limit)]
        units += [("\n\n" if i == 0 else "\n", part) for i, part in enumerate(parts)]
    chunks: list[str] = []
    current = ""
    for separator, part in units:
        candidate = f"{current}{separator}{part}" if current else part
        if size(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = part
    return [*chunks, current] if current else chunks


def split_text(text: str, budget: int) -> list[str]:
    """Plain text cut at spaces (or inside over-long words) so each part escapes to ≤ budget."""
    parts: list[str] = []
    current, used = "", 0
    for token in _TOKENS.findall(text):
        cost = size(escape(token))
        if used + cost > budget and current:
            parts.append(current)
            current, used = "", 0
        while cost > budget:
            head = _fitting_prefix(token, budget)
            parts.append(head)
            token = token[len(head):]
            cost = size(escape(token))
        current, used = current + token, used + cost
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _fitting_prefix(token: str, budget: int) -> str:
    """The longest start of `token` whose escaped form fits in `budget` (at least one char)."""
    used = 0
    for i, char in enumerate(token):
        used += size(escape(char))
        if used > budget:
            return token[: max(i, 1)]
    return token


# --- buttons -----------------------------------------------------------------------------------

def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The details buttons (two per row), the case builder's choices, suggestions one per row,
    then 👍 / 👎 when the reply asks for feedback; None if no button."""
    rows: list[list[InlineKeyboardButton]] = []
    more = [InlineKeyboardButton(e.label, callback_data=data) for e in reply.more
            if reply.entry and (data := more_data(reply, e.id))]
    rows += [more[i:i + MORE_PER_ROW] for i in range(0, len(more), MORE_PER_ROW)]
    rows += choice_rows(reply)
    for suggestion in reply.suggestions:
        data = entry_data(suggestion.entry, reply.lang)
        if data and suggestion.label.strip():
            rows.append([InlineKeyboardButton(suggestion.label, callback_data=data)])
    if reply.feedback and reply.entry:
        thumbs = [(label, feedback_data(reply.entry, useful))
                  for useful, (label, _) in THUMBS.items()]
        if all(data for _, data in thumbs):
            rows.append([InlineKeyboardButton(label, callback_data=data) for label, data in thumbs])
    return InlineKeyboardMarkup(rows) if rows else None


def choice_rows(reply: Reply) -> list[list[InlineKeyboardButton]]:
    """The case builder's choices, two per row in their order; a choice whose label is long
    gets a row of its own, and one whose data would not fit is left out."""
    rows: list[list[InlineKeyboardButton]] = []
    pending: list[InlineKeyboardButton] = []
    for choice in reply.choices:
        data = choice_data(choice.value, reply.lang)
        if data is None or not choice.label.strip():
            continue
        button = InlineKeyboardButton(choice.label, callback_data=data)
        if len(choice.label) > LONG_LABEL:
            rows += [pending] if pending else []
            rows.append([button])
            pending = []
            continue
        pending.append(button)
        if len(pending) == CHOICES_PER_ROW:
            rows.append(pending)
            pending = []
    return [*rows, pending] if pending else rows


def choice_data(value: str, lang: Lang) -> str | None:
    """Callback data for a case-builder choice in `lang`, or None if it would exceed 64 bytes."""
    return _fits(f"{CHOICE_PREFIX}{lang}:{value}") if value else None


def entry_data(entry: str, lang: Lang) -> str | None:
    """Callback data that opens `entry` in `lang`, or None if it would exceed 64 bytes."""
    return _fits(f"{ENTRY_PREFIX}{lang}:{entry}")


def more_data(reply: Reply, more: str) -> str | None:
    """Callback data for the details `more` of the reply's answer, about the first platform it
    named; without the platform when that would not fit 64 bytes."""
    base = f"{MORE_PREFIX}{reply.lang}:{more}:{reply.entry}"
    platform = reply.platforms[0].name if reply.platforms else ""
    return (_fits(f"{base}:{platform}") if platform else None) or _fits(base)


def feedback_data(entry: str, useful: bool) -> str | None:
    """Callback data for 👍 (useful) or 👎 on `entry`, or None if it would exceed 64 bytes."""
    return _fits(f"{FEEDBACK_PREFIX}{THUMBS[useful][1]}:{entry}")


def _fits(data: str) -> str | None:
    return data if 0 < len(data.encode("utf-8")) <= CALLBACK_LIMIT else None


def parse_press(data: str | None) -> Press | None:
    """The Press encoded by our callback data; None for anything else (old or forged data)."""
    if not data:
        return None
    if data.startswith(MORE_PREFIX):
        return _parse_more(data.removeprefix(MORE_PREFIX))
    if data.startswith(CHOICE_PREFIX):
        lang, _, value = data.removeprefix(CHOICE_PREFIX).partition(":")
        known = next((code for code in LANGS if code == lang), None)
        return Press("", lang=known, answer=value) if known and value else None
    if data.startswith(ENTRY_PREFIX):
        lang, _, entry = data.removeprefix(ENTRY_PREFIX).rpartition(":")
        known = next((code for code in LANGS if code == lang), None)
        return Press(entry, lang=known) if entry and (known or not lang) else None
    sign, _, entry = data.removeprefix(FEEDBACK_PREFIX).partition(":")
    if data.startswith(FEEDBACK_PREFIX) and sign in ("+", "-") and entry:
        return Press(entry, sign == "+")
    return None


def _parse_more(data: str) -> Press | None:
    """``<lang>:<more>:<entry>[:<platform>]`` as a Press; None when malformed."""
    parts = data.split(":", 3)
    if len(parts) < 3 or not all(parts[1:3]):
        return None
    lang = next((code for code in LANGS if code == parts[0]), None)
    platform = parts[3] if len(parts) == 4 and parts[3] else None
    return Press(parts[2], lang=lang, more=parts[1], platform=platform) if lang else None


def without_feedback(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The same keyboard minus its 👍 / 👎 row (once rated); None when nothing is left."""
    return _without(markup, FEEDBACK_PREFIX)


def without_choices(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The same keyboard minus the case builder's choices (once one was pressed, so the same
    question cannot be answered twice); None when nothing is left."""
    return _without(markup, CHOICE_PREFIX)


def private_link(label: str, url: str) -> InlineKeyboardMarkup:
    """One button that opens `url` (the bot's private chat, through a deep link)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=url)]])


def _without(markup: InlineKeyboardMarkup | None, prefix: str) -> InlineKeyboardMarkup | None:
    if markup is None:
        return None
    rows = [[b for b in row if not str(b.callback_data or "").startswith(prefix)]
            for row in markup.inline_keyboard]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None
