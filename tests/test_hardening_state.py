"""Issue 12, items 5, 9, 11 and 15: what is stored, who can read it, and odd input or settings."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.model import Message
from bot.report import feedback_summary
from bot.service import Charterbot
from bot.settings import ConfigError, Settings
from bot.state import SECRET_FILE

ROOT = Path(__file__).resolve().parent.parent


def charterbot(*args: str, stdin: bytes = b"", **env: str) -> subprocess.CompletedProcess[bytes]:
    """The `charterbot` command in its own process, as staff or a script run it."""
    return subprocess.run([sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())",
                           *args], cwd=ROOT, input=stdin, capture_output=True, timeout=60,
                          env={**os.environ, **env})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- item 5: private files ------------------------------------------------------------------------
def test_state_database_and_key_are_private_to_the_bot_user(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, under which files are created 0644
    try:
        core = Charterbot(Settings(data_dir=tmp_path))
        core.handle(Message(text="recette de crêpes", user="telegram:1", channel="telegram"))
        core.close()
    finally:
        os.umask(old)
    private = [p for p in tmp_path.iterdir() if p.name.startswith(("state.sqlite", SECRET_FILE))]
    assert {p.name for p in private} >= {"state.sqlite", SECRET_FILE}
    for path in private:
        assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}"


def test_an_existing_world_readable_database_and_key_are_tightened(tmp_path: Path) -> None:
    Charterbot(Settings(data_dir=tmp_path)).close()
    for name in ("state.sqlite", SECRET_FILE):
        os.chmod(tmp_path / name, 0o644)
    Charterbot(Settings(data_dir=tmp_path)).close()
    assert mode(tmp_path / "state.sqlite") == 0o600
    assert mode(tmp_path / SECRET_FILE) == 0o600


def test_an_empty_key_file_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("\n")  # what a crash while writing it leaves
    with pytest.raises(ConfigError, match=SECRET_FILE):
        Charterbot(Settings(data_dir=tmp_path))
    done = charterbot("ask", "amazon a signé ?", CHARTERBOT_DATA_DIR=str(tmp_path))
    assert done.returncode == 2
    [line] = done.stderr.decode().strip().splitlines()
    assert SECRET_FILE in line and "Traceback" not in line


# -- item 9: every input gets a reply -------------------------------------------------------------
def test_invalid_utf8_in_a_batch_gets_a_reply_per_line(tmp_path: Path) -> None:
    done = charterbot("ask", "--jsonl", stdin=b"meteo \xff\xfe\nAmazon a sign\xc3\xa9 ?\n",
                      CHARTERBOT_DATA_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr.decode()
    first, second = (json.loads(line) for line in done.stdout.decode().splitlines())
    assert first["kind"] == "fallback"
    assert second["kind"] == "answer" and "Amazon" in second["text"]


@pytest.mark.parametrize("text", ["\ud800", "amazon \udcff\udcfe a signé ?", "\x00\ufffe\U0010ffff"])
def test_lone_surrogates_and_odd_code_points_are_answered_and_stored(
        core: Charterbot, text: str) -> None:
    reply = core.handle(Message(text=text, user="telegram:\ud801", channel="telegram"))
    assert reply.blocks and reply.kind in ("answer", "fallback")
    core.feedback("telegram:\ud801", "problem-fees", True)
    assert core.first_delivery("slack:event:\ud800")


# -- item 11: one vote per seller and entry -------------------------------------------------------
def test_latest_vote_wins_and_forged_presses_count_once(core: Charterbot) -> None:
    core.feedback("telegram:42", "problem-fees", True)
    core.feedback("telegram:42", "problem-fees", False)
    for _ in range(40):
        core.feedback("telegram:7", "charter-signatories", True)
    core.feedback("telegram:8", "charter-signatories", False)
    summary = {row["entry"]: (row["up"], row["down"]) for row in feedback_summary(core.state)}
    assert summary == {"problem-fees": (0, 1), "charter-signatories": (1, 1)}


# -- item 15: absurd settings ---------------------------------------------------------------------
@pytest.mark.parametrize("days", ["99999999999", "36501", "0", "²", "-5", "abc"])
def test_absurd_retention_is_one_line_naming_the_variable(tmp_path: Path, days: str) -> None:
    with pytest.raises(ConfigError, match="CHARTERBOT_RETENTION_DAYS"):
        Settings.from_env({"CHARTERBOT_RETENTION_DAYS": days})
    done = charterbot("ask", "amazon ?", CHARTERBOT_DATA_DIR=str(tmp_path),
                      CHARTERBOT_RETENTION_DAYS=days)
    assert done.returncode == 2
    [line] = done.stderr.decode().strip().splitlines()
    assert "CHARTERBOT_RETENTION_DAYS" in line


def test_a_century_of_retention_is_accepted(tmp_path: Path) -> None:
    settings = Settings.from_env({"CHARTERBOT_RETENTION_DAYS": "36500",
                                  "CHARTERBOT_DATA_DIR": str(tmp_path)})
    Charterbot(settings).close()
