"""Shared fixtures: a core over the bundled knowledge, or over a private copy tests may edit.

Every log line of the whole suite, from INFO up, is also checked (`log_hygiene`): a test fails if
anything it made the bot log carries a token, a secret, or a sentence a seller typed.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.service import Charterbot
from bot.settings import DEFAULT_KNOWLEDGE_DIR, Settings

DATA = Path(__file__).parent / "data"


def labelled(name: str) -> list[dict[str, str]]:
    """The labelled seller questions of one split."""
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def shared_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Charterbot]:
    """One core for read-only questions (building the matcher once keeps the suite fast)."""
    core = Charterbot(Settings(data_dir=tmp_path_factory.mktemp("data")))
    yield core
    core.close()


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Charterbot]:
    """A fresh core with its own state database."""
    bot = Charterbot(Settings(data_dir=tmp_path / "data"))
    yield bot
    bot.close()


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A copy of the bundled knowledge that a test may edit or break."""
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, target)
    return target


# -- no secret and no seller text in any log line ---------------------------------------------------
# The fakes' credentials and the tests' signing secrets.
LOGGED_SECRETS = ("123456:TEST-token-not-real", "xoxb-test-not-real", "xapp-test-not-real",
                  "xoxb-other-workspace", "test-signing-secret-not-real", "s3cret_token-for-tests",
                  "999:revoked-token")
TOKEN_PATTERNS = (re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{6,}"), re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"),
                  re.compile(r"(?<![0-9])[0-9]{3,}:[A-Za-z0-9_-]{10,}"))  # a Telegram bot token
# Sentences only sellers type in the tests (never knowledge text): none may reach a log line.
SELLER_TEXTS = ("recette de crêpes", "crêpes au sarrasin", "Dupont", "météo demain",
                "TOPSECRET", "<@U0BOT>", "tell me about the charter and the fees")


def leaks(line: str) -> list[str]:
    """What in one log line is a secret, a token or a seller's text."""
    found = [s for s in LOGGED_SECRETS if s in line]
    found += [m.group(0) for pattern in TOKEN_PATTERNS for m in pattern.finditer(line)]
    found += [t for t in SELLER_TEXTS if t.lower() in line.lower()]
    return found


class _Recorder(logging.Handler):
    """Keeps every record at INFO and above, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot even be formatted is a bug of its own
            self.lines.append(f"UNFORMATTABLE {record.name}: {record.msg!r}")


_RECORDER = _Recorder()


@pytest.fixture(scope="session", autouse=True)
def _log_at_info() -> Iterator[None]:
    """The whole suite logs at INFO, as `charterbot run` does, into the recorder."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(_RECORDER)
    yield
    root.removeHandler(_RECORDER)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def log_hygiene() -> Iterator[None]:
    """Fails the test whose log lines carry a secret, a token or a seller's text."""
    start = len(_RECORDER.lines)
    yield
    bad = [(line[:300], found) for line in _RECORDER.lines[start:] if (found := leaks(line))]
    if bad:
        pytest.fail(f"log lines leak {bad[0][1]}: {bad[:3]}", pytrace=False)
