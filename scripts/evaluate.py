"""Accuracy of the engine on the labelled seller messages (tests/data/).

Splits: `tuning` and `heldout` (FAQ-style questions, jsonl), `real-dev` to `real-dev7` (real
seller messages, tuned against) and `real-heldout` (real seller messages never
tuned on). For held-out splits only the scores are printed, never the messages.

    python scripts/evaluate.py [--misses] [split ...]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.library import compile_knowledge  # noqa: E402

DATA = ROOT / "tests" / "data"
SPLITS = {"tuning": "questions.jsonl", "heldout": "questions_heldout.jsonl",
          "real-dev": "real_dev.yaml", "real-dev2": "real_dev2.yaml",
          "real-dev3": "real_dev3.yaml", "real-dev4": "real_dev4.yaml", "real-dev5": "real_dev5.yaml",
          "real-dev6": "real_dev6.yaml", "real-dev7": "real_dev7.yaml",
          "real-heldout": "real_heldout.yaml"}
HELD_OUT = ("heldout", "real-heldout")


@dataclass(frozen=True)
class Case:
    text: str
    lang: str
    entries: tuple[str, ...]  # empty: out of scope

    @property
    def length(self) -> str:
        n = len(self.text.split())
        return "<15 words" if n < 15 else "15-60 words" if n <= 60 else ">60 words"


def load(split: str) -> list[Case]:
    """The labelled cases of one split (empty when its file is missing)."""
    path = DATA / SPLITS[split]
    if not path.exists():
        return []
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [Case(r["q"], r["lang"], (r["entry"],) if r["kind"] != "fallback" else ())
                for r in rows]
    cases = yaml.safe_load(path.read_text())["cases"]
    return [Case(c["q"], c["lang"], tuple(c.get("entries") or ()) if c["expect"] == "answer"
                 else ()) for c in cases]


@dataclass
class Score:
    """Counts for one group of cases."""

    n_in: int = 0
    right: int = 0
    wrong: int = 0
    clarify: int = 0
    clarify_right: int = 0
    n_out: int = 0
    refused: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, case: Case, verdict: str, entry: str | None, options: list[str]) -> None:
        if not case.entries:
            self.n_out += 1
            self.refused += verdict in ("fallback", "empty")
            return
        self.n_in += 1
        self.right += verdict == "answer" and entry in case.entries
        self.wrong += verdict == "answer" and entry not in case.entries
        self.clarify += verdict == "clarify"
        self.clarify_right += verdict == "clarify" and any(o in case.entries for o in options)

    def row(self) -> dict[str, float | int]:
        n_in, n_out = max(self.n_in, 1), max(self.n_out, 1)
        return {"in_scope": self.n_in, "right": round(self.right / n_in, 3),
                "wrong": round(self.wrong / n_in, 3), "clarify": round(self.clarify / n_in, 3),
                "clarify_right": round(self.clarify_right / n_in, 3),
                "out_of_scope": self.n_out, "refused": round(self.refused / n_out, 3)}


def evaluate(engine: Engine, cases: list[Case], show: bool = False) -> dict[str, Score]:
    """Scores over all cases, and by language and by length."""
    groups: dict[str, Score] = defaultdict(Score)
    for case in cases:
        decision = engine.decide(case.text)
        entry = decision.entry.id if decision.entry else None
        options = [o.id for o in decision.options]
        for key in ("all", case.lang, case.length):
            groups[key].add(case, decision.verdict, entry, options)
        good = (decision.verdict == "answer" and entry in case.entries) if case.entries \
            else decision.verdict in ("fallback", "empty")
        if show and not good:
            print(f"  MISS {case.entries or 'out'} -> {decision.verdict} {entry} {options} "
                  f"{decision.confidence:.2f} | {case.text[:110]!r}")
    return groups


def main(argv: list[str]) -> None:
    show = "--misses" in argv
    splits = [a for a in argv if not a.startswith("--")] or list(SPLITS)
    engine, _ = compile_knowledge(ROOT / "knowledge", Path("/tmp/charterbot-eval-index.sqlite"))
    for split in splits:
        cases = load(split)
        if not cases:
            print(f"{split}: no cases")
            continue
        groups = evaluate(engine, cases, show=show and split not in HELD_OUT)
        print(split, json.dumps({k: g.row() for k, g in sorted(groups.items())}))


if __name__ == "__main__":
    main(sys.argv[1:])
