"""The `charterbot` command as staff and scripts use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = {"lang", "kind", "text", "platforms", "sources", "suggestions", "confidence", "entry"}


def run(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "CHARTERBOT_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=environ, timeout=60)


def test_ask_json_keeps_the_contract(tmp_path: Path) -> None:
    out = run(["ask", "--json", "Amazon a-t-il signé la charte ?"], tmp_path)
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    assert reply.keys() >= CONTRACT
    assert reply["lang"] == "fr" and reply["kind"] == "answer"
    assert (reply["platforms"][0]["name"], reply["platforms"][0]["status"]) == ("Amazon", "signed")
    assert isinstance(reply["confidence"], float)


def test_ask_jsonl_answers_each_line_in_order(tmp_path: Path) -> None:
    questions = ["bonjour", "recette de crêpes ?", "my account was suspended by ebay", ""]
    out = run(["ask", "--jsonl"], tmp_path, stdin="\n".join(questions) + "\n")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["kind"] for r in lines] == ["smalltalk", "fallback", "answer", "fallback"]
    assert lines[3]["entry"] is None and "question" in lines[3]["text"]  # the empty line
    assert lines[2]["lang"] == "en" and lines[2]["platforms"][0]["name"] == "eBay"


def test_ask_prints_readable_text(tmp_path: Path) -> None:
    out = run(["ask", "qui a signé la charte ?"], tmp_path)
    assert "Cdiscount" in out.stdout and "Sources" in out.stdout and "{" not in out.stdout[:1]


def test_chat_reads_piped_input_and_ends_cleanly(tmp_path: Path) -> None:
    out = run(["chat"], tmp_path, stdin="bonjour\nManoMano a signé ?\n/langue en\nthanks\n")
    assert out.returncode == 0, out.stderr
    assert "ManoMano" in out.stdout and "English" in out.stdout
    assert "Traceback" not in out.stderr


def test_knowledge_check_exit_codes(tmp_path: Path, knowledge_copy: Path) -> None:
    ok = run(["knowledge", "check", "--dir", str(knowledge_copy)], tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (knowledge_copy / "platforms.yaml").write_text("- name: X\n  history: [oops\n")
    bad = run(["knowledge", "check", "--dir", str(knowledge_copy)], tmp_path)
    assert bad.returncode == 1
    assert bad.stdout.startswith("knowledge/platforms.yaml:")


def test_knowledge_dir_variable_points_the_bot_elsewhere(tmp_path: Path,
                                                          knowledge_copy: Path) -> None:
    path = knowledge_copy / "platforms.yaml"
    path.write_text(path.read_text().replace("name: Vinted", "name: Vintedd"))
    out = run(["ask", "--json", "vintedd a signé ?"], tmp_path,
              CHARTERBOT_KNOWLEDGE_DIR=str(knowledge_copy))
    assert json.loads(out.stdout)["platforms"][0]["name"] == "Vintedd"


def test_knowledge_build_compiles_the_index(tmp_path: Path) -> None:
    out = run(["knowledge", "build"], tmp_path)
    assert out.returncode == 0 and (tmp_path / "data" / "knowledge-index.sqlite").exists()


@pytest.mark.parametrize("command", [[], ["ask"], ["chat"], ["knowledge", "check"],
                                     ["knowledge", "build"], ["run", "telegram"],
                                     ["run", "slack"], ["report", "unanswered"],
                                     ["report", "feedback"]])
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    out = run([*command, "--help"], tmp_path)
    assert out.returncode == 0 and "usage: charterbot" in out.stdout


def test_the_cli_does_not_import_platform_libraries(tmp_path: Path) -> None:
    code = ("import sys; from bot.cli import main; main(['ask', 'bonjour']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('telegram', 'slack_bolt', 'slack_sdk', 'aiohttp')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=60, env={**os.environ, "CHARTERBOT_DATA_DIR": str(tmp_path)})
    assert out.stdout.strip().endswith("[]"), out.stdout + out.stderr
