"""A small fake Slack Web API server for end-to-end tests, on 127.0.0.1 only.

It answers the methods charterbot's Slack adapter calls (auth.test, chat.postMessage,
chat.postEphemeral, chat.update, views.publish, views.open, users.info, apps.connections.open,
oauth.v2.access, and the three steps of a file upload: files.getUploadURLExternal, the POST of the
bytes to the `upload_url` it hands out, files.completeUploadExternal) like Slack would, records
every call with its decoded parameters and token, can answer the next call(s) of a method with a
429 and `Retry-After` (or delay it), and plays the `response_url` endpoint of slash commands and
buttons (`/response/<name>`). A message posted to a member's id goes to their direct messages
with the app (`dm_of`), as on Slack; a file is shared only in a conversation id (C, G, D or Z),
never a member's id, as files.completeUploadExternal insists. `shared_files()` lists what was
shared, with the bytes uploaded.

    api = FakeSlackApi().start()            # api.base_url -> WebClient(base_url=...)
    ...
    posted = api.wait_for("chat.postMessage")
    api.stop()
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TEAM_ID = "T0CHARTE"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0CHARTE"
BOT_TOKEN = "xoxb-test-not-real"
APP_TOKEN = "xapp-test-not-real"
WAIT_SECONDS = 5.0
# Parameters slack-sdk sends as JSON text inside a form body.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files"})
UPLOAD_PATH = "/upload/"
# files.completeUploadExternal's channel_id: a conversation, never a member (U...) or a name
CONVERSATION_ID = re.compile(r"^[CGDZ][A-Z0-9]+$")


def dm_of(user: str) -> str:
    """The id of a member's direct messages with the app: D0SELLER for U0SELLER."""
    return "D" + user[1:]


@dataclass
class Call:
    """One request the bot made: the method, its decoded parameters and the token it used."""

    method: str
    params: dict[str, Any]
    token: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Upload:
    """A file: announced by files.getUploadURLExternal, its bytes POSTed, then shared."""

    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str = ""
    channel: str | None = None
    thread_ts: str | None = None
    shared: bool = False


@dataclass
class Failure:
    status: int
    retry_after: int | None
    times: int


class FakeSlackApi:
    """The Slack Web API as far as charterbot uses it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.locales: dict[str, str] = {}          # user id -> locale for users.info
        self.socket_url = ""                       # what apps.connections.open hands out
        self._failures: dict[str, Failure] = {}
        self._delays: dict[str, float] = {}
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        self.uploads: dict[str, Upload] = {}        # file id -> the file, in upload order
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> FakeSlackApi:
        """Serve on a free port of 127.0.0.1, in a background thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as slack-sdk's `base_url` (SLACK_API_URL)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A `response_url` for a slash command or a button payload."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # -- scripting -------------------------------------------------------------------------------
    def fail_next(self, method: str, status: int = 429, retry_after: int | None = 1,
                  times: int = 1) -> None:
        """Answer the next `times` calls of `method` with `status` (and `Retry-After`)."""
        self._failures[method] = Failure(status, retry_after, times)

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call of `method` only after `seconds`."""
        self._delays[method] = seconds

    # -- inspection ------------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = WAIT_SECONDS) -> list[Call]:
        """The first `count` calls of `method`, waiting for them at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"{count} x {method} not called within {timeout}s; "
                                         f"calls: {seen}")
                self._changed.wait(left)
            return found[:count]

    def shared_files(self) -> list[Upload]:
        """The files shared in a conversation so far, in the order they were uploaded."""
        with self._changed:
            return [u for u in self.uploads.values() if u.shared]

    def wait_for_files(self, count: int, timeout: float = WAIT_SECONDS) -> list[Upload]:
        """The first `count` files shared, waiting for them at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [u for u in self.uploads.values() if u.shared]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{count} file(s) not shared within {timeout}s; "
                                         f"shared: {[u.filename for u in found]}")
                self._changed.wait(left)
            return found[:count]

    # -- answering -------------------------------------------------------------------------------
    def record(self, method: str, params: dict[str, Any], token: str | None) -> None:
        with self._changed:
            self.calls.append(Call(method, params, token))
            self._changed.notify_all()

    def failure(self, method: str) -> Failure | None:
        """The scripted failure for this call of `method`, if any (used once per call)."""
        with self._changed:
            failure = self._failures.get(method)
            if failure is None or failure.times <= 0:
                return None
            failure.times -= 1
            return failure

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """What Slack would answer to a successful call."""
        time.sleep(self._delays.get(method, 0.0))
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {"ok": True, "url": "https://charte-test.slack.com/", "team": "Charte test",
                    "user": "charterbot", "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            channel = str(params.get("channel") or "")
            channel = dm_of(channel) if channel.startswith(("U", "W")) else channel
            return {"ok": True, "channel": channel, "ts": ts,
                    "message": {"type": "message", "text": params.get("text"), "ts": ts,
                                "bot_id": BOT_ID, "thread_ts": params.get("thread_ts")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            if not (params.get("channel") and params.get("ts")):
                return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": params["channel"], "ts": params["ts"],
                    "text": params.get("text")}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1", **(params.get("view") or {})}}
        if method == "views.open":
            if not params.get("trigger_id"):
                return {"ok": False, "error": "invalid_trigger_id"}
            return {"ok": True, "view": {"id": "V2", **(params.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            return self._upload_url(params)
        if method == "files.completeUploadExternal":
            return self._complete_upload(params)
        if method == "users.info":
            user = params.get("user", "")
            return {"ok": True, "user": {"id": user, "locale": self.locales.get(user, "fr-FR")}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "oauth.v2.access":
            return _oauth_access(params)
        return {"ok": False, "error": "unknown_method"}


    def _upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):08d}"
        with self._changed:
            self.uploads[file_id] = Upload(file_id, str(params["filename"]), int(params["length"]))
        return {"ok": True, "file_id": file_id,
                "upload_url": f"http://127.0.0.1:{self.port}{UPLOAD_PATH}{file_id}"}

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        """The POST of a file's bytes to its upload_url; False for an unknown file."""
        with self._changed:
            upload = self.uploads.get(file_id)
            if upload is None:
                return False
            upload.data = data
            self._changed.notify_all()
            return True

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel_id")
        if channel is not None and not CONVERSATION_ID.match(str(channel)):
            return {"ok": False, "error": "invalid_arguments"}
        files = params.get("files") or []
        with self._changed:
            found = [self.uploads.get(str(f.get("id"))) for f in files]
            if not found or any(u is None or u.data is None or len(u.data) != u.length
                                for u in found):
                return {"ok": False, "error": "file_not_found"}
            for upload, item in zip(found, files, strict=True):
                assert upload is not None
                upload.title = str(item.get("title") or upload.filename)
                upload.channel, upload.thread_ts = channel, params.get("thread_ts")
                upload.shared = channel is not None
            self._changed.notify_all()
            return {"ok": True, "files": [{"id": u.file_id, "name": u.filename, "title": u.title}
                                          for u in found if u is not None]}


def _oauth_access(params: dict[str, Any]) -> dict[str, Any]:
    """An installation of the app in a second workspace, T0OTHER."""
    return {"ok": True, "app_id": APP_ID, "authed_user": {"id": "U0INSTALLER"},
            "scope": "chat:write,commands", "token_type": "bot",
            "access_token": "xoxb-other-workspace", "bot_user_id": "U0BOT2",
            "team": {"id": "T0OTHER", "name": "Other"}, "enterprise": None,
            "is_enterprise_install": False, "code": params.get("code")}


def _decode(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query))
    if not body:
        return params
    if content_type.startswith("application/json"):
        params.update(json.loads(body))
        return params
    for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
        params[key] = json.loads(value) if key in JSON_FIELDS and value else value
    return params


def _handler_for(api: FakeSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if url.path.startswith(UPLOAD_PATH):     # a file's bytes, not a Web API call
                file_id = url.path.removeprefix(UPLOAD_PATH)
                api.record("upload", {"file_id": file_id, "length": len(body)}, None)
                if api.receive_upload(file_id, body):
                    self._send(200, f"OK - {len(body)}".encode(), "text/plain")
                else:
                    self._send(404, b"not found", "text/plain")
                return
            params = _decode(body, self.headers.get("content-type", ""), url.query)
            auth = self.headers.get("authorization") or ""
            token = auth.removeprefix("Bearer ") or params.get("token")
            if url.path.startswith("/response/"):
                api.record("response:" + url.path.rsplit("/", 1)[-1], params, token)
                self._send(200, b"ok", "text/plain")
                return
            method = url.path.removeprefix("/api/")
            api.record(method, params, token)
            failure = api.failure(method)
            if failure:
                headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
                error = "ratelimited" if failure.status == 429 else "internal_error"
                self._send(failure.status, json.dumps({"ok": False, "error": error}).encode(),
                           "application/json", headers)
                return
            self._send(200, json.dumps(api.answer(method, params)).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler
