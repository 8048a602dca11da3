"""The core stays platform-neutral, and hostile input never breaks it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.model import Message
from bot.service import RATE_LIMIT_MESSAGES, Charterbot

BOT = Path(__file__).resolve().parent.parent / "bot"
PLATFORM_MODULES = {"telegram", "slack_bolt", "slack_sdk", "adapters", "aiohttp"}


def test_the_core_imports_no_platform_library() -> None:
    for path in BOT.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in PLATFORM_MODULES, f"{path.name} imports {name}"


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "\x00\x01\x02", "?!?!", "<<<>>>"])
def test_empty_or_wordless_messages_get_a_polite_hint(core: Charterbot, text: str) -> None:
    reply = core.handle(Message(text=text, user="t:1", channel="telegram"))
    assert reply.kind == "fallback" and reply.entry is None and "question" in reply.text


def test_a_huge_message_is_answered_from_its_beginning(core: Charterbot) -> None:
    complaint = "Mon compte vendeur Amazon est suspendu depuis hier, sans aucune explication. "
    reply = core.handle(Message(text=complaint * 300, user="t:1", channel="telegram"))
    assert reply.entry == "problem-suspension"
    assert "très long" in reply.text


def test_markup_is_kept_as_plain_text(core: Charterbot) -> None:
    reply = core.handle(Message(text="<b>Amazon</b> a-t-il signé la <i>charte</i> ? <script>",
                                user="t:1", channel="telegram"))
    assert reply.entry == "platform-status" and "<" not in "".join(b.text for b in reply.blocks)


def test_a_photo_without_text_gets_the_text_only_note(core: Charterbot) -> None:
    reply = core.handle(Message(text="", user="t:1", channel="telegram", attachment="photo"))
    assert "messages écrits" in reply.text


def test_one_seller_cannot_flood_the_bot(core: Charterbot) -> None:
    replies = [core.handle(Message(text="amazon a signé ?", user="t:flood", channel="telegram"))
               for _ in range(RATE_LIMIT_MESSAGES + 5)]
    assert all(r.kind == "answer" for r in replies[:RATE_LIMIT_MESSAGES])
    over = replies[RATE_LIMIT_MESSAGES:]
    assert over[0].kind == "notice" and "patientez" in over[0].text.lower()
    assert all(r.blocks == () for r in over[1:])  # told once, then silence: no flood back
    other = core.handle(Message(text="amazon a signé ?", user="t:other", channel="telegram"))
    assert other.kind == "answer"


def test_commands_and_buttons(core: Charterbot) -> None:
    lists = core.handle(Message(text="/signataires", user="t:1", command="signatories"))
    assert lists.entry == "charter-signatories" and "Leboncoin" in lists.text
    start = core.handle(Message(text="/start recours", user="t:1", command="start",
                                args="recours"))
    assert start.entry == "escalation-overview"
    button = core.handle(Message(text="", user="t:1", entry="problem-fees"))
    assert button.entry == "problem-fees" and button.feedback
    help_ = core.handle(Message(text="/help", user="t:1", command="help"))
    assert help_.suggestions


def test_an_english_app_gets_english_command_replies(core: Charterbot) -> None:
    reply = core.handle(Message(text="/signatories", user="t:9", command="signatories",
                                locale="en-GB"))
    assert reply.lang == "en"


def test_admin_commands_are_refused_to_sellers(core: Charterbot) -> None:
    reply = core.handle(Message(text="/stats", user="telegram:42", command="stats"))
    assert reply.kind == "notice" and "commande" in reply.text
