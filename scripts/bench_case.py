"""The case builder (issue 13): what a whole case costs, and how often a story pre-fills it.

- Whole conversations through `Charterbot.handle` (console channel, no rate limit) on every
  problem of `cases.yaml`, in both languages: wall time per answer step and for the last step,
  which writes the three papers (text and .docx), and the size of the files.
- Pre-filling: the problem answers of the real development splits that offer "Préparer ma
  réclamation", and how many of those pre-fill the platform and the day.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import evaluate  # noqa: E402

from bot.case.flow import parse_start  # noqa: E402
from bot.model import Lang, Message, Reply  # noqa: E402
from bot.service import Charterbot  # noqa: E402
from bot.settings import Settings  # noqa: E402

ROUNDS = 5  # each problem x language this many times
REAL_SPLITS = ("real-dev", "real-dev2", "real-dev3", "real-dev4", "real-dev5")


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": statistics.median(ordered) * 1000,
            "p90_ms": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))] * 1000,
            "max_ms": ordered[-1] * 1000}


def _case(core: Charterbot, user: str, lang: Lang, platform: str, problem: str,
          steps: list[float], last: list[float]) -> Reply:
    def send(**fields: object) -> Reply:
        started = time.perf_counter()
        reply = core.handle(Message(text=str(fields.pop("text", "")), user=user,
                                    channel="console", lang=lang, **fields))  # type: ignore[arg-type]
        (last if reply.documents else steps).append(time.perf_counter() - started)
        return reply

    reply = send(command="case")
    for value in (f"p:{platform}", f"k:{problem}", "d:yesterday"):
        reply = send(answer=value)
    if any(c.value == "n:none" for c in reply.choices):
        reply = send(answer="n:none")
    reply = send(text="Nous avons retiré vos offres en raison de plaintes. " * 8)
    return send(text="Vendeur 12345, ticket 67890")


def run() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        core = Charterbot(Settings(data_dir=Path(folder)))
        book = core.library.knowledge.cases
        assert book is not None
        steps: list[float] = []
        last: list[float] = []
        sizes: list[int] = []
        n = 0
        for _ in range(ROUNDS):
            for problem in book.problems:
                for lang in ("fr", "en"):
                    n += 1
                    reply = _case(core, f"bench:{n}", lang, book.platforms[n % len(book.platforms)],
                                  problem.id, steps, last)
                    assert len(reply.documents) == 3, reply.text
                    sizes += [len(d.data) for d in reply.documents]
        offered = with_platform = with_day = 0
        for split in REAL_SPLITS:
            for case in evaluate.load(split):
                reply = core.handle(Message(text=case.text, user=f"real:{offered}",
                                            channel="console"))
                start = next((parse_start(c.value) for c in reply.choices), None)
                if start is None:
                    continue
                offered += 1
                with_platform += bool(start[1])
                with_day += bool(start[2])
        core.close()
    return {"cases": n, "step": _ms(steps), "papers": _ms(last),
            "docx_kb": {"median": statistics.median(sizes) / 1024, "max": max(sizes) / 1024},
            "prefill": {"offered": offered, "platform": with_platform, "day": with_day}}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
