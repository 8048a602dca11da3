"""Issue 12, items 1-2: a hostile or careless knowledge edit never takes the bot down.

Each case is what a staff member (or an attacker with write access to the folder) could save: the
check must answer quickly with ``file:line`` and no traceback, and a running bot must keep, and
restart on, its last good knowledge.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot import loader
from bot.lint import lint
from bot.model import Message
from bot.service import Charterbot
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Amazon a-t-il signé la charte ?"
CHECK_SECONDS = 20  # a hostile file must not hold `knowledge check` longer than this


def billion_laughs(depth: int = 12) -> str:
    """Nested aliases: each level repeats the previous one ten times (10**depth leaves)."""
    lines = ['- &l0 ["lol", "lol"]']
    for level in range(1, depth + 1):
        lines.append(f"- &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def run_check(folder: Path) -> subprocess.CompletedProcess[str]:
    """`charterbot knowledge check --dir folder` in a process limited to 1 GB and CHECK_SECONDS."""
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())",
         "knowledge", "check", "--dir", str(folder)],
        cwd=ROOT, capture_output=True, text=True, timeout=CHECK_SECONDS,
        preexec_fn=limit_memory, env={**os.environ, "CHARTERBOT_REVIEW_MAX_DAYS": "100000"})


# -- the hostile edits ---------------------------------------------------------------------------
def self_alias(folder: Path) -> str:
    (folder / "synonyms.yaml").write_text("- [a, b]\n- &a [x, *a]\n")
    return "synonyms.yaml:2:"


def anchors_in_an_entry(folder: Path) -> str:
    path = folder / "entries" / "smalltalk.yaml"
    path.write_text(path.read_text() + "\n- &shared\n  id: copy\n- *shared\n")
    return "smalltalk.yaml:"


def dangling_link(folder: Path) -> str:
    (folder / "entries" / "gone.yaml").symlink_to(folder / "nowhere.yaml")
    return "gone.yaml:0: is a link to a file that does not exist"


def folder_named_yaml(folder: Path) -> str:
    (folder / "entries" / "x.yaml").mkdir()
    return "x.yaml:0: is a folder"


def link_outside(folder: Path) -> str:
    secret = folder.parent / "outside.yaml"
    secret.write_text("- id: TOPSECRET-Password-123\n")
    (folder / "entries" / "outside.yaml").symlink_to(secret)
    return "outside.yaml:0: is a link to a file outside the knowledge folder"


def oversized(folder: Path) -> str:
    path = folder / "entries" / "law.yaml"
    path.write_text(path.read_text() + "#" + "x" * (loader.MAX_FILE_BYTES + 10) + "\n")
    return "law.yaml:0: is "


def fifo(folder: Path) -> str:
    os.mkfifo(folder / "entries" / "pipe.yaml")
    return "pipe.yaml:0: is not a regular file"


HOSTILE: dict[str, Callable[[Path], str]] = {
    "self-alias": self_alias, "anchors": anchors_in_an_entry, "dangling-link": dangling_link,
    "folder-named-yaml": folder_named_yaml, "link-outside": link_outside, "oversized": oversized,
    "fifo": fifo,
}


@pytest.mark.parametrize("edit", HOSTILE.values(), ids=list(HOSTILE))
def test_check_reports_a_hostile_file_with_its_line(knowledge_copy: Path,
                                                    edit: Callable[[Path], str]) -> None:
    expected = edit(knowledge_copy)
    problems = [str(p) for p in lint(knowledge_copy, max_age_days=100_000)]
    assert any(expected in p for p in problems), problems
    assert not any("TOPSECRET" in p for p in problems)  # a linked file's content never shown


def test_billion_laughs_is_refused_at_once_with_file_and_line(knowledge_copy: Path) -> None:
    (knowledge_copy / "synonyms.yaml").write_text(billion_laughs())
    done = run_check(knowledge_copy)
    assert done.returncode == 1, done.stderr
    assert "synonyms.yaml:1: YAML anchor '&l0' is not allowed" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_fifo_does_not_hang_the_check(knowledge_copy: Path) -> None:
    os.mkfifo(knowledge_copy / "entries" / "pipe.yaml")
    done = run_check(knowledge_copy)
    assert done.returncode == 1
    assert "pipe.yaml:0: is not a regular file" in done.stdout
    assert "Traceback" not in done.stderr


# -- the running bot keeps, and restarts on, the last good knowledge ------------------------------
@pytest.fixture
def live(knowledge_copy: Path, tmp_path: Path) -> Iterator[Callable[[], Charterbot]]:
    """Start cores on the editable knowledge copy and one data folder (a restart = a new one)."""
    started: list[Charterbot] = []

    def start() -> Charterbot:
        core = Charterbot(Settings(knowledge_dir=knowledge_copy, data_dir=tmp_path / "data"))
        started.append(core)
        return core

    yield start
    for core in started:
        core.close()


def answers(core: Charterbot) -> bool:
    reply = core.handle(Message(text=QUESTION, user="cli:t", channel="cli"))
    return reply.kind == "answer" and "Amazon" in reply.text


@pytest.mark.parametrize("edit", [*HOSTILE.values(), billion_laughs], ids=[*HOSTILE, "laughs"])
def test_bot_keeps_and_restarts_on_the_last_good_knowledge(
        live: Callable[[], Charterbot], knowledge_copy: Path, edit: Callable[[Path], str]) -> None:
    first = live()
    assert answers(first)
    if edit is billion_laughs:
        (knowledge_copy / "synonyms.yaml").write_text(billion_laughs())
    else:
        edit(knowledge_copy)
    refused = first.library.refresh(force=True)
    assert refused, "the broken edit must be refused"
    assert answers(first)
    first.close()
    restarted = live()
    assert answers(restarted)
    assert restarted.library.last_problems  # and staff can still see why (/stats)


def test_any_failure_while_reloading_is_a_refused_edit(
        live: Callable[[], Charterbot], knowledge_copy: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    core = live()

    def explode(*args: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(loader, "_synonyms", explode)
    path = knowledge_copy / "synonyms.yaml"
    path.write_text(path.read_text() + "\n")
    refused = core.library.refresh(force=True)
    assert refused and "RecursionError" in str(refused[0])
    assert answers(core)
