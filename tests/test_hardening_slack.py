# ruff: noqa: F811  (the fixtures of tests/test_slack.py are imported, then used by name)
"""Issue 12 on Slack (items 3, 7, 9, 10, 14, 15): the real slack-bolt app against the fake Web
API on 127.0.0.1, requests signed as Slack signs them, asserting what a member (or staff reading
the logs) would notice."""

from __future__ import annotations

import json
import logging
import stat
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore

from adapters import slack
from adapters import slack_render as render
from bot.phrases import say
from bot.service import Charterbot
from bot.settings import Settings
from tests.fakes.slack_api import TEAM_ID, FakeSlackApi
from tests.test_slack import (  # noqa: F401  (fixtures used by name)
    CHANNEL,
    DM,
    SELLER,
    SETTLE,
    SlackSender,
    api,
    click,
    core,
    direct,
    event_body,
    http,
    knowledge_index,
    mention,
    no_slack_env,
    serve,
    settings_for,
    sign,
    slack_http_app,
    slash,
)

MARKER = "Mme Dupont 06 12 34 56 78 commande 4711"  # personal data a request could carry


def stored_questions(core: Charterbot) -> list[str]:
    return [row["text"] or "" for row in core.state.query("select text from questions")]


@pytest.fixture
def admin_app(api: FakeSlackApi, tmp_path: Path, knowledge_index: Path,
              serve: Any) -> Iterator[tuple[SlackSender, Charterbot]]:
    """charterbot in HTTP mode, with the seller listed in CHARTERBOT_ADMINS."""
    data = tmp_path / "admin"
    data.mkdir()
    (data / knowledge_index.name).write_bytes(knowledge_index.read_bytes())
    bot = Charterbot(Settings.from_env({"CHARTERBOT_DATA_DIR": str(data),
                                        "CHARTERBOT_ADMINS": SELLER}))
    yield serve(slack.build_app(bot, settings_for(api))), bot
    bot.close()


# -- item 7: nothing a sender wrote reaches the logs --------------------------------------------
@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Logging at INFO before the app is built, as `charterbot run slack` configures it (bolt
    copies the root level into its loggers when it creates them)."""
    caplog.set_level(logging.INFO)
    return caplog


def test_refused_requests_leave_neither_body_nor_text_in_the_logs(
        info_logs: pytest.LogCaptureFixture, api: FakeSlackApi,
        slack_http_app: SlackSender) -> None:
    caplog = info_logs
    padding = "x" * 200_000
    for _ in range(5):  # unsigned, large, carrying personal data
        body = json.dumps(event_body(mention(f"{MARKER} {padding}"))).encode()
        answer = http(slack_http_app.url, body, {"content-type": "application/json"}, "POST")
        assert answer.status == 401
    stale = slack_http_app.event(event_body(mention(MARKER)), age=6 * 60)  # genuine but old
    assert stale.status == 401
    forged = slack_http_app.event(event_body(mention(MARKER)), secret="not-the-secret")
    assert forged.status == 401
    shown = [r for r in caplog.records if r.levelno >= logging.INFO]
    logged = "\n".join(r.getMessage() for r in shown)
    assert "Dupont" not in logged and padding[:50] not in logged
    assert len(logged) < 2_000, "refusals must be one short line each"
    assert not api.calls_to("chat.postMessage")


# -- item 15: a malformed timestamp header --------------------------------------------------------
@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "²", "9" * 40])
def test_a_malformed_timestamp_is_refused_not_an_error(
        slack_http_app: SlackSender, timestamp: str) -> None:
    body = json.dumps(event_body(mention("amazon ?"))).encode()
    answer = http(slack_http_app.url, body, {
        "content-type": "application/json", "x-slack-request-timestamp": timestamp,
        "x-slack-signature": sign(body, int(time.time()))}, "POST")
    assert answer.status == 401


# -- item 9: odd text still gets an answer --------------------------------------------------------
@pytest.mark.parametrize("text", ["amazon a signé ? \ud800", "recette de crêpes \ud800"])
def test_a_lone_surrogate_in_a_message_is_answered(
        api: FakeSlackApi, slack_http_app: SlackSender, text: str) -> None:
    assert slack_http_app.event(event_body(direct(text))).status == 200
    post = api.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == DM and post.params["text"]


def test_invalid_utf8_in_a_signed_body_is_answered(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    body = json.dumps(event_body(direct("amazon a signé ? BYTES"))).encode()
    body = body.replace(b"BYTES", b"\xff\xfe")
    answer = slack_http_app.post(body, "application/json")
    assert answer.status == 200
    assert "Amazon" in api.wait_for("chat.postMessage")[0].params["text"]


# -- item 3: erasure, language and staff commands on Slack ----------------------------------------
@pytest.mark.parametrize("request_text", ["oubli", "/oubli", "please forget my data",
                                          "Effacez mes données svp"])
def test_erasure_from_a_direct_message(api: FakeSlackApi, core: Charterbot,
                                       slack_http_app: SlackSender, request_text: str) -> None:
    slack_http_app.event(event_body(direct("recette de crêpes au sarrasin")))
    api.wait_for("chat.postMessage")
    assert any("crêpes" in q for q in stored_questions(core))
    slack_http_app.event(event_body(direct(request_text)))
    confirm = api.wait_for("chat.postMessage", 2)[1]
    assert confirm.params["text"] in (say("forgotten", "fr"), say("forgotten", "en"))
    assert stored_questions(core) == []  # the question and the request itself: nothing kept


def test_erasure_and_language_from_the_slash_command(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    slack_http_app.event(event_body(direct("recette de crêpes au sarrasin")))
    api.wait_for("chat.postMessage")
    shown = slack_http_app.form(slash("oubli", api.response_url())).json()
    assert shown["response_type"] == "ephemeral"
    assert shown["text"] == say("forgotten", "fr")
    assert stored_questions(core) == []
    shown = slack_http_app.form(slash("langue en", api.response_url())).json()
    assert shown["text"] == say("language_set", "en")
    slack_http_app.event(event_body(direct("amazon")))
    post = api.wait_for("chat.postMessage", 2)[1]
    assert "Amazon" in post.params["text"]


def test_a_question_starting_with_a_command_word_stays_a_question(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    shown = slack_http_app.form(slash("aide moi : amazon a signé la charte ?",
                                      api.response_url())).json()
    assert "Amazon" in shown["text"]


def test_erasure_asked_in_a_channel_is_confirmed_to_the_member_only(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    slack_http_app.event(event_body(mention("oubli")))
    private = api.wait_for("chat.postEphemeral")[0]
    assert (private.params["channel"], private.params["user"]) == (CHANNEL, SELLER)
    assert private.params["text"] == say("forgotten", "fr")
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage")


def test_admin_commands_reach_listed_staff_only(
        api: FakeSlackApi, admin_app: tuple[SlackSender, Charterbot],
        slack_http_app: SlackSender) -> None:
    sender, _ = admin_app
    assert sender.form(slash("stats", api.response_url("staff"))).status == 200
    figures = api.wait_for("response:staff")[0].params
    assert figures["response_type"] == "ephemeral"
    assert "7" in figures["text"] and "questions" in figures["text"]
    slack_http_app.form(slash("stats", api.response_url("member")))
    refused = api.wait_for("response:member")[0].params
    assert refused["text"] == say("unknown_command", "fr")
    sender.event(event_body(direct("unanswered")))
    listed = api.wait_for("chat.postMessage")[0]
    assert listed.params["channel"] == DM and listed.params["text"] != say("unknown_command", "fr")


def test_app_home_offers_language_erasure_and_staff_buttons(
        api: FakeSlackApi, admin_app: tuple[SlackSender, Charterbot],
        slack_http_app: SlackSender) -> None:
    sender, bot = admin_app
    sender.event(event_body({"type": "app_home_opened", "user": SELLER, "tab": "home",
                             "event_ts": "1700000500.000009"}))
    view = api.wait_for("views.publish")[0].params["view"]
    actions = {e["action_id"] for b in view["blocks"] if b["type"] == "actions"
               for e in b["elements"]}
    assert {"charte_home_language", "charte_home_forget", "charte_home_stats"} <= actions

    home = click("charte_home_language", "en", api.response_url()) | {
        "container": {"type": "view", "view_id": "V1"}}
    home["actions"][0]["action_id"] = "charte_home_language"
    sender.action(home)
    done = api.wait_for("chat.postMessage")[0]
    assert (done.params["channel"], done.params["text"]) == (SELLER, say("language_set", "en"))
    republished = api.wait_for("views.publish", 2)[1].params["view"]
    assert republished == render.home_view(bot.overview("en"), admin=True)

    erase = click("charte_home_forget", "forget", api.response_url()) | {
        "container": {"type": "view", "view_id": "V1"}}
    sender.action(erase)
    assert api.wait_for("chat.postMessage", 2)[1].params["text"] == say("forgotten", "en")


# -- item 10: an edited mention is answered once ---------------------------------------------------
def test_an_edited_mention_is_answered_once(api: FakeSlackApi,
                                            slack_http_app: SlackSender) -> None:
    event = mention("amazon a signé ?")
    slack_http_app.event(event_body(event))
    edited = event | {"text": event["text"] + " la charte", "edited": {"user": SELLER,
                                                                        "ts": "1700000999.1"}}
    assert slack_http_app.event(event_body(edited)).status == 200  # a new event_id
    api.wait_for("chat.postMessage")
    time.sleep(SETTLE)
    assert len(api.calls_to("chat.postMessage")) == 1


# -- item 14: lifecycle events ----------------------------------------------------------------------
def test_lifecycle_events_are_acknowledged_without_warnings(
        slack_http_app: SlackSender, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    for event in ({"type": "member_joined_channel", "user": SELLER, "channel": CHANNEL,
                   "event_ts": "1700000600.1"},
                  {"type": "app_uninstalled", "event_ts": "1700000600.2"},
                  {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]},
                   "event_ts": "1700000600.3"}):
        assert slack_http_app.event(event_body(event)).status == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_uninstalling_deletes_the_workspace_installation(
        api: FakeSlackApi, core: Charterbot, serve: Any, tmp_path: Path) -> None:
    settings = settings_for(api, bot_token=None, client_id="111.222", client_secret="s3cret")
    sender = serve(slack.build_app(core, settings))
    page = http(sender.base + "/slack/install")
    state = SimpleCookie(page.headers["set-cookie"])["slack-app-oauth-state"].value
    http(f"{sender.base}/slack/oauth_redirect?code=c0de&state={state}",
         headers={"cookie": f"slack-app-oauth-state={state}"})
    store = SQLite3InstallationStore(database=str(tmp_path / slack.INSTALL_DB),
                                     client_id="111.222")
    assert store.find_installation(enterprise_id=None, team_id="T0OTHER") is not None
    assert stat.S_IMODE((tmp_path / slack.INSTALL_DB).stat().st_mode) == 0o600  # tokens inside
    answer = sender.event(event_body({"type": "app_uninstalled", "event_ts": "1700000700.1"},
                                     team="T0OTHER"))
    assert answer.status == 200
    deadline = time.monotonic() + 5  # the listener runs after the acknowledgement
    while store.find_installation(enterprise_id=None, team_id="T0OTHER") is not None:
        assert time.monotonic() < deadline, "the installation was not deleted"
        time.sleep(0.05)
    assert store.find_installation(enterprise_id=None, team_id=TEAM_ID) is None  # untouched


def test_the_manifest_asks_only_for_scopes_in_use() -> None:
    assert "im:read" not in slack.SCOPES and "im:write" not in slack.SCOPES
