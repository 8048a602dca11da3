"""A small threaded WSGI server for the Slack HTTP mode, that stops cleanly on request.

slack-bolt's own WSGI adapter does the Slack part (Events API, interactivity, slash commands, and
the OAuth install and redirect pages); this module adds a `/health` route, refuses oversized
bodies, and runs the whole on the standard library's `wsgiref` with one thread per request, so a
slow Web API call never holds up the 3-second acknowledgement of the next event.

Request signatures are checked here, before bolt sees the request (bolt's own check is turned
off in `adapters.slack.build_app`): bolt logs the whole body of every refused request at INFO, so
anyone could write personal data (or 1 MB per request) into the logs, and a timestamp header that
is not a number made it answer 500. Here a refused request is one short line without its body.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import threading
import time
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("charterbot.slack")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"
MAX_BODY_BYTES = 1_000_000        # Slack payloads are a few kB; refuse anything absurd
SIGNATURE_MAX_AGE = 5 * 60        # seconds; Slack's own limit (slack-sdk SignatureVerifier)
REQUEST_TIMEOUT = 10.0            # seconds a client may take to send its request
STOP_TIMEOUT = 5.0                # seconds to wait for the serving thread on shutdown
POLL_SECONDS = 0.1                # how often the serving loop checks for shutdown


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request; closing it waits for requests in flight."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128  # wsgiref's 5 drops connections when many events arrive at once


class QuietHandler(WSGIRequestHandler):
    """wsgiref's handler, logging through `logging` instead of stderr, with a read timeout."""

    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def _plain(start_response: StartResponse, status: str, body: bytes) -> Iterable[bytes]:
    start_response(status, [("content-type", "text/plain; charset=utf-8"),
                            ("content-length", str(len(body)))])
    return [body]


def wsgi_app(app: App, signing_secret: str | None = None) -> WSGIApplication:
    """Bolt's WSGI handler for `/slack/*`, plus `GET /health`, a body-size guard and the
    signature check of every POST (with the app's signing secret unless one is given)."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    secret = (app._signing_secret if signing_secret is None else signing_secret).encode()

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            return _plain(start_response, "200 OK", b"ok\n")
        length = environ.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY_BYTES:
            return _plain(start_response, "413 Content Too Large", b"too large\n")
        if environ.get("REQUEST_METHOD") == "POST":
            body = environ["wsgi.input"].read(int(length))
            if not signed_by_slack(secret, body, environ):
                log.info("slack: refused a request without a valid, recent signature "
                         "(%d bytes)", len(body))
                return _plain(start_response, "401 Unauthorized", b"invalid request\n")
            # bolt decodes strictly: undecodable bytes become U+FFFD rather than an error 500
            body = body.decode("utf-8", "replace").encode("utf-8")
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return slack(environ, start_response)

    return application


def signed_by_slack(secret: bytes, body: bytes, environ: WSGIEnvironment,
                    now: float | None = None) -> bool:
    """Slack's `v0` signature of the raw body, made less than SIGNATURE_MAX_AGE seconds ago.

    Any malformed header (a timestamp that is not a number, a missing signature) is simply a
    refusal, never an exception.
    """
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_MAX_AGE:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def start_server(app: App, host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Bind `host:port` and serve in a background thread; returns the server and its thread."""
    server = make_server(host, port, wsgi_app(app), server_class=ThreadingWSGIServer,
                         handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,),
                              name="slack-http", daemon=True)
    thread.start()
    return server, thread


def stop_server(server: WSGIServer, thread: threading.Thread) -> None:
    """Stop accepting requests and release the port."""
    server.shutdown()
    server.server_close()
    thread.join(STOP_TIMEOUT)
