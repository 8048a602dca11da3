"""Slack deliveries as issue 11 wants them: stored before the acknowledgement, answered once even
by several processes on one database, a 429 run waited out, a failed reply answered on Slack's
retry, and what a dead process acknowledged answered after a restart.

The real slack-bolt app in HTTP mode gets signed requests; the Web API is the fake of
tests/fakes/slack_api.py. 429 waits go through a fake sleep, so 30 s of them take no time.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import slack, slack_http
from adapters.slack_delivery import RateLimitBudget, start_resuming
from bot.inbox import Inbox
from bot.library import INDEX_FILE
from bot.service import Charterbot
from bot.settings import Settings
from tests import databases, test_slack
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlackApi
from tests.test_slack import SECRET, SlackSender, direct, event_body

database_url = databases.database_url  # fixture: SQLite, and PostgreSQL when there is one
WAIT = 5.0


class FakeSleep:
    """slack-sdk's sleep between 429 retries: records the waits, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


no_slack_env = test_slack.no_slack_env  # fixtures shared with the Slack adapter's tests
api = test_slack.api


@pytest.fixture(scope="session")
def knowledge_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("index")
    Charterbot(Settings(data_dir=data_dir)).close()
    return data_dir / INDEX_FILE


def new_core(data_dir: Path, knowledge_index: Path, url: str | None = None) -> Charterbot:
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(knowledge_index, data_dir / INDEX_FILE)
    return Charterbot(Settings(data_dir=data_dir, database_url=url, secret="k" * 32))


@pytest.fixture
def core(tmp_path: Path, knowledge_index: Path) -> Iterator[Charterbot]:
    bot = new_core(tmp_path / "data", knowledge_index)
    yield bot
    bot.close()


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def serve(api: FakeSlackApi, sleep: FakeSleep) -> Iterator[Callable[..., SlackSender]]:
    """Start charterbot's HTTP mode for a core (several may share one database)."""
    running: list[Any] = []

    def start(core: Charterbot, resume_every: float | None = None) -> SlackSender:
        settings = slack.SlackSettings(signing_secret=SECRET, bot_token=BOT_TOKEN,
                                       app_token=APP_TOKEN, api_url=api.base_url)
        inbox = Inbox(core.state, "slack", retry_in=0.0)
        client = slack.web_client(settings, RateLimitBudget(sleep=sleep))
        app = slack.build_app(core, settings, inbox=inbox, client=client)
        server, thread = slack_http.start_server(app, "127.0.0.1", 0)
        running.append(lambda: slack_http.stop_server(server, thread))
        if resume_every is not None:
            stop, _ = start_resuming(app, inbox, resume_every)
            running.append(stop.set)
        return SlackSender(f"http://127.0.0.1:{server.server_address[1]}")

    yield start
    for stop in reversed(running):
        stop()


def settled(core: Charterbot, expected: dict[str, int]) -> dict[str, int]:
    """The inbox counts once they equal `expected`, or after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while (counts := core.state.inbox_counts()) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return counts


def quiet(api: FakeSlackApi, method: str = "chat.postMessage", settle: float = 0.4) -> int:
    """How many calls of `method` once none has come for `settle` seconds."""
    count = -1
    while count != len(api.calls_to(method)):
        count = len(api.calls_to(method))
        time.sleep(settle)
    return count


def test_a_429_run_of_30_seconds_is_answered_once(
        api: FakeSlackApi, core: Charterbot, serve: Any, sleep: FakeSleep) -> None:
    sender = serve(core)
    api.fail_next("chat.postMessage", status=429, retry_after=5, times=6)
    assert sender.event(event_body(direct("amazon a signé la charte ?"))).status == 200
    calls = api.wait_for("chat.postMessage", 7)
    assert "Amazon" in calls[-1].params["text"]
    assert sum(round(w) for w in sleep.waits) == 30
    assert quiet(api) == 7  # six refused, one accepted: one answer
    assert settled(core, {"answered": 1}) == {"answered": 1}


def test_a_reply_that_failed_is_answered_on_slacks_retry(
        api: FakeSlackApi, core: Charterbot, serve: Any) -> None:
    sender = serve(core)
    api.fail_next("chat.postMessage", status=429, retry_after=30, times=3)  # 90 s: over budget
    body = event_body(direct("amazon a signé la charte ?"))
    assert sender.event(body).status == 200
    assert settled(core, {"pending": 1}) == {"pending": 1}  # not answered, not forgotten
    api.fail_next("chat.postMessage", status=429, retry_after=30, times=0)
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_error"}
    assert sender.event(body, headers=retry).status == 200
    assert settled(core, {"answered": 1}) == {"answered": 1}
    accepted = api.calls_to("chat.postMessage")[-1]
    assert "Amazon" in accepted.params["text"]


def test_an_event_is_stored_before_slack_gets_its_200(
        api: FakeSlackApi, core: Charterbot, serve: Any) -> None:
    api.delay("chat.postMessage", 1.0)  # the answer is still on its way when Slack has its 200
    sender = serve(core)
    assert sender.event(event_body(direct("amazon a signé la charte ?"))).status == 200
    assert core.state.inbox_counts() == {"working": 1}
    api.wait_for("chat.postMessage")
    assert settled(core, {"answered": 1}) == {"answered": 1}


def test_a_restarted_process_answers_what_a_dead_one_acknowledged(
        api: FakeSlackApi, core: Charterbot, serve: Any) -> None:
    body = event_body(direct("amazon a signé la charte ?"))
    key = f"slack:event:{body['event_id']}"
    core.state.receive(key, "slack", json.dumps(body), grace=0)
    assert core.state.claim(key, "a process killed while answering", lease=0)
    serve(core, resume_every=0.05)
    [post] = api.wait_for("chat.postMessage")
    assert "Amazon" in post.params["text"]
    assert settled(core, {"answered": 1}) == {"answered": 1}
    assert quiet(api) == 1


def test_several_processes_on_one_database_answer_each_event_once(
        api: FakeSlackApi, tmp_path: Path, knowledge_index: Path, serve: Any,
        database_url: str) -> None:
    cores = [new_core(tmp_path / f"p{n}", knowledge_index, database_url) for n in range(3)]
    senders = [serve(c) for c in cores]
    bodies = [event_body(direct("amazon a signé la charte ?", user=f"U0SELLER{n}"))
              for n in range(20)]  # 20 sellers: one seller's flood would be rate limited

    def deliver_everywhere(body: dict[str, Any]) -> None:
        for sender in senders:  # Slack's retries reaching every process behind the balancer
            assert sender.event(body, headers={"x-slack-retry-num": "1"}).status == 200

    threads = [threading.Thread(target=deliver_everywhere, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    api.wait_for("chat.postMessage", len(bodies))
    assert quiet(api) == len(bodies)
    assert settled(cores[0], {"answered": len(bodies)}) == {"answered": len(bodies)}
    for c in cores:
        c.close()

