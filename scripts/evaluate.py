"""Accuracy of the engine on the labelled seller questions (tests/data/*.jsonl).

Prints the misses of every split except the held-out one, whose questions must stay unseen by
whoever tunes phrasings or thresholds: for it only the scores are printed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bot.model import Message
from bot.service import Charterbot
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = "questions_heldout.jsonl"


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (ROOT / "tests" / "data" / name).read_text().splitlines()
            if line.strip()]


def evaluate(core: Charterbot, rows: list[dict], verbose: bool = False) -> dict[str, float]:
    ok_in = n_in = ok_out = n_out = lang_ok = false_fallback = 0
    misses = []
    for i, row in enumerate(rows):
        reply = core.handle(Message(text=row["q"], user=f"eval:{i}", channel="cli"))
        lang_ok += reply.lang == row["lang"]
        if row["kind"] == "fallback":
            n_out += 1
            ok_out += reply.kind == "fallback"
            if reply.kind != "fallback":
                misses.append((row["q"], None, reply.entry, round(reply.confidence, 2)))
        else:
            n_in += 1
            good = reply.entry == row["entry"]
            ok_in += good
            false_fallback += reply.kind == "fallback"
            if not good:
                misses.append((row["q"], row["entry"], reply.entry, round(reply.confidence, 2)))
    if verbose:
        for miss in misses:
            print(*miss, sep=" | ")
    return {"in_scope": ok_in / max(n_in, 1), "fallback_recall": ok_out / max(n_out, 1),
            "lang": lang_ok / len(rows), "false_fallback": false_fallback / max(n_in, 1)}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        core = Charterbot(Settings(data_dir=Path(tmp)))
        for name in sys.argv[1:] or ["questions.jsonl", HELD_OUT]:
            print(name, evaluate(core, load(name), verbose=name != HELD_OUT))
