"""Reply -> Block Kit: escaping, Slack's limits, buttons, and Slack text back to plain text."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from adapters import slack_render as render
from bot.model import Block, Choice, Document, Lang, Reply, Source, Suggestion
from bot.phrases import say

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


# -- the case builder ---------------------------------------------------------------------------------
def case_reply(choices: tuple[Choice, ...], lang: Lang = "fr") -> Reply:
    return reply(kind="case", lang=lang, choices=choices)


def test_case_buttons_carry_the_choice_value_and_the_questions_language() -> None:
    shown = render.reply_blocks(case_reply((Choice("Amazon", "p:Amazon"),
                                            Choice("Annuler", "cancel")), lang="en"))
    actions = shown[-1]
    assert render.is_case_block(actions)
    assert [(e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("Amazon", "p:Amazon"), ("Annuler", "cancel")]
    assert [render.case_lang(e["action_id"]) for e in actions["elements"]] == ["en", "en"]
    for pattern in (render.ENTRY_ACTION_PATTERN, render.MORE_ACTION_PATTERN,
                    render.FEEDBACK_PATTERN, render.HOME_ACTION_PATTERN):
        assert not any(pattern.match(e["action_id"]) for e in actions["elements"])


def test_many_case_buttons_are_split_into_blocks_of_25_with_short_labels() -> None:
    choices = tuple(Choice(f"Plateforme au nom beaucoup trop long numéro {n} " * 3, f"p:{n}")
                    for n in range(30)) + (Choice("trop long", "x" * 2001),)
    shown = [b for b in render.reply_blocks(case_reply(choices)) if render.is_case_block(b)]
    assert [len(b["elements"]) for b in shown] == [25, 5]
    assert len({b["block_id"] for b in shown}) == 2
    elements = [e for b in shown for e in b["elements"]]
    assert [e["value"] for e in elements] == [f"p:{n}" for n in range(30)]
    assert len({e["action_id"] for e in elements}) == 30
    assert all(len(e["text"]["text"]) <= render.MAX_BUTTON_LABEL for e in elements)


def test_an_answered_question_keeps_its_text_and_other_buttons_not_its_case_buttons() -> None:
    answer = reply(entry="problem-closure", feedback=True,
                   choices=(Choice("Préparer ma réclamation", "new|closure||"),))
    blocks = render.reply_blocks(answer)
    closed = render.answered(blocks, "Préparer <ma> réclamation")
    assert closed is not None and not any(render.is_case_block(b) for b in closed)
    assert closed[0] == blocks[0] and closed[-1]["block_id"] == "charte_feedback"
    assert texts(closed)[-1] == "✓ Préparer &lt;ma&gt; réclamation"
    assert render.answered(render.reply_blocks(reply()), "x") is None


def test_a_paper_is_a_titled_message_escaped_and_within_slacks_limits() -> None:
    paper = Document(kind="complaint", title="Réclamation à la plateforme",
                     text=f"{HOSTILE}\n" + "Les règles suivantes s'appliquent. " * 5000,
                     filename="reclamation-amazon.docx")
    shown = render.document_message(paper)
    assert shown["blocks"][0] == {"type": "header", "text": {
        "type": "plain_text", "text": "Réclamation à la plateforme", "emoji": True}}
    assert len(shown["blocks"]) == render.MAX_MESSAGE_BLOCKS
    assert all(len(t) <= render.MAX_SECTION_CHARS for t in texts(shown["blocks"]))
    assert len(shown["text"]) <= render.MAX_FALLBACK_CHARS
    for text in [shown["text"], *texts(shown["blocks"])]:
        assert "<!channel>" not in text and "<@U0BOSS>" not in text


def test_the_app_home_offers_the_case_form_in_its_language() -> None:
    home = render.home_view(reply(lang="en"))
    case = next(b for b in home["blocks"] if b.get("block_id") == render.CASE_HOME_BLOCK)
    assert [(e["action_id"], e["value"], e["text"]["text"]) for e in case["elements"]] == [
        (render.CASE_FORM_ACTION, "en", say("case_button", "en"))]
    assert not render.HOME_ACTION_PATTERN.match(render.CASE_FORM_ACTION)
    without = render.home_view(reply(), case=False)
    assert not any(b.get("block_id") == render.CASE_HOME_BLOCK for b in without["blocks"])


FORM = {"platforms": [("Amazon", "Amazon"), ("Fnac Darty", "Fnac Darty")],
        "problems": [("closure", "Compte fermé"), ("other", "Autre problème")]}


def test_the_case_form_fits_slacks_limits_in_both_languages() -> None:
    for lang in ("fr", "en"):
        view = render.case_modal(lang, FORM)
        assert render.case_form_lang(view) == lang
        for key in ("title", "submit", "close"):
            assert len(view[key]["text"]) <= render.MAX_MODAL_TITLE
        inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
        assert set(inputs) == {"platform", "platform_other", "problem", "date", "notice",
                               "no_notice", "said", "said_text", "refs"}
        assert [b for b in inputs.values() if not b["optional"]] == [inputs["problem"]]
        assert all(b["element"]["action_id"] == render.CASE_FIELD for b in inputs.values())
        assert inputs["said_text"]["element"]["multiline"] is True
    labels = [o["text"]["text"] for o in render.case_modal("en", FORM)["blocks"][3]["element"][
        "options"]]
    assert labels == ["Compte fermé", "Autre problème"]     # the core's labels, as given


def state(**values: Any) -> dict[str, Any]:
    """A submitted case form (French) holding `values` (block_id -> element state)."""
    view = render.case_modal("fr", FORM)
    return view | {"state": {"values": {k: {render.CASE_FIELD: v} for k, v in values.items()}}}


def test_the_case_form_becomes_the_cores_fields() -> None:
    sent = state(platform={"type": "static_select", "selected_option": {"value": "Amazon"}},
                 platform_other={"type": "plain_text_input", "value": "  Brocantix   Pro "},
                 problem={"type": "static_select", "selected_option": {"value": "closure"}},
                 date={"type": "datepicker", "selected_date": "2026-11-20"},
                 notice={"type": "datepicker", "selected_date": None},
                 no_notice={"type": "checkboxes", "selected_options": [{"value": "none"}]},
                 said={"type": "radio_buttons", "selected_option": {"value": "vague"}},
                 said_text={"type": "plain_text_input", "value": "Ligne 1\nLigne 2\n"},
                 refs={"type": "plain_text_input", "value": None})
    assert render.case_fields(sent) == {
        "platform": "Brocantix Pro", "problem": "closure", "date": "2026-11-20",
        "notice": "none", "said": "Ligne 1\nLigne 2", "refs": ""}
    bare = state(problem={"type": "static_select", "selected_option": {"value": "other"}},
                 said={"type": "radio_buttons", "selected_option": {"value": "none"}})
    assert render.case_fields(bare) == {"platform": "", "problem": "other", "date": "",
                                        "notice": "", "said": "none", "refs": ""}


def test_the_case_form_errors_show_under_their_fields() -> None:
    today = date(2026, 12, 2)
    problems = [p for p, _ in FORM["problems"]]
    fine = state(problem={"type": "static_select", "selected_option": {"value": "closure"}},
                 date={"type": "datepicker", "selected_date": "2026-12-02"})
    assert render.case_form_errors(fine, today, problems) == {}
    wrong = state(problem={"type": "static_select", "selected_option": {"value": "made-up"}},
                  date={"type": "datepicker", "selected_date": "2026-12-03"},
                  notice={"type": "datepicker", "selected_date": "2027-01-01"},
                  no_notice={"type": "checkboxes", "selected_options": [{"value": "none"}]})
    errors = render.case_form_errors(wrong, today, problems)
    labels = render.CASE_FORM_LABELS["fr"]
    assert errors == {"problem": labels["error_problem"], "date": labels["error_future"],
                      "notice": labels["error_future"],
                      "no_notice": labels["error_notice_both"].format(
                          label=say("case_not_warned", "fr"))}
