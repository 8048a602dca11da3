"""The compiled knowledge index: a disposable SQLite file rebuilt whenever the files change.

The index is keyed by the content hash of the knowledge files. It is written to a temporary file
next to its final place and renamed over it, so a reader never sees half an index.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.case.book import case_book_from_dict
from bot.knowledge import (
    Caveat,
    Entry,
    Knowledge,
    Platform,
    PlatformEvent,
    Route,
    RouteStep,
    SourceDoc,
    WordLists,
)

INDEX_VERSION = "6"


def build_index(knowledge: Knowledge, path: Path, model: bytes = b"") -> None:
    """Write `knowledge` (and the engine's trained `model`) to a fresh index at `path`,
    atomically replacing any older one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".index-", suffix=".sqlite", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite_utils.Database(tmp_name)
        _create_tables(db)
        db.table("meta").insert_all([{"key": "digest", "value": knowledge.digest},
                               {"key": "version", "value": INDEX_VERSION}], pk="key")
        db.table("entries").insert_all(_entry_rows(knowledge), pk="id")
        db.table("phrasings").insert_all(_phrasing_rows(knowledge))
        db.table("platforms").insert_all(
            ({"name": p.name, "data": json.dumps(asdict(p), ensure_ascii=False)}
             for p in knowledge.platforms), pk="name")
        db.table("routes").insert_all(
            ({"id": r.id, "data": json.dumps(asdict(r), ensure_ascii=False)}
             for r in knowledge.routes.values()), pk="id")
        db.table("sources").insert_all((asdict(s) for s in knowledge.sources.values()), pk="id")
        db.table("synonyms").insert_all(({"line": n, "words": json.dumps(g, ensure_ascii=False)}
                                   for n, g in enumerate(knowledge.synonyms)), pk="line")
        db.table("extras").insert_all([
            {"key": "words", "value": json.dumps(_words_data(knowledge.words), ensure_ascii=False)},
            {"key": "caveats", "value": json.dumps([asdict(c) for c in knowledge.caveats],
                                                   ensure_ascii=False)},
            {"key": "cases", "value": json.dumps(asdict(knowledge.cases) if knowledge.cases
                                                 else None, ensure_ascii=False)},
        ], pk="key")
        db.table("model").insert({"id": 1, "blob": model}, pk="id")
        db.close()
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _create_tables(db: sqlite_utils.Database) -> None:
    """Create every table up front, so an empty knowledge part still has its (empty) table."""
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("entries").create({"id": str, "kind": str, "topic": str, "reviewed": str, "file": str,
                          "line": int, "data": str}, pk="id")
    db.table("phrasings").create({"entry": str, "lang": str, "text": str})
    db.table("platforms").create({"name": str, "data": str}, pk="name")
    db.table("routes").create({"id": str, "data": str}, pk="id")
    db.table("sources").create({"id": str, "title": str, "url": str}, pk="id")
    db.table("synonyms").create({"line": int, "words": str}, pk="line")
    db.table("extras").create({"key": str, "value": str}, pk="key")
    db.table("model").create({"id": int, "blob": bytes}, pk="id")


def _entry_rows(knowledge: Knowledge) -> list[dict[str, Any]]:
    return [{"id": e.id, "kind": e.kind, "topic": e.topic, "reviewed": e.reviewed,
             "file": e.file, "line": e.line, "data": json.dumps(asdict(e), ensure_ascii=False)}
            for e in knowledge.entries]


def _phrasing_rows(knowledge: Knowledge) -> list[dict[str, Any]]:
    """One row per phrasing, so staff can query the index with any SQLite tool."""
    return [{"entry": e.id, "lang": lang, "text": text}
            for e in knowledge.entries for lang, texts in e.phrasings.items() for text in texts]


def index_digest(path: Path) -> str | None:
    """The content hash the index at `path` was built from, or None if unreadable."""
    if not path.exists():
        return None
    try:
        db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
        rows = {row["key"]: row["value"] for row in db.table("meta").rows}
        db.close()
    except sqlite3.DatabaseError:
        return None
    if rows.get("version") != INDEX_VERSION:
        return None
    return rows.get("digest")


def read_index(path: Path) -> Knowledge:
    """Load the knowledge back from an index file."""
    db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    try:
        digest = {row["key"]: row["value"] for row in db.table("meta").rows}["digest"]
        entries = tuple(_entry(json.loads(row["data"])) for row in db.table("entries").rows)
        platforms = tuple(_platform(json.loads(row["data"])) for row in db.table("platforms").rows)
        routes = {row["id"]: _route(json.loads(row["data"])) for row in db.table("routes").rows}
        sources = {row["id"]: SourceDoc(**row) for row in db.table("sources").rows}
        synonyms = tuple(tuple(json.loads(row["words"]))
                         for row in db.table("synonyms").rows_where(order_by="line"))
        extras = {row["key"]: json.loads(row["value"]) for row in db.table("extras").rows}
    finally:
        db.close()
    caveats = tuple(Caveat(**{**c, "topics": tuple(c["topics"]), "cues": tuple(c["cues"]),
                              "sources": tuple(c["sources"])}) for c in extras["caveats"])
    cases = extras.get("cases")
    return Knowledge(entries, platforms, routes, sources, digest, synonyms,
                     _words(extras["words"]), caveats,
                     case_book_from_dict(cases) if cases else None)


def read_model(path: Path) -> bytes:
    """The trained model stored with the index (empty when there is none)."""
    db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    try:
        rows = list(db.table("model").rows)
    finally:
        db.close()
    return bytes(rows[0]["blob"]) if rows else b""


def _words_data(lists: WordLists) -> dict[str, Any]:
    return {"stopwords": sorted(lists.stopwords), "courtesy": sorted(lists.courtesy),
            "spellings": lists.spellings,
            "markers": {lang: sorted(words) for lang, words in lists.markers.items()},
            "context": lists.context}


def _words(data: dict[str, Any]) -> WordLists:
    return WordLists(frozenset(data["stopwords"]), frozenset(data["courtesy"]), data["spellings"],
                     {lang: frozenset(words) for lang, words in data["markers"].items()},
                     {lang: tuple(texts) for lang, texts in data["context"].items()})


def _entry(data: dict[str, Any]) -> Entry:
    data["sources"] = tuple(data["sources"])
    data["escalation"] = tuple(data["escalation"])
    data["phrasings"] = {lang: tuple(items) for lang, items in data["phrasings"].items()}
    return Entry(**data)


def _route(data: dict[str, Any]) -> Route:
    return Route(**{**data, "sources": tuple(data["sources"])})


def _platform(data: dict[str, Any]) -> Platform:
    history = tuple(PlatformEvent(**{**e, "sources": tuple(e["sources"])})
                    for e in data.pop("history"))
    route = tuple(RouteStep(**{**r, "sources": tuple(r["sources"])})
                  for r in data.pop("route", ()))
    return Platform(**{**data, "aliases": tuple(data["aliases"]), "history": history,
                       "route": route})
