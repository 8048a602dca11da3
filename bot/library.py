"""Keeps the current knowledge and its engine, and swaps in edits when they are valid.

A broken edit never replaces the last good knowledge: the problems are logged (``file:line``)
and the bot keeps answering from what it had.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from bot.engine import Engine
from bot.engine.model import LinearModel
from bot.index import build_index, index_digest, read_index, read_model
from bot.knowledge import Knowledge, KnowledgeError, Problem
from bot.loader import digest_of, load_knowledge

log = logging.getLogger("charterbot.knowledge")

RELOAD_CHECK_SECONDS = 2.0
INDEX_FILE = "knowledge-index.sqlite"


_TRAINED: dict[str, LinearModel] = {}  # by knowledge digest: one training per version
_TRAINED_KEPT = 4


def compile_knowledge(folder: Path, index_path: Path) -> tuple[Engine, list[Problem]]:
    """The engine of `folder`, read from its index when the files have not changed since.

    Otherwise the files are validated, the model trained and both compiled into a fresh index
    (raises KnowledgeError).
    """
    digest = digest_of(folder)
    if index_digest(index_path) == digest:
        return engine_from_index(index_path), []
    knowledge, warnings = load_knowledge(folder)
    engine = Engine(knowledge, _TRAINED.get(knowledge.digest))
    _remember(knowledge.digest, engine.model)
    try:
        build_index(knowledge, index_path, engine.model.to_bytes())
    except OSError as exc:  # a read-only data folder must not stop the bot from answering
        log.warning("could not write the knowledge index %s: %s", index_path, exc)
    return engine, warnings


def engine_from_index(index_path: Path) -> Engine:
    """The engine of a compiled index: no validation, no training."""
    blob = read_model(index_path)
    return Engine(read_index(index_path), LinearModel.from_bytes(blob) if blob else None)


def _remember(digest: str, model: LinearModel) -> None:
    _TRAINED[digest] = model
    while len(_TRAINED) > _TRAINED_KEPT:
        del _TRAINED[next(iter(_TRAINED))]


class Library:
    """The live knowledge: loaded at start, re-checked at most every RELOAD_CHECK_SECONDS."""

    def __init__(self, folder: Path, index_path: Path) -> None:
        self.folder = folder
        self.index_path = index_path
        self._lock = threading.Lock()
        self.last_problems: list[Problem] = []
        self._rejected_digest = ""
        self.engine = self._first_engine()
        self._checked = time.monotonic()

    def _first_engine(self) -> Engine:
        """The files' engine; if they are broken, the last good index (a restart after a bad
        edit keeps answering), and only with neither does the error stop the start."""
        try:
            engine, warnings = compile_knowledge(self.folder, self.index_path)
        except KnowledgeError as exc:
            if index_digest(self.index_path) is None:
                raise
            self._reject(digest_of(self.folder), exc.problems)
            return engine_from_index(self.index_path)
        for warning in warnings:
            log.warning("%s", warning)
        return engine

    def _reject(self, digest: str, problems: list[Problem]) -> None:
        self._rejected_digest = digest
        self.last_problems = problems
        for problem in problems:
            log.error("knowledge edit refused, keeping the previous version: %s", problem)

    @property
    def knowledge(self) -> Knowledge:
        return self.engine.knowledge

    def refresh(self, force: bool = False) -> list[Problem]:
        """Swap in edited files if they are valid; returns the problems of a refused edit."""
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_CHECK_SECONDS:
            return []
        if not self._lock.acquire(blocking=force):
            return []
        try:
            self._checked = now
            return self._reload_if_changed(force)
        finally:
            self._lock.release()

    def _reload_if_changed(self, force: bool) -> list[Problem]:
        try:
            digest = digest_of(self.folder)
        except OSError as exc:
            log.error("cannot read the knowledge folder %s: %s", self.folder, exc)
            return [Problem(str(self.folder), 0, str(exc))]
        if digest == self.knowledge.digest:
            self.last_problems = []  # a broken edit was undone: nothing is pending any more
            return []
        if digest == self._rejected_digest and not force:
            return self.last_problems
        try:
            engine, _ = compile_knowledge(self.folder, self.index_path)
        except KnowledgeError as exc:
            self._reject(digest, exc.problems)
            return exc.problems
        except Exception as exc:  # whatever breaks, the edit is refused and the bot keeps going
            problems = [Problem(str(self.folder), 0, f"{type(exc).__name__}: {str(exc)[:200]}")]
            self._reject(digest, problems)
            return problems
        self.engine = engine
        self.last_problems = []
        log.info("knowledge reloaded: %d entries", len(engine.knowledge.entries))
        return []
