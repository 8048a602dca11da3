"""Opening the state database from a URL: SQLite by default, PostgreSQL when configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

SQLITE_BUSY_MS = 30_000   # a writer waits this long for another process's write to finish
POOL_SIZE = 5             # connections per process to PostgreSQL (threads share them)


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite file (absolute, so a change of directory does not matter)."""
    return f"sqlite:///{path.resolve()}"


def normalise_url(url: str) -> str:
    """Platforms hand out `postgres://` (Heroku) or `postgresql://`: both mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its busy timeout before WAL mode, and IMMEDIATE
    transactions, so processes starting together wait for each other instead of failing with
    "database is locked"."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # the driver's own transaction handling is off: "begin" below starts every transaction
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")   # first: WAL needs a lock
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe on a crash, no fsync per row
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at once: a deferred transaction that later needs it fails
    # with SQLITE_BUSY without waiting, whatever the busy timeout
    connection.exec_driver_sql("BEGIN IMMEDIATE")
