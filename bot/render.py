"""Plain-text rendering of a Reply, for the console, `ask` and notification fallbacks."""

from __future__ import annotations

from bot.model import Block, Reply
from bot.phrases import long_date, say


def block_text(block: Block) -> str:
    """One block as plain text: lists with dashes, steps numbered."""
    if block.kind == "list":
        return "\n".join(f"- {item}" for item in block.items)
    if block.kind == "steps":
        return "\n".join(f"{n}. {item}" for n, item in enumerate(block.items, 1))
    return block.text


def plain_text(reply: Reply) -> str:
    """Blocks, suggestions, sources and the review date, separated by blank lines."""
    parts = [block_text(b) for b in reply.blocks]
    if reply.suggestions:
        parts.append("\n".join(f"- {s.label}" for s in reply.suggestions))
    if reply.sources:
        lines = [f"{say('sources', reply.lang)} :" if reply.lang == "fr"
                 else f"{say('sources', reply.lang)}:"]
        lines += [f"- {s.title} <{s.url}>" for s in reply.sources]
        parts.append("\n".join(lines))
    if reply.reviewed:
        parts.append(say("reviewed", reply.lang, date=long_date(reply.reviewed, reply.lang)))
    return "\n\n".join(p for p in parts if p)
