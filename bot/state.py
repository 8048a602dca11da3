"""Durable conversation state: preferences, question log, feedback, deliveries and the inbox.

SQLite under CHARTERBOT_DATA_DIR by default, PostgreSQL when DATABASE_URL names one, through
SQLAlchemy Core: every query the bot runs is a named method here, and the schema is versioned
(`bot.store.migrations`, applied when the state is opened).

Sellers are only ever stored as a keyed hash of their platform id (HMAC-SHA256 with a secret that
never leaves the server), question texts only when the bot could not answer well, and everything
is purged after the retention period.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, and_, case, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.settings import MAX_RETENTION_DAYS, ConfigError, Settings
from bot.store import migrations
from bot.store.engine import open_engine, sqlite_url, transaction
from bot.store.schema import (
    case_outcomes,
    cases,
    deliveries,
    feedback,
    inbox,
    questions,
    users,
)

DELIVERY_MEMORY_DAYS = 7
STATE_FILE = "state.sqlite"
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


def open_state(settings: Settings) -> State:
    """The state the settings name: DATABASE_URL, else `state.sqlite` in the data folder."""
    if settings.database_url and not settings.secret:
        raise ConfigError("CHARTERBOT_SECRET must be set when DATABASE_URL is")
    secret = load_secret(settings.data_dir, settings.secret)
    if settings.database_url:
        return State(settings.database_url, secret, settings.retention_days)
    return State(settings.data_dir / STATE_FILE, secret, settings.retention_days)


def _one_row(result: Any) -> bool:
    """Whether a statement with RETURNING touched a row (rowcount is -1 with some drivers)."""
    return result.first() is not None


class _Raw:
    """`state.db.execute(sql, params)` for tests and one-off staff scripts (never the bot)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement with `?` placeholders, committed."""
        names = {f"p{i}": value for i, value in enumerate(params or [])}
        for name in names:
            sql = sql.replace("?", f":{name}", 1)
        with self._engine.begin() as conn:
            conn.execute(text(sql), names)


class State:
    """Thread-safe access to the state database; one engine (a connection pool) per process."""

    def __init__(self, where: Path | str, secret: bytes, retention_days: int) -> None:
        if isinstance(where, Path):
            where.parent.mkdir(parents=True, exist_ok=True)
            make_private(where)
            where = sqlite_url(where)
        self.engine = open_engine(where)
        self.dialect = self.engine.dialect.name
        self._secret = secret
        self.retention_days = min(retention_days, MAX_RETENTION_DAYS)
        migrations.migrate(self.engine)
        self.db = _Raw(self.engine)
        self.purge()

    def _insert(self, table: Table) -> Any:
        """An INSERT that can say ON CONFLICT, in this database's dialect."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    # -- sellers ---------------------------------------------------------------------------------
    def pseudonym(self, user: str) -> str:
        """The keyed hash that stands for a person in every table."""
        return hmac.new(self._secret, valid_text(user).encode(), hashlib.sha256).hexdigest()[:32]

    def language(self, seller: str) -> str | None:
        """The seller's chosen language (read each time: another process may have changed it)."""
        with self.engine.connect() as conn:
            return conn.execute(select(users.c.lang).where(users.c.seller == seller)).scalar()

    def set_language(self, seller: str, lang: str) -> None:
        """Remember a seller's language choice."""
        row = {"seller": seller, "lang": lang, "updated": now_iso()}
        statement = self._insert(users).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=["seller"], set_={"lang": lang, "updated": row["updated"]})
        with self.engine.begin() as conn:
            conn.execute(statement)

    def log_question(self, row: dict[str, Any]) -> None:
        """One asked question."""
        row = {"at": now_iso(), **{k: valid_text(v) if isinstance(v, str) else v
                                   for k, v in row.items()}}
        with self.engine.begin() as conn:
            conn.execute(questions.insert().values(**row))

    def add_feedback(self, seller: str, entry: str, useful: bool) -> None:
        """One vote per seller and entry: a new press replaces the previous one."""
        with transaction(self.engine) as conn:
            conn.execute(delete(feedback).where(feedback.c.seller == seller,
                                                feedback.c.entry == entry))
            conn.execute(feedback.insert().values(seller=seller, at=now_iso(), entry=entry,
                                                  useful=int(useful)))

    def forget(self, seller: str) -> None:
        """Erase every row about one seller (a case under way included)."""
        with transaction(self.engine) as conn:
            for table in (users, questions, feedback, cases):
                conn.execute(delete(table).where(table.c.seller == seller))

    # -- the case builder --------------------------------------------------------------------------
    def case(self, seller: str) -> tuple[str, str, int] | None:
        """(draft, updated, version) of the seller's case under way, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(cases.c.draft, cases.c.updated, cases.c.version)
                               .where(cases.c.seller == seller)).first()
        return (row.draft, row.updated, row.version) if row else None

    def save_case(self, seller: str, draft: str) -> None:
        """Store a new case (it replaces any older one, whose pending answers then fail)."""
        now = now_iso()
        statement = self._insert(cases).values(seller=seller, draft=valid_text(draft), version=1,
                                               started=now, updated=now)
        statement = statement.on_conflict_do_update(
            index_elements=["seller"], set_={"draft": valid_text(draft), "started": now,
                                             "updated": now, "version": cases.c.version + 1})
        with self.engine.begin() as conn:
            conn.execute(statement)

    def update_case(self, seller: str, draft: str, version: int) -> bool:
        """Store a case's next answers if it is still at `version`; False when another answer,
        a cancel or an erasure got there first (nothing is then overwritten or brought back)."""
        with self.engine.begin() as conn:
            return _one_row(conn.execute(
                update(cases).where(cases.c.seller == seller, cases.c.version == version)
                .values(draft=valid_text(draft), updated=now_iso(), version=version + 1)
                .returning(cases.c.seller)))

    def close_case(self, seller: str, platform: str | None, problem: str | None,
                   outcome: str) -> bool:
        """Erase a seller's case and count how it ended; False if there was none (already
        closed by another process: then nothing is counted twice)."""
        with transaction(self.engine) as conn:
            gone = conn.execute(delete(cases).where(cases.c.seller == seller)
                                .returning(cases.c.seller)).first()
            if gone is None:
                return False
            conn.execute(case_outcomes.insert().values(at=now_iso(), platform=platform,
                                                       problem=problem, outcome=outcome))
        return True

    def finish_case(self, seller: str, draft: str, version: int, platform: str | None,
                    problem: str | None) -> bool:
        """A case whose papers are being sent: its answers are kept a little longer (a failed
        send is retried with the same answer) and it is counted as completed, once; False when
        it was no longer at `version` (finished or erased by another process)."""
        with transaction(self.engine) as conn:
            done = conn.execute(update(cases)
                                .where(cases.c.seller == seller, cases.c.version == version)
                                .values(draft=valid_text(draft), updated=now_iso(),
                                        version=version + 1)
                                .returning(cases.c.seller)).first()
            if done is not None:
                conn.execute(case_outcomes.insert().values(at=now_iso(), platform=platform,
                                                           problem=problem, outcome="completed"))
        return done is not None

    def drop_case(self, seller: str) -> None:
        """Erase a seller's case without counting it (its outcome is counted already)."""
        with self.engine.begin() as conn:
            conn.execute(delete(cases).where(cases.c.seller == seller))

    def idle_cases(self, before: str, limit: int = 1000) -> list[tuple[str, str]]:
        """(seller, draft) of cases not touched since `before` (to expire them)."""
        query = (select(cases.c.seller, cases.c.draft).where(cases.c.updated < before)
                 .limit(limit))
        with self.engine.connect() as conn:
            return [(row.seller, row.draft) for row in conn.execute(query)]

    def case_counts(self, since: str) -> list[dict[str, Any]]:
        """How cases ended since `since`: [{platform, problem, outcome, n}], most first."""
        c = case_outcomes.c
        n = func.count().label("n")
        query = (select(c.platform, c.problem, c.outcome, n).where(c.at >= since)
                 .group_by(c.platform, c.problem, c.outcome)
                 .order_by(n.desc(), c.platform, c.problem, c.outcome))
        return self._rows(query)

    # -- staff figures (named queries) -----------------------------------------------------------
    def kinds_since(self, since: str) -> dict[str, int]:
        """How many questions of each reply kind since `since`."""
        query = (select(questions.c.kind, func.count()).where(questions.c.at >= since)
                 .group_by(questions.c.kind))
        with self.engine.connect() as conn:
            return {kind: count for kind, count in conn.execute(query)}

    def top_entries_since(self, since: str, limit: int) -> list[dict[str, Any]]:
        """The entries given most often since `since`: [{entry, n}]."""
        n = func.count().label("n")
        query = (select(questions.c.entry, n)
                 .where(questions.c.at >= since, questions.c.entry.is_not(None))
                 .group_by(questions.c.entry).order_by(n.desc(), questions.c.entry).limit(limit))
        return self._rows(query)

    def unanswered_since(self, since: str, limit: int) -> list[dict[str, Any]]:
        """The `limit` most recent questions kept for staff since `since`, newest first."""
        c = questions.c
        query = (select(c.text, c.lang, c.platform, c.candidate, c.candidate_score)
                 .where(c.text.is_not(None), c.at >= since)
                 .order_by(c.at.desc(), c.id.desc()).limit(limit))
        return self._rows(query)

    def feedback_by_entry(self) -> list[dict[str, Any]]:
        """👍 and 👎 per entry, the most disliked first: [{entry, up, down}]."""
        up = func.sum(feedback.c.useful).label("up")
        down = func.sum(1 - feedback.c.useful).label("down")
        query = (select(feedback.c.entry, up, down).group_by(feedback.c.entry)
                 .order_by(down.desc(), up.desc(), feedback.c.entry))
        return self._rows(query)

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a read-only statement with `?` placeholders (tests and one-off scripts)."""
        names = {f"p{i}": value for i, value in enumerate(params or [])}
        for name in names:
            sql = sql.replace("?", f":{name}", 1)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(text(sql), names)]

    def _rows(self, query: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # -- deliveries --------------------------------------------------------------------------------
    def first_delivery(self, key: str, event: str | None = None) -> bool:
        """Record a delivery key; False if it was already recorded (a retry or duplicate).

        With `event`, the key recorded by that same delivery counts as new again: a stored
        delivery replayed after a crash passes the checks it passed the first time.
        """
        key = valid_text(key)
        statement = self._insert(deliveries).values(key=key, at=now_iso(), event=event)
        with self.engine.begin() as conn:
            inserted = _one_row(conn.execute(statement.on_conflict_do_nothing()
                                             .returning(deliveries.c.key)))
            if inserted or event is None:
                return inserted
            owner = conn.execute(select(deliveries.c.event).where(deliveries.c.key == key))
            return bool(owner.scalar() == event)

    # -- the inbox: incoming deliveries until answered ---------------------------------------------
    def receive(self, key: str, channel: str, payload: str, grace: float) -> bool:
        """Store a delivery before it is acknowledged; False if it was stored already.

        It waits `grace` seconds for the receiving process to claim it before any other may.
        """
        statement = self._insert(inbox).values(
            key=valid_text(key), channel=channel, payload=valid_text(payload), status="pending",
            lease_until=time.time() + grace, attempts=0, received_at=now_iso())
        with self.engine.begin() as conn:
            return _one_row(conn.execute(statement.on_conflict_do_nothing()
                                         .returning(inbox.c.key)))

    def take(self, key: str, channel: str, payload: str, owner: str, lease: float,
             max_attempts: int = 1_000) -> bool:
        """`receive` then `claim` in one statement (one round trip on the hot path): store the
        delivery as being answered by `owner`, or claim the stored one if it may be claimed."""
        now = time.time()
        statement = self._insert(inbox).values(
            key=valid_text(key), channel=channel, payload=valid_text(payload), status="working",
            owner=owner, lease_until=now + lease, attempts=1, received_at=now_iso())
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"status": "working", "owner": owner, "lease_until": now + lease,
                  "attempts": inbox.c.attempts + 1},
            where=and_(inbox.c.attempts < max_attempts,
                       or_(inbox.c.status == "pending",
                           and_(inbox.c.status == "working", inbox.c.lease_until < now))))
        with self.engine.begin() as conn:
            return _one_row(conn.execute(statement.returning(inbox.c.key)))

    def claim(self, key: str, owner: str, lease: float, max_attempts: int = 1_000) -> bool:
        """Take a stored delivery to answer it; False if it is answered, or being answered by a
        process whose lease has not run out. The database decides: exactly one claimant wins."""
        now = time.time()
        statement = (update(inbox)
                     .where(inbox.c.key == valid_text(key), inbox.c.attempts < max_attempts,
                            or_(inbox.c.status == "pending",
                                and_(inbox.c.status == "working", inbox.c.lease_until < now)))
                     .values(status="working", owner=owner, lease_until=now + lease,
                             attempts=inbox.c.attempts + 1)
                     .returning(inbox.c.key))
        with self.engine.begin() as conn:
            return _one_row(conn.execute(statement))

    def answered(self, key: str) -> None:
        """The platform accepted the reply: done for good, and the payload is erased."""
        with self.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.key == valid_text(key))
                         .values(status="answered", payload=None, owner=None,
                                 answered_at=now_iso()))

    def release(self, key: str, retry_in: float, max_attempts: int) -> None:
        """Answering failed: try again in `retry_in` seconds, or give up after `max_attempts`."""
        given_up = inbox.c.attempts >= max_attempts
        with self.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.key == valid_text(key),
                                             inbox.c.status == "working")
                         .values(status=case((given_up, "failed"), else_="pending"),
                                 payload=case((given_up, None), else_=inbox.c.payload),
                                 owner=None, lease_until=time.time() + retry_in))

    def unanswered(self, channel: str, limit: int,
                   max_attempts: int = 1_000) -> list[tuple[str, str]]:
        """(key, payload) of deliveries nobody is answering: never claimed within their grace,
        claimed by a process that died (lease run out), or waiting for another attempt."""
        now = time.time()
        query = (select(inbox.c.key, inbox.c.payload)
                 .where(inbox.c.channel == channel, inbox.c.status.in_(("pending", "working")),
                        inbox.c.lease_until < now, inbox.c.attempts < max_attempts)
                 .order_by(inbox.c.received_at).limit(limit))
        with self.engine.connect() as conn:
            return [(key, payload) for key, payload in conn.execute(query)]

    def inbox_counts(self) -> dict[str, int]:
        """How many deliveries are in each status (for health checks and the load test)."""
        query = select(inbox.c.status, func.count()).group_by(inbox.c.status)
        with self.engine.connect() as conn:
            return {status: count for status, count in conn.execute(query)}

    # -- housekeeping ------------------------------------------------------------------------------
    def purge(self) -> None:
        """Drop records older than the retention period, and old delivery ids."""
        cutoff = (datetime.now(UTC) - timedelta(days=self.retention_days)).isoformat()
        remembered = (datetime.now(UTC) - timedelta(days=DELIVERY_MEMORY_DAYS)).isoformat()
        with transaction(self.engine) as conn:
            for table in (questions, feedback, case_outcomes):
                conn.execute(delete(table).where(table.c.at < cutoff))
            conn.execute(delete(users).where(users.c.updated < cutoff))
            conn.execute(delete(deliveries).where(deliveries.c.at < remembered))
            # whatever its status: an undeliverable payload is not kept longer either
            conn.execute(delete(inbox).where(inbox.c.received_at < remembered))
        self.purged_at = time.monotonic()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
