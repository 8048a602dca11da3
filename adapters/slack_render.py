"""Slack's side of the words: a core `Reply` as Block Kit, and Slack text back to plain text.

Pure functions, no network and no wording of their own: every sentence comes from the core (its
replies, and `bot.phrases` for the "Sources" and "Reviewed on" labels). All text from the core or
from a member is escaped for mrkdwn (``&``, ``<``, ``>``), so nobody can make the bot post
``<!channel>``, a user mention or a broken link.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from bot.model import Block, Command, Lang, Reply
from bot.phrases import long_date, say

# Slack Block Kit limits (api.slack.com/reference/block-kit).
MAX_SECTION_CHARS = 3000       # text of a section / of a context element
MAX_HEADER_CHARS = 150         # plain_text of a header block
MAX_BUTTON_LABEL = 75          # plain_text of a button
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ELEMENTS = 25       # buttons in one actions block
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_FALLBACK_CHARS = 3000      # the `text` shown in notifications (Slack truncates at 40,000)

ENTRY_ACTION = "charte_entry"           # suggestion buttons: charte_entry_0, charte_entry_1...
MORE_ACTION = "charte_more"             # details buttons: charte_more_steps, charte_more_sources...
MORE_ACTION_PATTERN = re.compile(rf"^{MORE_ACTION}_[a-z]+$")
MORE_SEPARATOR = "|"                    # a details button's value: lang|more|entry|platform
FEEDBACK_UP = "charte_feedback_up"
FEEDBACK_DOWN = "charte_feedback_down"
ENTRY_ACTION_PATTERN = re.compile(rf"^{ENTRY_ACTION}_\d+$")
# App Home buttons -> the core command they send (the language button's value is fr / en).
HOME_COMMANDS: dict[str, Command] = {
    "charte_home_language": "language", "charte_home_forget": "forget",
    "charte_home_stats": "stats", "charte_home_unanswered": "unanswered",
    "charte_home_reload": "reload",
}
HOME_ACTION_PATTERN = re.compile(r"^charte_home_[a-z]+$")
# Their labels: Slack interface text like Telegram's command menu, not answers.
HOME_LABELS: dict[Lang, dict[str, str]] = {
    "fr": {"other_language": "English", "forget": "Effacer mes données", "stats": "Stats",
           "unanswered": "Sans réponse", "reload": "Recharger"},
    "en": {"other_language": "Français", "forget": "Erase my data", "stats": "Stats",
           "unanswered": "Unanswered", "reload": "Reload"},
}
FEEDBACK_PATTERN = re.compile(rf"^({FEEDBACK_UP}|{FEEDBACK_DOWN})$")

SAFE_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
ELLIPSIS = "…"

Json = dict[str, Any]


# -- escaping -----------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Text made inert for mrkdwn: Slack's three control characters become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, title: str) -> str:
    """A mrkdwn link, or the escaped title alone when the URL is not http(s) or mailto."""
    if not SAFE_URL.match(url):
        return escape(title)
    safe_url = quote(url, safe=":/?#[]@!$&'()*+,;=%~")
    label = escape(title).replace("|", "¦")
    return f"<{safe_url.replace('&', '&amp;')}|{label}>"


def _cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, on a word boundary, never inside an entity."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def chunks(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Escaped `text` in pieces of at most `limit` characters, split at lines, then words."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut <= 0:  # one long word: cut it, but not inside an entity such as &amp;
            amp = rest.rfind("&", 0, limit)
            cut = amp if amp > 0 and ";" not in rest[amp:limit] else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def plain_label(text: str, limit: int) -> str:
    """Plain text (buttons, headers) is not parsed by Slack: only shorten it."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


# -- incoming text --------------------------------------------------------------------------------
SLACK_TOKEN = re.compile(r"<([^<>]*)>")


def plain_from_slack(text: str) -> str:
    """A member's Slack text as plain text: mentions dropped, links and channels by name."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith(("@", "!")):
            return ""
        if target.startswith("#"):
            return f"#{label}" if label else ""
        return label or target

    plain = SLACK_TOKEN.sub(replace, text)
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(plain.split())


# -- Reply -> Block Kit -------------------------------------------------------------------------
def _section(text: str) -> list[Json]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            for piece in chunks(escape(text.strip()))]


def _context(elements: list[str]) -> list[Json]:
    """Context blocks of mrkdwn elements (already escaped), ten elements per block."""
    items = [{"type": "mrkdwn", "text": _cut(e, MAX_SECTION_CHARS)} for e in elements if e]
    return [{"type": "context", "elements": items[i:i + MAX_CONTEXT_ELEMENTS]}
            for i in range(0, len(items), MAX_CONTEXT_ELEMENTS)]


def block_to_slack(block: Block) -> list[Json]:
    """One core block as Block Kit blocks (a long text becomes several sections)."""
    if block.kind == "heading":
        if not block.text.strip():
            return []
        return [{"type": "header",
                 "text": {"type": "plain_text", "text": plain_label(block.text, MAX_HEADER_CHARS),
                          "emoji": True}}]
    if block.kind == "note":
        return _context(chunks(escape(block.text.strip())))
    if block.kind == "list":
        return _section("\n".join(f"• {item}" for item in block.items))
    if block.kind == "steps":
        return _section("\n".join(f"{n}. {item}" for n, item in enumerate(block.items, 1)))
    return _section(block.text)


def _sources(reply: Reply) -> list[Json]:
    """Sources (then the review date) as small print: one context block."""
    elements: list[str] = []
    if reply.sources:
        elements.append(f"*{escape(say('sources', reply.lang))}*")
        elements += [link(s.url, s.title) for s in reply.sources]
    if reply.reviewed:
        elements.append(escape(say("reviewed", reply.lang,
                                   date=long_date(reply.reviewed, reply.lang))))
    return _context(elements)


def _button(label: str, value: str, action_id: str) -> Json:
    return {"type": "button", "action_id": action_id, "value": value,
            "text": {"type": "plain_text", "text": plain_label(label, MAX_BUTTON_LABEL),
                     "emoji": True}}


def _suggestions(reply: Reply) -> list[Json]:
    """Suggestion buttons, each with its own action_id; over-long entry ids are left out."""
    buttons = [_button(s.label.strip() or s.entry, s.entry, f"{ENTRY_ACTION}_{n}")
               for n, s in enumerate(reply.suggestions)
               if s.entry and len(s.entry) <= MAX_BUTTON_VALUE]
    return [{"type": "actions", "block_id": "charte_suggestions",
             "elements": buttons[:MAX_ACTION_ELEMENTS]}] if buttons else []


def _more(reply: Reply) -> list[Json]:
    """The buttons opening the details behind the first message (steps, sources, details)."""
    if not (reply.more and reply.entry):
        return []
    platform = reply.platforms[0].name if reply.platforms else ""
    buttons = [_button(e.label, MORE_SEPARATOR.join((reply.lang, e.id, reply.entry, platform)),
                       f"{MORE_ACTION}_{e.id}") for e in reply.more]
    buttons = [b for b in buttons if len(b["value"]) <= MAX_BUTTON_VALUE]
    return [{"type": "actions", "block_id": "charte_more",
             "elements": buttons[:MAX_ACTION_ELEMENTS]}] if buttons else []


def parse_more(value: str) -> tuple[Lang | None, str, str, str | None] | None:
    """(lang, more, entry, platform) from a details button's value; None when malformed."""
    parts = value.split(MORE_SEPARATOR)
    if len(parts) != 4 or not parts[1] or not parts[2]:
        return None
    lang: Lang | None = "fr" if parts[0] == "fr" else "en" if parts[0] == "en" else None
    return lang, parts[1], parts[2], parts[3] or None


def _feedback(reply: Reply) -> list[Json]:
    """👍 / 👎 for the answered entry."""
    if not (reply.feedback and reply.entry) or len(reply.entry) > MAX_BUTTON_VALUE:
        return []
    return [{"type": "actions", "block_id": "charte_feedback",
             "elements": [_button("👍", reply.entry, FEEDBACK_UP),
                          _button("👎", reply.entry, FEEDBACK_DOWN)]}]


def reply_blocks(reply: Reply, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[Json]:
    """The reply's blocks, sources and buttons, trimmed to `max_blocks` (buttons always kept).

    A reply with a short first message shows only that, with the details behind its buttons."""
    if reply.first:
        tail = _more(reply) + _suggestions(reply) + _feedback(reply)
        body = [b for block in reply.first for b in block_to_slack(block)]
        return body[: max(max_blocks - len(tail), 0)] + tail
    tail = _sources(reply) + _suggestions(reply) + _feedback(reply)
    body = [b for block in reply.blocks for b in block_to_slack(block)]
    return body[: max(max_blocks - len(tail), 0)] + tail


def fallback_text(reply: Reply) -> str:
    """The plain rendering, escaped and shortened, for notifications and old clients."""
    return _cut(escape(reply.text), MAX_FALLBACK_CHARS)


def message(reply: Reply) -> Json:
    """`text` and `blocks` for chat.postMessage, chat.postEphemeral, ack() or respond()."""
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply)}


def home_view(reply: Reply, admin: bool = False) -> Json:
    """The App Home tab for `Charterbot.overview(lang)`, with its topics as buttons, then the
    language and erasure buttons (and the staff commands for admins)."""
    labels = HOME_LABELS[reply.lang]
    other = "en" if reply.lang == "fr" else "fr"
    buttons = [_button(labels["other_language"], other, "charte_home_language"),
               _button(labels["forget"], "forget", "charte_home_forget")]
    if admin:
        buttons += [_button(labels[name], name, f"charte_home_{name}")
                    for name in ("stats", "unanswered", "reload")]
    tail = [{"type": "actions", "block_id": "charte_home", "elements": buttons}]
    return {"type": "home", "blocks": reply_blocks(reply, MAX_HOME_BLOCKS - len(tail)) + tail}
