"""Plain-text rendering of a Reply, for the console, `ask` and notification fallbacks."""

from __future__ import annotations

from bot.model import Block, Expansion, Lang, Reply, Source
from bot.phrases import long_date, say


def block_text(block: Block) -> str:
    """One block as plain text: lists with dashes, steps numbered."""
    if block.kind == "list":
        return "\n".join(f"- {item}" for item in block.items)
    if block.kind == "steps":
        return "\n".join(f"{n}. {item}" for n, item in enumerate(block.items, 1))
    return block.text


def plain_text(reply: Reply) -> str:
    """The first message as the seller sees it: the short view and the suggested topics; a reply
    without a short view is shown whole."""
    if not reply.first:
        return full_text(reply)
    parts = [block_text(b) for b in reply.first]
    if reply.suggestions:
        parts.append("\n".join(f"- {s.label}" for s in reply.suggestions))
    return "\n\n".join(p for p in parts if p)


def first_message(reply: Reply) -> str:
    """The words of the first message a seller reads, without buttons (for word counts)."""
    blocks = reply.first or reply.blocks
    return "\n\n".join(t for t in (block_text(b) for b in blocks) if t)


def full_text(reply: Reply) -> str:
    """Blocks, suggestions, sources and the review date, separated by blank lines."""
    parts = [block_text(b) for b in reply.blocks]
    if reply.suggestions:
        parts.append("\n".join(f"- {s.label}" for s in reply.suggestions))
    parts += _tail(reply.sources, reply.reviewed, reply.lang)
    return "\n\n".join(p for p in parts if p)


def expansion_text(expansion: Expansion) -> str:
    """The details behind one button: their blocks, then their sources and review date."""
    parts = [block_text(b) for b in expansion.blocks]
    parts += _tail(expansion.sources, expansion.reviewed, expansion.lang)
    return "\n\n".join(p for p in parts if p)


def _tail(sources: tuple[Source, ...], reviewed: str | None, lang: Lang) -> list[str]:
    parts = []
    if sources:
        lines = [f"{say('sources', lang)} :" if lang == "fr" else f"{say('sources', lang)}:"]
        lines += [f"- {s.title} <{s.url}>" for s in sources]
        parts.append("\n".join(lines))
    if reviewed:
        parts.append(say("reviewed", lang, date=long_date(reviewed, lang)))
    return parts
