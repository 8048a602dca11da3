"""The inbox: incoming deliveries stored before they are acknowledged, until answered.

An adapter calls `receive` before it acknowledges an update or event, `claim` before it answers
(False: another process answers it, or already did), then `answered` once the platform accepted
the reply, or `failed` when it could not be sent (it is then tried again later, a bounded number
of times). `unanswered` lists what a crashed process left: each process takes those over, so a
restart, or another worker, finishes what was acknowledged. The database decides every race.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field

from bot.state import State

log = logging.getLogger("charterbot.inbox")

LEASE_SECONDS = 180.0    # a claim outlives the reply's whole retry budget (a minute of 429s)
GRACE_SECONDS = 20.0     # a stored delivery waits this long for its receiver to claim it
RETRY_SECONDS = 15.0     # a failed answer is tried again after this
MAX_ATTEMPTS = 5         # then it is given up (a reply that can never be sent)
RESUME_BATCH = 100       # deliveries taken over per look


def process_id() -> str:
    """Who claims: host, process and a random part (pids are reused across restarts)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Inbox:
    """One channel's deliveries (`telegram`, `slack`) in the state database."""

    state: State
    channel: str
    lease: float = LEASE_SECONDS
    grace: float = GRACE_SECONDS
    retry_in: float = RETRY_SECONDS
    max_attempts: int = MAX_ATTEMPTS
    owner: str = field(default_factory=process_id)

    def receive(self, key: str, payload: str) -> bool:
        """Store a delivery (before acknowledging it); False if it was stored before."""
        return self.state.receive(key, self.channel, payload, self.grace)

    def claim(self, key: str) -> bool:
        """Whether this process answers the delivery now (nobody else is, nor did)."""
        return self.state.claim(key, self.owner, self.lease, self.max_attempts)

    def take(self, key: str, payload: str) -> bool:
        """`receive` and `claim` at once, for a delivery answered by the process receiving it."""
        return self.state.take(key, self.channel, payload, self.owner, self.lease,
                               self.max_attempts)

    def answered(self, key: str) -> None:
        """The platform accepted the reply (or there was nothing to send)."""
        self.state.answered(key)

    def failed(self, key: str) -> None:
        """The reply could not be sent: try again later, or give up after MAX_ATTEMPTS."""
        log.info("%s: %s not answered, will be tried again", self.channel, key)
        self.state.release(key, self.retry_in, self.max_attempts)

    def unanswered(self, limit: int = RESUME_BATCH) -> list[tuple[str, str]]:
        """(key, payload) of deliveries nobody is answering, oldest first."""
        return self.state.unanswered(self.channel, limit, self.max_attempts)
