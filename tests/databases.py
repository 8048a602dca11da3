"""The databases the state-store tests run on: SQLite always, PostgreSQL when TEST_DATABASE_URL
names a server (`.ci/run` sets it when one answers on 127.0.0.1:5432).

Each PostgreSQL test gets a schema of its own (dropped afterwards), so runs sharing the server
never see each other's rows. Under CI (`CHARTERBOT_CI_POSTGRES=1`) a PostgreSQL test that cannot
run fails instead of skipping: a present server must be tested.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from bot.store.engine import normalise_url

KINDS = ("sqlite", "postgresql")


def postgres_or_skip() -> str:
    """The server's URL; skips (or fails under CI) without one."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("CHARTERBOT_CI_POSTGRES") == "1":
            pytest.fail("CI found PostgreSQL but TEST_DATABASE_URL is not set", pytrace=False)
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    return url


def with_search_path(url: str, schema: str) -> str:
    """The same server, with unqualified table names in `schema`."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def private_schema(url: str) -> Iterator[str]:
    """A URL on a new, empty schema of the server, dropped at the end."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(url))
    with admin.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    try:
        yield with_search_path(url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


@pytest.fixture(params=KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, as a DATABASE_URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    yield from private_schema(postgres_or_skip())


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL schema (skipped without a server, failed under CI)."""
    yield from private_schema(postgres_or_skip())
