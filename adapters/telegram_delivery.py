"""Telegram deliveries: stored before they are acknowledged, answered once, chats side by side.

- `receive` stores an update in the inbox (a webhook answers 200 only after it);
- `ChatProcessor` (python-telegram-bot's update processor) claims each update, runs the handlers
  with one lane per chat (a chat's updates in order, different chats concurrently), and marks it
  answered only when the handlers sent the reply; a failure leaves it for a later attempt;
- `ChatRateLimiter` keeps Telegram's flood limits and waits out a 429 for the refused call only
  (python-telegram-bot's AIORateLimiter pauses every chat), within a budget of a minute;
- `resume` hands the updates a dead process left (stored, claimed, never answered) to this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor

from bot.inbox import Inbox

log = logging.getLogger("charterbot.telegram")

MAX_CONCURRENT_UPDATES = 256      # updates handled at once by one process
OVERALL_PER_SECOND = 30           # Telegram: about 30 messages a second in all
GROUP_PER_MINUTE = 20             # Telegram: 20 messages a minute in one group
RETRY_BUDGET_SECONDS = 60.0       # a refused call is retried while its waits add up to this
RETRY_MARGIN = 0.1                # seconds added to retry_after
RESUME_INTERVAL = 10.0            # seconds between looks for deliveries left by a dead process

Sleep = Callable[[float], Awaitable[None]]


def update_key(update_id: int) -> str:
    """The inbox key of an update."""
    return f"telegram:update:{update_id}"


def lane_of(update: object) -> str:
    """What must be handled in order: the chat (or the user, for a press without a chat)."""
    if isinstance(update, Update):
        if update.effective_chat:
            return f"chat:{update.effective_chat.id}"
        if update.effective_user:
            return f"user:{update.effective_user.id}"
    return "other"


def receive(inbox: Inbox, update_id: int, body: str) -> bool:
    """Store an update's raw JSON before it is acknowledged; False if stored before."""
    return inbox.receive(update_key(update_id), body)


class ChatProcessor(BaseUpdateProcessor):
    """Claims, runs and settles each update: one lane per chat, chats concurrently."""

    def __init__(self, inbox: Inbox, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        self.inbox = inbox
        self.app: Any = None              # set by the adapter's build: resumed updates go there
        self.resume_interval = RESUME_INTERVAL
        self._stop = asyncio.Event()
        self._resuming: asyncio.Task[None] | None = None
        self._lanes: dict[str, tuple[asyncio.Lock, int]] = {}
        self._failed: set[int] = set()

    def failed(self, update: object) -> None:
        """The error handler's report: this update's reply was not (fully) sent."""
        if isinstance(update, Update):
            self._failed.add(update.update_id)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers if this process wins the update; settle it afterwards."""
        if not isinstance(update, Update):
            await coroutine
            return
        key = update_key(update.update_id)
        async with self._lane(lane_of(update)):  # entered in arrival order: a chat stays in order
            if not await asyncio.to_thread(self._take, key, update):
                if isinstance(coroutine, Coroutine):
                    coroutine.close()
                log.info("telegram: update %s answered elsewhere or before, dropped",
                         update.update_id)
                return
            await coroutine
        if update.update_id in self._failed:
            self._failed.discard(update.update_id)
            await asyncio.to_thread(self.inbox.failed, key)
        else:
            await asyncio.to_thread(self.inbox.answered, key)

    def _take(self, key: str, update: Update) -> bool:
        # polling has nothing stored yet: store it now (a webhook stored it before its 200)
        return self.inbox.take(key, json.dumps(update.to_dict(), ensure_ascii=False))

    @contextlib.asynccontextmanager
    async def _lane(self, lane: str) -> Any:
        lock, users = self._lanes.get(lane) or (asyncio.Lock(), 0)
        self._lanes[lane] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._lanes[lane]
            if users == 1:
                del self._lanes[lane]
            else:
                self._lanes[lane] = (lock, users - 1)

    async def initialize(self) -> None:
        """Start taking over the updates a dead process left (with the Application)."""
        if self.app is not None:
            self._stop.clear()
            self._resuming = asyncio.create_task(
                resume(self.app, self.inbox, self._stop, self.resume_interval))

    async def shutdown(self) -> None:
        """Stop taking over updates."""
        self._stop.set()
        if self._resuming is not None:
            await self._resuming
            self._resuming = None


class ChatRateLimiter(BaseRateLimiter[int]):
    """Telegram's flood limits, and 429s waited out by the refused call alone.

    A `RetryAfter` makes only the call that got it wait `retry_after` (other chats go on), then
    try again, as long as its waits add up to at most RETRY_BUDGET_SECONDS; past that the error
    is raised and the update is tried again later from the inbox.
    """

    def __init__(self, budget: float = RETRY_BUDGET_SECONDS, sleep: Sleep = asyncio.sleep) -> None:
        self.budget = budget
        self._sleep = sleep
        self._overall = AsyncLimiter(OVERALL_PER_SECOND, 1)
        self._groups: dict[int | str, AsyncLimiter] = {}

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Call `callback` within the limits; on a 429, wait and call again within the budget."""
        waited = 0.0
        while True:
            try:
                async with self._limits(data.get("chat_id")):
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = exc.retry_after if isinstance(exc.retry_after, int | float) else \
                    exc.retry_after.total_seconds()
                if waited + wait > self.budget:
                    log.warning("telegram: %s refused with 429 for %.0f s, giving up for now",
                                endpoint, waited + wait)
                    raise
                waited += wait
                log.info("telegram: %s refused with 429, retrying after %.0f s", endpoint, wait)
                await self._sleep(wait + RETRY_MARGIN)

    @contextlib.asynccontextmanager
    async def _limits(self, chat_id: Any) -> Any:
        if chat_id is None:
            yield
            return
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        async with contextlib.AsyncExitStack() as stack:
            if group:
                if len(self._groups) > 1024:
                    self._groups = {k: v for k, v in self._groups.items()
                                    if not v.has_capacity(v.max_rate)}
                limiter = self._groups.setdefault(chat_id, AsyncLimiter(GROUP_PER_MINUTE, 60))
                await stack.enter_async_context(limiter)
            await stack.enter_async_context(self._overall)
            yield


async def resume(app: Any, inbox: Inbox, stop: asyncio.Event,
                 interval: float = RESUME_INTERVAL) -> None:
    """Until `stop`: queue the updates nobody is answering (a process died while on them)."""
    while not stop.is_set():
        try:
            left = await asyncio.to_thread(inbox.unanswered)
        except Exception as exc:  # the database is away for a moment: look again later
            log.warning("telegram: could not look for unanswered updates (%s)", type(exc).__name__)
            left = []
        for key, payload in left:
            update = Update.de_json(json.loads(payload), app.bot) if payload else None
            if update is not None:
                log.info("telegram: taking over %s", key)
                await app.update_queue.put(update)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)

