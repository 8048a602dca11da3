"""What staff do on a running bot: edit the knowledge live, read the reports, use admin commands."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot import library
from bot.model import Command, Lang, Message, Reply
from bot.phrases import say
from bot.report import group_unanswered
from bot.service import Charterbot
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "le dropshipping est-il autorisé sur les marketplaces"
ENTRY = """\
- id: dropshipping
  topic: problems
  reviewed: {today}
  sources: [p2b]
  phrasings:
    fr:
      - le dropshipping est-il autorisé sur les marketplaces
      - puis-je faire du dropshipping
      - dropshipping interdit ?
      - {phrasing}
    en:
      - is dropshipping allowed on marketplaces
      - can i do dropshipping
      - dropshipping rules for sellers
      - is dropshipping banned
  answer:
    fr: |
      {answer}
    en: |
      Dropshipping is allowed if it follows the rules.
"""
PHRASING_LINE = 10  # the line of {phrasing} above
# Out of the knowledge's scope (no entry is about VAT or the weather): the bot falls back and logs them.
TVA = ("TVA sur mes ventes ?", "quelle TVA sur mes ventes", "tva sur mes ventes svp")
WEATHER = ("météo demain ?", "la meteo de demain")  # accents and case do not split a group
ADMINS = frozenset({"42", "U123"})
ADMIN_COMMANDS: tuple[Command, ...] = ("stats", "unanswered", "reload")


def write_entry(folder: Path, answer: str, phrasing: str = "règles du dropshipping pour un vendeur",
                ) -> Path:
    path = folder / "entries" / "zz-staff.yaml"
    path.write_text(ENTRY.format(today=date.today().isoformat(), answer=answer, phrasing=phrasing),
                    encoding="utf-8")
    return path


@pytest.fixture
def live(knowledge_copy: Path, tmp_path: Path) -> Iterator[Charterbot]:
    """A running core over an editable copy of the knowledge, with two admins."""
    write_entry(knowledge_copy, "Réponse numéro un.")
    bot = Charterbot(Settings(knowledge_dir=knowledge_copy, data_dir=tmp_path / "data",
                              admins=ADMINS))
    yield bot
    bot.close()


def ask(bot: Charterbot, text: str, user: str = "telegram:1000") -> Reply:
    return bot.handle(Message(text=text, user=user, channel=user.split(":")[0]))


def command(bot: Charterbot, name: Command, user: str, lang: Lang | None = None) -> Reply:
    return bot.handle(Message(text=f"/{name}", user=user, channel=user.split(":")[0], command=name,
                              lang=lang))


def log_unanswered(bot: Charterbot) -> None:
    """Five sellers each ask one question the knowledge does not cover."""
    for number, text in enumerate(TVA + WEATHER, 1):
        assert ask(bot, text, f"telegram:{number}").kind == "fallback"


# -- hot reload ------------------------------------------------------------------------------------

def test_an_edited_answer_is_served_after_a_refresh(live: Charterbot, knowledge_copy: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library, "RELOAD_CHECK_SECONDS", 3600.0)
    assert "Réponse numéro un." in ask(live, QUESTION).text
    write_entry(knowledge_copy, "Réponse numéro deux.")
    assert "Réponse numéro un." in ask(live, QUESTION).text  # checked at most every interval
    assert live.library.refresh(force=True) == []
    reply = ask(live, QUESTION)
    assert reply.entry == "dropshipping" and "Réponse numéro deux." in reply.text


def test_handle_picks_up_an_edit_once_the_interval_has_passed(live: Charterbot, knowledge_copy: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library, "RELOAD_CHECK_SECONDS", 0.0)
    write_entry(knowledge_copy, "Réponse numéro deux.")
    assert "Réponse numéro deux." in ask(live, QUESTION).text


@pytest.mark.parametrize("phrasing, expected", [
    ("dropshipping: permis: ou pas", (f"zz-staff.yaml:{PHRASING_LINE}: YAML syntax: mapping values "
                                      "are not allowed", '(a text containing ": " must be put in double '
                                      "quotes)")),
    ("dropshipping: c'est permis ?", (f"zz-staff.yaml:{PHRASING_LINE}: each item of 'fr' must be a "
                                      'text (put it in double quotes if it contains ": ")',)),
    # an unclosed bracket is noticed by the YAML parser on the next line
    ("[dropshipping", (f"zz-staff.yaml:{PHRASING_LINE + 1}: YAML syntax",)),
])
def test_a_broken_edit_keeps_the_previous_answer_until_it_is_fixed(
        live: Charterbot, knowledge_copy: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, phrasing: str, expected: tuple[str, ...]) -> None:
    monkeypatch.setattr(library, "RELOAD_CHECK_SECONDS", 0.0)
    write_entry(knowledge_copy, "Réponse numéro deux.", phrasing=phrasing)
    with caplog.at_level(logging.ERROR, logger="charterbot.knowledge"):
        assert "Réponse numéro un." in ask(live, QUESTION).text
        assert "Réponse numéro un." in ask(live, QUESTION).text
    refused = [r.getMessage() for r in caplog.records if r.name == "charterbot.knowledge"]
    assert refused and all("knowledge edit refused, keeping the previous version: " in m
                           for m in refused), refused
    assert any(all(part in m for part in expected) for m in refused), refused
    assert len(refused) == len(live.library.last_problems)  # logged once, not on every message
    write_entry(knowledge_copy, "Réponse numéro trois.")
    assert "Réponse numéro trois." in ask(live, QUESTION).text
    assert live.library.last_problems == []


# -- reports ---------------------------------------------------------------------------------------

def report(bot: Charterbot, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli report ...` on the core's data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTERBOT_")}
    env["CHARTERBOT_DATA_DIR"] = str(bot.settings.data_dir)
    return subprocess.run([sys.executable, "-m", "bot.cli", "report", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_similar_unanswered_questions_are_grouped_with_the_closest_entry(core: Charterbot) -> None:
    log_unanswered(core)
    assert ask(core, "c'est quoi la charte des acteurs du e-commerce").kind == "answer"  # not logged
    groups = group_unanswered(core.state, "0000")
    assert [(g.example, g.count) for g in groups] == [(TVA[0], 3), (WEATHER[0], 2)]
    assert groups[0].questions == list(TVA) and groups[1].questions == list(WEATHER)
    candidates = core.state.query("select candidate, candidate_score from questions where text in "
                                  "(?, ?, ?) order by candidate_score desc", list(TVA))
    closest = groups[0].closest
    assert closest is not None and closest == candidates[0]["candidate"]
    assert core.library.knowledge.entry(closest) is not None
    # refused as out of scope: the closest is the out-of-scope theme the engine recognised
    assert core.library.knowledge.entry(groups[1].closest or "").kind == "outside"


def test_report_unanswered_as_json_and_since_a_date(core: Charterbot) -> None:
    log_unanswered(core)
    run = report(core, "unanswered", "--json")
    assert run.returncode == 0, run.stderr
    groups = json.loads(run.stdout)
    assert [(g["example"], g["count"], g["questions"]) for g in groups] == [
        (TVA[0], 3, list(TVA)), (WEATHER[0], 2, list(WEATHER))]
    assert groups[0]["closest"] and groups[0]["lang"] == "fr"
    assert groups[1]["closest"].startswith("outside-")

    ten_days_ago = (datetime.now(UTC) - timedelta(days=10)).isoformat(timespec="seconds")
    core.state.db.execute("update questions set at = ? where text in (?, ?)", [ten_days_ago, *WEATHER])
    five_days_ago = (date.today() - timedelta(days=5)).isoformat()
    recent = json.loads(report(core, "unanswered", "--json", "--since", five_days_ago).stdout)
    assert [g["example"] for g in recent] == [TVA[0]]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert json.loads(report(core, "unanswered", "--json", "--since", tomorrow).stdout) == []
    bad = report(core, "unanswered", "--since", "last week")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr

    text = report(core, "unanswered").stdout
    assert f"   3 × {TVA[0]}  [fr; closest entry: {groups[0]['closest']} (" in text
    assert f"   2 × {WEATHER[0]}  [fr; closest entry: outside-unrelated" in text


def test_report_feedback_counts_thumbs_per_entry(core: Charterbot) -> None:
    assert report(core, "feedback").stdout.strip() == "No feedback recorded."
    for user, entry, useful in [("telegram:1", "problem-fees", False), ("telegram:2", "problem-fees", False),
                                ("telegram:3", "problem-fees", True), ("telegram:1", "charter-what", True),
                                ("telegram:1", "no-such-entry", False)]:
        core.feedback(user, entry, useful)
    run = report(core, "feedback", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [{"entry": "problem-fees", "up": 1, "down": 2},
                                      {"entry": "charter-what", "up": 1, "down": 0}]
    lines = report(core, "feedback").stdout.splitlines()
    assert lines[0].split() == ["problem-fees", "👍", "1", "👎", "2"]


def test_an_erased_seller_disappears_from_the_reports(core: Charterbot) -> None:
    log_unanswered(core)  # telegram:1 asked TVA[0]
    core.feedback("telegram:1", "problem-fees", False)
    core.handle(Message(text="/oubli", user="telegram:1", channel="telegram", command="forget"))
    groups = json.loads(report(core, "unanswered", "--json").stdout)
    assert [(g["example"], g["count"]) for g in groups] == [(TVA[1], 2), (WEATHER[0], 2)]
    assert all(TVA[0] not in g["questions"] for g in groups)
    assert json.loads(report(core, "feedback", "--json").stdout) == []


# -- admin commands --------------------------------------------------------------------------------

@pytest.mark.parametrize("admin, lang, head", [
    ("telegram:42", None, "7 derniers jours : 5 questions, 0 % avec une réponse."),
    ("slack:T1:U123", "en", "Last 7 days: 5 questions, 0% answered."),
])
def test_admins_get_stats_unanswered_and_reload(live: Charterbot, admin: str, lang: Lang | None,
                                               head: str) -> None:
    log_unanswered(live)
    stats = command(live, "stats", admin, lang)
    assert stats.kind == "command" and stats.text.startswith(head), stats.text
    unanswered = command(live, "unanswered", admin, lang)
    assert unanswered.kind == "command"
    assert f"3 × « {TVA[0]} »" in unanswered.text and f"2 × « {WEATHER[0]} » → outside-" in unanswered.text
    reload = command(live, "reload", admin, lang)
    assert reload.kind == "command"
    count = len(live.library.knowledge.entries)
    assert reload.text == say("reloaded", stats.lang, entries=count)


@pytest.mark.parametrize("user", ["telegram:7", "telegram:420", "slack:T1:U999", "console:42x"])
def test_anyone_else_gets_the_unknown_command_notice(live: Charterbot, user: str) -> None:
    log_unanswered(live)
    for name in ADMIN_COMMANDS:
        reply = command(live, name, user)
        assert reply.kind == "notice" and reply.text == say("unknown_command", "fr"), reply.text
        assert "questions" not in reply.text and "TVA" not in reply.text


def test_reload_with_a_broken_file_reports_file_line_and_keeps_serving(live: Charterbot,
                                                                       knowledge_copy: Path) -> None:
    broken = knowledge_copy / "entries" / "broken.yaml"
    broken.write_text("- id: broken\n  topic: charter\n  phrasings:\n    fr:\n      - a: b: c\n",
                      encoding="utf-8")
    reply = command(live, "reload", "telegram:42")
    assert reply.kind == "command" and reply.text.startswith(say("reload_failed", "fr"))
    assert "knowledge/entries/broken.yaml:5: YAML syntax" in reply.text
    answer = ask(live, QUESTION)
    assert answer.kind == "answer" and "Réponse numéro un." in answer.text
    assert "knowledge/entries/broken.yaml:5:" in command(live, "stats", "telegram:42").text

    broken.unlink()  # back to the files being served: nothing is pending any more
    assert "broken.yaml" not in command(live, "stats", "telegram:42").text
    reply = command(live, "reload", "telegram:42")
    assert reply.text == say("reloaded", "fr", entries=len(live.library.knowledge.entries))


def test_a_restart_after_a_broken_edit_serves_the_last_good_knowledge(
        knowledge_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(knowledge_dir=knowledge_copy, data_dir=tmp_path / "restart")
    Charterbot(settings).close()  # a first start compiles the index
    (knowledge_copy / "platforms.yaml").write_text("- name: Broken\n  history: [oops\n")
    with caplog.at_level(logging.ERROR, logger="charterbot.knowledge"):
        core = Charterbot(settings)  # e.g. the platform restarted the process
    reply = core.handle(Message(text="amazon a signé ?", user="t:1", channel="telegram"))
    assert reply.platforms[0].name == "Amazon"
    assert any("knowledge/platforms.yaml:" in r.getMessage() for r in caplog.records)
    core.close()
