"""Shared fixtures: a core over the bundled knowledge, or over a private copy tests may edit."""

from __future__ import annotations

import json
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
