"""Durable conversation state in SQLite: preferences, question log, feedback, delivered ids.

Sellers are only ever stored as a keyed hash of their platform id (HMAC-SHA256 with a secret that
never leaves the server), question texts only when the bot could not answer well, and everything
is purged after the retention period.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.settings import MAX_RETENTION_DAYS, ConfigError

DELIVERY_MEMORY_DAYS = 7
LANGUAGE_CACHE_SIZE = 100_000
SECRET_FILE = "secret.key"
MIN_SECRET_CHARS = 16       # a generated key has 64; anything much shorter is a broken file
PRIVATE_FILE_MODE = 0o600   # question texts and the key: readable by the bot's user only


class SecretError(ConfigError):
    """The key file exists but cannot be used; the message says what to do."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def valid_text(text: str) -> str:
    """`text` as valid Unicode: lone surrogates (undecodable bytes, broken JSON escapes) become
    U+FFFD, so the text can be stored, logged and sent like any other."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def load_secret(data_dir: Path, configured: str | None) -> bytes:
    """CHARTERBOT_SECRET if set, else a random key generated once into the data folder.

    An empty or truncated key file (a crash while it was written) is refused rather than used:
    hashes keyed with it would be plain, guessable hashes of the sellers' ids.
    """
    if configured:
        return valid_text(configured).encode()
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets.token_hex(32))
    if path.stat().st_mode & 0o077:  # a key readable by others lets them undo the pseudonyms
        os.chmod(path, PRIVATE_FILE_MODE)
    key = path.read_text(errors="replace").strip()
    if len(key) < MIN_SECRET_CHARS:
        raise SecretError(f"{path} is empty or too short (at least {MIN_SECRET_CHARS} "
                          "characters): restore it from a backup, or delete it to generate a new "
                          "key (past records then no longer match their sellers), or set "
                          "CHARTERBOT_SECRET")
    return key.encode()


def _write_private(path: Path, content: str) -> None:
    """Write a new file readable by this user only, atomically (never seen half written)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def make_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (it would use the umask, often 0644),
    and tighten an existing one; SQLite gives its -wal and -shm files the database's mode."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name.exists():
            os.chmod(name, PRIVATE_FILE_MODE)


class State:
    """Thread-safe access to the state database."""

    def __init__(self, path: Path, secret: bytes, retention_days: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        make_private(path)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: no corruption on a crash, and no fsync per logged question
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self.db = sqlite_utils.Database(self._conn)
        self._lock = threading.Lock()
        self._languages: dict[str, str | None] = {}
        self._secret = secret
        self.retention_days = min(retention_days, MAX_RETENTION_DAYS)
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
        db.table("feedback").create_index(["seller", "entry"], if_not_exists=True)

    def pseudonym(self, user: str) -> str:
        """The keyed hash that stands for a person in every table."""
        return hmac.new(self._secret, valid_text(user).encode(), hashlib.sha256).hexdigest()[:32]

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
        row = {"at": now_iso(), **{k: valid_text(v) if isinstance(v, str) else v
                                   for k, v in row.items()}}
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._lock:
            self._conn.execute(f"insert into questions ({columns}) values ({marks})",
                               list(row.values()))

    def add_feedback(self, seller: str, entry: str, useful: bool) -> None:
        """One vote per seller and entry: a new press replaces the previous one."""
        with self._lock, self._conn:
            self._conn.execute("delete from feedback where seller = ? and entry = ?",
                               (seller, entry))
            self._conn.execute("insert into feedback (seller, at, entry, useful) "
                               "values (?, ?, ?, ?)", (seller, now_iso(), entry, int(useful)))

    def first_delivery(self, key: str) -> bool:
        """Record a delivery key; False if it was already recorded (a retry or duplicate)."""
        with self._lock:
            cur = self._conn.execute("insert or ignore into deliveries (key, at) values (?, ?)",
                                     (valid_text(key), now_iso()))
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
