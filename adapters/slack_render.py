"""Slack's side of the words: a core `Reply` as Block Kit, and Slack text back to plain text.

Pure functions, no network and no wording of their own: every sentence comes from the core (its
replies, and `bot.phrases` for the "Sources" and "Reviewed on" labels), except the labels of the
case builder's form (Slack interface text, like the App Home buttons'). All text from the core or
from a member is escaped for mrkdwn (``&``, ``<``, ``>``), so nobody can make the bot post
``<!channel>``, a user mention or a broken link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from bot.model import Block, Command, Document, Lang, Reply
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
MAX_OPTIONS = 100              # options of a static_select
MAX_OPTION_TEXT = 75           # plain_text of an option
MAX_OPTION_VALUE = 150
MAX_MODAL_TITLE = 24           # title, submit and close of a modal
MAX_MODAL_LABEL = 2000         # label of an input block

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
# Case builder buttons (`Reply.choices`): charte_case_<lang>_<n>, the value is the choice's own;
# the language of the question rides in the action id, so the answer comes back in it.
CASE_ACTION = "charte_case"
CASE_ACTION_PATTERN = re.compile(rf"^{CASE_ACTION}_(fr|en)_\d+$")
CASE_BLOCK = "charte_case"              # block_id of their actions blocks: charte_case, charte_case_1
CASE_BLOCK_PATTERN = re.compile(rf"{CASE_BLOCK}(_\d+)?")
CASE_FORM_ACTION = "charte_case_form"   # the App Home button opening the case form (value: lang)
CASE_FORM_CALLBACK = "charte_case_form"  # callback_id of the form (modal)
CASE_SHORTCUT = "charte_case_shortcut"  # the global shortcut opening it (slack-manifest.yaml)
CASE_HOME_BLOCK = "charte_home_case"
# The case form's blocks (block_id -> the element's action_id is always "value").
CASE_FIELD = "value"
# The case form's wording: Slack interface text (titles, labels, hints, its own errors).
CASE_FORM_LABELS: dict[Lang, dict[str, str]] = {
    "fr": {"title": "Ma réclamation", "submit": "Préparer", "close": "Annuler",
           "intro": "Remplissez ce que vous savez : je vous envoie en message privé la lettre à "
                    "la plateforme, le résumé pour la médiation et la liste des pièces, en "
                    "fichiers modifiables.",
           "platform": "Plateforme", "platform_pick": "Choisissez la plateforme",
           "platform_other": "Autre plateforme",
           "platform_other_hint": "Si elle n'est pas dans la liste, tapez son nom.",
           "problem": "Que s'est-il passé ?", "problem_pick": "Choisissez",
           "date": "Date de la mesure", "date_hint": "Le jour où elle a pris effet.",
           "notice": "Date de l'avertissement",
           "notice_hint": "Pour une fermeture de compte ou un changement de conditions : le jour "
                          "où la plateforme vous a prévenu.",
           "no_notice": "Avertissement", "said": "Ce que la plateforme a dit",
           "said_text": "Ou collez son message",
           "refs": "Références (identifiant vendeur, numéros de commande ou de ticket)",
           "pick_date": "Choisir une date",
           "error_problem": "Choisissez ce qui s'est passé.",
           "error_future": "Cette date est dans le futur.",
           "error_notice_after": "Cette date tombe après la date de la mesure.",
           "error_notice_both": "Choisissez une date d'avertissement ou « {label} », pas les "
                                "deux."},
    "en": {"title": "My complaint", "submit": "Prepare", "close": "Cancel",
           "intro": "Fill in what you know: I will send you, in a direct message, the letter to "
                    "the platform, the summary for mediation and the list of documents, as "
                    "editable files.",
           "platform": "Platform", "platform_pick": "Pick the platform",
           "platform_other": "Other platform",
           "platform_other_hint": "If it is not in the list, type its name.",
           "problem": "What happened?", "problem_pick": "Pick one",
           "date": "Date of the measure", "date_hint": "The day it took effect.",
           "notice": "Date of the warning",
           "notice_hint": "For an account closure or a change of terms: the day the platform "
                          "warned you.",
           "no_notice": "Warning", "said": "What the platform said",
           "said_text": "Or paste its message",
           "refs": "References (seller id, order or ticket numbers)",
           "pick_date": "Pick a date",
           "error_problem": "Pick what happened.",
           "error_future": "This date is in the future.",
           "error_notice_after": "This date is after the date of the measure.",
           "error_notice_both": "Pick a warning date or \"{label}\", not both."},
}
CASE_PLATFORM_CHARS = 60       # what the core keeps of a platform's name
CASE_SAID_CHARS = 2000         # of a pasted message
CASE_REFS_CHARS = 300          # of the references

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


def _choices(reply: Reply) -> list[Json]:
    """The case builder's buttons, 25 to an actions block; over-long values are left out."""
    buttons = [_button(c.label.strip() or c.value, c.value, f"{CASE_ACTION}_{reply.lang}_{n}")
               for n, c in enumerate(reply.choices)
               if c.value and len(c.value) <= MAX_BUTTON_VALUE]
    return [{"type": "actions",
             "block_id": CASE_BLOCK if n == 0 else f"{CASE_BLOCK}_{n}",
             "elements": buttons[start:start + MAX_ACTION_ELEMENTS]}
            for n, start in enumerate(range(0, len(buttons), MAX_ACTION_ELEMENTS))]


def case_lang(action_id: str) -> Lang | None:
    """The language of the question a case button came with (from its action id)."""
    match = CASE_ACTION_PATTERN.match(action_id)
    if match is None:
        return None
    return "en" if match.group(1) == "en" else "fr"


def is_case_block(block: Mapping[str, Any]) -> bool:
    """Whether a block of a posted message holds case builder buttons."""
    return block.get("type") == "actions" and bool(
        CASE_BLOCK_PATTERN.fullmatch(str(block.get("block_id", ""))))


def answered(blocks: list[Json], label: str) -> list[Json] | None:
    """A question's blocks once answered: its case buttons replaced by one line saying the
    answer chosen (its other buttons kept); None when it had no case buttons."""
    kept: list[Json] = []
    replaced = False
    for block in blocks:
        if is_case_block(block):
            if not replaced:
                kept += _context([f"✓ {escape(label)}"])
            replaced = True
        else:
            kept.append(block)
    return kept if replaced else None


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
        tail = _more(reply) + _choices(reply) + _suggestions(reply) + _feedback(reply)
        body = [b for block in reply.first for b in block_to_slack(block)]
        return body[: max(max_blocks - len(tail), 0)] + tail
    tail = _sources(reply) + _choices(reply) + _suggestions(reply) + _feedback(reply)
    body = [b for block in reply.blocks for b in block_to_slack(block)]
    return body[: max(max_blocks - len(tail), 0)] + tail


def fallback_text(reply: Reply) -> str:
    """The plain rendering, escaped and shortened, for notifications and old clients."""
    return _cut(escape(reply.text), MAX_FALLBACK_CHARS)


def note(text: str) -> Json:
    """One plain line from the core as a message (a note where the member pressed a button)."""
    return {"text": _cut(escape(text), MAX_FALLBACK_CHARS), "blocks": _section(text)}


def message(reply: Reply) -> Json:
    """`text` and `blocks` for chat.postMessage, chat.postEphemeral, ack() or respond()."""
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply)}


def document_message(document: Document) -> Json:
    """A paper of the case builder as a message: its title as a header, then its text (the
    editable file follows it; a text too long for one message is cut, the file has it all)."""
    header = block_to_slack(Block("heading", document.title))
    sections = _section(document.text)
    room = MAX_MESSAGE_BLOCKS - len(header)
    if len(sections) > room:
        sections = sections[:room]
        last = sections[-1]["text"]["text"]
        sections[-1]["text"]["text"] = _cut(last + " " + ELLIPSIS, MAX_SECTION_CHARS)
    fallback = f"{document.title}\n{document.text}"
    return {"text": _cut(escape(fallback), MAX_FALLBACK_CHARS), "blocks": header + sections}


def home_view(reply: Reply, admin: bool = False, case: bool = True) -> Json:
    """The App Home tab for `Charterbot.overview(lang)`, with its topics as buttons, the button
    opening the case form (`case`), then the language and erasure buttons (and the staff
    commands for admins)."""
    labels = HOME_LABELS[reply.lang]
    other = "en" if reply.lang == "fr" else "fr"
    buttons = [_button(labels["other_language"], other, "charte_home_language"),
               _button(labels["forget"], "forget", "charte_home_forget")]
    if admin:
        buttons += [_button(labels[name], name, f"charte_home_{name}")
                    for name in ("stats", "unanswered", "reload")]
    tail = [{"type": "actions", "block_id": "charte_home", "elements": buttons}]
    if case:
        button = _button(say("case_button", reply.lang), reply.lang, CASE_FORM_ACTION)
        tail.insert(0, {"type": "actions", "block_id": CASE_HOME_BLOCK,
                        "elements": [button | {"style": "primary"}]})
    return {"type": "home", "blocks": reply_blocks(reply, MAX_HOME_BLOCKS - len(tail)) + tail}


# -- the case form (a modal) ------------------------------------------------------------------
def _plain(text: str, limit: int = MAX_MODAL_LABEL) -> Json:
    return {"type": "plain_text", "text": plain_label(text, limit), "emoji": True}


def _option(value: str, label: str) -> Json:
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": value}


def _input(block_id: str, label: str, element: Json, optional: bool = True,
           hint: str = "") -> Json:
    block = {"type": "input", "block_id": block_id, "optional": optional,
             "label": _plain(label), "element": element | {"action_id": CASE_FIELD}}
    return block | ({"hint": _plain(hint)} if hint else {})


def case_modal(lang: Lang, form: Mapping[str, list[tuple[str, str]]]) -> Json:
    """The case form (`Charterbot.case_form(lang)`): platform (listed, or typed), problem,
    dates, what the platform said and references; answered by `case_fields`."""
    labels = CASE_FORM_LABELS[lang]
    platforms = [_option(v, label) for v, label in form.get("platforms", [])
                 if v and len(v) <= MAX_OPTION_VALUE][:MAX_OPTIONS]
    problems = [_option(v, label) for v, label in form.get("problems", [])
                if v and len(v) <= MAX_OPTION_VALUE][:MAX_OPTIONS]
    picker = {"type": "datepicker", "placeholder": _plain(labels["pick_date"], 150)}
    blocks: list[Json] = [{"type": "section", "text": {"type": "mrkdwn",
                                                       "text": escape(labels["intro"])}}]
    if platforms:
        blocks.append(_input("platform", labels["platform"], {
            "type": "static_select", "options": platforms,
            "placeholder": _plain(labels["platform_pick"], 150)}))
    blocks += [
        _input("platform_other", labels["platform_other"], {
            "type": "plain_text_input", "max_length": CASE_PLATFORM_CHARS},
            hint=labels["platform_other_hint"]),
        _input("problem", labels["problem"], {
            "type": "static_select", "options": problems,
            "placeholder": _plain(labels["problem_pick"], 150)}, optional=False),
        _input("date", labels["date"], picker, hint=labels["date_hint"]),
        _input("notice", labels["notice"], picker, hint=labels["notice_hint"]),
        _input("no_notice", labels["no_notice"], {
            "type": "checkboxes", "options": [_option("none", say("case_not_warned", lang))]}),
        _input("said", labels["said"], {
            "type": "radio_buttons",
            "options": [_option("none", say("case_said_none", lang)),
                        _option("vague", say("case_said_vague", lang))]}),
        _input("said_text", labels["said_text"], {
            "type": "plain_text_input", "multiline": True, "max_length": CASE_SAID_CHARS}),
        _input("refs", labels["refs"], {
            "type": "plain_text_input", "max_length": CASE_REFS_CHARS}),
    ]
    return {"type": "modal", "callback_id": CASE_FORM_CALLBACK,
            "private_metadata": json.dumps({"lang": lang}),
            "title": _plain(labels["title"], MAX_MODAL_TITLE),
            "submit": _plain(labels["submit"], MAX_MODAL_TITLE),
            "close": _plain(labels["close"], MAX_MODAL_TITLE),
            "blocks": blocks}


def case_form_lang(view: Mapping[str, Any]) -> Lang:
    """The language the form was shown in (its private metadata)."""
    try:
        lang = json.loads(view.get("private_metadata") or "{}").get("lang")
    except (ValueError, AttributeError):
        lang = None
    return "en" if lang == "en" else "fr"


def _state_value(values: Mapping[str, Any], block_id: str) -> Any:
    """What one input of the submitted form holds: text, date, option value(s), or None."""
    element = (values.get(block_id) or {}).get(CASE_FIELD) or {}
    kind = element.get("type")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind in ("static_select", "radio_buttons"):
        return (element.get("selected_option") or {}).get("value")
    if kind == "checkboxes":
        return [o.get("value") for o in element.get("selected_options") or []]
    return element.get("value")


def case_fields(view: Mapping[str, Any]) -> dict[str, str]:
    """The submitted form as `Charterbot.submit_case` fields: a typed platform wins over the
    list, "no warning" is notice "none", a pasted message wins over none / vague."""
    values = (view.get("state") or {}).get("values") or {}

    def text(block_id: str) -> str:
        value = _state_value(values, block_id)
        return " ".join(value.split()) if isinstance(value, str) else ""

    said_text = _state_value(values, "said_text")
    said_text = said_text.strip() if isinstance(said_text, str) else ""
    no_notice = "none" in (_state_value(values, "no_notice") or [])
    return {"platform": text("platform_other") or text("platform"),
            "problem": text("problem"), "date": text("date"),
            "notice": "none" if no_notice and not text("notice") else text("notice"),
            "said": said_text or text("said"), "refs": text("refs")}


def _form_day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def case_form_errors(view: Mapping[str, Any], today: date, problems: list[str],
                     coming: tuple[str, ...] = ()) -> dict[str, str]:
    """What Slack shows under the inputs of a form that cannot be sent (block_id -> message):
    no problem picked, a date in the future (the measure's may be, for the `coming` problems:
    a change announced ahead), a warning after the measure, a warning date and "no warning"
    both given."""
    lang = case_form_lang(view)
    labels = CASE_FORM_LABELS[lang]
    values = (view.get("state") or {}).get("values") or {}
    errors: dict[str, str] = {}
    problem = _state_value(values, "problem")
    if problem not in problems:
        errors["problem"] = labels["error_problem"]
    days = {block_id: _form_day(_state_value(values, block_id)) for block_id in ("date", "notice")}
    for block_id, day in days.items():
        ahead_allowed = block_id == "date" and problem in coming
        if day is not None and day > today and not ahead_allowed:
            errors[block_id] = labels["error_future"]
    measure, warned = days["date"], days["notice"]
    if measure and warned and warned > measure and "notice" not in errors:
        errors["notice"] = labels["error_notice_after"]
    if _state_value(values, "notice") and "none" in (_state_value(values, "no_notice") or []):
        errors["no_notice"] = labels["error_notice_both"].format(
            label=say("case_not_warned", lang))
    return errors
