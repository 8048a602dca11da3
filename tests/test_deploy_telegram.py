"""Telegram deliveries as issue 11 wants them: nothing acknowledged is lost, one chat's trouble
never holds up another, and a 429 run is waited out and answered once.

The real python-telegram-bot Application talks to the fake Bot API (tests/fakes/telegram_api.py);
429 waits go through a fake clock (the limiter's `sleep`), so a 30-second run takes milliseconds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram import ALLOWED_UPDATES, TelegramConfig, build
from adapters.telegram_delivery import RETRY_BUDGET_SECONDS, ChatProcessor, ChatRateLimiter
from bot.service import Charterbot
from bot.settings import Settings
from tests import test_telegram
from tests.fakes.telegram_api import TOKEN, FakeBotApi, text_update
from tests.test_telegram import webhook_app

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
OTHER_CHAT = 7


class FakeClock:
    """The limiter's sleep: records each wait; a test may hold sleepers until it says so."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.release = asyncio.Event()
        self.release.set()
        self.sleeping = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleeping.set()
        await self.release.wait()


api = test_telegram.api  # the fake Bot API server, shared with the adapter's tests


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Charterbot]:
    bot = Charterbot(replace(Settings(), data_dir=tmp_path / "data"))
    yield bot
    bot.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def start_polling(app: Any) -> None:
    await app.initialize()
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await app.start()


async def stop_polling(app: Any) -> None:
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


@pytest.fixture
async def polling(api: FakeBotApi, core: Charterbot, clock: FakeClock) -> AsyncIterator[Any]:
    app = build(core, TelegramConfig(TOKEN, api.base_url), ChatRateLimiter(sleep=clock.sleep))
    await start_polling(app)
    yield app
    await stop_polling(app)


@asynccontextmanager
async def resuming(api: FakeBotApi, core: Charterbot, clock: FakeClock | None = None,
                   retry_in: float | None = None) -> AsyncIterator[Any]:
    """A polling application that looks for unanswered updates every 50 ms (and, with
    `retry_in`, tries a failed one again after that long), stopped at the end."""
    limiter = ChatRateLimiter(sleep=clock.sleep) if clock else None
    app = build(core, TelegramConfig(TOKEN, api.base_url), limiter)
    processor = app.update_processor
    assert isinstance(processor, ChatProcessor)
    processor.resume_interval = 0.05
    if retry_in is not None:
        processor.inbox.retry_in = retry_in
    await start_polling(app)
    try:
        yield app
    finally:
        await stop_polling(app)


def inbox_counts(core: Charterbot) -> dict[str, int]:
    return core.state.inbox_counts()


async def test_a_chat_waiting_out_a_429_does_not_delay_another(
        api: FakeBotApi, polling: Any, clock: FakeClock, core: Charterbot) -> None:
    clock.release.clear()  # the 429'd chat waits until the test lets it go
    api.fail_next("sendMessage", retry_after=30, chat_id=42)
    api.push(text_update("amazon a signé ?"))
    await asyncio.wait_for(clock.sleeping.wait(), 5)
    api.push(text_update("bonjour", user_id=OTHER_CHAT, chat_id=OTHER_CHAT))
    [other] = await api.wait_for("sendMessage")  # answered while chat 42 still waits
    assert other["chat_id"] == str(OTHER_CHAT)
    clock.release.set()
    sent = await api.wait_for("sendMessage", 2)
    assert [s["chat_id"] for s in sent] == [str(OTHER_CHAT), "42"]


async def test_a_429_run_of_30_seconds_is_answered_once(
        api: FakeBotApi, polling: Any, clock: FakeClock, core: Charterbot) -> None:
    api.fail_next("sendMessage", retry_after=5, times=6)  # Telegram says no for 30 s
    api.push(text_update("amazon a signé ?"))
    [sent] = await api.wait_for("sendMessage")
    assert "Amazon" in sent["text"]
    assert sum(round(w) for w in clock.waits) == 30
    assert len(await api.quiet()) == 1
    assert inbox_counts(core) == {"answered": 1}


async def test_a_429_run_longer_than_the_budget_is_answered_on_a_later_attempt(
        api: FakeBotApi, core: Charterbot, clock: FakeClock) -> None:
    runs = int(RETRY_BUDGET_SECONDS // 5) + 2  # more than a minute of 429s
    api.fail_next("sendMessage", retry_after=5, times=runs)
    async with resuming(api, core, clock, retry_in=0.0):
        api.push(text_update("amazon a signé ?"))
        [sent] = await api.wait_for("sendMessage")
        assert "Amazon" in sent["text"] and len(await api.quiet()) == 1
        assert inbox_counts(core) == {"answered": 1}


async def test_an_update_is_stored_before_the_webhook_answers_200(
        api: FakeBotApi, core: Charterbot) -> None:
    async with webhook_app(api, core) as app:
        assert await api.deliver(text_update("amazon a signé ?")) == 200  # nothing handles it yet
        assert inbox_counts(core) == {"pending": 1}
        await app.start()
        [sent] = await api.wait_for("sendMessage")
        assert "Amazon" in sent["text"]
        await asyncio.wait_for(_until(lambda: inbox_counts(core) == {"answered": 1}), 5)


async def test_a_restarted_process_answers_what_a_dead_one_acknowledged(
        api: FakeBotApi, core: Charterbot) -> None:
    update = text_update("amazon a signé ?")
    core.state.receive(f"telegram:update:{update['update_id']}", "telegram", json.dumps(update),
                       grace=0)
    assert core.state.claim(f"telegram:update:{update['update_id']}", "dead process", lease=0)
    async with resuming(api, core):
        [sent] = await api.wait_for("sendMessage")
        assert "Amazon" in sent["text"] and len(await api.quiet()) == 1
        assert inbox_counts(core) == {"answered": 1}


async def test_a_webhook_retry_of_an_answered_update_is_not_answered_again(
        api: FakeBotApi, core: Charterbot) -> None:
    async with webhook_app(api, core) as app:
        await app.start()
        update = text_update("amazon a signé ?")
        for _ in range(3):
            assert await api.deliver(update) == 200
        await api.wait_for("sendMessage")
        assert len(await api.quiet()) == 1


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.02)



async def test_a_case_answer_whose_reply_failed_is_not_taken_again_on_retry(
        api: FakeBotApi, core: Charterbot, clock: FakeClock) -> None:
    """The reply to a typed case answer cannot be sent for over a minute: the update is tried
    again later, and the seller then gets the question that answer led to, not the one after."""
    async with resuming(api, core, clock, retry_in=0.0):
        for number, text in enumerate(("/dossier", "Amazon", "mon compte a été fermé"), 1):
            api.push(text_update(text))
            await api.wait_for("sendMessage", number)
        runs = int(RETRY_BUDGET_SECONDS // 5) + 2  # the reply to the date fails for over a minute
        api.fail_next("sendMessage", retry_after=5, times=runs)
        api.push(text_update("12/11/2026"))
        sent = await api.wait_for("sendMessage", 4)
        assert "prévenu" in sent[3]["text"] and len(await api.quiet()) == 4
        stored = core.state.case(core.state.pseudonym("telegram:42"))
        assert stored is not None and '"notice": ""' in stored[0]  # the date was not reused
