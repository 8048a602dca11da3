"""Staff edit YAML files: mistakes are reported as file:line, the index follows every edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.index import index_digest
from bot.knowledge import KnowledgeError
from bot.library import INDEX_FILE, compile_knowledge
from bot.lint import lint
from bot.loader import load_knowledge
from bot.settings import DEFAULT_KNOWLEDGE_DIR

ENTRY = """\
- id: {id}
  topic: charter
  reviewed: {reviewed}
  sources: [{source}]
  escalation: [{route}]
  phrasings:
    fr:
      - question une
      - question deux
      - question trois
      - question quatre
    en:
      - question one
      - question two
      - question three
      - question four
  answer:
    fr: |
      Réponse : avec deux-points, sans guillemets.
    en: |
      Answer.
"""


def write_entry(folder: Path, name: str = "extra.yaml", **fields: str) -> Path:
    values = {"id": "extra-entry", "reviewed": "2026-01-01", "source": "p2b",
              "route": "mediateur"} | fields
    path = folder / "entries" / name
    path.write_text(ENTRY.format(**values), encoding="utf-8")
    return path


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    return [str(p) for p in caught.value.problems]


def test_the_bundled_knowledge_is_valid() -> None:
    assert [p for p in lint(DEFAULT_KNOWLEDGE_DIR) if p.severity == "error"] == []


def test_a_yaml_syntax_error_names_file_and_line(knowledge_copy: Path) -> None:
    path = knowledge_copy / "entries" / "broken.yaml"
    path.write_text("- id: broken\n  topic: charter\n  phrasings:\n    fr:\n      - a: b: c\n")
    found = problems_of(knowledge_copy)
    assert any(p.startswith("knowledge/entries/broken.yaml:5:") for p in found), found


@pytest.mark.parametrize("fields, expected", [
    ({"id": "Bad Id"}, "may only use lowercase letters"),
    ({"reviewed": "27/11/2026"}, "must be a date written YYYY-MM-DD"),
    ({"source": "not-a-source"}, "neither a web address nor an id"),
    ({"route": "nowhere"}, "unknown escalation route 'nowhere'"),
    ({"id": "charter-what"}, "is already used at knowledge/entries/charter.yaml"),
])
def test_schema_mistakes_are_reported_with_their_line(knowledge_copy: Path, fields: dict,
                                                      expected: str) -> None:
    write_entry(knowledge_copy, **fields)
    found = problems_of(knowledge_copy)
    assert any(p.startswith("knowledge/entries/extra.yaml:") and expected in p
               for p in found), found


def test_missing_english_answer_and_too_few_phrasings(knowledge_copy: Path) -> None:
    path = write_entry(knowledge_copy)
    text = path.read_text().replace("      - question four\n", "").replace(
        "    en: |\n      Answer.\n", "")
    path.write_text(text)
    found = problems_of(knowledge_copy)
    assert any(":13: 3 English phrasing(s); at least 4" in p for p in found), found
    assert any("'answer' has no 'en:' text (English)" in p for p in found), found


def test_every_problem_is_reported_at_once(knowledge_copy: Path) -> None:
    write_entry(knowledge_copy, "a.yaml", id="a-entry", reviewed="never")
    write_entry(knowledge_copy, "b.yaml", id="b-entry", route="nowhere")
    found = problems_of(knowledge_copy)
    assert any("a.yaml" in p for p in found) and any("b.yaml" in p for p in found)


def test_old_reviews_are_warnings_not_errors(knowledge_copy: Path) -> None:
    write_entry(knowledge_copy, reviewed="2019-01-01")
    found = lint(knowledge_copy, max_age_days=365)
    stale = [p for p in found if "extra-entry" in p.message]
    assert stale and all(p.severity == "warning" for p in stale)
    assert str(stale[0]).startswith("knowledge/entries/extra.yaml:1: warning:")


def test_the_index_is_rebuilt_when_a_file_changes(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "data" / INDEX_FILE
    first = compile_knowledge(knowledge_copy, index)[0].knowledge
    assert index_digest(index) == first.digest
    write_entry(knowledge_copy)
    second = compile_knowledge(knowledge_copy, index)[0].knowledge
    assert second.digest != first.digest and index_digest(index) == second.digest
    assert second.entry("extra-entry") is not None
    again = compile_knowledge(knowledge_copy, index)[0]  # unchanged files: read from the index
    assert again.knowledge.entry("extra-entry") == second.entry("extra-entry")
    assert again.model.classes == compile_knowledge(knowledge_copy, index)[0].model.classes
    assert [p.name for p in index.parent.iterdir()] == [INDEX_FILE]  # no temporary left over


def test_a_bad_source_is_reported_on_its_own_line(knowledge_copy: Path) -> None:
    path = write_entry(knowledge_copy)
    path.write_text(path.read_text().replace("  sources: [p2b]\n",
                                             "  sources:\n    - p2b\n    - not-a-source\n"))
    found = problems_of(knowledge_copy)
    assert any(p.startswith("knowledge/entries/extra.yaml:6:") and "not-a-source" in p
               for p in found), found
