"""The production web process, as a platform runs it: `charterbot release`, then `charterbot run
web` with two workers, serving Telegram's webhook, Slack's events and /health on one port, against
the fake Bot API and the fake Slack Web API. Also: the Procfile, the Slack manifest and the docs
name the same mode.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import yaml

from bot.library import INDEX_FILE
from bot.service import Charterbot
from bot.settings import Settings
from tests import databases
from tests.fakes.slack_api import BOT_TOKEN, FakeSlackApi
from tests.fakes.telegram_api import TOKEN, FakeBotApi, text_update
from tests.test_slack import SECRET as SLACK_SECRET
from tests.test_slack import SlackSender, direct, event_body
from tests.test_telegram import SECRET as TELEGRAM_SECRET
from tests.test_telegram import free_port

ROOT = Path(__file__).resolve().parent.parent
STARTUP = 90.0  # seconds for the workers to load the knowledge on a busy machine
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
database_url = databases.database_url


@pytest.fixture(scope="module")
def knowledge_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("index")
    Charterbot(Settings(data_dir=data_dir)).close()
    return data_dir / INDEX_FILE


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def slack_api() -> Iterator[FakeSlackApi]:
    fake = FakeSlackApi().start()
    yield fake
    fake.stop()


def charterbot(*args: str) -> list[str]:
    return [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", *args]


def health(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


async def test_one_web_process_with_two_workers_serves_both_platforms(
        tmp_path: Path, knowledge_index: Path, telegram_api: FakeBotApi,
        slack_api: FakeSlackApi, database_url: str) -> None:
    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    (data / INDEX_FILE).write_bytes(knowledge_index.read_bytes())
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))},
           "NO_PROXY": "127.0.0.1", "CHARTERBOT_DATA_DIR": str(data),
           "DATABASE_URL": database_url, "CHARTERBOT_SECRET": "s" * 40,
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": telegram_api.base_url,
           "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
           "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
           "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_API_URL": slack_api.base_url, "PORT": str(port), "WEB_CONCURRENCY": "2"}
    release = await asyncio.create_subprocess_exec(*charterbot("release"), cwd=ROOT, env=env,
                                                   stderr=subprocess.PIPE)
    _, err = await release.communicate()
    assert release.returncode == 0, err.decode()[-500:]
    assert telegram_api.webhook["url"].endswith("/telegram")  # registered once, by the release
    assert telegram_api.webhook["secret_token"] == TELEGRAM_SECRET
    assert len(telegram_api.sent("setMyCommands")) == 3  # the menu: default, French, English
    web = subprocess.Popen(charterbot("run", "web"), cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + STARTUP
        while await asyncio.to_thread(health, port) != 200:
            assert web.poll() is None, web.stderr.read().decode()[-800:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the web process did not answer /health"
            await asyncio.sleep(0.2)
        assert await telegram_api.deliver(text_update("amazon a signé la charte ?")) == 200
        [sent] = await telegram_api.wait_for("sendMessage", timeout=20)
        assert "Amazon" in sent["text"]
        sender = SlackSender(f"http://127.0.0.1:{port}")
        answer = await asyncio.to_thread(sender.event, event_body(direct("amazon a signé ?")))
        assert answer.status == 200
        [post] = await asyncio.to_thread(slack_api.wait_for, "chat.postMessage", 1, 20)
        assert "Amazon" in post.params["text"]
        bad = await asyncio.to_thread(sender.event, event_body(direct("x")), secret="wrong")
        assert bad.status == 401
    finally:
        web.send_signal(signal.SIGTERM)
        assert web.wait(40) == 0
        stderr = web.stderr.read().decode()  # type: ignore[union-attr]
    assert TOKEN not in stderr and BOT_TOKEN not in stderr and "amazon a signé" not in stderr


def test_the_web_process_needs_a_platform_and_a_sane_worker_count(tmp_path: Path) -> None:
    env = {**os.environ, "CHARTERBOT_DATA_DIR": str(tmp_path)}
    for name in list(env):
        if name.startswith(("SLACK_", "TELEGRAM_")):
            del env[name]
    done = subprocess.run(charterbot("run", "web"), cwd=ROOT, env=env, capture_output=True,
                          timeout=60)
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in done.stderr.decode() and "SLACK_SIGNING_SECRET" in \
        done.stderr.decode()
    env |= {"SLACK_SIGNING_SECRET": "x", "SLACK_BOT_TOKEN": "xoxb-1", "WEB_CONCURRENCY": "0"}
    done = subprocess.run(charterbot("run", "web"), cwd=ROOT, env=env, capture_output=True,
                          timeout=60)
    assert done.returncode == 2 and "WEB_CONCURRENCY" in done.stderr.decode()


# -- the Procfile, the manifest and the docs agree ------------------------------------------------
def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_procfile_manifest_and_docs_name_the_same_mode() -> None:
    processes = procfile()
    assert processes["web"] == "charterbot run web"
    assert processes["release"] == "charterbot release"
    assert not any("--http" in c or c.endswith("run slack") or c.endswith("run telegram")
                   for c in processes.values()), "polling and Socket Mode are for local use"
    manifest = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text())
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    urls = [settings["event_subscriptions"]["request_url"],
            settings["interactivity"]["request_url"],
            *[c["url"] for c in manifest["features"]["slash_commands"]]]
    assert urls and all(u.endswith("/slack/events") for u in urls)
    assert all(u.endswith("/slack/oauth_redirect")
               for u in manifest["oauth_config"]["redirect_urls"])
    for doc in ("README.md", "docs/deploy.md", "docs/slack.md", "docs/telegram.md"):
        text = (ROOT / doc).read_text()
        assert "web: charterbot run web" in text, doc
        assert "release: charterbot release" in text, doc


@pytest.mark.filterwarnings("ignore:Using .httpx. with .starlette.testclient.")
def test_a_workspace_installed_through_one_worker_is_answered_by_another(
        tmp_path: Path, knowledge_index: Path, slack_api: FakeSlackApi, database_url: str) -> None:
    from http.cookies import SimpleCookie

    from starlette.testclient import TestClient

    from adapters.web import create_app
    from tests.test_slack import mention, sign

    env = {"CHARTERBOT_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url,
           "CHARTERBOT_SECRET": "s" * 40, "SLACK_SIGNING_SECRET": SLACK_SECRET,
           "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "s3cret",
           "SLACK_API_URL": slack_api.base_url}
    (tmp_path / INDEX_FILE).write_bytes(knowledge_index.read_bytes())
    with TestClient(create_app(env)) as first, TestClient(create_app(env)) as second:
        page = first.get("/slack/install")
        assert page.status_code == 200
        state = SimpleCookie(page.headers["set-cookie"])["slack-app-oauth-state"].value
        done = first.get(f"/slack/oauth_redirect?code=c0de&state={state}",
                         headers={"cookie": f"slack-app-oauth-state={state}"})
        assert done.status_code == 200, done.text
        body = json.dumps(event_body(mention("amazon a signé ?"), team="T0OTHER")).encode()
        now = int(time.time())
        answer = second.post("/slack/events", content=body, headers={
            "content-type": "application/json", "x-slack-request-timestamp": str(now),
            "x-slack-signature": sign(body, now, SLACK_SECRET)})
        assert answer.status_code == 200
        post = slack_api.wait_for("chat.postMessage")[0]
        assert post.token == "xoxb-other-workspace"  # the installation, read from the database
    assert not (tmp_path / "slack.sqlite").exists()
