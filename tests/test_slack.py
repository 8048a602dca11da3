"""End-to-end tests of the Slack adapter: the real slack-bolt app and the real core.

HTTP mode gets requests signed as Slack signs them; Socket Mode talks to a fake Socket Mode
websocket server; every Web API call goes to a fake Web API server. Both fakes listen on
127.0.0.1 only: no token, no internet. What is asserted is what a member would see.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import yaml

from adapters import slack, slack_http
from adapters import slack_render as render
from bot.library import INDEX_FILE
from bot.model import Message
from bot.phrases import say
from bot.service import RATE_LIMIT_MESSAGES, Charterbot
from bot.settings import Settings
from tests.fakes.slack_api import (
    APP_ID,
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    FakeSlackApi,
)
from tests.fakes.slack_socket import FakeSocketMode, envelope

REPO = Path(__file__).resolve().parent.parent
SECRET = "test-signing-secret-not-real"
SELLER = "U0SELLER"
CHANNEL = "C0GENERAL"
DM = "D0SELLER"
SETTLE = 0.4          # seconds to let a wrongly duplicated answer show up before counting
_ids = iter(range(1, 1_000_000))


def next_id() -> int:
    return next(_ids)


# -- Slack's side: payloads and signatures --------------------------------------------------------
def event_body(event: dict[str, Any], team: str = TEAM_ID, event_id: str | None = None
               ) -> dict[str, Any]:
    """An Events API `event_callback` as Slack sends it."""
    return {"token": "legacy", "team_id": team, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{next_id():08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": BOT_USER_ID, "is_bot": True}]}


def mention(text: str, thread_ts: str | None = None) -> dict[str, Any]:
    ts = f"1700000100.{next_id():06d}"
    event = {"type": "app_mention", "user": SELLER, "text": f"<@{BOT_USER_ID}> {text}",
             "ts": ts, "channel": CHANNEL, "event_ts": ts}
    return event | ({"thread_ts": thread_ts} if thread_ts else {})


def direct(text: str, **extra: Any) -> dict[str, Any]:
    ts = f"1700000200.{next_id():06d}"
    return {"type": "message", "channel_type": "im", "channel": DM, "user": SELLER,
            "text": text, "ts": ts, "event_ts": ts, **extra}


def slash(text: str, response_url: str) -> dict[str, str]:
    return {"token": "legacy", "team_id": TEAM_ID, "team_domain": "charte-test",
            "channel_id": CHANNEL, "channel_name": "general", "user_id": SELLER,
            "user_name": "seller", "command": "/charte", "text": text, "api_app_id": APP_ID,
            "response_url": response_url, "trigger_id": f"trig.{next_id()}"}


def click(action_id: str, value: str, response_url: str, ephemeral: bool = False,
          thread_ts: str | None = None) -> dict[str, Any]:
    """A block_actions payload: a member pressed one of the bot's buttons."""
    container = {"type": "message", "message_ts": "1700000300.000001", "channel_id": CHANNEL,
                 "is_ephemeral": ephemeral} | ({"thread_ts": thread_ts} if thread_ts else {})
    return {"type": "block_actions", "user": {"id": SELLER, "team_id": TEAM_ID},
            "api_app_id": APP_ID, "token": "legacy", "container": container,
            "trigger_id": f"trig.{next_id()}", "team": {"id": TEAM_ID, "domain": "charte-test"},
            "channel": {"id": CHANNEL, "name": "general"}, "response_url": response_url,
            "message": {"type": "message", "ts": "1700000300.000001", "bot_id": BOT_ID,
                        "text": "…"} | ({"thread_ts": thread_ts} if thread_ts else {}),
            "actions": [{"action_id": action_id, "block_id": "b", "value": value,
                         "type": "button", "action_ts": f"1700000400.{next_id()}",
                         "text": {"type": "plain_text", "text": "label"}}]}


def sign(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    """Slack's request signature: v0=HMAC-SHA256(secret, 'v0:{timestamp}:{body}')."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str]
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> Answer:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return Answer(response.status, response.read().decode(), dict(response.headers),
                          time.monotonic() - start)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(), dict(error.headers),
                      time.monotonic() - start)


class SlackSender:
    """Slack's servers, as far as HTTP mode is concerned: signed POSTs to /slack/events."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.url = base + slack_http.EVENTS_PATH

    def post(self, body: bytes, content_type: str, age: int = 0, secret: str = SECRET,
             headers: dict[str, str] | None = None) -> Answer:
        timestamp = int(time.time()) - age
        signed = {"content-type": content_type, "x-slack-request-timestamp": str(timestamp),
                  "x-slack-signature": sign(body, timestamp, secret)}
        return http(self.url, body, signed | (headers or {}), "POST")

    def event(self, body: dict[str, Any], **kwargs: Any) -> Answer:
        return self.post(json.dumps(body).encode(), "application/json", **kwargs)

    def form(self, fields: dict[str, str], **kwargs: Any) -> Answer:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded",
                         **kwargs)

    def action(self, payload: dict[str, Any], **kwargs: Any) -> Answer:
        return self.form({"payload": json.dumps(payload)}, **kwargs)


# -- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """bolt reads SLACK_* itself when an argument is missing: keep the machine's env out.

    The fakes are on 127.0.0.1: no proxy from the environment (slack-sdk ignores NO_PROXY).
    """
    for name in list(os.environ):
        if name.startswith("SLACK_") or name.lower() in ("http_proxy", "https_proxy",
                                                          "all_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
def api() -> Iterator[FakeSlackApi]:
    fake = FakeSlackApi().start()
    yield fake
    fake.stop()


def make_core(data_dir: Path) -> Charterbot:
    return Charterbot(Settings.from_env({"CHARTERBOT_DATA_DIR": str(data_dir)}))


@pytest.fixture(scope="session")
def knowledge_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled knowledge, built once: each test's core starts from a copy (faster)."""
    data_dir = tmp_path_factory.mktemp("index")
    make_core(data_dir).close()
    return data_dir / INDEX_FILE


@pytest.fixture
def core(tmp_path: Path, knowledge_index: Path) -> Iterator[Charterbot]:
    shutil.copy(knowledge_index, tmp_path / INDEX_FILE)
    bot = make_core(tmp_path)
    yield bot
    bot.close()


def settings_for(api: FakeSlackApi, **changes: Any) -> slack.SlackSettings:
    base = slack.SlackSettings(signing_secret=SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN,
                               api_url=api.base_url)
    return replace(base, **changes)


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start HTTP-mode servers for an app on 127.0.0.1 (free port); all stopped at the end."""
    running: list[tuple[Any, threading.Thread]] = []

    def start(app: Any) -> SlackSender:
        server, thread = slack_http.start_server(app, "127.0.0.1", 0)
        running.append((server, thread))
        return SlackSender(f"http://127.0.0.1:{server.server_address[1]}")

    yield start
    for server, thread in running:
        slack_http.stop_server(server, thread)


@pytest.fixture
def slack_http_app(api: FakeSlackApi, core: Charterbot, serve: Any) -> SlackSender:
    """charterbot in HTTP mode, single workspace."""
    sender: SlackSender = serve(slack.build_app(core, settings_for(api)))
    return sender


def posted_text(api: FakeSlackApi) -> str:
    """Everything the bot sent to Slack, as one JSON string."""
    return json.dumps([c.params for c in api.calls])


def expected(core: Charterbot, **message: Any) -> dict[str, Any]:
    """What the bot should show for a message, rendered the adapter's way."""
    reply = core.handle(Message(user=f"slack:{TEAM_ID}:U0OTHER", channel="slack", **message))
    return render.message(reply)


# -- HTTP mode ----------------------------------------------------------------------------------
def test_mention_is_answered_in_the_thread_of_the_mention(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    event = mention("amazon a-t-il signé la charte ?")
    answer = slack_http_app.event(event_body(event))
    assert answer.status == 200
    post = api.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == CHANNEL
    assert post.params["thread_ts"] == event["ts"]
    assert post.token == BOT_TOKEN
    assert post.params["text"] == expected(core, text="amazon a-t-il signé la charte ?")["text"]
    assert "Amazon" in post.params["text"]
    assert post.params["blocks"] and all(b["type"] for b in post.params["blocks"])


def test_mention_inside_a_thread_is_answered_in_that_thread(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    event = mention("my account was suspended, what can I do?", thread_ts="1700000000.000042")
    slack_http_app.event(event_body(event))
    post = api.wait_for("chat.postMessage")[0]
    assert post.params["thread_ts"] == "1700000000.000042"
    assert "suspen" in post.params["text"].lower()


def test_direct_message_is_answered_in_the_conversation(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    slack_http_app.event(event_body(direct("comment contester un déréférencement ?")))
    post = api.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == DM
    assert post.params.get("thread_ts") is None
    assert post.params["text"] == expected(core, text="comment contester un déréférencement ?"
                                           )["text"]


def test_a_flooding_member_is_told_once_then_not_answered(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    for number in range(RATE_LIMIT_MESSAGES + 3):
        slack_http_app.event(event_body(direct(f"amazon a signé ? {number}")))
    posts = api.wait_for("chat.postMessage", RATE_LIMIT_MESSAGES + 1)
    time.sleep(0.5)  # nothing more arrives: the rest were not answered
    assert len(api.calls_to("chat.postMessage")) == RATE_LIMIT_MESSAGES + 1
    assert [p.params["text"] for p in posts].count(say("rate_limited", "fr")) == 1


def test_a_file_without_text_gets_the_cores_text_only_notice(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    shared = direct("", subtype="file_share", files=[{"id": "F1", "name": "capture.png"}])
    slack_http_app.event(event_body(shared))
    post = api.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == DM
    assert post.params["text"] == expected(core, text="", attachment="file")["text"]


def test_slash_command_answers_the_asker_only(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    answer = slack_http_app.form(slash("qui a signé la charte ?", api.response_url()))
    assert answer.status == 200
    shown = answer.json()
    assert shown["response_type"] == "ephemeral"
    assert shown["text"] == expected(core, text="qui a signé la charte ?")["text"]
    assert any(b["type"] == "actions" for b in shown["blocks"])      # 👍 / 👎
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage")                      # nothing in the channel


def test_slash_command_alone_gives_the_help(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    shown = slack_http_app.form(slash("", api.response_url())).json()
    assert shown["response_type"] == "ephemeral"
    assert shown["text"] == render.message(core.overview("fr"))["text"]
    buttons = [e for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {b["value"] for b in buttons} >= {"charter-signatories", "escalation-overview"}


def test_suggestion_button_answers_the_chosen_entry_in_the_thread(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    payload = click("charte_entry_1", "charter-signatories", api.response_url(),
                    thread_ts="1700000000.000077")
    assert slack_http_app.action(payload).status == 200
    post = api.wait_for("chat.postMessage")[0]
    assert (post.params["channel"], post.params["thread_ts"]) == (CHANNEL, "1700000000.000077")
    assert post.params["text"] == expected(core, text="", entry="charter-signatories")["text"]


def test_suggestion_button_under_a_private_answer_stays_private(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    payload = click("charte_entry_0", "escalation-overview", api.response_url("private"),
                    ephemeral=True)
    slack_http_app.action(payload)
    sent = api.wait_for("response:private")[0]
    assert sent.params["response_type"] == "ephemeral"
    assert sent.params["replace_original"] is False
    assert sent.params["text"] == expected(core, text="", entry="escalation-overview")["text"]
    assert not api.calls_to("chat.postMessage")


def test_feedback_buttons_are_stored_and_thanked_privately(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    slack_http_app.action(click(render.FEEDBACK_UP, "charter-signatories", api.response_url()))
    slack_http_app.action(click(render.FEEDBACK_DOWN, "problem-fees", api.response_url()))
    thanks = api.wait_for("chat.postEphemeral", 2)
    assert {(t.params["channel"], t.params["user"]) for t in thanks} == {(CHANNEL, SELLER)}
    rows = core.state.query("select entry, useful from feedback order by id")
    assert [(r["entry"], r["useful"]) for r in rows] == [("charter-signatories", 1),
                                                         ("problem-fees", 0)]


def test_retried_event_is_answered_once(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    body = event_body(mention("amazon a signé ?"))
    first = slack_http_app.event(body)
    retries = [slack_http_app.event(body, headers={"x-slack-retry-num": str(n),
                                                   "x-slack-retry-reason": "http_timeout"})
               for n in (1, 2, 3)]
    assert [a.status for a in (first, *retries)] == [200] * 4
    api.wait_for("chat.postMessage")
    time.sleep(SETTLE)
    assert len(api.calls_to("chat.postMessage")) == 1


def test_retry_arriving_while_the_first_delivery_is_slow_is_not_answered_again(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    api.delay("chat.postMessage", 1.0)
    body = event_body(direct("bonjour"))
    slack_http_app.event(body)
    retry = slack_http_app.event(body, headers={"x-slack-retry-num": "1",
                                                "x-slack-retry-reason": "http_timeout"})
    assert retry.status == 200
    api.wait_for("chat.postMessage")
    time.sleep(1.0 + SETTLE)
    assert len(api.calls_to("chat.postMessage")) == 1


def test_retry_after_a_restart_is_not_answered_again(
        api: FakeSlackApi, tmp_path: Path, serve: Any) -> None:
    body = event_body(direct("amazon a signé ?"))
    for _ in range(2):                       # two processes, one after the other, same data dir
        core = make_core(tmp_path)
        serve(slack.build_app(core, settings_for(api))).event(body)
        time.sleep(SETTLE)
        core.close()
    assert len(api.calls_to("chat.postMessage")) == 1


def test_bad_signature_is_refused(api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    answer = slack_http_app.event(event_body(mention("amazon ?")), secret="not-the-secret")
    assert answer.status == 401
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage")


def test_stale_signature_is_refused(api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    answer = slack_http_app.event(event_body(mention("amazon ?")), age=6 * 60)
    assert answer.status == 401
    assert slack_http_app.form(slash("amazon", api.response_url()), age=6 * 60).status == 401
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage")


def test_unsigned_request_is_refused(slack_http_app: SlackSender) -> None:
    body = json.dumps(event_body(mention("amazon ?"))).encode()
    answer = http(slack_http_app.url, body, {"content-type": "application/json"}, "POST")
    assert answer.status == 401


def test_url_verification_echoes_the_challenge(slack_http_app: SlackSender) -> None:
    answer = slack_http_app.event({"token": "legacy", "challenge": "c-123",
                                   "type": "url_verification"})
    assert answer.status == 200
    assert "c-123" in answer.body


def test_own_and_other_bots_messages_are_ignored(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    own = direct("Amazon a signé la charte le 7 décembre 2020.", user=BOT_USER_ID, bot_id=BOT_ID)
    other = direct("amazon a signé ?", user="U0OTHERBOT", bot_id="B0OTHER",
                   subtype="bot_message")
    bot_mention = mention("amazon ?") | {"bot_id": "B0OTHER"}
    edited = direct("", subtype="message_changed")
    for event in (own, other, bot_mention, edited):
        assert slack_http_app.event(event_body(event)).status == 200
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage")


def test_nobody_can_make_the_bot_notify_the_channel(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    slack_http_app.event(event_body(mention("<!channel> <!here> <@U0BOSS> amazon a signé ?")))
    slack_http_app.event(event_body(direct("&lt;!channel&gt; <!everyone> quoi ?")))
    api.wait_for("chat.postMessage", 2)
    sent = posted_text(api)
    for forbidden in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS>"):
        assert forbidden not in sent


def test_rate_limited_post_is_retried_politely_and_posted_once(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    api.fail_next("chat.postMessage", status=429, retry_after=1)
    answer = slack_http_app.event(event_body(mention("amazon a signé ?")))
    assert answer.status == 200
    assert answer.seconds < 1.0                     # acknowledged before the slow Web API work
    first, second = api.wait_for("chat.postMessage", 2, timeout=6)
    assert second.at - first.at >= 1.0             # waited Retry-After
    assert first.params == second.params
    time.sleep(SETTLE)
    assert len(api.calls_to("chat.postMessage")) == 2   # one refused, one posted: no duplicate


def test_failed_post_is_not_retried_into_a_duplicate(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    api.fail_next("chat.postMessage", status=500, retry_after=None)
    slack_http_app.event(event_body(mention("amazon a signé ?")))
    api.wait_for("chat.postMessage")
    time.sleep(SETTLE + 0.6)
    assert len(api.calls_to("chat.postMessage")) == 1


def test_app_home_shows_the_overview_in_the_members_language(
        api: FakeSlackApi, core: Charterbot, slack_http_app: SlackSender) -> None:
    api.locales["U0ANNA"] = "en-GB"
    slack_http_app.event(event_body({"type": "app_home_opened", "user": "U0ANNA",
                                     "channel": "D0ANNA", "tab": "home",
                                     "event_ts": "1700000500.000001"}))
    published = api.wait_for("views.publish")[0]
    assert api.calls_to("users.info")[0].params["include_locale"] in (True, "true", "1")
    assert published.params["user_id"] == "U0ANNA"
    assert published.params["view"] == render.home_view(core.overview("en"))
    assert published.params["view"]["type"] == "home"


def test_app_home_falls_back_to_french(api: FakeSlackApi, core: Charterbot,
                                       slack_http_app: SlackSender) -> None:
    api.fail_next("users.info", status=404, retry_after=None)
    slack_http_app.event(event_body({"type": "app_home_opened", "user": "U0LEA", "tab": "home",
                                     "event_ts": "1700000500.000002"}))
    published = api.wait_for("views.publish")[0]
    assert published.params["view"] == render.home_view(core.overview("fr"))


def test_health_check(slack_http_app: SlackSender) -> None:
    answer = http(slack_http_app.base + slack_http.HEALTH_PATH)
    assert (answer.status, answer.body.strip()) == (200, "ok")
    assert http(slack_http_app.base + "/elsewhere").status == 404


# -- many workspaces (OAuth) -----------------------------------------------------------------------
def test_install_page_links_to_slack_with_client_id_and_state(
        api: FakeSlackApi, core: Charterbot, serve: Any) -> None:
    settings = settings_for(api, bot_token=None, client_id="111.222", client_secret="s3cret")
    sender = serve(slack.build_app(core, settings))
    page = http(sender.base + "/slack/install")
    assert page.status == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.body)
    assert link, page.body
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == ["111.222"]
    assert query["state"][0]
    assert set(query["scope"][0].split(",")) == set(slack.SCOPES)


def test_installation_is_kept_and_used_for_its_workspace(
        api: FakeSlackApi, core: Charterbot, serve: Any, tmp_path: Path) -> None:
    settings = settings_for(api, bot_token=None, client_id="111.222", client_secret="s3cret")
    sender = serve(slack.build_app(core, settings))
    page = http(sender.base + "/slack/install")
    cookie = SimpleCookie(page.headers["set-cookie"])
    state = cookie["slack-app-oauth-state"].value
    done = http(f"{sender.base}/slack/oauth_redirect?code=c0de&state={state}",
                headers={"cookie": f"slack-app-oauth-state={state}"})
    assert done.status == 200, done.body
    assert api.calls_to("oauth.v2.access")[0].params["code"] == "c0de"
    assert (tmp_path / slack.INSTALL_DB).exists()

    event = mention("amazon a signé ?")
    assert sender.event(event_body(event, team="T0OTHER")).status == 200
    post = api.wait_for("chat.postMessage")[0]
    assert post.token == "xoxb-other-workspace"
    assert post.params["thread_ts"] == event["ts"]


# -- Socket Mode ------------------------------------------------------------------------------------
@pytest.fixture
def socket_mode(api: FakeSlackApi, core: Charterbot) -> Iterator[FakeSocketMode]:
    """charterbot in Socket Mode against the fake websocket server, stopped at the end."""
    server = FakeSocketMode().start()
    api.socket_url = server.url
    stop = threading.Event()
    runner = threading.Thread(target=slack.run, args=(core, settings_for(api), False, stop))
    runner.start()
    server.wait_connected()
    yield server
    stop.set()
    runner.join(10)
    assert not runner.is_alive()
    server.wait_disconnected()
    server.stop()


def test_socket_mode_event_is_acked_and_answered(
        api: FakeSlackApi, socket_mode: FakeSocketMode) -> None:
    assert api.calls_to("apps.connections.open")[0].token == APP_TOKEN
    event = mention("amazon a signé ?")
    message = envelope("events_api", event_body(event))
    socket_mode.send(message)
    assert socket_mode.wait_for_ack(message["envelope_id"])["envelope_id"] == message[
        "envelope_id"]
    post = api.wait_for("chat.postMessage")[0]
    assert (post.params["channel"], post.params["thread_ts"]) == (CHANNEL, event["ts"])


def test_socket_mode_retried_event_is_answered_once(
        api: FakeSlackApi, socket_mode: FakeSocketMode) -> None:
    body = event_body(direct("amazon a signé ?"))
    first, retry = envelope("events_api", body), envelope("events_api", body, retry_attempt=1)
    socket_mode.send(first)
    socket_mode.send(retry)
    socket_mode.wait_for_ack(first["envelope_id"])
    socket_mode.wait_for_ack(retry["envelope_id"])
    api.wait_for("chat.postMessage")
    time.sleep(SETTLE)
    assert len(api.calls_to("chat.postMessage")) == 1


def test_socket_mode_slash_command_answer_comes_with_the_ack(
        api: FakeSlackApi, core: Charterbot, socket_mode: FakeSocketMode) -> None:
    message = envelope("slash_commands", slash("qui a signé ?", api.response_url()))
    socket_mode.send(message)
    payload = socket_mode.wait_for_ack(message["envelope_id"])["payload"]
    assert payload["response_type"] == "ephemeral"
    assert payload["text"] == expected(core, text="qui a signé ?")["text"]


# -- main(): settings and signals -----------------------------------------------------------------
def test_missing_variables_are_named_on_one_line(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    env = {"CHARTERBOT_DATA_DIR": str(tmp_path)}
    assert slack.main(http=False, env=env) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SLACK_APP_TOKEN" in err and "SLACK_BOT_TOKEN" in err
    assert slack.main(http=True, env=env | {"SLACK_BOT_TOKEN": BOT_TOKEN}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SLACK_SIGNING_SECRET" in err
    assert slack.main(http=True, env=env | {"SLACK_SIGNING_SECRET": SECRET,
                                            "SLACK_CLIENT_ID": "111.222"}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SLACK_CLIENT_SECRET" in err
    assert slack.main(http=False, env=env | {"SLACK_APP_TOKEN": BOT_TOKEN,
                                             "SLACK_BOT_TOKEN": BOT_TOKEN}) == 2
    assert "xapp-" in capsys.readouterr().err


def test_settings_from_the_environment() -> None:
    env = {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN, "PORT": "8080",
           "SLACK_API_URL": "http://127.0.0.1:9/api"}
    settings = slack.SlackSettings.from_env(env, http=True)
    assert (settings.port, settings.api_url) == (8080, "http://127.0.0.1:9/api/")
    assert slack.SlackSettings.from_env({"SLACK_APP_TOKEN": APP_TOKEN,
                                         "SLACK_BOT_TOKEN": BOT_TOKEN}, http=False
                                        ).api_url == slack.DEFAULT_API_URL


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_main(http_mode: bool, env: dict[str, str]) -> subprocess.Popen[str]:
    """`main()` in its own process, as `charterbot run slack [--http]` runs it."""
    code = f"import sys; from adapters.slack import main; sys.exit(main(http={http_mode}))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=clean | env,
                            stderr=subprocess.PIPE, text=True)


def _stop_with_sigterm(process: subprocess.Popen[str]) -> int:
    try:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if http(f"http://127.0.0.1:{port}{slack_http.HEALTH_PATH}").status == 200:
                return
        except OSError:
            time.sleep(0.1)


def test_http_mode_process_stops_cleanly_on_sigterm(api: FakeSlackApi, tmp_path: Path) -> None:
    port = _free_port()
    process = _start_main(True, {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN,
                                 "PORT": str(port), "SLACK_API_URL": api.base_url,
                                 "CHARTERBOT_DATA_DIR": str(tmp_path)})
    _wait_healthy(port, process)
    assert _stop_with_sigterm(process) == 0
    assert api.calls_to("auth.test")                 # it checked its token at start


def test_socket_mode_process_stops_cleanly_on_sigterm(api: FakeSlackApi, tmp_path: Path) -> None:
    server = FakeSocketMode().start()
    api.socket_url = server.url
    process = _start_main(False, {"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_BOT_TOKEN": BOT_TOKEN,
                                  "SLACK_API_URL": api.base_url,
                                  "CHARTERBOT_DATA_DIR": str(tmp_path)})
    try:
        server.wait_connected(timeout=15)
        assert _stop_with_sigterm(process) == 0
        server.wait_disconnected()
    finally:
        server.stop()


def test_manifest_matches_the_adapter() -> None:
    """slack-manifest.yaml asks for what the adapter uses: scopes, events, /charte, buttons."""
    manifest = yaml.safe_load((REPO / "slack-manifest.yaml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(slack.SCOPES)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "app_home_opened", "app_uninstalled", "tokens_revoked"}
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [slack.SLASH_COMMAND]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    docs = (REPO / "docs" / "slack.md").read_text()
    shown = re.search(r"```yaml\n(.*?)```", docs, re.DOTALL)
    assert shown and yaml.safe_load(shown.group(1)) == manifest    # the README shows the file
