"""Opening the state database from a URL: SQLite by default, PostgreSQL when configured."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

SQLITE_BUSY_MS = 30_000   # a writer waits this long for another process's write to finish
POOL_SIZE = 5             # connections per process to PostgreSQL (threads share them)
POOL_RECYCLE_SECONDS = 600


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
    # no pre-ping (a round trip per checkout, a third of a delivery's database time): a dropped
    # connection fails that one statement, and the delivery is retried (the platform's retry,
    # or the inbox); recycled connections rarely reach a server-side timeout
    # autocommit: a single statement costs one round trip instead of three (BEGIN, it, COMMIT);
    # the few multi-statement changes use `transaction`
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE,
                         pool_recycle=POOL_RECYCLE_SECONDS, isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction for several statements that must apply together (or not at all)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="READ COMMITTED")
        with conn.begin():
            yield conn


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
