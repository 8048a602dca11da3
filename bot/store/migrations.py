"""Versioned schema changes, applied at start-up, once, whatever the number of processes.

Each migration is a function of a connection inside the migration transaction; its number is its
place in MIGRATIONS (1-based). Processes serialise on a lock first (an advisory lock on
PostgreSQL, SQLite's write lock), then read the version: the first applies what is missing, the
others find nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, MetaData, inspect, select, text

from bot.store import schema
from bot.store.engine import transaction

ADVISORY_LOCK = 0x63686172  # "char": the one lock charterbot takes on a PostgreSQL database


def _v1_initial(conn: Connection) -> None:
    """The tables of the first version (kept as they were if they exist already)."""
    for table in (schema.users, schema.questions, schema.feedback):
        table.create(conn, checkfirst=True)
    if not inspect(conn).has_table("deliveries"):
        conn.execute(text("create table deliveries (key text primary key, at text)"))


def _v2_inbox(conn: Connection) -> None:
    """The inbox of deliveries not yet answered, and which delivery recorded a key."""
    schema.inbox.create(conn, checkfirst=True)
    columns = {c["name"] for c in inspect(conn).get_columns("deliveries")}
    if "event" not in columns:
        conn.execute(text("alter table deliveries add column event text"))


def _v3_cases(conn: Connection) -> None:
    """The case builder's cases under way and their outcomes (counts only)."""
    schema.cases.create(conn, checkfirst=True)
    schema.case_outcomes.create(conn, checkfirst=True)


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1_initial, _v2_inbox, _v3_cases)
LATEST = len(MIGRATIONS)


def migrate(engine: Engine) -> int:
    """Bring the database to LATEST; returns how many migrations this process applied."""
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("select pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        schema.schema_version.create(conn, checkfirst=True)
        current = conn.execute(select(schema.schema_version.c.version)
                               .order_by(schema.schema_version.c.version.desc())).scalar() or 0
        for number in range(current + 1, LATEST + 1):
            MIGRATIONS[number - 1](conn)
            conn.execute(schema.schema_version.insert().values(
                version=number, applied_at=datetime.now(UTC).isoformat(timespec="seconds")))
        return max(0, LATEST - current)


def version(engine: Engine) -> int:
    """The schema version of the database (0 for an empty one)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("schema_version"):
            return 0
        return conn.execute(select(schema.schema_version.c.version)
                            .order_by(schema.schema_version.c.version.desc())).scalar() or 0


def create_tables(engine: Engine, metadata: MetaData) -> None:
    """Create another library's tables (slack-sdk's stores) under the migration lock: their own
    `create_all` races when several processes start on an empty PostgreSQL database."""
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("select pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        metadata.create_all(conn)
