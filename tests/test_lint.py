"""`charterbot knowledge check`: each content check on a small broken copy of the knowledge."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.knowledge import Problem
from bot.lint import DEFAULT_MAX_AGE_DAYS, MAX_AGE_ENV, NEAR_DUPLICATE_SIMILARITY, lint, review_max_days
from bot.settings import DEFAULT_KNOWLEDGE_DIR, ConfigError

ROOT = Path(__file__).resolve().parent.parent
TODAY = date.today().isoformat()

FR = ("le dropshipping est-il autorisé sur les marketplaces", "puis-je faire du dropshipping",
      "dropshipping interdit ?", "règles du dropshipping pour un vendeur")
EN = ("is dropshipping allowed on marketplaces", "can i do dropshipping",
      "dropshipping rules for sellers", "is dropshipping banned")


def add_entry(folder: Path, *, fr: tuple[str, ...] = FR, en: tuple[str, ...] = EN,
              answer_fr: str | None = "Le dropshipping est permis s'il respecte les règles.",
              answer_en: str | None = "Dropshipping is allowed if it follows the rules.",
              sources: tuple[str, ...] = ("p2b",), reviewed: str = TODAY) -> Path:
    """A new entry `dropshipping` in entries/zz-extra.yaml; None leaves that answer out."""
    lines = ["- id: dropshipping", "  topic: problems", f"  reviewed: {reviewed}", "  sources:"]
    lines += [f"    - {source}" for source in sources]
    lines += ["  phrasings:", "    fr:"] + [f"      - {p}" for p in fr]
    lines += ["    en:"] + [f"      - {p}" for p in en]
    answers = {"fr": answer_fr, "en": answer_en}
    if any(answers.values()):
        lines.append("  answer:")
        for lang, text in answers.items():
            if text is not None:
                lines += [f"    {lang}: |", f"      {text}"]
    path = folder / "entries" / "zz-extra.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    """The 1-based line of `path` that contains `text`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def warnings_about(problems: list[Problem], *needles: str) -> list[str]:
    return [str(p) for p in problems
            if p.severity == "warning" and all(n in p.message for n in needles)]


def errors(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


def check_cli(folder: Path, *args: str, env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli knowledge check --dir FOLDER ...` with a clean CHARTERBOT_* environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHARTERBOT_")}
    return subprocess.run([sys.executable, "-m", "bot.cli", "knowledge", "check", "--dir",
                           str(folder), *args], cwd=ROOT, env=clean | (env or {}),
                          capture_output=True, text=True, timeout=120)


# -- the bundled knowledge and a clean new entry ----------------------------------------------------

def test_the_bundled_knowledge_has_no_error_and_no_near_duplicate() -> None:
    found = lint(DEFAULT_KNOWLEDGE_DIR)
    assert errors(found) == []
    assert warnings_about(found, "almost the same") == []
    assert warnings_about(found, "is not in platforms.yaml") == []


def test_a_clean_new_entry_gets_no_warning(knowledge_copy: Path) -> None:
    add_entry(knowledge_copy)
    found = lint(knowledge_copy)
    assert [str(p) for p in found if "zz-extra.yaml" in p.file] == []


# -- near-duplicate phrasings --------------------------------------------------------------------

def test_near_duplicate_phrasings_of_two_entries_are_a_warning_naming_both(knowledge_copy: Path) -> None:
    # charter-when has "quand la charte a-t-elle été signée": the same words with one typo
    path = add_entry(knowledge_copy, fr=FR + ("quand la charte a-t-elle ete signé",))
    original = knowledge_copy / "entries" / "charter.yaml"
    found = warnings_about(lint(knowledge_copy), "almost the same")
    assert len(found) == 1, found
    where = f"knowledge/entries/zz-extra.yaml:{line_of(path, 'ete signé')}: warning: "
    assert found[0].startswith(where), found
    assert "'dropshipping'" in found[0] and "'charter-when'" in found[0]
    assert f"knowledge/entries/charter.yaml:{line_of(original, 'a-t-elle été signée')}" in found[0]


def test_phrasings_that_differ_by_a_meaningful_word_are_not_duplicates(knowledge_copy: Path) -> None:
    # "qui a rédigé la charte" (charter-authors) vs "qui a signé la charte": 91 % alike, distinct
    assert NEAR_DUPLICATE_SIMILARITY > 91
    add_entry(knowledge_copy, fr=FR + ("qui a relu la charte e-commerce",))
    assert warnings_about(lint(knowledge_copy), "almost the same") == []


# -- a phrasing that matches another entry better than its own -----------------------------------

def test_a_phrasing_closer_to_another_entry_is_a_warning(knowledge_copy: Path) -> None:
    path = add_entry(knowledge_copy, fr=FR + ("comment saisir le médiateur des entreprises",))
    found = warnings_about(lint(knowledge_copy), "better than its own", "'dropshipping'")
    assert len(found) == 1, found
    line = line_of(path, "comment saisir le médiateur")
    assert found[0].startswith(f"knowledge/entries/zz-extra.yaml:{line}: warning: phrasing "
                               "'comment saisir le médiateur des entreprises' of entry "
                               "'dropshipping' matches entry 'escalation-mediateur' "
                               "(knowledge/entries/escalation.yaml:"), found


def test_who_signed_and_did_x_sign_are_not_reported_against_each_other() -> None:
    # the core picks platform-status or charter-signatories by whether a platform is named
    pair = ("charter-signatories", "platform-status")
    found = [p for p in warnings_about(lint(DEFAULT_KNOWLEDGE_DIR), "better than its own")
             if all(f"'{e}'" in p for e in pair)]
    assert found == []


# -- a marketplace missing from platforms.yaml ---------------------------------------------------

def test_an_unknown_marketplace_is_a_warning_until_it_is_added(knowledge_copy: Path) -> None:
    path = add_entry(knowledge_copy, fr=FR + ("dropshipping sur catawiki",),
                     answer_en="Amazon and Bol.com allow dropshipping under conditions.")
    found = warnings_about(lint(knowledge_copy), "is not in platforms.yaml")
    assert sorted(found) == sorted([
        f"knowledge/entries/zz-extra.yaml:{line_of(path, 'catawiki')}: warning: Catawiki is not in "
        "platforms.yaml: entry 'dropshipping' names it, but the bot will not recognise it in "
        "questions nor give its status; add it there (with 'history: []' if it never signed the "
        "charter)",
        f"knowledge/entries/zz-extra.yaml:{line_of(path, 'Bol.com')}: warning: Bol.com is not in "
        "platforms.yaml: entry 'dropshipping' names it, but the bot will not recognise it in "
        "questions nor give its status; add it there (with 'history: []' if it never signed the "
        "charter)",
    ]), found
    platforms = knowledge_copy / "platforms.yaml"
    platforms.write_text(platforms.read_text(encoding="utf-8")
                         + "\n- name: Catawiki\n  aliases: [catawiki.fr]\n  history: []\n",
                         encoding="utf-8")
    found = warnings_about(lint(knowledge_copy), "is not in platforms.yaml")
    assert len(found) == 1 and "Bol.com" in found[0], found


# -- errors the loader already reports: kept, and tested here through lint() ---------------------

@pytest.mark.parametrize("missing, expected", [
    ({"answer_fr": None}, "'answer' has no 'fr:' text (French)"),
    ({"answer_en": None}, "'answer' has no 'en:' text (English)"),
    ({"answer_fr": None, "answer_en": None}, "missing 'answer' (with 'fr:' and 'en:')"),
])
def test_a_missing_answer_is_an_error(knowledge_copy: Path, missing: dict, expected: str) -> None:
    add_entry(knowledge_copy, **missing)
    found = errors(lint(knowledge_copy))
    assert any(p.startswith("knowledge/entries/zz-extra.yaml:") and expected in p
               for p in found), found


@pytest.mark.parametrize("source", ["not-a-known-id", "www.example.com/page", "ftp://example.com/x"])
def test_a_source_that_is_neither_a_link_nor_a_known_id_is_an_error(knowledge_copy: Path,
                                                                     source: str) -> None:
    path = add_entry(knowledge_copy, sources=("p2b", source))
    found = errors(lint(knowledge_copy))
    assert found == [f"knowledge/entries/zz-extra.yaml:{line_of(path, f'- {source}')}: source "
                     f"'{source}' is neither a web address nor an id from sources.yaml"]


def test_a_full_link_or_a_known_id_is_a_valid_source(knowledge_copy: Path) -> None:
    add_entry(knowledge_copy, sources=("p2b", "https://www.example.com/page"))
    assert errors(lint(knowledge_copy)) == []


def test_a_bad_link_in_sources_yaml_is_an_error(knowledge_copy: Path) -> None:
    path = knowledge_copy / "sources.yaml"
    path.write_text(path.read_text(encoding="utf-8")
                    + "\n- id: broken-link\n  title: Broken\n  url: www.example.com\n",
                    encoding="utf-8")
    found = errors(lint(knowledge_copy))
    assert found == [f"knowledge/sources.yaml:{line_of(path, 'url: www.example.com')}: "
                     "'www.example.com' is not a web address (https://...)"]


# -- review age ------------------------------------------------------------------------------------

def test_a_stale_review_is_a_warning_and_the_check_exits_0(knowledge_copy: Path) -> None:
    add_entry(knowledge_copy, reviewed="2019-01-01")
    run = check_cli(knowledge_copy)
    assert run.returncode == 0, run.stderr
    assert ("knowledge/entries/zz-extra.yaml:1: warning: entry 'dropshipping' was last reviewed on "
            f"2019-01-01, more than {DEFAULT_MAX_AGE_DAYS} days ago: check its facts") in run.stdout
    assert "knowledge OK" in run.stderr


def test_the_review_age_comes_from_the_option_then_the_environment(knowledge_copy: Path) -> None:
    sixty_days_ago = (date.today() - timedelta(days=60)).isoformat()
    add_entry(knowledge_copy, reviewed=sixty_days_ago)
    stale = "entry 'dropshipping' was last reviewed"
    assert stale not in check_cli(knowledge_copy).stdout  # 60 < 365 days
    assert stale in check_cli(knowledge_copy, env={MAX_AGE_ENV: "30"}).stdout
    assert stale not in check_cli(knowledge_copy, "--max-age", "90", env={MAX_AGE_ENV: "30"}).stdout
    assert stale in check_cli(knowledge_copy, "--max-age", "30", env={MAX_AGE_ENV: "90"}).stdout


def test_a_bad_review_age_variable_is_a_configuration_error(knowledge_copy: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    run = check_cli(knowledge_copy, env={MAX_AGE_ENV: "a year"})
    assert run.returncode == 2 and MAX_AGE_ENV in run.stderr
    monkeypatch.setenv(MAX_AGE_ENV, "-3")
    with pytest.raises(ConfigError, match=MAX_AGE_ENV):
        lint(knowledge_copy)


def test_review_max_days_reads_the_environment() -> None:
    assert review_max_days({}) == DEFAULT_MAX_AGE_DAYS == 365
    assert review_max_days({MAX_AGE_ENV: " 30 "}) == 30


# -- exit codes ------------------------------------------------------------------------------------

def test_a_syntax_error_exits_1_with_file_and_line(knowledge_copy: Path) -> None:
    (knowledge_copy / "entries" / "broken.yaml").write_text(
        "- id: broken\n  topic: charter\n  phrasings:\n    fr:\n      - a: b: c\n", encoding="utf-8")
    run = check_cli(knowledge_copy)
    assert run.returncode == 1
    assert "knowledge/entries/broken.yaml:5: YAML syntax" in run.stdout
    assert "error(s)" in run.stderr


def test_warnings_only_exit_0_and_the_bundled_knowledge_passes() -> None:
    run = check_cli(DEFAULT_KNOWLEDGE_DIR)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "knowledge OK" in run.stderr
