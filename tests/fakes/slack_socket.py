"""A fake Slack Socket Mode server for end-to-end tests: a `websockets` server on 127.0.0.1.

Slack's side of a Socket Mode connection, as far as charterbot uses it: say `hello` when the app
connects, push envelopes (`events_api`, `slash_commands`, `interactive`), and collect the app's
acknowledgements `{"envelope_id": ..., "payload": ...}`.

    server = FakeSocketMode().start()
    api.socket_url = server.url            # what the fake Web API's apps.connections.open returns
    server.wait_connected()
    server.send(events_api_envelope(body))
    ack = server.wait_for_ack(envelope_id)
    server.stop()
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

WAIT_SECONDS = 5.0
PING_SECONDS = 0.1
_ids = itertools.count(1)


def envelope(kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> dict[str, Any]:
    """A Socket Mode envelope of `kind` (events_api, slash_commands, interactive)."""
    return {"envelope_id": f"env-{next(_ids)}", "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else ""}


class FakeSocketMode:
    """Accepts Socket Mode connections and records what the app sends back."""

    def __init__(self) -> None:
        self.acks: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self._connections: list[ServerConnection] = []
        self._changed = threading.Condition()
        self._server: Server | None = None

    def start(self) -> FakeSocketMode:
        # Frequent pings wake the client's blocking read, so it can close without waiting for
        # its 3-second socket timeout.
        self._server = serve(self._session, "127.0.0.1", 0, ping_interval=PING_SECONDS)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=fake-ticket"

    def _session(self, connection: ServerConnection) -> None:
        """One app connection: hello, then record every message until it closes."""
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A0CHARTE"},
                                    "debug_info": {"host": "fake", "approximate_connection_time":
                                                   18060}}))
        with self._changed:
            self._connections.append(connection)
            self._changed.notify_all()
        try:
            for raw in connection:
                self._record(json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._connections.remove(connection)
                self._changed.notify_all()

    def _record(self, message: dict[str, Any]) -> None:
        with self._changed:
            self.received.append(message)
            if "envelope_id" in message:
                self.acks[message["envelope_id"]] = message
            self._changed.notify_all()

    def _wait(self, ready: Any, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{what} did not happen within {timeout}s")
                self._changed.wait(left)

    def wait_connected(self, timeout: float = WAIT_SECONDS) -> None:
        self._wait(lambda: self._connections, "a Socket Mode connection", timeout)

    def wait_disconnected(self, timeout: float = WAIT_SECONDS) -> None:
        self._wait(lambda: not self._connections, "the app's disconnection", timeout)

    def send(self, message: dict[str, Any]) -> None:
        """Push an envelope to the connected app (as Slack pushes one to one connection)."""
        with self._changed:
            connection = self._connections[-1]
        connection.send(json.dumps(message))

    def wait_for_ack(self, envelope_id: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        self._wait(lambda: envelope_id in self.acks, f"ack of {envelope_id}", timeout)
        return self.acks[envelope_id]
