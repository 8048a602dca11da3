"""Read and validate the knowledge folder, reporting every problem as ``file:line: message``.

YAML is read with PyYAML's base loader, so every value stays text (no `no` -> False, no surprise
dates) and each value keeps the line it came from for error messages.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import (
    ROUTE_STEPS,
    Entry,
    Knowledge,
    KnowledgeError,
    Platform,
    PlatformEvent,
    Problem,
    Route,
    RouteStep,
    SourceDoc,
)
from bot.loader_cases import read_cases
from bot.loader_extras import check_roles, read_caveats, read_words
from bot.model import LANGS, Lang

try:  # libyaml is much faster; fall back to the pure-Python composer where it is missing
    _YamlLoader: Any = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _YamlLoader = yaml.BaseLoader

MIN_PHRASINGS = 4
# The largest bundled file is under 70 kB; a file 15 times that size is a mistake (or an attack),
# and reading it every few seconds would cost the running bot memory and time.
MAX_FILE_BYTES = 1_000_000
MAX_REPORTED_ALIASES = 5  # anchors/aliases reported per file (one is enough to refuse it)
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
EVENTS = ("signed", "refused", "renewed")
KINDS = ("answer", "smalltalk", "outside")  # outside: examples of what the bot does not cover
TOPICS = ("charter", "law", "escalation", "problems", "platforms", "smalltalk", "outside")
ENTRY_KEYS = {"id", "kind", "topic", "reviewed", "sources", "escalation", "phrasings", "answer",
              "title", "role", "short"}
PLATFORM_KEYS = {"name", "aliases", "history", "route"}
ROUTE_STEP_KEYS = {"step", "text", "sources", "reviewed", "uncertain"}
EVENT_KEYS = {"date", "event", "sources", "note", "uncertain"}
ROUTE_KEYS = {"id", "name", "how", "cost", "sources"}
SOURCE_KEYS = {"id", "title", "url"}


class Text(str):
    """A YAML string that remembers the line it was written on."""

    line: int


class Map(dict[str, Any]):
    line: int


class Seq(list[Any]):
    line: int


def _stripped(text: Text) -> Text:
    """The text without surrounding blanks, still knowing its line."""
    out = Text(text.strip())
    out.line = text.line
    return out


def line_of(value: object, default: int = 0) -> int:
    """The 1-based line a value came from, or `default` when it carries none."""
    return getattr(value, "line", default)


class _Reader:
    """Turns YAML nodes into Text/Map/Seq values, collecting problems on the way."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def value(self, node: yaml.Node) -> Any:
        line = node.start_mark.line + 1
        out: Any
        if isinstance(node, yaml.MappingNode):
            out = Map()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in out:
                    self.problems.append(Problem(self.file, key_node.start_mark.line + 1,
                                                 f"'{key}' is given twice"))
                out[key] = self.value(value_node)
        elif isinstance(node, yaml.SequenceNode):
            out = Seq(self.value(item) for item in node.value)
        else:
            out = Text(node.value)
        out.line = line
        return out


def read_yaml(path: Path, label: str, problems: list[Problem],
              folder: Path | None = None) -> Any:
    """Parse one file; a syntax error becomes a problem pointing at its line.

    The file must be a regular file inside `folder` of at most MAX_FILE_BYTES, written without
    YAML anchors and aliases: nested aliases expand exponentially ("billion laughs") and an alias
    inside its own anchor never ends, so they are refused before anything is built from them.
    """
    refusal = file_refusal(path, folder)
    if refusal:
        problems.append(Problem(label, 0, refusal))
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(label, 1, f"not UTF-8 text ({exc.reason})"))
        return None
    except OSError as exc:
        problems.append(Problem(label, 0, f"cannot be read ({exc.strerror or exc})"))
        return None
    try:
        aliases = _aliases(text)
        if aliases:
            problems.extend(Problem(label, line, message) for line, message in aliases)
            return None
        node = yaml.compose(text, Loader=_YamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(label, line, f"YAML syntax: {exc.problem or exc.context}"
                                + _syntax_hint(exc)))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(label, 1, f"YAML syntax: {exc}"))
        return None
    return None if node is None else _Reader(label, problems).value(node)


def _aliases(text: str) -> list[tuple[int, str]]:
    """Where the text uses YAML anchors (&name) or aliases (*name), as (line, message)."""
    found: list[tuple[int, str]] = []
    for event in yaml.parse(text, Loader=_YamlLoader):
        anchor = getattr(event, "anchor", None)
        if not anchor:
            continue
        line = event.start_mark.line + 1 if event.start_mark else 1
        kind = ("alias", "*") if isinstance(event, yaml.AliasEvent) else ("anchor", "&")
        found.append((line, f"YAML {kind[0]} '{kind[1]}{anchor}' is not allowed: "
                            "write the value out in full"))
        if len(found) >= MAX_REPORTED_ALIASES:
            break
    return found


def file_refusal(path: Path, folder: Path | None = None) -> str | None:
    """Why a knowledge file cannot be read, or None when it is a regular file of sane size.

    Only regular files are opened (a FIFO would block forever, a device could be endless), and a
    link must lead to a file inside the knowledge folder (else its content could be echoed back
    in error messages).
    """
    try:
        if folder is not None and not path.resolve().is_relative_to(folder.resolve()):
            return "is a link to a file outside the knowledge folder: copy the file instead"
        info = path.stat()
    except FileNotFoundError:
        return "is a link to a file that does not exist"
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on older Pythons
        return f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder, not a file: rename it so it does not end with .yaml"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size > MAX_FILE_BYTES:
        return (f"is {info.st_size:,} bytes, more than the {MAX_FILE_BYTES:,} allowed: "
                "split it into several files")
    return None


def _syntax_hint(exc: yaml.MarkedYAMLError) -> str:
    if "mapping values are not allowed" in str(exc.problem):
        return ' (a text containing ": " must be put in double quotes)'
    return ""


class Validator:
    """Checks raw YAML values against the knowledge schema and builds the frozen values."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.file = ""

    def error(self, value: object, message: str, line: int = 0) -> None:
        self.problems.append(Problem(self.file, line_of(value, line), message))

    def items(self, data: Any, what: str) -> list[Map]:
        """The top-level list of records of a file."""
        if data is None:
            return []
        if not isinstance(data, Seq):
            self.error(data, f"the file must be a list of {what}, each starting with '- '", 1)
            return []
        out = []
        for item in data:
            if isinstance(item, Map):
                out.append(item)
            else:
                self.error(item, f"each {what[:-1]} must be a set of 'key: value' lines")
        return out

    def keys(self, record: Map, allowed: set[str], what: str) -> None:
        for key in record:
            if key not in allowed:
                self.error(record[key], f"unknown field '{key}' in {what} "
                           f"(allowed: {', '.join(sorted(allowed))})", record.line)

    def text(self, record: Map, key: str, required: bool = True) -> str:
        value = record.get(key)
        if value is None:
            if required:
                self.error(record, f"missing '{key}'")
            return ""
        if not isinstance(value, Text) or not value.strip():
            self.error(value, f"'{key}' must be a non-empty text")
            return ""
        return str(value).strip()

    def texts(self, record: Map, key: str, required: bool = True) -> dict[Lang, str]:
        """A field with one text per language (fr and en)."""
        value = record.get(key)
        if value is None:
            if required:
                self.error(record, f"missing '{key}' (with 'fr:' and 'en:')")
            return {}
        if not isinstance(value, Map):
            self.error(value, f"'{key}' must have 'fr:' and 'en:' texts")
            return {}
        out: dict[Lang, str] = {}
        for lang in LANGS:
            if lang not in value:
                self.error(value, f"'{key}' has no '{lang}:' text ({_LANG_NAMES[lang]})")
            else:
                out[lang] = self.text(value, lang)
        for extra in set(value) - set(LANGS):
            self.error(value[extra], f"'{key}' has an unknown language '{extra}' (use fr or en)")
        return out

    def text_list(self, record: Map, key: str) -> tuple[str, ...]:
        value = record.get(key)
        if value is None:
            return ()
        if isinstance(value, Text):
            value = Seq([value])
        if not isinstance(value, Seq):
            self.error(value, f"'{key}' must be a list")
            return ()
        out: list[str] = []
        for item in value:
            if isinstance(item, Text) and item.strip():
                out.append(_stripped(item))
            else:
                self.error(item, f"each item of '{key}' must be a text"
                           + (' (put it in double quotes if it contains ": ")'
                              if isinstance(item, Map) else ""), value.line)
        return tuple(out)

    def day(self, record: Map, key: str) -> str:
        value = self.text(record, key)
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                self.error(record.get(key), f"'{key}' must be a date written YYYY-MM-DD, "
                           f"not '{value}'")
        return value


_LANG_NAMES = {"fr": "French", "en": "English"}


def _file_digest(paths: list[Path], folder: Path | None = None) -> str:
    """A hash of the files' names and contents; never blocks nor raises on a strange file.

    A file the loader would refuse is hashed by its refusal and metadata instead of its content,
    so the digest still changes when it is fixed, without reading a FIFO or a huge file.
    """
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        refusal = file_refusal(path, folder)
        if refusal is None:
            try:
                digest.update(path.read_bytes())
                continue
            except OSError as exc:
                refusal = str(exc)
        digest.update(b"\0refused\0" + refusal.encode() + _metadata(path))
    return digest.hexdigest()


def _metadata(path: Path) -> bytes:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return b"missing"
    return f"{info.st_mode}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}".encode()


def knowledge_files(folder: Path) -> list[Path]:
    """Every file that makes up the knowledge, in a stable order.

    Whatever is named like a knowledge file is listed, even a folder or a broken link: the loader
    then reports it rather than silently leaving it out.
    """
    singles = [folder / name for name in ("sources.yaml", "platforms.yaml", "escalation.yaml",
                                          "synonyms.yaml", "words.yaml", "caveats.yaml",
                                          "cases.yaml")]
    entries = sorted((folder / "entries").glob("*.yaml")) + sorted((folder / "entries").glob("*.yml"))
    return [p for p in singles if p.exists() or p.is_symlink()] + entries


def digest_of(folder: Path) -> str:
    """A content hash of the knowledge folder: it changes exactly when a file's content does."""
    return _file_digest(knowledge_files(folder), folder)


def load_knowledge(folder: Path) -> tuple[Knowledge, list[Problem]]:
    """Read and validate a knowledge folder; raises KnowledgeError if anything is an error.

    Returns the knowledge with the warnings that did not stop it. Any other failure while reading
    (a bug, memory, a file vanishing mid-read) is a KnowledgeError too: a caller keeping the last
    good knowledge must never be stopped by a strange edit.
    """
    try:
        return _load_knowledge(folder)
    except KnowledgeError:
        raise
    except Exception as exc:  # RecursionError and MemoryError included
        problem = Problem(str(folder), 0, f"the knowledge could not be read: "
                                          f"{type(exc).__name__}: {str(exc)[:200]}")
        raise KnowledgeError([problem]) from exc


def _load_knowledge(folder: Path) -> tuple[Knowledge, list[Problem]]:
    problems: list[Problem] = []
    if not folder.is_dir():
        raise KnowledgeError([Problem(str(folder), 0, "knowledge folder not found")])
    files = knowledge_files(folder)
    check = Validator(problems)

    def parse(path: Path) -> Any:
        check.file = _label(path, folder)
        return read_yaml(path, check.file, problems, folder)

    sources = _sources(check, parse, folder / "sources.yaml")
    routes = _routes(check, parse, folder / "escalation.yaml", sources)
    platforms = _platforms(check, parse, folder / "platforms.yaml", sources)
    synonyms = _synonyms(check, parse, folder / "synonyms.yaml")
    words = read_words(check, parse, folder / "words.yaml")
    caveats = read_caveats(check, parse, folder / "caveats.yaml", sources, TOPICS)
    entries: list[Entry] = []
    for path in files:
        if path.parent.name == "entries":
            entries.extend(_entries(check, parse(path), sources, routes))
    _check_unique_entries(problems, entries)
    if entries:
        check_roles(problems, entries, _label(folder / "entries", folder))
    cases = read_cases(check, parse, folder / "cases.yaml", sources, platforms, entries)
    if not entries and not any(p.severity == "error" for p in problems):
        problems.append(Problem(_label(folder / "entries", folder), 0, "no entry found"))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise KnowledgeError(errors)
    knowledge = Knowledge(tuple(entries), tuple(platforms), routes, sources,
                          _file_digest(files, folder), synonyms, words, caveats, cases)
    return knowledge, problems


def _present(path: Path) -> bool:
    """Whether a name is there, even as a broken link (which is then reported, not skipped)."""
    return path.exists() or path.is_symlink()


def _label(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder.parent))
    except ValueError:
        return str(path)


def _sources(check: Validator, parse: Any, path: Path) -> dict[str, SourceDoc]:
    if not _present(path):
        return {}
    out: dict[str, SourceDoc] = {}
    for record in check.items(parse(path), "sources"):
        check.keys(record, SOURCE_KEYS, "a source")
        doc = SourceDoc(check.text(record, "id"), check.text(record, "title"),
                        check.text(record, "url"))
        if doc.url and not URL_PATTERN.match(doc.url):
            check.error(record.get("url"), f"'{doc.url}' is not a web address (https://...)")
        if doc.id in out:
            check.error(record, f"source id '{doc.id}' is used twice")
        out[doc.id] = doc
    return out


def check_sources(check: Validator, record: Map, known: dict[str, SourceDoc],
                  required: bool = True) -> tuple[str, ...]:
    """Source ids or links; anything else is an error naming the known ids."""
    cited = check.text_list(record, "sources")
    if required and not cited:
        check.error(record, "missing 'sources' (at least one known id or https:// link)")
    for source in cited:
        if source not in known and not URL_PATTERN.match(source):
            check.error(source, f"source '{source}' is neither a web address nor "
                        "an id from sources.yaml", line_of(record.get("sources")))
    return cited


def _routes(check: Validator, parse: Any, path: Path,
            sources: dict[str, SourceDoc]) -> dict[str, Route]:
    if not _present(path):
        return {}
    out: dict[str, Route] = {}
    for record in check.items(parse(path), "routes"):
        check.keys(record, ROUTE_KEYS, "an escalation route")
        route = Route(check.text(record, "id"), check.texts(record, "name"),
                      check.texts(record, "how"), check.texts(record, "cost"),
                      check_sources(check, record, sources))
        if route.id in out:
            check.error(record, f"route id '{route.id}' is used twice")
        out[route.id] = route
    return out


def _platforms(check: Validator, parse: Any, path: Path,
               sources: dict[str, SourceDoc]) -> list[Platform]:
    if not _present(path):
        return []
    out: list[Platform] = []
    for record in check.items(parse(path), "platforms"):
        check.keys(record, PLATFORM_KEYS, "a platform")
        history = []
        raw_history = record.get("history", Seq())
        for event in check.items(raw_history, "events") if isinstance(raw_history, Seq) else []:
            history.append(_event(check, event, sources))
        if not isinstance(raw_history, Seq):
            check.error(raw_history, "'history' must be a list of events (or [] for none)")
        out.append(Platform(check.text(record, "name"), check.text_list(record, "aliases"),
                            tuple(history), check.file, record.line,
                            _platform_route(check, record, sources)))
    _check_aliases(check, out)
    return out


def _platform_route(check: Validator, record: Map,
                    sources: dict[str, SourceDoc]) -> tuple[RouteStep, ...]:
    """A platform's own route: each step sourced, dated, and of a known kind, once."""
    raw = record.get("route")
    if raw is None:
        return ()
    if not isinstance(raw, Seq):
        check.error(raw, "'route' must be a list of steps, each starting with '- step:'")
        return ()
    steps: list[RouteStep] = []
    for item in check.items(raw, "steps"):
        check.keys(item, ROUTE_STEP_KEYS, "a platform route step")
        step = check.text(item, "step")
        if step and step not in ROUTE_STEPS:
            check.error(item.get("step"), f"route step '{step}' is not one of "
                        f"{', '.join(ROUTE_STEPS)}")
        if step in (s.step for s in steps):
            check.error(item, f"route step '{step}' is given twice")
        cited = check.text_list(item, "sources")
        if not cited:
            check.error(item, f"route step '{step}' has no 'sources': a platform's own route is "
                        "only shown with the page or document it comes from")
        check_sources(check, item, sources, required=False)
        uncertain = str(item.get("uncertain", "false")).lower() in ("true", "yes", "oui")
        steps.append(RouteStep(step, check.texts(item, "text"), cited, check.day(item, "reviewed"),
                               uncertain, item.line))
    return tuple(steps)


def _event(check: Validator, record: Map, sources: dict[str, SourceDoc]) -> PlatformEvent:
    check.keys(record, EVENT_KEYS, "an event")
    kind = check.text(record, "event")
    if kind and kind not in EVENTS:
        check.error(record.get("event"), f"event '{kind}' is not one of {', '.join(EVENTS)}")
    uncertain = str(record.get("uncertain", "false")).lower() in ("true", "yes", "oui")
    return PlatformEvent(check.day(record, "date"), kind, check_sources(check, record, sources),
                         check.texts(record, "note", required=False), uncertain)


def _synonyms(check: Validator, parse: Any, path: Path) -> tuple[tuple[str, ...], ...]:
    """Groups of words that mean the same; a word may belong to one group only."""
    from bot.normalise import normalise

    if not _present(path):
        return ()
    data = parse(path)
    if data is not None and not isinstance(data, Seq):
        check.error(data, "the file must be a list of groups, each written [word, word, ...]", 1)
        return ()
    groups: list[tuple[str, ...]] = []
    seen: dict[str, int] = {}
    for group in data or []:
        if not isinstance(group, Seq) or len(group) < 2:
            check.error(group, "each group must be a list of at least two words: [word, word]")
            continue
        words_ = tuple(str(w).strip() for w in group if isinstance(w, Text) and w.strip())
        for word in words_:
            key = normalise(word)
            if key in seen and seen[key] != group.line:
                check.error(group, f"'{word}' is already in the group on line {seen[key]}")
            seen[key] = group.line
        groups.append(words_)
    return tuple(groups)


def _check_aliases(check: Validator, platforms: list[Platform]) -> None:
    from bot.normalise import normalise

    seen: dict[str, str] = {}
    for platform in platforms:
        for alias in (platform.name, *platform.aliases):
            key = normalise(alias)
            owner = seen.setdefault(key, platform.name)
            if owner != platform.name:
                check.problems.append(Problem(platform.file, platform.line,
                                              f"alias '{alias}' of {platform.name} is already "
                                              f"a name of {owner}"))


def _entries(check: Validator, data: Any, sources: dict[str, SourceDoc],
             routes: dict[str, Route]) -> list[Entry]:
    out = []
    for record in check.items(data, "entries"):
        check.keys(record, ENTRY_KEYS, "an entry")
        entry_id = check.text(record, "id")
        if entry_id and not ID_PATTERN.match(entry_id):
            check.error(record.get("id"), f"id '{entry_id}' may only use lowercase letters, "
                        "digits and dashes")
        kind = str(record.get("kind", "answer"))
        if kind not in KINDS:
            check.error(record.get("kind"), f"kind '{kind}' is not one of {', '.join(KINDS)}")
        topic = check.text(record, "topic")
        if topic and topic not in TOPICS:
            check.error(record.get("topic"), f"topic '{topic}' is not one of {', '.join(TOPICS)}")
        escalation = check.text_list(record, "escalation")
        for route in escalation:
            if route not in routes:
                check.error(record.get("escalation"), f"unknown escalation route '{route}' "
                            "(see escalation.yaml)")
        phrasings, lines = _phrasings(check, record)
        out.append(Entry(entry_id, kind, topic, check.day(record, "reviewed"),
                         check_sources(check, record, sources), escalation, phrasings,
                         check.texts(record, "answer"), check.texts(record, "title",
                                                                     required=False),
                         check.file, record.line, lines, check.text(record, "role", required=False),
                         check.texts(record, "short", required=False)))
    return out


def _phrasings(check: Validator, record: Map) -> tuple[dict[Lang, tuple[str, ...]], dict[str, int]]:
    value = record.get("phrasings")
    if not isinstance(value, Map):
        check.error(value if value is not None else record,
                    "missing 'phrasings' with 'fr:' and 'en:' lists")
        return {}, {}
    out: dict[Lang, tuple[str, ...]] = {}
    lines: dict[str, int] = {}
    for lang in LANGS:
        items = check.text_list(value, lang)
        raw = value.get(lang)
        for item in raw if isinstance(raw, Seq) else []:
            if isinstance(item, Text):
                lines[str(item).strip()] = item.line
        if len(items) < MIN_PHRASINGS:
            check.error(raw if raw is not None else value,
                        f"{len(items)} {_LANG_NAMES[lang]} phrasing(s); at least "
                        f"{MIN_PHRASINGS} are needed so the bot recognises the question")
        out[lang] = items
    return out, lines


def _check_unique_entries(problems: list[Problem], entries: list[Entry]) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.id and entry.id in seen:
            first = seen[entry.id]
            problems.append(Problem(entry.file, entry.line, f"entry id '{entry.id}' is already "
                                    f"used at {first.file}:{first.line}"))
        seen.setdefault(entry.id, entry)
