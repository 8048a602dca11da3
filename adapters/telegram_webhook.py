"""The Telegram webhook server: the secret and the declared length are checked before any body.

python-telegram-bot's own webhook server reads the whole body (up to 100 MB) before it looks at
the secret token, and compares that token with `!=`: a dozen large POSTs from anyone took the bot
from 63 MB to more than 1 GB. This server (tornado, which python-telegram-bot's `webhooks` extra
already installs) streams the request: a wrong or missing `X-Telegram-Bot-Api-Secret-Token` gets
403 and a `Content-Length` that is missing or over MAX_BODY_BYTES gets 411/413 as soon as the
headers are in; the connection is then closed, what was sent of the body being discarded, never
kept (tornado refuses any body over MAX_BODY_BYTES outright). Accepted updates are stored in the
inbox before the 200, then go to the Application's update queue, as python-telegram-bot's server
would put them.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

import tornado.web
from telegram import Update
from telegram.error import NetworkError
from tornado.httpserver import HTTPServer

from adapters.telegram_delivery import receive

log = logging.getLogger("charterbot.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000   # an update is a few kB (4,096 characters of text at most)
BODY_TIMEOUT = 10.0          # seconds a client may take to send an accepted body
IDLE_TIMEOUT = 30.0          # seconds an idle keep-alive connection is kept
BOOTSTRAP_INTERVAL = 1.0     # seconds between setWebhook attempts


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST /telegram: one update per request, from Telegram only."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: Any, secret: str) -> None:
        self.app = app
        self.secret = secret.encode()
        self.body = bytearray()

    def prepare(self) -> None:
        """Refuse on the headers alone: secret first (constant time), then the length."""
        token = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(token, self.secret):
            self._refuse(403)
            return
        length = self.request.headers.get("Content-Length", "")
        if not (length.isascii() and length.isdigit()):
            self._refuse(411)
        elif int(length) > MAX_BODY_BYTES:
            self._refuse(413)

    def _refuse(self, status: int) -> None:
        self.set_status(status)
        self.finish()  # tornado then discards what is sent (at most MAX_BODY_BYTES) and closes

    def data_received(self, chunk: bytes) -> None:
        if len(self.body) + len(chunk) > MAX_BODY_BYTES:  # more than was announced
            raise tornado.web.HTTPError(413)
        self.body += chunk

    async def post(self) -> None:
        """Queue the update; a body that is not one is answered 400 (logged without content)."""
        try:
            data = json.loads(self.body.decode("utf-8", "replace"))
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # malformed JSON or not an update: nothing to answer
            log.warning("telegram: webhook body of %d bytes is not an update (%s)",
                        len(self.body), type(exc).__name__)
            self.set_status(400)
            return
        if update is not None:
            # stored before the 200: once Telegram has its answer it will not send it again
            inbox = self.app.bot_data.get("inbox")
            if inbox is not None:
                await asyncio.to_thread(receive, inbox, update.update_id, self.body.decode(
                    "utf-8", "replace"))
            await self.app.update_queue.put(update)
        self.set_status(200)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """One line, never the request (tornado would log its body on some errors)."""
        log.info("telegram: webhook request failed: %s", getattr(value, "status_code", typ))


def server(app: Any, path: str, secret: str) -> HTTPServer:
    """An HTTP server routing `path` to UpdateHandler, with tornado's own size limit as a floor."""
    web = tornado.web.Application([(rf"/{path.strip('/')}/?", UpdateHandler,
                                    {"app": app, "secret": secret})], log_function=_quiet)
    return HTTPServer(web, max_body_size=MAX_BODY_BYTES, body_timeout=BODY_TIMEOUT,
                      idle_connection_timeout=IDLE_TIMEOUT)


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """No access log: request lines are not needed, and the path is the same for all."""


async def set_webhook(bot: Any, url: str, secret: str, allowed_updates: list[str],
                      retries: int) -> None:
    """Tell Telegram where to POST updates, retrying network failures `retries` times."""
    for attempt in range(retries + 1):
        try:
            await bot.set_webhook(url=url, secret_token=secret, allowed_updates=allowed_updates)
            return
        except NetworkError as exc:
            if attempt == retries:
                raise
            log.warning("telegram: setWebhook failed (%s), retrying", exc)
            await asyncio.sleep(BOOTSTRAP_INTERVAL)
