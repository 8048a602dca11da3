"""A small fake Telegram Bot API server for end-to-end tests, on 127.0.0.1 only.

It answers the methods charterbot's Telegram adapter calls, records every call, serves queued
updates to `getUpdates` (long polling with a bounded wait), can answer the next call of a method
with a 429 and `retry_after`, and can play Telegram's part in webhook mode by POSTing updates to
the URL given to `setWebhook` with the secret it was given. Files uploaded with `sendDocument`
(multipart) are kept with their name and bytes (`api.files()`); like Telegram, an
`editMessageReplyMarkup` that would leave a message's buttons as they are is refused with a 400
"message is not modified".

    api = FakeBotApi()
    await api.start()                       # api.base_url -> ApplicationBuilder().base_url(...)
    api.push(text_update("bonjour"))        # picked up by getUpdates
    sent = await api.wait_for("sendMessage")
    await api.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "123456:TEST-token-not-real"
BOT_ID = 123456
BOT_USERNAME = "charterbot_test_bot"
SELLER_ID = 42
GROUP_ID = -100777
MAX_LONG_POLL = 2.0  # seconds; keeps getUpdates (and so shutdown) quick in tests
# Parameters PTB sends as JSON text inside a form body.
JSON_FIELDS = frozenset({
    "reply_markup", "allowed_updates", "commands", "scope", "reply_parameters",
    "link_preview_options", "entities",
})


@dataclass
class Call:
    """One request the bot made: the method name and its decoded parameters."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeBotApi:
    """The Bot API as far as charterbot uses it; every handler answers like Telegram would."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []  # what sendMessage returned, in order
        self._markups: dict[tuple[int, int], Any] = {}  # (chat, message) -> its buttons now
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._new_call = asyncio.Event()
        self._failures: dict[str, tuple[int, int, int | None]] = {}  # retry_after, times, chat
        self._refusals: dict[str, tuple[int, str, dict[str, Any] | None, int | None]] = {}
        self._message_ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """What to pass as python-telegram-bot's `base_url` (the token is appended to it)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop serving (wakes any pending long poll first)."""
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests drive ---------------------------------------------------------------

    def push(self, *updates: dict[str, Any]) -> None:
        """Queue updates for the next getUpdates."""
        self._updates.extend(updates)
        self._new_update.set()

    def fail_next(self, method: str, retry_after: int = 1, times: int = 1,
                  chat_id: int | None = None) -> None:
        """Answer the next `times` calls of `method` (to `chat_id` only, if given) with 429 Too
        Many Requests and this retry_after."""
        self._failures[method] = (retry_after, times, chat_id)

    def refuse_next(self, method: str, code: int, description: str,
                    parameters: dict[str, Any] | None = None, chat_id: int | None = None) -> None:
        """Answer the next call of `method` (to `chat_id` only, if given) with this Bot API
        error (403 blocked, 400 migrated)."""
        self._refusals[method] = (code, description, parameters, chat_id)

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Parameters of every successful call of `method`, in order."""
        return [c.params for c in self.calls if c.method == method and "_rejected" not in c.params]

    def files(self) -> list[dict[str, Any]]:
        """Every document sent, in order: {"chat_id", "filename", "data" (bytes), "caption",
        "content_type"}."""
        return [{**c["document"], "chat_id": c["chat_id"], "caption": c.get("caption")}
                for c in self.sent("sendDocument")]

    def called(self, method: str) -> list[Call]:
        """Every call of `method`, rejected ones included."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self, method: str = "sendMessage", count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until `method` succeeded `count` times; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.sent(method)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"expected {count} {method}, got {len(self.sent(method))}: "
                    f"{[c.method for c in self.calls]}"
                )
            self._new_call.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_call.wait(), remaining)
        return self.sent(method)

    async def quiet(self, method: str = "sendMessage", settle: float = 0.3) -> list[dict[str, Any]]:
        """Calls of `method` once none has arrived for `settle` seconds (to assert absence)."""
        while True:
            self._new_call.clear()
            try:
                await asyncio.wait_for(self._new_call.wait(), settle)
            except TimeoutError:
                return self.sent(method)

    async def deliver(self, update: dict[str, Any], secret: str | None = None) -> int:
        """POST an update to the registered webhook like Telegram does; returns the HTTP status."""
        url = self.webhook["url"]
        token = self.webhook.get("secret_token") if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with aiohttp.ClientSession() as session, session.post(
            url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
        ) as response:
            return response.status

    # --- the API ------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        """Route /bot<token>/<method> to its handler, after the token and failure checks."""
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        retry_after = self._failing(method, params)
        if retry_after is not None:
            self._record(method, {**params, "_rejected": 429})
            return _error(429, f"Too Many Requests: retry after {retry_after}",
                          {"retry_after": retry_after})
        if method in self._refusals and self._refusals[method][3] in (
                None, _int(params.get("chat_id"))):
            code, description, parameters, _ = self._refusals.pop(method)
            self._record(method, {**params, "_rejected": code})
            return _error(code, description, parameters)
        if method == "getUpdates":  # a long poll: record it when it starts waiting
            self._record(method, params)
        result = await handler(params)
        if isinstance(result, web.Response):  # the method refused the call, as Telegram would
            self._record(method, {**params, "_rejected": result.status})
            return result
        if method != "getUpdates":
            self._record(method, params)
        return web.json_response({"ok": True, "result": result})

    def _failing(self, method: str, params: dict[str, Any]) -> int | None:
        """The retry_after of a scripted 429 for this call (counted), else None."""
        if method not in self._failures:
            return None
        retry_after, times, chat = self._failures[method]
        if chat is not None and str(params.get("chat_id")) != str(chat):
            return None
        if times <= 1:
            del self._failures[method]
        else:
            self._failures[method] = (retry_after, times - 1, chat)
        return retry_after

    def _record(self, method: str, params: dict[str, Any]) -> None:
        self.calls.append(Call(method, params))
        self._new_call.set()

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**_bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            wait = min(float(params.get("timeout") or 0), MAX_LONG_POLL)
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), wait)
        limit = int(params.get("limit") or 100)
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": _bot_user(), "text": params.get("text", ""),
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self._markups[(chat_id, message["message_id"])] = _buttons(params.get("reply_markup"))
        self.messages.append(message)
        return message

    async def _api_senddocument(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        upload = params.get("document")
        if not isinstance(upload, dict):
            return _error(400, "Bad Request: there is no document in the request")
        chat_id = int(params["chat_id"])
        return {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": _bot_user(), "caption": params.get("caption", ""),
            "document": {"file_id": f"doc{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}",
                         "file_name": upload["filename"], "mime_type": upload["content_type"],
                         "file_size": len(upload["data"])},
        }

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": 0}

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> bool | web.Response:
        key = (_int(params.get("chat_id")) or 0, _int(params.get("message_id")) or 0)
        new = _buttons(params.get("reply_markup"))
        if key in self._markups and self._markups[key] == new:
            return _error(400, "Bad Request: message is not modified: specified new message "
                               "content and reply markup are exactly the same as a current "
                               "content and reply markup of the message")
        if key in self._markups:
            self._markups[key] = new
        return True

    async def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_logout(self, params: dict[str, Any]) -> bool:
        return True


async def _params(request: web.Request) -> dict[str, Any]:
    """The call's parameters from the query string, a form body or a JSON body."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):  # an upload (sendDocument): its name and bytes
            params[key] = {"filename": value.filename, "data": value.file.read(),
                           "content_type": value.content_type}
            continue
        text = value if isinstance(value, str) else str(value)
        params[key] = json.loads(text) if key in JSON_FIELDS else text
    return params


def _buttons(markup: Any) -> Any:
    """A message's inline keyboard as compared by Telegram: none and an empty one are the same."""
    if not markup or not markup.get("inline_keyboard"):
        return None
    return markup["inline_keyboard"]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def _bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "Charterbot", "username": BOT_USERNAME}


# --- updates as Telegram would send them ----------------------------------------------------

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Seller"}
    return {"id": chat_id, "type": "supergroup", "title": "Vendeurs"}


def message_update(
    chat_id: int = SELLER_ID,
    user_id: int = SELLER_ID,
    update_id: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An update carrying a message with the given fields (text, sticker, entities...)."""
    message = {
        "message_id": next(_message_ids), "date": int(time.time()), "chat": _chat(chat_id),
        "from": {"id": user_id, "is_bot": False, "first_name": "Seller", "language_code": "fr"},
        **fields,
    }
    return {"update_id": next(_update_ids) if update_id is None else update_id,
            "message": message}


def text_update(text: str, **kwargs: Any) -> dict[str, Any]:
    """A text message; a leading /command gets its bot_command entity like Telegram adds it."""
    fields: dict[str, Any] = {"text": text}
    entities = list(kwargs.pop("entities", []))
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
    if entities:
        fields["entities"] = entities
    return message_update(**fields, **kwargs)


def mention_update(text: str, chat_id: int = GROUP_ID, **kwargs: Any) -> dict[str, Any]:
    """A group message that starts by mentioning the bot: '@bot <text>'."""
    mention = f"@{BOT_USERNAME}"
    entity = {"type": "mention", "offset": 0, "length": len(mention)}
    return text_update(f"{mention} {text}", chat_id=chat_id, entities=[entity], **kwargs)


def sticker_update(**kwargs: Any) -> dict[str, Any]:
    """A sticker, as sellers send them."""
    sticker = {"file_id": "CAACAgIAAxk", "file_unique_id": "AgADxk", "type": "regular",
               "width": 512, "height": 512, "is_animated": False, "is_video": False,
               "emoji": "👍"}
    return message_update(sticker=sticker, **kwargs)


def callback_update(
    data: str, message: dict[str, Any], user_id: int = SELLER_ID
) -> dict[str, Any]:
    """A press on an inline button `data` of `message` (a sendMessage result the bot got)."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cbq{next(_update_ids)}", "chat_instance": "ci-1", "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "Seller"},
            "message": message,
        },
    }
