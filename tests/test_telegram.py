"""End to end: the real python-telegram-bot Application over HTTP against a fake Bot API.

The fake (tests/fakes/telegram_api.py) listens on 127.0.0.1; no token, no internet. Each test
asserts what a seller would see: the messages the bot sends back, their buttons, replies in groups.
"""

from __future__ import annotations

import asyncio
import html
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.telegram import (
    ALLOWED_UPDATES,
    TelegramConfig,
    build,
    main,
    start_webhook,
    stop_webhook,
)
from adapters.telegram_render import CALLBACK_LIMIT, TEXT_LIMIT, render, size
from bot.library import INDEX_FILE
from bot.model import Message
from bot.phrases import say
from bot.report import feedback_summary
from bot.service import RATE_LIMIT_MESSAGES, Charterbot
from bot.settings import Settings
from tests.fakes.telegram_api import (
    BOT_USERNAME,
    GROUP_ID,
    SELLER_ID,
    TOKEN,
    FakeBotApi,
    callback_update,
    mention_update,
    message_update,
    sticker_update,
    text_update,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret_token-for-tests"
WAIT = 5.0  # seconds any single expectation may take
# AIORateLimiter reads RetryAfter.retry_after, deprecated as an int in PTB 22.2: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh data dir per test, no real Telegram settings, and no proxy for 127.0.0.1."""
    monkeypatch.setenv("CHARTERBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_WEBHOOK_URL",
                 "TELEGRAM_WEBHOOK_SECRET", "PORT", "CHARTERBOT_ADMINS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="session")
def compiled_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The knowledge compiled once per session (the core rebuilds it in an empty data dir)."""
    data_dir = tmp_path_factory.mktemp("index")
    Charterbot(replace(Settings.from_env(), data_dir=data_dir)).close()
    return data_dir / INDEX_FILE


def data_dir_with_index(data_dir: Path, compiled_index: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(compiled_index, data_dir / INDEX_FILE)
    return data_dir


@pytest.fixture
def core(tmp_path: Path, compiled_index: Path) -> Iterator[Charterbot]:
    data_dir = data_dir_with_index(tmp_path / "data", compiled_index)
    bot = Charterbot(replace(Settings.from_env(), data_dir=data_dir))
    yield bot
    bot.close()


@pytest.fixture
async def polling(api: FakeBotApi, core: Charterbot) -> AsyncIterator[Any]:
    """The adapter's Application, long polling the fake, as run_polling would start it."""
    app = build(core, TelegramConfig(TOKEN, api.base_url))
    assert app.updater is not None and app.post_init is not None
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await app.start()
    yield app
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


@asynccontextmanager
async def webhook_app(api: FakeBotApi, core: Charterbot) -> AsyncIterator[Any]:
    """The bot's webhook server on a free port, initialised but not started: the test starts it."""
    port = free_port()
    config = TelegramConfig(TOKEN, api.base_url, True, f"http://127.0.0.1:{port}/telegram",
                            SECRET, port)
    app = build(core, config)
    await app.initialize()
    server = await start_webhook(app, config, listen="127.0.0.1")
    try:
        yield app
    finally:
        await stop_webhook(server)
        if app.running:
            await app.stop()
        await app.shutdown()


@pytest.fixture
async def webhook(api: FakeBotApi, core: Charterbot) -> AsyncIterator[Any]:
    """The adapter's Application serving its webhook on 127.0.0.1, as serve_webhook does."""
    async with webhook_app(api, core) as app:
        await app.start()
        yield app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def seen(text: str) -> str:
    """A core sentence as it appears in Telegram HTML."""
    return html.escape(text, quote=False)


def buttons(sent: dict[str, Any]) -> list[dict[str, Any]]:
    markup = sent.get("reply_markup") or {"inline_keyboard": []}
    return [button for row in markup["inline_keyboard"] for button in row]


# --- polling -----------------------------------------------------------------------------------

async def test_start_registers_menus_and_polls(api: FakeBotApi, polling: Any) -> None:
    menus = api.sent("setMyCommands")
    assert {m.get("language_code") for m in menus} == {None, "fr", "en"}
    names = {m.get("language_code"): [c["command"] for c in m["commands"]] for m in menus}
    assert {"start", "help", "signataires", "recours", "langue"} <= set(names["fr"])
    assert {"start", "help", "signatories", "escalate", "language"} <= set(names["en"])
    assert api.sent("deleteWebhook"), "polling must clear any webhook first"
    [poll, *_] = await api.wait_for("getUpdates")
    assert poll["allowed_updates"] == ["message", "callback_query"]


async def test_private_question_gets_the_answer_with_sources_and_thumbs(
    api: FakeBotApi, polling: Any
) -> None:
    api.push(text_update("Amazon a-t-il signé la charte ?"))
    [sent] = await api.wait_for("sendMessage")
    assert sent["chat_id"] == str(SELLER_ID)
    assert sent["parse_mode"] == "HTML"
    assert "Amazon" in sent["text"]
    assert '<a href="https://' not in sent["text"]  # the sources are behind their button
    assert "reply_parameters" not in sent  # no quoting in a private chat
    assert say("more_sources", "fr") in [b["text"] for b in buttons(sent)]
    data = [b["callback_data"] for b in buttons(sent)]
    assert [d[:4] for d in data[-2:]] == ["f:+:", "f:-:"]  # 👍 / 👎 for the entry answered
    assert all(len(d.encode()) <= CALLBACK_LIMIT for d in data)


async def test_start_with_deep_link_opens_the_topic(api: FakeBotApi, polling: Any) -> None:
    api.push(text_update("/start signataires"))
    [sent] = await api.wait_for("sendMessage")
    assert seen(say("signatories_heading", "fr")) in sent["text"]
    assert "Leboncoin" in sent["text"]


async def test_plain_start_shows_topics_as_buttons(api: FakeBotApi, polling: Any) -> None:
    api.push(text_update("/start"))
    [sent] = await api.wait_for("sendMessage")
    assert seen(say("overview_intro", "fr")) in sent["text"]
    data = [b["callback_data"] for b in buttons(sent)]
    assert len(data) >= 3 and all(d.startswith("e:fr:") for d in data)
    assert all(len(d.encode()) <= CALLBACK_LIMIT for d in data)


async def test_english_aliases_and_language_preference_persist(
    api: FakeBotApi, polling: Any
) -> None:
    api.push(text_update("/language en"))
    [done] = await api.wait_for("sendMessage")
    assert done["text"] == seen(say("language_set", "en"))
    api.push(text_update("/escalate"))
    sent = await api.wait_for("sendMessage", 2)
    assert say("more_steps", "en") in [b["text"] for b in buttons(sent[1])]


async def test_button_press_answers_that_entry(api: FakeBotApi, polling: Any) -> None:
    api.push(text_update("/start"))
    await api.wait_for("sendMessage")
    menu = api.messages[-1]
    api.push(callback_update("e:fr:escalation-overview", menu))
    sent = await api.wait_for("sendMessage", 2)
    assert api.sent("answerCallbackQuery"), "the button must stop spinning"
    assert say("more_steps", "fr") in [b["text"] for b in buttons(sent[1])]


async def test_suggestion_pressed_after_an_english_question_answers_in_english(
    api: FakeBotApi, polling: Any, core: Charterbot
) -> None:
    api.push(text_update("tell me about the charter and the fees"))
    [first] = await api.wait_for("sendMessage")
    opens = [b["callback_data"] for b in buttons(first) if b["callback_data"].startswith("e:")]
    assert all(data.startswith("e:en:") for data in opens)
    data = opens[0] if opens else "e:en:escalation-overview"
    api.push(callback_update(data, api.messages[-1]))
    sent = await api.wait_for("sendMessage", 2)
    entry = data.split(":")[-1]
    english = core.handle(Message(text="", user="telegram:1", channel="telegram", entry=entry,
                                  lang="en"))
    assert english.lang == "en" and sent[1]["text"] == render(english)[0]


async def test_thumbs_up_is_stored_and_thanked(api: FakeBotApi, polling: Any,
                                               core: Charterbot) -> None:
    api.push(text_update("Amazon a-t-il signé la charte ?"))
    [sent] = await api.wait_for("sendMessage")
    thumbs_up = buttons(sent)[-2]["callback_data"]
    api.push(callback_update(thumbs_up, api.messages[-1]))
    [thanks] = await api.wait_for("answerCallbackQuery")
    assert thanks["text"] == say("feedback_thanks", "fr")
    [edited] = await api.wait_for("editMessageReplyMarkup")
    remaining = [b["callback_data"] for row in edited.get("reply_markup", {}).get(
        "inline_keyboard", []) for b in row]
    assert not any(d.startswith("f:") for d in remaining)
    entry = thumbs_up.removeprefix("f:+:")
    assert feedback_summary(core.state) == [{"entry": entry, "up": 1, "down": 0}]


async def test_forged_button_is_acknowledged_and_ignored(api: FakeBotApi, polling: Any) -> None:
    api.push(text_update("/start"))
    await api.wait_for("sendMessage")
    api.push(callback_update("zz:unknown", api.messages[-1]))
    await api.wait_for("answerCallbackQuery")
    assert len(await api.quiet()) == 1


async def test_group_mention_is_answered_as_a_reply(api: FakeBotApi, polling: Any) -> None:
    update = mention_update("Amazon a-t-il signé la charte ?")
    api.push(update)
    [sent] = await api.wait_for("sendMessage")
    assert sent["chat_id"] == str(GROUP_ID)
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert "Amazon" in sent["text"]


async def test_group_message_without_mention_is_ignored(api: FakeBotApi, polling: Any) -> None:
    api.push(text_update("Amazon a-t-il signé la charte ?", chat_id=GROUP_ID),
             sticker_update(chat_id=GROUP_ID),
             text_update("/start@some_other_bot", chat_id=GROUP_ID))
    await api.wait_for("getUpdates", len(api.sent("getUpdates")) + 1)  # polled past them
    assert await api.quiet() == []


async def test_group_reply_to_the_bot_and_group_command_are_answered(
    api: FakeBotApi, polling: Any
) -> None:
    command = text_update(f"/recours@{BOT_USERNAME}", chat_id=GROUP_ID)
    api.push(command)
    [first] = await api.wait_for("sendMessage")
    assert first["reply_parameters"]["message_id"] == command["message"]["message_id"]
    follow_up = text_update("et pour les frais ?", chat_id=GROUP_ID,
                            reply_to_message=api.messages[-1])
    api.push(follow_up)
    sent = await api.wait_for("sendMessage", 2)
    assert sent[1]["reply_parameters"]["message_id"] == follow_up["message"]["message_id"]


async def test_sticker_gets_the_text_only_note(api: FakeBotApi, polling: Any) -> None:
    api.push(sticker_update())
    [sent] = await api.wait_for("sendMessage")
    assert sent["text"] == seen(say("text_only", "fr"))


async def test_photo_with_caption_answers_the_caption(api: FakeBotApi, polling: Any) -> None:
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    api.push(message_update(photo=photo, caption="Amazon a-t-il signé la charte ?"))
    [sent] = await api.wait_for("sendMessage")
    assert "Amazon" in sent["text"]


async def test_20000_characters_get_a_polite_answer(api: FakeBotApi, polling: Any) -> None:
    api.push(text_update("<b>amazon</b> & " * 1250))  # 20,000 characters with markup
    sent = await api.wait_for("sendMessage")
    assert seen(say("too_long", "fr")) in sent[0]["text"]
    assert all(size(s["text"]) <= TEXT_LIMIT for s in sent)
    api.push(text_update("bonjour"))  # and the bot is still there
    await api.wait_for("sendMessage", len(sent) + 1)


async def test_a_flood_gets_the_rate_limit_notice_and_others_are_still_served(
    api: FakeBotApi, polling: Any
) -> None:
    flood = [text_update(f"question {n}") for n in range(RATE_LIMIT_MESSAGES + 3)]
    api.push(*flood, text_update("bonjour", user_id=7, chat_id=7))
    await api.wait_for("sendMessage", RATE_LIMIT_MESSAGES + 2)
    sent = await api.quiet()
    notice = seen(say("rate_limited", "fr"))
    assert len(sent) == RATE_LIMIT_MESSAGES + 2  # the flooder is told once, then not answered
    assert [s["text"] for s in sent].count(notice) == 1
    [other] = [s for s in sent if s["chat_id"] == "7"]  # chats run side by side: any position
    assert other["text"] != notice


async def test_duplicate_update_is_answered_once(api: FakeBotApi, polling: Any) -> None:
    update = text_update("bonjour")
    api.push(update, update)  # Telegram redelivered it (e.g. after a restart)
    await api.wait_for("sendMessage")
    assert len(await api.quiet()) == 1


async def test_429_is_retried_after_retry_after(api: FakeBotApi, polling: Any) -> None:
    api.fail_next("sendMessage", retry_after=1)
    api.push(text_update("bonjour"))
    [sent] = await api.wait_for("sendMessage", timeout=WAIT + 2)
    rejected, delivered = api.called("sendMessage")
    assert rejected.params["_rejected"] == 429
    assert delivered.at - rejected.at >= 1.0
    assert sent["text"] == rejected.params["text"]


# --- webhook -----------------------------------------------------------------------------------

async def test_webhook_is_set_with_secret_and_answers(api: FakeBotApi, webhook: Any) -> None:
    assert api.webhook["url"].endswith("/telegram")
    assert api.webhook["secret_token"] == SECRET
    assert await api.deliver(text_update("Amazon a-t-il signé la charte ?")) == 200
    [sent] = await api.wait_for("sendMessage")
    assert "Amazon" in sent["text"]


async def test_webhook_refuses_a_wrong_or_missing_secret(api: FakeBotApi, webhook: Any) -> None:
    assert await api.deliver(text_update("bonjour"), secret="wrong") == 403
    assert await api.deliver(text_update("bonjour"), secret="") == 403
    assert await api.quiet() == []


async def test_webhook_duplicate_delivery_is_answered_once(api: FakeBotApi, webhook: Any) -> None:
    update = mention_update("bonjour")
    assert await api.deliver(update) == 200
    assert await api.deliver(update) == 200  # Telegram retried: still 200, no second answer
    await api.wait_for("sendMessage")
    assert len(await api.quiet()) == 1


async def test_webhook_button_press(api: FakeBotApi, webhook: Any) -> None:
    await api.deliver(text_update("/start"))
    await api.wait_for("sendMessage")
    await api.deliver(callback_update("e:fr:charter-signatories", api.messages[-1]))
    sent = await api.wait_for("sendMessage", 2)
    assert seen(say("signatories_heading", "fr")) in sent[1]["text"]


# --- configuration -----------------------------------------------------------------------------

def test_missing_token_is_one_line_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "TELEGRAM_BOT_TOKEN" in err[0]


def test_webhook_needs_url_secret_and_port(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main(webhook=True) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    for name in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "PORT"):
        assert name in line
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://example.invalid/telegram")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "not valid!")
    monkeypatch.setenv("PORT", "8443")
    assert main(webhook=True) == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err


def test_api_url_defaults_to_telegram() -> None:
    config = TelegramConfig.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert config.api_url == "https://api.telegram.org/bot" and not config.webhook
    custom = TelegramConfig.from_env({"TELEGRAM_BOT_TOKEN": TOKEN,
                                      "TELEGRAM_API_URL": "http://bot-api:8081/bot"})
    assert custom.api_url == "http://bot-api:8081/bot"


# --- the real process: `charterbot run telegram [--webhook]`, stopped by SIGTERM --------------

async def start_process(api: FakeBotApi, data_dir: Path, *args: str,
                        **env: str) -> asyncio.subprocess.Process:
    environ = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url,
               "CHARTERBOT_DATA_DIR": str(data_dir), **env}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())",
        "run", "telegram", *args, cwd=ROOT, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def stop_process(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """SIGTERM, then the exit code and stderr; fails if it takes more than a few seconds."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        _, err = await asyncio.wait_for(process.communicate(), WAIT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError("the bot did not stop within 5 s of SIGTERM") from None
    assert time.monotonic() - started < WAIT
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_polling_process_answers_and_stops_on_sigterm(
    api: FakeBotApi, tmp_path: Path, compiled_index: Path
) -> None:
    process = await start_process(api, data_dir_with_index(tmp_path / "run", compiled_index))
    try:
        update = text_update("bonjour")
        api.push(update)
        await api.wait_for("sendMessage", timeout=15)
    finally:
        code, err = await stop_process(process)
    assert code == 0, err
    assert TOKEN not in err  # request logs would leak the token
    assert int(api.sent("getUpdates")[-1]["offset"]) == update["update_id"] + 1  # confirmed


async def test_webhook_process_checks_secret_and_stops_on_sigterm(
    api: FakeBotApi, tmp_path: Path, compiled_index: Path
) -> None:
    port = free_port()
    process = await start_process(
        api, data_dir_with_index(tmp_path / "run", compiled_index), "--webhook",
        PORT=str(port), TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram")
    try:
        await api.wait_for("setWebhook", timeout=15)
        assert await deliver_when_listening(api, text_update("bonjour"), "wrong") == 403
        assert await api.deliver(text_update("bonjour")) == 200
        await api.wait_for("sendMessage")
    finally:
        code, err = await stop_process(process)
    assert code == 0, err


async def test_refused_token_is_one_line_and_never_logged(
    api: FakeBotApi, tmp_path: Path, compiled_index: Path
) -> None:
    wrong = "999:revoked-token"
    process = await start_process(api, data_dir_with_index(tmp_path / "run", compiled_index),
                                  TELEGRAM_BOT_TOKEN=wrong)
    _, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in err.decode().strip().splitlines()[-1]
    assert wrong not in err.decode()


async def deliver_when_listening(api: FakeBotApi, update: dict[str, Any], secret: str) -> int:
    """Deliver once the server accepts connections (it starts right after setWebhook)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return await api.deliver(update, secret=secret)
        except aiohttp.ClientConnectionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
