"""Length of the first message a seller reads, over every labelled split (issue 10).

Each message goes through `Charterbot.handle` as a new seller; the words of
`bot.compose.first_message_text(reply)` are counted with `bot.compose.word_count`. Answers only
(an answer is what must fit one phone screen), per split and language, plus the number of
different entries sharing one first message.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import evaluate  # noqa: E402

from bot.compose import first_message_text, word_count  # noqa: E402
from bot.model import Message  # noqa: E402
from bot.service import Charterbot  # noqa: E402
from bot.settings import Settings  # noqa: E402


def summary(counts: list[int]) -> dict[str, float]:
    """Median, 90th percentile and maximum of word counts."""
    ordered = sorted(counts)
    if not ordered:
        return {"n": 0, "median": 0, "p90": 0, "max": 0}
    return {"n": len(ordered), "median": statistics.median(ordered),
            "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], "max": ordered[-1]}


def run() -> dict:
    """Word counts of the first message of every answer, per split and language."""
    counts: dict[str, list[int]] = defaultdict(list)
    firsts: dict[str, set[str]] = defaultdict(set)  # first message -> entries that gave it
    with tempfile.TemporaryDirectory(prefix="charterbot-bench-replies-") as tmp:
        core = Charterbot(Settings(data_dir=Path(tmp)))
        try:
            for split in evaluate.SPLITS:
                for i, case in enumerate(evaluate.load(split)):
                    reply = core.handle(Message(text=case.text, user=f"bench:{split}:{i}",
                                                channel="cli"))
                    if reply.kind != "answer":
                        continue
                    text = first_message_text(reply)
                    n = word_count(text)
                    for key in (split, f"{split} {reply.lang}", "all", f"all {reply.lang}"):
                        counts[key].append(n)
                    if not reply.platforms:
                        firsts[text].add(reply.entry or "")
        finally:
            core.close()
    shared = sum(1 for entries in firsts.values() if len(entries) > 1)
    return {"groups": {key: summary(values) for key, values in counts.items()},
            "shared_first_messages": shared}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
