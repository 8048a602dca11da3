"""Slack, end to end: the answer's details buttons (steps, sources, more details).

The real slack-bolt app in HTTP mode gets requests signed as Slack signs them and calls the fake
Web API on 127.0.0.1 (fixtures from tests/test_slack.py). Each test presses a button as a member
would and reads what the app posts.
"""
# The fixtures are imported from tests/test_slack.py, so test parameters reuse their names.
# ruff: noqa: F811

from __future__ import annotations

import json
import time
from typing import Any

from adapters import slack_render as render
from bot.phrases import say
from bot.service import Charterbot
from tests.fakes.slack_api import FakeSlackApi
from tests.test_slack import (  # noqa: F401  (fixtures)
    CHANNEL,
    SETTLE,
    SlackSender,
    api,
    click,
    core,
    event_body,
    knowledge_index,
    mention,
    no_slack_env,
    serve,
    slack,
    slack_http_app,
    slash,
)

QUESTION = "mon compte amazon est suspendu"


def more_buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The details buttons of a message: label -> button."""
    return {e["text"]["text"]: e for b in blocks if b.get("block_id") == "charte_more"
            for e in b["elements"]}


def answered(api: FakeSlackApi, app: SlackSender) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mention the app with the question: the event and the answer posted in its thread."""
    event = mention(QUESTION)
    app.event(event_body(event))
    return event, api.wait_for("chat.postMessage")[0].params


def test_the_answer_fits_a_screen_with_its_buttons(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    _, post = answered(api, slack_http_app)
    assert "réclamation interne" in post["text"] and "http" not in json.dumps(post["blocks"])
    buttons = more_buttons(post["blocks"])
    assert list(buttons) == [say("more_steps", "fr"), say("more_sources", "fr"),
                             say("more_details", "fr")]
    assert any(b.get("block_id") == "charte_feedback" for b in post["blocks"])  # 👍 / 👎


def press(api: FakeSlackApi, app: SlackSender, post: dict[str, Any], label: str,
          thread_ts: str | None = None) -> dict[str, Any]:
    """Press one details button of `post`; the detail the app posts."""
    button = more_buttons(post["blocks"])[label]
    before = len(api.calls_to("chat.postMessage"))
    answer = app.action(click(button["action_id"], button["value"], api.response_url(),
                              thread_ts=thread_ts))
    assert answer.status == 200
    return api.wait_for("chat.postMessage", before + 1)[before].params


def test_steps_button_posts_amazons_own_route_in_the_thread(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    event, post = answered(api, slack_http_app)
    detail = press(api, slack_http_app, post, say("more_steps", "fr"), thread_ts=event["ts"])
    assert (detail["channel"], detail["thread_ts"]) == (CHANNEL, event["ts"])
    shown = json.dumps(detail["blocks"], ensure_ascii=False)
    assert say("escalation_heading", "fr") in shown and "CEDR" in shown
    assert "sellercentral" in shown


def test_a_detail_of_an_answer_outside_a_thread_starts_one_under_it(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    _, post = answered(api, slack_http_app)
    detail = press(api, slack_http_app, post, say("more_details", "fr"))
    assert detail["thread_ts"] == "1700000300.000001"      # the answer's own ts (see click())
    assert "art. 21" in detail["text"]


def test_sources_button_lists_every_source_as_a_link(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    event, post = answered(api, slack_http_app)
    detail = press(api, slack_http_app, post, say("more_sources", "fr"), thread_ts=event["ts"])
    links = json.dumps(detail["blocks"]).count("<https://")
    assert links >= 3


def test_buttons_under_a_private_answer_stay_private(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    shown = slack_http_app.form(slash(QUESTION, api.response_url())).json()
    assert shown["response_type"] == "ephemeral"
    button = more_buttons(shown["blocks"])[say("more_steps", "fr")]
    slack_http_app.action(click(button["action_id"], button["value"],
                                api.response_url("private"), ephemeral=True))
    sent = api.wait_for("response:private")[0].params
    assert sent["response_type"] == "ephemeral" and sent["replace_original"] is False
    assert "CEDR" in json.dumps(sent["blocks"], ensure_ascii=False)
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage")


def test_a_malformed_details_button_is_ignored(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    answer = slack_http_app.action(click(f"{render.MORE_ACTION}_steps", "nonsense",
                                         api.response_url()))
    assert answer.status == 200
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage")
