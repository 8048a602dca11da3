"""Accuracy of charterbot and of two baselines over the same knowledge, on the labelled questions.

Baselines (no language logic, no platform logic, no synonyms):
  rapidfuzz  `process.extractOne(question, every_phrasing, scorer=WRatio, processor=default_process)`
  bm25       bm25s (BM25 Okapi) over every phrasing, lower-cased, French+English stop words removed
Both answer with the entry of the best phrasing when its score reaches a cutoff, else fall back.
The cutoff is the one that maximises (in-scope top-1 + fallback recall) on the tuning split; the
same cutoff is applied to the held-out split.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import bm25s.stopwords
from rapidfuzz import fuzz, process, utils

from bot.knowledge import Knowledge
from bot.model import Message
from bot.service import Charterbot
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SPLITS = {"tuning": "questions.jsonl", "held-out": "questions_heldout.jsonl"}
# Order of the per-category table; any other category found in the data is appended.
CATEGORIES = ("signatory-status", "lists", "charter-facts", "escalation", "problems", "typos", "english",
              "smalltalk", "out-of-scope")
DEFAULT_LANG = "fr"  # what a baseline's fallback would be written in (the bot's default)


@dataclass(frozen=True)
class Prediction:
    entry: str | None  # None: the system fell back ("I don't know")
    lang: str


@dataclass(frozen=True)
class Scored:
    """A baseline's raw outcome: best phrasing's entry and language, and its score."""

    entry: str
    lang: str
    score: float


def load_split(name: str) -> list[dict]:
    path = ROOT / "tests" / "data" / SPLITS[name]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def phrasings(knowledge: Knowledge) -> list[tuple[str, str, str]]:
    """(text, entry id, language) for every phrasing of every entry: what the baselines search."""
    return [(text, entry.id, lang) for entry in knowledge.entries for lang in ("fr", "en")
            for text in entry.phrasings.get(lang, ())]


# --- systems ------------------------------------------------------------------------------------

def charterbot_predictions(core: Charterbot, rows: Sequence[dict], tag: str) -> list[Prediction]:
    out = []
    for i, row in enumerate(rows):
        reply = core.handle(Message(text=row["q"], user=f"bench:{tag}:{i}", channel="cli"))
        out.append(Prediction(None if reply.kind == "fallback" else reply.entry, reply.lang))
    return out


class FuzzBaseline:
    name = "rapidfuzz WRatio"

    def __init__(self, knowledge: Knowledge) -> None:
        self.items = phrasings(knowledge)
        self.choices = [text for text, _, _ in self.items]

    def score(self, question: str) -> Scored | None:
        found = process.extractOne(question, self.choices, scorer=fuzz.WRatio,
                                   processor=utils.default_process)
        if found is None:
            return None
        _, entry, lang = self.items[found[2]]
        return Scored(entry, lang, float(found[1]))


class BM25Baseline:
    name = "BM25 (bm25s)"

    def __init__(self, knowledge: Knowledge) -> None:
        self.items = phrasings(knowledge)
        self.stopwords = sorted(set(bm25s.stopwords.STOPWORDS_EN) | set(bm25s.stopwords.STOPWORDS_FRENCH))
        corpus = self._tokens([text for text, _, _ in self.items])
        self.retriever = bm25s.BM25()
        self.retriever.index(corpus, show_progress=False)
        self.vocab = set(self.retriever.vocab_dict)

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        out = bm25s.tokenize(texts, lower=True, stopwords=self.stopwords, return_ids=False,
                             show_progress=False)
        return [list(tokens) for tokens in out]

    def score(self, question: str) -> Scored | None:
        tokens = [t for t in self._tokens([question])[0] if t in self.vocab]
        if not tokens:
            return None
        scores = self.retriever.get_scores(tokens)
        best = int(scores.argmax())
        if scores[best] <= 0:
            return None
        _, entry, lang = self.items[best]
        return Scored(entry, lang, float(scores[best]))


def with_cutoff(scored: Sequence[Scored | None], cutoff: float) -> list[Prediction]:
    return [Prediction(s.entry, s.lang) if s is not None and s.score >= cutoff
            else Prediction(None, DEFAULT_LANG) for s in scored]


def best_cutoff(scored: Sequence[Scored | None], rows: Sequence[dict]) -> float:
    """The cutoff maximising in-scope top-1 + fallback recall on these rows (ties: the higher
    fallback precision, then the lower cutoff)."""
    candidates = sorted({0.0, *(s.score for s in scored if s is not None)})
    def objective(cutoff: float) -> tuple[float, float, float]:
        m = metrics(rows, with_cutoff(scored, cutoff))
        return (m["in_scope"] + m["fallback_recall"], m["fallback_precision"], -cutoff)
    return max(candidates, key=objective)


# --- metrics ------------------------------------------------------------------------------------

def correct(row: dict, pred: Prediction) -> bool:
    if row["kind"] == "fallback":
        return pred.entry is None
    return pred.entry == row["entry"]


def metrics(rows: Sequence[dict], preds: Sequence[Prediction]) -> dict[str, float]:
    in_scope = [(r, p) for r, p in zip(rows, preds, strict=True) if r["kind"] != "fallback"]
    out_scope = [(r, p) for r, p in zip(rows, preds, strict=True) if r["kind"] == "fallback"]
    fell_back = [(r, p) for r, p in zip(rows, preds, strict=True) if p.entry is None]
    return {
        "n": len(rows), "n_in": len(in_scope), "n_out": len(out_scope),
        "in_scope": _rate(sum(correct(r, p) for r, p in in_scope), len(in_scope)),
        "fallback_recall": _rate(sum(p.entry is None for _, p in out_scope), len(out_scope)),
        "fallback_precision": _rate(sum(r["kind"] == "fallback" for r, _ in fell_back), len(fell_back)),
        "n_fallbacks": len(fell_back),
        "in_scope_fallbacks": sum(p.entry is None for _, p in in_scope),
        # answered, but not with the labelled entry (or answered an out-of-scope question)
        "wrong_answers": sum(p.entry is not None and not correct(r, p)
                             for r, p in zip(rows, preds, strict=True)),
        "lang": _rate(sum(r["lang"] == p.lang for r, p in zip(rows, preds, strict=True)), len(rows)),
    }


def per_category(rows: Sequence[dict], preds: Sequence[Prediction]) -> dict[str, tuple[int, int]]:
    """category -> (right, total); right = the expected entry, or a fallback when out of scope."""
    out: dict[str, list[int]] = {}
    for row, pred in zip(rows, preds, strict=True):
        cell = out.setdefault(row["category"], [0, 0])
        cell[0] += correct(row, pred)
        cell[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def _rate(num: int, den: int) -> float:
    return num / den if den else float("nan")


# --- the whole run ------------------------------------------------------------------------------

def run(log: Callable[[str], None] = print) -> dict:
    """Every system on both splits; returns plain data for the report."""
    splits = {name: load_split(name) for name in SPLITS}
    with tempfile.TemporaryDirectory(prefix="charterbot-bench-acc-") as tmp:
        core = Charterbot(Settings(data_dir=Path(tmp)))
        try:
            knowledge = core.library.knowledge
            preds = {"charterbot": {s: charterbot_predictions(core, rows, s) for s, rows in splits.items()}}
        finally:
            core.close()
    cutoffs: dict[str, float] = {}
    for baseline_cls in (FuzzBaseline, BM25Baseline):
        baseline = baseline_cls(knowledge)
        scored = {s: [baseline.score(r["q"]) for r in rows] for s, rows in splits.items()}
        cutoff = best_cutoff(scored["tuning"], splits["tuning"])
        cutoffs[baseline.name] = cutoff
        preds[baseline.name] = {s: with_cutoff(scored[s], cutoff) for s in splits}
        log(f"  {baseline.name}: cutoff {cutoff:.3f} (tuned on the tuning split)")
    result: dict = {"splits": {}, "cutoffs": cutoffs, "systems": list(preds),
                    "entries": len(knowledge.entries), "phrasings": len(phrasings(knowledge))}
    for split, rows in splits.items():
        categories = [c for c in CATEGORIES if any(r["category"] == c for r in rows)]
        categories += sorted({r["category"] for r in rows} - set(categories))
        result["splits"][split] = {
            "file": f"tests/data/{SPLITS[split]}",
            "n": len(rows),
            "langs": {lang: sum(r["lang"] == lang for r in rows) for lang in ("fr", "en")},
            "categories": categories,
            "metrics": {sys_: metrics(rows, p[split]) for sys_, p in preds.items()},
            "per_category": {sys_: per_category(rows, p[split]) for sys_, p in preds.items()},
        }
        m = result["splits"][split]["metrics"]["charterbot"]
        log(f"  {split}: charterbot in-scope {m['in_scope']:.1%}, fallback P {m['fallback_precision']:.1%}"
            f" R {m['fallback_recall']:.1%}, language {m['lang']:.1%}")
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=1, default=str))
