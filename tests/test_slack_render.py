"""Reply -> Block Kit: escaping, Slack's limits, buttons, and Slack text back to plain text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from adapters import slack_render as render
from bot.model import Block, Reply, Source, Suggestion

HOSTILE = "<!channel> <!here|here> <@U0BOSS> <https://evil.example|click> & *bold*"


def reply(**fields: Any) -> Reply:
    base: dict[str, Any] = {"kind": "answer", "lang": "fr",
                            "blocks": (Block("paragraph", "Bonjour."),)}
    return Reply(**(base | fields))


def texts(blocks: list[dict[str, Any]], kind: str = "mrkdwn") -> list[str]:
    """Every text object of one kind (mrkdwn: parsed by Slack; plain_text: shown as is)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def test_escape_neutralises_slack_control_characters() -> None:
    assert render.escape("a < b > c & <!channel>") == "a &lt; b &gt; c &amp; &lt;!channel&gt;"


def test_hostile_text_cannot_mention_or_link() -> None:
    hostile = reply(blocks=(Block("paragraph", HOSTILE), Block("list", items=(HOSTILE,)),
                            Block("steps", items=(HOSTILE,)), Block("note", HOSTILE),
                            Block("heading", HOSTILE)),
                    sources=(Source(HOSTILE, "https://ok.example/a"),),
                    suggestions=(Suggestion("charter-what", HOSTILE),))
    shown = render.message(hostile)
    for text in [shown["text"], *texts(shown["blocks"])]:
        for forbidden in ("<!channel>", "<!here", "<@U0BOSS>", "<https://evil"):
            assert forbidden not in text
    # Headers and button labels are plain_text, which Slack never parses: shown verbatim.
    assert set(texts(shown["blocks"], "plain_text")) == {HOSTILE}


def test_blocks_by_kind() -> None:
    shown = render.reply_blocks(reply(blocks=(
        Block("heading", "Titre :"), Block("paragraph", "Texte."),
        Block("list", items=("un", "deux")), Block("steps", items=("a", "b")),
        Block("note", "Petit texte."))))
    assert [b["type"] for b in shown] == ["header", "section", "section", "section", "context"]
    assert shown[2]["text"]["text"] == "• un\n• deux"
    assert shown[3]["text"]["text"] == "1. a\n2. b"
    assert shown[0]["text"]["type"] == "plain_text"


def test_sources_are_a_context_block_of_links_with_the_review_date() -> None:
    source = Source("P2B & co", "https://eur-lex.europa.eu/x?a=1&b=2")
    shown = render.reply_blocks(reply(sources=(source,), reviewed="2026-11-27"))
    context = shown[-1]
    assert context["type"] == "context"
    elements = [e["text"] for e in context["elements"]]
    assert elements[0] == "*Sources*"
    assert elements[1] == "<https://eur-lex.europa.eu/x?a=1&amp;b=2|P2B &amp; co>"
    assert elements[2] == "Vérifié le 27 novembre 2026"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "slack://open", "ftp://x"])
def test_only_web_and_mail_links_are_linked(url: str) -> None:
    assert render.link(url, "titre <b>") == "titre &lt;b&gt;"


def test_link_url_cannot_break_out_of_the_link() -> None:
    shown = render.link("https://example.com/a|b>c <!channel>", "t|x")
    assert shown.startswith("<https://example.com/a%7Cb%3Ec%20%3C!channel%3E|")
    assert shown.count("<") == 1 and shown.count(">") == 1


def test_long_text_is_split_into_sections_under_the_limit() -> None:
    long_text = ("Le règlement P2B & la charte " * 400).strip()
    shown = render.reply_blocks(reply(blocks=(Block("paragraph", long_text),)))
    sections = [b["text"]["text"] for b in shown if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(s) <= render.MAX_SECTION_CHARS for s in sections)
    assert " ".join(sections) == render.escape(long_text)


def test_one_huge_word_is_cut_without_breaking_an_entity() -> None:
    pieces = render.chunks("&amp;" * 1000, limit=3000)
    assert all(len(p) <= 3000 and p.startswith("&amp;") and p.endswith("&amp;") for p in pieces)
    assert "".join(pieces) == "&amp;" * 1000


def test_no_more_than_fifty_blocks_and_buttons_are_kept() -> None:
    many = tuple(Block("paragraph", f"Paragraphe {n}.") for n in range(80))
    shown = render.reply_blocks(reply(blocks=many, entry="charter-what", feedback=True,
                                      suggestions=(Suggestion("fees", "Frais"),),
                                      sources=(Source("t", "https://x.example"),)))
    assert len(shown) == render.MAX_MESSAGE_BLOCKS
    assert [b.get("block_id") for b in shown[-2:]] == ["charte_suggestions", "charte_feedback"]
    home = render.home_view(reply(blocks=many * 2))
    assert len(home["blocks"]) == render.MAX_HOME_BLOCKS and home["type"] == "home"


def test_suggestion_buttons_have_unique_action_ids_and_bounded_values() -> None:
    suggestions = tuple(Suggestion(f"entry-{n}", "Un libellé beaucoup trop long " * 5)
                        for n in range(30)) + (Suggestion("x" * 2001, "trop long"),)
    shown = render.reply_blocks(reply(suggestions=suggestions, entry="e", feedback=True))
    buttons = [e for b in shown if b["type"] == "actions" for e in b["elements"]]
    ids = [b["action_id"] for b in buttons]
    assert len(ids) == len(set(ids))
    assert all(len(b["value"]) <= render.MAX_BUTTON_VALUE for b in buttons)
    assert all(len(b["text"]["text"]) <= render.MAX_BUTTON_LABEL for b in buttons)
    suggestion_ids = [i for i in ids if render.ENTRY_ACTION_PATTERN.match(i)]
    assert len(suggestion_ids) == render.MAX_ACTION_ELEMENTS
    assert {i for i in ids if render.FEEDBACK_PATTERN.match(i)} == {render.FEEDBACK_UP,
                                                                   render.FEEDBACK_DOWN}


def test_feedback_buttons_only_when_the_core_asks() -> None:
    assert not any(b["type"] == "actions" for b in render.reply_blocks(reply(entry="e")))
    shown = render.reply_blocks(reply(entry="charter-what", feedback=True))
    assert [e["value"] for e in shown[-1]["elements"]] == ["charter-what", "charter-what"]


def test_fallback_text_is_escaped_and_bounded() -> None:
    shown = render.message(reply(blocks=(Block("paragraph", "<!channel> " * 1000),)))
    assert len(shown["text"]) <= render.MAX_FALLBACK_CHARS
    assert "<!channel>" not in shown["text"]
    assert not re.search(r"&[a-z]*…$", shown["text"])


@pytest.mark.parametrize(("slack_text", "plain"), [
    ("<@U0BOT> amazon a signé ?", "amazon a signé ?"),
    ("<@U0BOT|charterbot>   bonjour", "bonjour"),
    ("<!channel> <!here> quoi ?", "quoi ?"),
    ("voir <https://example.com|ce lien> et <https://x.example>",
     "voir ce lien et https://x.example"),
    ("dans <#C123|general>", "dans #general"),
    ("frais &gt; 15 % &amp; &lt;délai&gt;", "frais > 15 % & <délai>"),
    ("&amp;lt;", "&lt;"),
])
def test_plain_from_slack(slack_text: str, plain: str) -> None:
    assert render.plain_from_slack(slack_text) == plain


def test_empty_text_makes_no_block() -> None:
    empty = reply(blocks=(Block("paragraph", "  "), Block("heading", ""), Block("note", " "),
                          Block("list", items=())))
    assert render.reply_blocks(empty) == []
