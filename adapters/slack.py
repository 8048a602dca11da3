"""Slack adapter: translates Slack events to core `Message`s and core `Reply`s to Block Kit.

`charterbot run slack` connects with Socket Mode (SLACK_APP_TOKEN, SLACK_BOT_TOKEN);
`charterbot run slack --http` serves the Events API, interactivity and slash commands on
`0.0.0.0:$PORT/slack/events` (SLACK_SIGNING_SECRET, and SLACK_BOT_TOKEN or, for many workspaces,
SLACK_CLIENT_ID + SLACK_CLIENT_SECRET). Everything is built inside `main`, nothing at import.

Listeners, in the order bolt tries them: `app_mention` (answer in the mention's thread), `message`
(direct messages only), `app_home_opened`, the `/charte` command, the suggestion, details, 👍 / 👎
and App Home buttons, and the case builder's buttons, shortcut and form (`adapters.slack_case`).
`adapters.slack_reply` turns what members send into core messages and posts the core's replies.

Global middleware first hands the core to listeners and drops slash commands already seen; then
`adapters.slack_delivery` stores each event, button press and form sent before it is
acknowledged, lets one process only answer it, and marks it answered once the listener is done.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.error import URLError

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore
from sqlalchemy import Engine

from adapters import slack_http
from adapters import slack_render as render
from adapters.slack_case import (
    on_case_choice,
    on_case_form_button,
    on_case_shortcut,
    on_case_submit,
    open_case_form,
)
from adapters.slack_delivery import KEY, RateLimitBudget, inbox_key, start_resuming, track
from adapters.slack_reply import (
    core_of,
    from_bot,
    in_private_note,
    member_lang,
    member_message,
    post,
    private_reply,
    request,
    tell,
    thread_of,
    user_of,
)
from bot.inbox import Inbox
from bot.knowledge import KnowledgeError
from bot.model import Lang, Message
from bot.service import Charterbot
from bot.settings import ConfigError, Settings, require
from bot.state import make_private
from bot.store.migrations import create_tables

log = logging.getLogger("charterbot.slack")

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3000
HTTP_HOST = "0.0.0.0"
SCOPES = ("app_mentions:read", "chat:write", "commands", "files:write", "im:history",
          "users:read")
SLASH_COMMAND = "/charte"
INSTALL_DB = "slack.sqlite"
OAUTH_STATE_SECONDS = 600
WEB_API_TIMEOUT = 10               # seconds per Web API call
MAX_RETRIES = 2                    # per Web API call, for errors safe to repeat (429: a minute)
LISTENER_THREADS = 8
POSTING_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral",
                             "files.completeUploadExternal"})
ANSWERED_SUBTYPES = (None, "file_share", "thread_broadcast")
ADMIN_COMMANDS = ("stats", "unanswered", "reload")


# -- settings -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlackSettings:
    """What the Slack adapter reads from the environment (the core reads CHARTERBOT_*)."""

    signing_secret: str = ""
    bot_token: str | None = None
    app_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = DEFAULT_API_URL
    port: int = DEFAULT_PORT

    @property
    def multi_workspace(self) -> bool:
        """OAuth installs (many workspaces) rather than one bot token."""
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str], http: bool) -> SlackSettings:
        """The settings for one mode; raises ConfigError naming every missing variable."""
        oauth = bool(env.get("SLACK_CLIENT_ID") or env.get("SLACK_CLIENT_SECRET"))
        if http:
            names = ["SLACK_SIGNING_SECRET"] + (
                ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"] if oauth else ["SLACK_BOT_TOKEN"])
        elif oauth:
            raise ConfigError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are for the HTTP mode "
                              "(charterbot run slack --http): unset them to use Socket Mode")
        else:
            names = ["SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"]
        values = require(dict(env), *names)
        _check_prefix(values, "SLACK_APP_TOKEN", "xapp-")
        _check_prefix(values, "SLACK_BOT_TOKEN", "xoxb-")
        return cls(signing_secret=values.get("SLACK_SIGNING_SECRET", ""),
                   bot_token=values.get("SLACK_BOT_TOKEN"),
                   app_token=values.get("SLACK_APP_TOKEN"),
                   client_id=values.get("SLACK_CLIENT_ID"),
                   client_secret=values.get("SLACK_CLIENT_SECRET"),
                   api_url=_api_url(env.get("SLACK_API_URL") or DEFAULT_API_URL),
                   port=_port(env.get("PORT") or str(DEFAULT_PORT)))


def _check_prefix(values: dict[str, str], name: str, prefix: str) -> None:
    if name in values and not values[name].startswith(prefix):
        raise ConfigError(f"{name} must start with '{prefix}' (check it is not another token)")


def _api_url(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT must be a TCP port number, not '{value}'")
    return int(value)


# -- Web API client -------------------------------------------------------------------------------
class SafeServerErrorRetryHandler(ServerErrorRetryHandler):
    """Retries Slack 500/503 answers, except for posts: a failed post may have been posted."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        method = request.url.split("?")[0].rsplit("/", 1)[-1]
        return method not in POSTING_METHODS and super()._can_retry(
            state=state, request=request, response=response, error=error)


def web_client(settings: SlackSettings, rate_limits: RetryHandler | None = None) -> WebClient:
    """A WebClient on SLACK_API_URL that retries 429s and errors that cannot duplicate a post.

    Only `URLError` is retried among connection errors: urllib raises it when the request could
    not be sent; a connection lost while reading the answer may mean Slack did post the message.
    """
    handlers: list[RetryHandler] = [
        rate_limits or RateLimitBudget(),
        ConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES, error_types=[URLError]),
        SafeServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
    ]
    return WebClient(token=settings.bot_token, base_url=settings.api_url,
                     timeout=WEB_API_TIMEOUT, retry_handlers=handlers)


# -- from Slack to the core -----------------------------------------------------------------------
def delivery_key(body: Mapping[str, Any]) -> str | None:
    """The durable de-duplication key of a delivery: event_id, or the trigger_id of a click."""
    if body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if body.get("trigger_id"):
        kind = "command" if body.get("command") else "action"
        return f"slack:{kind}:{body['trigger_id']}"
    return None


# -- from the core to Slack -----------------------------------------------------------------------


# -- listeners ------------------------------------------------------------------------------------
def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A mention in a channel: the answer goes in the mention's thread; a command's answer
    (erasure, language, staff figures) is shown to the member only.

    Slack sends the mention again when it is edited (same `ts`, with `edited`): it is answered
    once, whatever the event id.
    """
    core = core_of(context)
    if from_bot(event) or not core.first_delivery(
            f"slack:mention:{context.team_id or '-'}:{event['channel']}:{event['ts']}",
            event=context.get(KEY)):  # the same event replayed after a crash passes
        return
    message = member_message(context, event)
    if message.command is None:  # said in a channel: a question, never a case's answer
        message = replace(message, in_public=True)
    reply = core.handle(message)
    thread_ts = event.get("thread_ts") or event["ts"]
    user_id = event.get("user", "")
    if private_reply(reply):  # "@charterbot dossier": the case goes on in the direct messages
        post(client, user_id, reply)
        tell(client, event["channel"], user_id, thread_ts, in_private_note(reply.lang))
        return
    if message.command and reply.blocks:
        client.chat_postEphemeral(channel=event["channel"], user=event.get("user", ""),
                                  thread_ts=thread_ts, **render.message(reply))
        return
    post(client, event["channel"], reply, thread_ts=thread_ts)


def on_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A direct message: the answer goes in the conversation (in its thread if it had one)."""
    if (event.get("channel_type") != "im" or from_bot(event) or not event.get("user")
            or event.get("subtype") not in ANSWERED_SUBTYPES):
        return
    reply = core_of(context).handle(member_message(context, event))
    post(client, event["channel"], reply, thread_ts=event.get("thread_ts"))


def on_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The App Home tab: what the bot knows, in the member's language."""
    if event.get("tab", "home") != "home":
        return
    publish_home(context, client, event["user"])


def publish_home(context: BoltContext, client: WebClient, user_id: str,
                 lang: Lang | None = None) -> None:
    """Show the overview, with the language, erasure (and, for staff, admin) buttons.

    The language is the one asked for, else the member's choice, else their Slack locale.
    """
    core, user = core_of(context), user_of(context, user_id)
    if lang is None:
        lang = member_lang(context, client, user_id)
    view = render.home_view(core.overview(lang), admin=core.is_admin(user),
                            case=bool(core.case_form(lang)["problems"]))
    client.views_publish(user_id=user_id, view=view)


def on_charte(ack: Ack, command: dict[str, Any], context: BoltContext, respond: Respond,
              client: WebClient) -> None:
    """`/charte <question>`: the answer for the asker only; `/charte` alone: the help;
    `/charte oubli`, `/charte langue en`, `/charte stats`...: that command; `/charte dossier`:
    the case form.

    Staff commands can take a while (grouping, reloading): they are acknowledged first and
    answered through the response URL, within Slack's 3 seconds either way. A question typed
    here is a question even while a case is under way (its answers are typed in the DM).
    """
    text = command.get("text") or ""
    message = request(context, command["user_id"], text)
    if not message.text:
        message = replace(message, command="help")
    if message.command == "case":
        ack()
        lang = member_lang(context, client, command["user_id"])
        if not open_case_form(context, client, command.get("trigger_id") or "", lang):
            reply = core_of(context).handle(replace(message, lang=lang))  # "not available"
            if reply.blocks:
                respond(response_type="ephemeral", **render.message(reply))
        return
    if message.command in ADMIN_COMMANDS:
        ack()
        reply = core_of(context).handle(message)
        if reply.blocks:
            respond(response_type="ephemeral", **render.message(reply))
        return
    if message.command is None:
        message = replace(message, in_public=True)
    reply = core_of(context).handle(message)
    if private_reply(reply):
        ack(response_type="ephemeral", **in_private_note(reply.lang))
        post(client, command["user_id"], reply)
    elif reply.blocks:
        ack(response_type="ephemeral", **render.message(reply))
    else:
        ack()


def on_home_button(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                   context: BoltContext, client: WebClient) -> None:
    """App Home buttons: language, erasure and staff commands, answered in the app's DM."""
    ack()
    user_id = body["user"]["id"]
    wanted = render.HOME_COMMANDS.get(action["action_id"])
    if wanted is None:
        return
    args = action.get("value", "") if wanted == "language" else ""
    reply = core_of(context).handle(Message(text="", user=user_of(context, user_id),
                                            channel="slack", command=wanted, args=args))
    post(client, user_id, reply)
    if wanted == "language" and reply.lang in ("fr", "en"):
        publish_home(context, client, user_id, reply.lang)


def on_uninstalled(event: dict[str, Any], context: BoltContext) -> None:
    """Single-workspace mode: nothing stored to delete; the app just stops being called."""
    log.info("slack: %s for workspace %s", event.get("type"), context.team_id)


def on_ignored(ack: Ack) -> None:
    """Events Slack may send that need no answer (a member joined a channel...)."""
    ack()


def on_suggestion(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                  context: BoltContext, client: WebClient, respond: Respond) -> None:
    """A suggestion button: the chosen entry's answer, where the button was."""
    ack()
    user_id = body["user"]["id"]
    reply = core_of(context).handle(Message(text="", user=user_of(context, user_id),
                                            channel="slack", entry=action["value"]))
    container = body.get("container") or {}
    if container.get("type") == "view":        # App Home: answer in the app's DM
        post(client, user_id, reply)
    elif container.get("is_ephemeral"):        # under a /charte answer: stay private
        if reply.blocks:
            respond(response_type="ephemeral", replace_original=False, **render.message(reply))
    else:
        post(client, container.get("channel_id") or body["channel"]["id"], reply,
              thread_ts=thread_of(body))


def on_more(ack: Ack, body: dict[str, Any], action: dict[str, Any],
            context: BoltContext, client: WebClient, respond: Respond) -> None:
    """A details button (steps, sources, details): the details go into the answer's thread,
    stay private under a /charte answer, and go to the app's DM from the App Home."""
    ack()
    pressed = render.parse_more(action.get("value") or "")
    if pressed is None:  # a button from an older version of the app
        return
    lang, more, entry, platform = pressed
    user_id = body["user"]["id"]
    reply = core_of(context).handle(Message(text="", user=user_of(context, user_id),
                                            channel="slack", entry=entry, lang=lang, more=more,
                                            platform=platform))
    container = body.get("container") or {}
    if container.get("type") == "view":
        post(client, user_id, reply)
    elif container.get("is_ephemeral"):
        if reply.blocks:
            respond(response_type="ephemeral", replace_original=False, **render.message(reply))
    else:
        post(client, container.get("channel_id") or body["channel"]["id"], reply,
              thread_ts=thread_of(body) or container.get("message_ts"))


def on_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                context: BoltContext, client: WebClient, respond: Respond) -> None:
    """👍 / 👎: stored by the core; the thank-you is shown to the clicker only."""
    ack()
    user_id = body["user"]["id"]
    reply = core_of(context).feedback(user_of(context, user_id), action["value"],
                                    action["action_id"] == render.FEEDBACK_UP)
    container = body.get("container") or {}
    if container.get("is_ephemeral") and body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, **render.message(reply))
    elif container.get("channel_id"):
        client.chat_postEphemeral(channel=container["channel_id"], user=user_id,
                                  thread_ts=thread_of(body), **render.message(reply))


def on_error(error: Exception, body: dict[str, Any]) -> None:
    """One place where listener failures are logged (Slack has already been acknowledged)."""
    kind = body.get("type") or body.get("command") or "request"
    if isinstance(error, SlackApiError):     # Slack said no: its error code says it all
        log.error("slack %s: Web API error %s (%s)", kind, error.response.get("error"),
                  error.response.api_url)
    else:
        log.error("slack %s failed: %s", kind, error, exc_info=error)


# -- wiring ---------------------------------------------------------------------------------------
def core_middleware(core: Charterbot) -> Callable[..., BoltResponse | None]:
    """Global middleware: hands the core to listeners, and drops deliveries already seen."""

    def charterbot(body: dict[str, Any], context: BoltContext,
                   next: Callable[[], None]) -> BoltResponse | None:
        context["charterbot"] = core
        key = delivery_key(body)
        # events and presses go through the inbox (adapters.slack_delivery) instead
        if key and inbox_key(body) is None and not core.first_delivery(key):
            log.info("already delivered, ignored: %s", key)
            return BoltResponse(status=200, body="")
        next()
        return None

    return charterbot


def oauth_settings(settings: SlackSettings, data_dir: Path,
                   engine: Engine | None = None) -> OAuthSettings | None:
    """Install and redirect pages, with installations and states in slack-sdk's stores: in the
    state database when DATABASE_URL is set (`engine`), else in SQLite in the data folder."""
    if not (settings.client_id and settings.client_secret):
        return None
    if engine is not None:
        # imported here: they need greenlet (sqlalchemy[asyncio]), only for a shared database
        from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

        installations = SQLAlchemyInstallationStore(client_id=settings.client_id, engine=engine)
        states = SQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=engine)
        for store in (installations, states):
            create_tables(engine, store.metadata)
        return OAuthSettings(client_id=settings.client_id, client_secret=settings.client_secret,
                             scopes=list(SCOPES), installation_store=installations,
                             state_store=states)
    make_private(data_dir / INSTALL_DB)  # it holds every workspace's bot token
    database = str(data_dir / INSTALL_DB)
    return OAuthSettings(
        client_id=settings.client_id, client_secret=settings.client_secret, scopes=list(SCOPES),
        installation_store=SQLite3InstallationStore(database=database,
                                                    client_id=settings.client_id),
        state_store=SQLite3OAuthStateStore(database=database,
                                           expiration_seconds=OAUTH_STATE_SECONDS))


class _TokenInClientFilter(logging.Filter):
    """bolt warns that SLACK_BOT_TOKEN is unused when a client is given: ours carries it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_TOKEN_IN_CLIENT = _TokenInClientFilter()


def build_app(core: Charterbot, settings: SlackSettings,
              executor: ThreadPoolExecutor | None = None, inbox: Inbox | None = None,
              client: WebClient | None = None) -> App:
    """The bolt App with charterbot's listeners; checks the bot token with auth.test."""
    core.settings.data_dir.mkdir(parents=True, exist_ok=True)
    shared = core.state.engine if core.settings.database_url else None
    logging.getLogger("slack_bolt.App").addFilter(_TOKEN_IN_CLIENT)   # a set: added once
    app = App(client=client or web_client(settings), signing_secret=settings.signing_secret,
              oauth_settings=oauth_settings(settings, core.settings.data_dir, shared),
              listener_executor=executor,
              # HTTP mode checks signatures in slack_http (bolt's check logs refused bodies);
              # Socket Mode needs none
              request_verification_enabled=False)
    app.use(core_middleware(core))
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home_opened)
    app.event("member_joined_channel")(on_ignored)
    if app.installation_store is not None:  # many workspaces: bolt deletes the installation
        app.enable_token_revocation_listeners()
    else:
        app.event("app_uninstalled")(on_uninstalled)
        app.event("tokens_revoked")(on_uninstalled)
    app.command(SLASH_COMMAND)(on_charte)
    app.action(render.ENTRY_ACTION_PATTERN)(on_suggestion)
    app.action(render.MORE_ACTION_PATTERN)(on_more)
    app.action(render.FEEDBACK_PATTERN)(on_feedback)
    app.action(render.HOME_ACTION_PATTERN)(on_home_button)
    app.action(render.CASE_ACTION_PATTERN)(on_case_choice)
    app.action(render.CASE_FORM_ACTION)(on_case_form_button)
    app.shortcut(render.CASE_SHORTCUT)(on_case_shortcut)
    app.view(render.CASE_FORM_CALLBACK)(on_case_submit)
    app.error(on_error)
    track(app, inbox or Inbox(core.state, "slack"))
    return app


def serve_http(app: App, port: int, stop: threading.Event, host: str = HTTP_HOST) -> None:
    """Serve /slack/events (and /slack/install, /slack/oauth_redirect, /health) until `stop`."""
    server, thread = slack_http.start_server(app, host, port)
    log.info("slack: HTTP mode on %s:%d%s", host, port, slack_http.EVENTS_PATH)
    stop.wait()
    slack_http.stop_server(server, thread)


def serve_socket(app: App, app_token: str, stop: threading.Event) -> None:
    """Socket Mode until `stop` (slack-sdk reconnects on its own when Slack recycles the link)."""
    handler = SocketModeHandler(app, app_token=app_token)
    handler.connect()
    log.info("slack: Socket Mode connected")
    stop.wait()
    handler.close()


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (platform shutdown) and SIGINT (Ctrl-C) end the run cleanly."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())


def run(core: Charterbot, settings: SlackSettings, http: bool, stop: threading.Event) -> None:
    """Build the app and serve in the chosen mode until `stop`, then finish in-flight answers."""
    executor = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="slack-listener")
    inbox = Inbox(core.state, "slack")
    resuming: threading.Event | None = None
    try:
        app = build_app(core, settings, executor, inbox)
        resuming, _ = start_resuming(app, inbox)  # what a dead process acknowledged
        if http:
            serve_http(app, settings.port, stop)
        else:
            serve_socket(app, settings.app_token or "", stop)
    finally:
        if resuming is not None:
            resuming.set()
        executor.shutdown(wait=True)


def main(http: bool = False, env: Mapping[str, str] | None = None) -> int:
    """`charterbot run slack [--http]`: 0 after a clean stop, 2 for bad settings, 1 on failure."""
    env = os.environ if env is None else env
    try:
        settings = SlackSettings.from_env(env, http)
        core = Charterbot(Settings.from_env(dict(env)))
    except (ConfigError, KnowledgeError) as error:
        print(f"charterbot: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.INFO)
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        run(core, settings, http, stop)
    except (SlackApiError, SlackClientError, BoltError, OSError) as error:
        print(f"charterbot: slack: {error}".splitlines()[0], file=sys.stderr)
        return 1
    finally:
        core.close()
    return 0
