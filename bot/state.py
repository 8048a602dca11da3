"""Durable conversation state in SQLite: preferences, question log, feedback, delivered ids.

Sellers are only ever stored as a keyed hash of their platform id (HMAC-SHA256 with a secret that
never leaves the server), question texts only when the bot could not answer well, and everything
is purged after the retention period.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

DELIVERY_MEMORY_DAYS = 7
LANGUAGE_CACHE_SIZE = 100_000
SECRET_FILE = "secret.key"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_secret(data_dir: Path, configured: str | None) -> bytes:
    """CHARTERBOT_SECRET if set, else a random key generated once into the data folder."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()


class State:
    """Thread-safe access to the state database."""

    def __init__(self, path: Path, secret: bytes, retention_days: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: no corruption on a crash, and no fsync per logged question
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self.db = sqlite_utils.Database(self._conn)
        self._lock = threading.Lock()
        self._languages: dict[str, str | None] = {}
        self._secret = secret
        self.retention_days = retention_days
        self._create()
        self.purge()

    def _create(self) -> None:
        db = self.db
        db.table("users").create({"seller": str, "lang": str, "updated": str}, pk="seller",
                           if_not_exists=True)
        db.table("questions").create({"id": int, "seller": str, "at": str, "channel": str, "lang": str,
                                "kind": str, "entry": str, "confidence": float, "platform": str,
                                "text": str, "candidate": str, "candidate_score": float},
                               pk="id", if_not_exists=True)
        db.table("feedback").create({"id": int, "seller": str, "at": str, "entry": str, "useful": int},
                              pk="id", if_not_exists=True)
        db.table("deliveries").create({"key": str, "at": str}, pk="key", if_not_exists=True)
        db.table("questions").create_index(["at"], if_not_exists=True)

    def pseudonym(self, user: str) -> str:
        """The keyed hash that stands for a person in every table."""
        return hmac.new(self._secret, user.encode(), hashlib.sha256).hexdigest()[:32]

    def language(self, seller: str) -> str | None:
        """The seller's chosen language (remembered in memory: asked for every message)."""
        with self._lock:
            if seller not in self._languages:
                if len(self._languages) > LANGUAGE_CACHE_SIZE:
                    self._languages.clear()
                row = self._conn.execute("select lang from users where seller = ?",
                                         (seller,)).fetchone()
                self._languages[seller] = row[0] if row else None
            return self._languages[seller]

    def set_language(self, seller: str, lang: str) -> None:
        with self._lock:
            self.db.table("users").upsert({"seller": seller, "lang": lang, "updated": now_iso()},
                                          pk="seller")
            self._languages[seller] = lang

    def log_question(self, row: dict[str, Any]) -> None:
        """One asked question (plain SQL: this runs for every message)."""
        row = {"at": now_iso(), **row}
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._lock:
            self._conn.execute(f"insert into questions ({columns}) values ({marks})",
                               list(row.values()))

    def add_feedback(self, seller: str, entry: str, useful: bool) -> None:
        with self._lock:
            self.db.table("feedback").insert({"seller": seller, "at": now_iso(), "entry": entry,
                                        "useful": int(useful)})

    def first_delivery(self, key: str) -> bool:
        """Record a delivery key; False if it was already recorded (a retry or duplicate)."""
        with self._lock:
            cur = self._conn.execute("insert or ignore into deliveries (key, at) values (?, ?)",
                                     (key, now_iso()))
        return cur.rowcount == 1

    def forget(self, seller: str) -> None:
        """Erase every row about one seller."""
        with self._lock, self._conn:
            for table in ("users", "questions", "feedback"):
                self._conn.execute(f"delete from {table} where seller = ?", (seller,))
            self._languages.pop(seller, None)

    def purge(self) -> None:
        """Drop records older than the retention period, and old delivery ids."""
        cutoff = (datetime.now(UTC) - timedelta(days=self.retention_days)).isoformat()
        deliveries = (datetime.now(UTC) - timedelta(days=DELIVERY_MEMORY_DAYS)).isoformat()
        with self._lock:
            for table in ("questions", "feedback"):
                self._conn.execute(f"delete from {table} where at < ?", (cutoff,))
            self._conn.execute("delete from users where updated < ?", (cutoff,))
            self._languages.clear()
            self._conn.execute("delete from deliveries where at < ?", (deliveries,))
        self.purged_at = time.monotonic()

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db.query(sql, params or []))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
