"""Slack deliveries: stored before they are acknowledged, answered once, taken over after a crash.

- `inbox_middleware` (bolt's global middleware, which runs before the listener acknowledges)
  stores each event, button press and form sent in the inbox and claims it: a retry of a delivery another
  process is answering, or answered, stops there; a retry of one whose answer failed is answered;
- `DeliveryTracker` (bolt's listener completion and error handlers) marks it answered once the
  listener returned, which for charterbot's listeners means Slack accepted the reply, or failed
  when the listener raised (the Web API said no, or could not be reached);
- `RateLimitBudget` waits out 429s (`Retry-After`) while the waits add up to a minute;
- `resume` dispatches again the deliveries a dead process left.
Slash commands are answered in their acknowledgement itself: nothing is stored for them.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_bolt.listener.listener_error_handler import ListenerErrorHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.inbox import Inbox

log = logging.getLogger("charterbot.slack")

RETRY_BUDGET_SECONDS = 60.0   # a call refused with 429 is retried while its waits add up to this
MAX_429_RETRIES = 100         # a bound on attempts, far above what the budget allows
RESUME_INTERVAL = 10.0        # seconds between looks for deliveries a dead process left
KEY = "charterbot_delivery"   # context: the inbox key of the delivery being answered
FAILED = "charterbot_failed"  # context: the listener raised


def inbox_key(body: Mapping[str, Any]) -> str | None:
    """The inbox key of a delivery answered after its acknowledgement: events, button presses
    and the case form sent (slash commands are answered in the acknowledgement, so they are not
    stored)."""
    if body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if body.get("type") in ("block_actions", "view_submission") and body.get("trigger_id"):
        return f"slack:action:{body['trigger_id']}"
    return None


def inbox_middleware(inbox: Inbox) -> Callable[..., BoltResponse | None]:
    """Store, then claim, before the listener acknowledges; stop deliveries answered elsewhere."""

    def store_then_claim(body: dict[str, Any], context: BoltContext,
                         next: Callable[[], None]) -> BoltResponse | None:
        key = inbox_key(body)
        if key is None:
            next()
            return None
        if not inbox.take(key, json.dumps(body, ensure_ascii=False)):
            log.info("slack: %s answered elsewhere or before, ignored", key)
            return BoltResponse(status=200, body="")
        context[KEY] = key
        next()
        return None

    return store_then_claim


class DeliveryTracker(ListenerCompletionHandler):
    """Settles the claimed delivery when its listener is done (bolt calls this after it)."""

    def __init__(self, inbox: Inbox, inner: ListenerCompletionHandler) -> None:
        self.inbox = inbox
        self.inner = inner

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        """Answered if the listener returned, to be tried again if it raised."""
        key = request.context.get(KEY)
        if key:
            if request.context.get(FAILED):
                self.inbox.failed(key)
            else:
                self.inbox.answered(key)
        self.inner.handle(request, response)


class FailureFlag(ListenerErrorHandler):
    """Notes on the request that its listener raised, then lets the app's error handler log."""

    def __init__(self, inner: ListenerErrorHandler) -> None:
        self.inner = inner

    def handle(self, error: Exception, request: BoltRequest,
               response: BoltResponse | None) -> None:
        """Flag, then delegate."""
        request.context[FAILED] = True
        self.inner.handle(error, request, response)


def track(app: App, inbox: Inbox) -> None:
    """Wire the inbox into `app`: the middleware, and settling after each listener.

    Call it after `app.error(...)`, whose handler it wraps.
    """
    app.use(inbox_middleware(inbox))
    runner = app.listener_runner
    runner.listener_error_handler = FailureFlag(runner.listener_error_handler)
    runner.listener_completion_handler = DeliveryTracker(inbox,
                                                         runner.listener_completion_handler)


class RateLimitBudget(RetryHandler):
    """Retries a 429 after its `Retry-After`, as long as the waits add up to the budget."""

    def __init__(self, budget: float = RETRY_BUDGET_SECONDS,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(max_retry_count=MAX_429_RETRIES)
        self.budget = budget
        self.sleep = sleep

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        waited = (state.custom_values or {}).get("waited", 0.0)
        return bool(waited + _retry_after(response) <= self.budget)

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        """Wait Retry-After (plus a little jitter), and count it against the budget."""
        assert response is not None
        wait = _retry_after(response)
        state.custom_values = {**(state.custom_values or {}),
                               "waited": (state.custom_values or {}).get("waited", 0.0) + wait}
        state.next_attempt_requested = True
        log.info("slack: %s refused with 429, retrying after %.0f s",
                 request.url.split("?")[0].rsplit("/", 1)[-1], wait)
        self.sleep(wait + random.random() / 10)
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            value = values[0] if isinstance(values, list) else values
            return float(value) if str(value).replace(".", "", 1).isdigit() else 1.0
    return 1.0


def resume(app: App, inbox: Inbox, stop: threading.Event,
           interval: float = RESUME_INTERVAL) -> None:
    """Until `stop`: dispatch again the deliveries nobody is answering (a process died)."""
    while not stop.is_set():
        try:
            left = inbox.unanswered()
        except Exception as exc:  # the database is away for a moment: look again later
            log.warning("slack: could not look for unanswered deliveries (%s)",
                        type(exc).__name__)
            left = []
        for key, payload in left:
            if stop.is_set() or not payload:
                break
            log.info("slack: taking over %s", key)
            # as Socket Mode hands bolt a body: acknowledgements go nowhere, listeners answer
            app.dispatch(BoltRequest(body=json.loads(payload), mode="socket_mode"))
        stop.wait(interval)


def start_resuming(app: App, inbox: Inbox, interval: float = RESUME_INTERVAL
                   ) -> tuple[threading.Event, threading.Thread]:
    """`resume` in a background thread; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=resume, args=(app, inbox, stop, interval),
                              name="slack-resume", daemon=True)
    thread.start()
    return stop, thread
