"""The production web process: Telegram's webhook, Slack's events, interactivity, slash command
and OAuth pages, and `/health`, in one ASGI app (Starlette) served by uvicorn with several
worker processes (`WEB_CONCURRENCY`, on `0.0.0.0:$PORT`).

`charterbot run web` starts it; `charterbot release` (the Procfile's release phase) brings the
database schema up to date and registers the Telegram webhook and command menu, once per deploy. Every worker
builds its own core, python-telegram-bot Application (no updater: updates come from `/telegram`)
and slack-bolt App; they share the state database (PostgreSQL through DATABASE_URL), where the
inbox decides which worker answers each delivery and lets them take over a dead one's work.

Requests are checked on their headers before any body is read where Telegram is concerned
(secret, Content-Length), and Slack signatures are checked before bolt sees a request; refused
requests are logged as one line without their body.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.settings import ConfigError, Settings

log = logging.getLogger("charterbot.web")

HOST = "0.0.0.0"
DEFAULT_PORT = 8000
DEFAULT_WORKERS = 2
MAX_BODY_BYTES = 1_000_000       # Telegram updates and Slack payloads are a few kB
SLACK_LISTENER_THREADS = 16      # per worker: Web API calls wait on the network
GRACEFUL_SECONDS = 20            # platforms send SIGKILL 30 s after SIGTERM
TELEGRAM_PATH = "/telegram"
HEALTH_PATH = "/health"


@dataclass(frozen=True)
class WebConfig:
    """Which platforms this process serves, where, and with how many workers."""

    port: int = DEFAULT_PORT
    workers: int = DEFAULT_WORKERS
    telegram: Any = None   # adapters.telegram.TelegramConfig, when TELEGRAM_BOT_TOKEN is set
    slack: Any = None      # adapters.slack.SlackSettings, when SLACK_SIGNING_SECRET is set

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebConfig:
        """PORT, WEB_CONCURRENCY and each platform's variables; ConfigError names what is wrong."""
        port = _number(env, "PORT", DEFAULT_PORT, 1, 65535)
        workers = _number(env, "WEB_CONCURRENCY", DEFAULT_WORKERS, 1, 64)
        telegram = _telegram(env) if env.get("TELEGRAM_BOT_TOKEN") else None
        slack = None
        if env.get("SLACK_SIGNING_SECRET"):
            from adapters.slack import SlackSettings

            slack = SlackSettings.from_env(env, http=True)
        if telegram is None and slack is None:
            raise ConfigError("the web process needs TELEGRAM_BOT_TOKEN (with "
                              "TELEGRAM_WEBHOOK_SECRET) or SLACK_SIGNING_SECRET, or both")
        return cls(port, workers, telegram, slack)


def _number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = (env.get(name) or str(default)).strip()
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not '{value[:20]}'")
    return int(value)


def _telegram(env: Mapping[str, str]) -> Any:
    from adapters.telegram import DEFAULT_API_URL, SECRET_PATTERN, TelegramConfig
    from bot.settings import require

    values = require(dict(env), "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET")
    if not SECRET_PATTERN.fullmatch(values["TELEGRAM_WEBHOOK_SECRET"]):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
    return TelegramConfig(values["TELEGRAM_BOT_TOKEN"].strip(),
                          env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL, True,
                          env.get("TELEGRAM_WEBHOOK_URL", "").strip(),
                          values["TELEGRAM_WEBHOOK_SECRET"], _number(env, "PORT", DEFAULT_PORT,
                                                                     1, 65535))


@dataclass
class Services:
    """What one worker runs: the core and each configured platform's app."""

    core: Any
    telegram: Any = None                     # python-telegram-bot Application
    slack: Any = None                        # slack-bolt App
    slack_secret: bytes = b""
    telegram_secret: bytes = b""
    stops: list[Any] = field(default_factory=list)


async def start(config: WebConfig, settings: Settings) -> Services:
    """Build and start everything a worker serves."""
    from bot.service import Charterbot

    core = await asyncio.to_thread(Charterbot, settings)
    services = Services(core)
    if config.telegram is not None:
        from adapters import telegram

        app = telegram.build(core, config.telegram)
        await app.initialize()
        await app.start()
        services.telegram, services.telegram_secret = app, config.telegram.webhook_secret.encode()
    if config.slack is not None:
        from adapters import slack, slack_delivery
        from bot.inbox import Inbox

        executor = ThreadPoolExecutor(SLACK_LISTENER_THREADS, thread_name_prefix="slack-listener")
        inbox = Inbox(core.state, "slack")
        bolt = await asyncio.to_thread(slack.build_app, core, config.slack, executor, inbox)
        stop, _ = slack_delivery.start_resuming(bolt, inbox)
        services.slack, services.slack_secret = bolt, config.slack.signing_secret.encode()
        services.stops += [stop.set, lambda: executor.shutdown(wait=True)]
    return services


async def stop(services: Services) -> None:
    """Finish the answers in flight, then close everything."""
    if services.telegram is not None:
        await services.telegram.stop()
        await services.telegram.shutdown()
    for step in services.stops:
        await asyncio.to_thread(step)
    services.core.close()


# -- routes ---------------------------------------------------------------------------------------
async def health(request: Request) -> Response:
    """`ok` for the platform's health check."""
    return PlainTextResponse("ok\n")


def _declared_length(request: Request) -> int | None:
    length = request.headers.get("content-length", "")
    return int(length) if length.isascii() and length.isdigit() else None


async def telegram_update(request: Request) -> Response:
    """POST /telegram: secret (constant time) and length on the headers, then store, then 200."""
    services: Services = request.app.state.services
    if services.telegram is None:
        return PlainTextResponse("not found\n", 404)
    token = request.headers.get("x-telegram-bot-api-secret-token", "").encode("utf-8", "replace")
    if not hmac.compare_digest(token, services.telegram_secret):
        return PlainTextResponse("forbidden\n", 403)
    length = _declared_length(request)
    if length is None:
        return PlainTextResponse("length required\n", 411)
    if length > MAX_BODY_BYTES:
        return PlainTextResponse("too large\n", 413)
    body = (await request.body())[:MAX_BODY_BYTES].decode("utf-8", "replace")
    from telegram import Update

    from adapters.telegram_delivery import receive

    app = services.telegram
    try:
        update = Update.de_json(json.loads(body), app.bot)
    except Exception as exc:  # malformed JSON or not an update: nothing to answer
        log.warning("telegram: webhook body of %d bytes is not an update (%s)", len(body),
                    type(exc).__name__)
        return PlainTextResponse("bad request\n", 400)
    if update is not None:
        # stored before the 200: once Telegram has its answer it will not send it again
        await asyncio.to_thread(receive, app.bot_data["inbox"], update.update_id, body)
        await app.update_queue.put(update)
    return PlainTextResponse("ok\n")


async def slack_request(request: Request) -> Response:
    """Slack's events, commands and button presses (POST), and the OAuth pages (GET)."""
    services: Services = request.app.state.services
    if services.slack is None:
        return PlainTextResponse("not found\n", 404)
    from slack_bolt import BoltRequest

    from adapters.slack_http import signed_by_slack

    app = services.slack
    if request.method == "GET":
        flow = app.oauth_flow
        if flow is None or request.url.path not in (flow.install_path, flow.redirect_uri_path):
            return PlainTextResponse("not found\n", 404)
        bolt = BoltRequest(body="", query=str(request.url.query), headers=dict(request.headers))
        handle = (flow.handle_installation if request.url.path == flow.install_path
                  else flow.handle_callback)
        return _response(await run_in_threadpool(handle, bolt))
    length = _declared_length(request)
    if length is None or length > MAX_BODY_BYTES:
        return PlainTextResponse("too large\n", 413)
    body = await request.body()
    signed = {"HTTP_X_SLACK_REQUEST_TIMESTAMP": request.headers.get("x-slack-request-timestamp", ""),
              "HTTP_X_SLACK_SIGNATURE": request.headers.get("x-slack-signature", "")}
    if not signed_by_slack(services.slack_secret, body, signed):
        log.info("slack: refused a request without a valid, recent signature (%d bytes)",
                 len(body))
        return PlainTextResponse("invalid request\n", 401)
    bolt = BoltRequest(body=body.decode("utf-8", "replace"), query=str(request.url.query),
                       headers=dict(request.headers))
    return _response(await run_in_threadpool(app.dispatch, bolt))


def _response(bolt: Any) -> Response:
    response = Response(bolt.body, bolt.status, headers=bolt.first_headers_without_set_cookie())
    for cookie in bolt.cookies():
        for name, morsel in cookie.items():
            response.set_cookie(name, morsel.value, max_age=morsel.get("max-age") or None,
                                path=morsel.get("path") or "/", secure=True, httponly=True)
    return response


def create_app(env: Mapping[str, str] | None = None) -> Starlette:
    """The ASGI app (uvicorn's factory): every worker calls it and starts its own services."""
    env = os.environ if env is None else env
    config, settings = WebConfig.from_env(env), Settings.from_env(dict(env))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.services = await start(config, settings)
        if config.telegram is not None:
            from adapters.telegram import RedactToken

            for handler in logging.getLogger().handlers:
                handler.addFilter(RedactToken(config.telegram.token))
        try:
            yield
        finally:
            await stop(app.state.services)

    routes = [Route(HEALTH_PATH, health, methods=["GET"]),
              Route(TELEGRAM_PATH, telegram_update, methods=["POST"]),
              Route("/slack/events", slack_request, methods=["POST"]),
              Route("/slack/install", slack_request, methods=["GET"]),
              Route("/slack/oauth_redirect", slack_request, methods=["GET"])]
    return Starlette(routes=routes, lifespan=lifespan)


# -- commands -------------------------------------------------------------------------------------
def _logging() -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the token


def main(env: Mapping[str, str] | None = None) -> int:
    """`charterbot run web`: uvicorn with WEB_CONCURRENCY workers on 0.0.0.0:$PORT."""
    import uvicorn

    env = os.environ if env is None else env
    try:
        config = WebConfig.from_env(env)
        _migrate(Settings.from_env(dict(env)))  # once here, so workers start on a ready schema
    except ConfigError as exc:
        print(f"charterbot: {exc}", file=sys.stderr)
        return 2
    _logging()
    if _build_knowledge(env) != 0:
        return 2
    log.info("web: %d worker(s) on %s:%d (telegram: %s, slack: %s)", config.workers, HOST,
             config.port, config.telegram is not None, config.slack is not None)
    uvicorn.run("adapters.web:create_app", factory=True, host=HOST, port=config.port,
                workers=config.workers, access_log=False, proxy_headers=True,
                timeout_graceful_shutdown=GRACEFUL_SECONDS, log_level="info")
    return 0


def _build_knowledge(env: Mapping[str, str]) -> int:
    """Compile the knowledge index once, in a child process, before the workers start.

    Otherwise each worker compiles it (on a fresh disk, after every deploy): training takes
    about 200 MB more per process, 4 workers would not fit a 512 MB dyno, and this parent, which
    lives as long as the workers, keeps its memory small.
    """
    done = subprocess.run([sys.executable, "-m", "bot.cli", "knowledge", "build"],
                          env=dict(env), stdout=subprocess.DEVNULL)
    return done.returncode


def _migrate(settings: Settings) -> None:
    from bot.state import open_state

    open_state(settings).close()


def release(env: Mapping[str, str] | None = None) -> int:
    """`charterbot release`: migrate the database, then register the Telegram webhook (with its
    secret) when Telegram is configured. Run once per deploy, before the new web process."""
    env = os.environ if env is None else env
    try:
        config = WebConfig.from_env(env)
        _migrate(Settings.from_env(dict(env)))
        if config.telegram is not None and not config.telegram.webhook_url:
            raise ConfigError("missing environment variable: TELEGRAM_WEBHOOK_URL")
    except ConfigError as exc:
        print(f"charterbot: {exc}", file=sys.stderr)
        return 2
    _logging()
    log.info("release: database schema up to date")
    if config.telegram is None:
        return 0
    return asyncio.run(_set_webhook(config.telegram))


async def _set_webhook(config: Any) -> int:
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    from adapters.telegram import ALLOWED_UPDATES, BOOTSTRAP_RETRIES, RedactToken, register_menu
    from adapters.telegram_webhook import set_webhook

    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(config.token))
    try:
        async with Bot(config.token, base_url=config.api_url) as bot:
            await set_webhook(bot, config.webhook_url, config.webhook_secret, ALLOWED_UPDATES,
                              BOOTSTRAP_RETRIES)
            await register_menu(bot)
    except InvalidToken:
        print("charterbot: TELEGRAM_BOT_TOKEN was refused by the Bot API", file=sys.stderr)
        return 2
    except NetworkError as exc:
        print(f"charterbot: cannot reach the Bot API at TELEGRAM_API_URL ({exc})", file=sys.stderr)
        return 1
    log.info("release: Telegram webhook and command menu registered")
    return 0
