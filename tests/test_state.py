"""What is stored about sellers, and for how long."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.model import Message
from bot.service import Charterbot
from bot.settings import Settings


def dump(data_dir: Path) -> str:
    conn = sqlite3.connect(data_dir / "state.sqlite")
    return "\n".join(str(row) for table in ("users", "questions", "feedback")
                     for row in conn.execute(f"select * from {table}"))


def test_no_raw_user_id_is_stored(tmp_path: Path) -> None:
    core = Charterbot(Settings(data_dir=tmp_path))
    core.handle(Message(text="recette de crêpes", user="telegram:987654321", channel="telegram"))
    core.handle(Message(text="/langue en", user="telegram:987654321", command="language",
                        args="en"))
    core.feedback("telegram:987654321", "problem-fees", True)
    stored = dump(tmp_path)
    assert "crêpes" in stored  # the unanswered question is kept for staff
    assert "987654321" not in stored
    core.close()


def test_language_preference_persists_across_restarts(tmp_path: Path) -> None:
    core = Charterbot(Settings(data_dir=tmp_path))
    core.handle(Message(text="/langue en", user="telegram:5", command="language", args="en"))
    core.close()
    again = Charterbot(Settings(data_dir=tmp_path))
    assert again.handle(Message(text="cdiscount", user="telegram:5")).lang == "en"
    again.close()


def test_forget_erases_everything_about_the_sender_only(tmp_path: Path) -> None:
    core = Charterbot(Settings(data_dir=tmp_path))
    for user in ("telegram:1", "telegram:2"):
        core.handle(Message(text="météo demain ?", user=user, channel="telegram"))
        core.feedback(user, "problem-fees", False)
    reply = core.handle(Message(text="/oubli", user="telegram:1", command="forget"))
    assert "effacé" in reply.text
    seller1, seller2 = (core.state.pseudonym(u) for u in ("telegram:1", "telegram:2"))
    stored = dump(tmp_path)
    assert seller1 not in stored and seller2 in stored
    core.close()


def test_old_records_are_purged(tmp_path: Path) -> None:
    core = Charterbot(Settings(data_dir=tmp_path, retention_days=30))
    core.handle(Message(text="météo demain ?", user="telegram:1", channel="telegram"))
    core.state.db.execute("update questions set at = '2000-01-01T00:00:00+00:00'")
    core.state.purge()
    assert core.state.query("select count(*) n from questions")[0]["n"] == 0
    core.close()


def test_deliveries_are_remembered_across_restarts(tmp_path: Path) -> None:
    core = Charterbot(Settings(data_dir=tmp_path))
    assert core.first_delivery("telegram:update:7") is True
    assert core.first_delivery("telegram:update:7") is False
    core.close()
    again = Charterbot(Settings(data_dir=tmp_path))
    assert again.first_delivery("telegram:update:7") is False
    again.close()


def test_the_generated_secret_is_private(tmp_path: Path) -> None:
    Charterbot(Settings(data_dir=tmp_path)).close()
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
