"""Accuracy of the engine and of two baselines over the same knowledge, on the labelled messages.

Every figure comes from `scripts/evaluate.py`: its `load(split)` reads the cases and its
`evaluate(engine, cases)` scores them (right / wrong / clarify in scope, refused out of scope; by
language and by message length). The baselines are wrapped so that `evaluate` scores them exactly
like the engine. Messages are never printed (two splits are held out).

Baselines (no language logic, no platform logic, no synonyms):
  rapidfuzz  `process.extractOne(message, every_phrasing, scorer=WRatio, processor=default_process)`
  bm25       bm25s (BM25 Okapi) over every phrasing, lower-cased, French+English stop words removed
Both answer with the entry of the best phrasing when its score reaches a cutoff, else refuse (a
best phrasing of an out-of-scope theme, `kind: outside`, is a refusal too). They never ask a
clarifying question. The cutoff maximises (right in scope + refused out of scope) on the
development split of each family (`tuning` for the FAQ questions, `real-dev` for the real
messages) and is applied unchanged to its held-out split.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import bm25s.stopwords
from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import evaluate  # noqa: E402  (scripts/evaluate.py)

from bot.knowledge import Entry, Knowledge  # noqa: E402
from bot.library import compile_knowledge  # noqa: E402

# split -> the development split its baseline cutoff is tuned on
FAMILIES = {"tuning": "tuning", "heldout": "tuning", "real-dev": "real-dev", "real-dev2": "real-dev2",
            "real-dev3": "real-dev3", "real-dev4": "real-dev4", "real-dev5": "real-dev5",
            "real-heldout": "real-dev"}
GROUPS = ("all", "fr", "en", "<15 words", "15-60 words", ">60 words")
# Order of the per-category table (FAQ splits); any other category found in the data is appended.
CATEGORIES = ("signatory-status", "lists", "charter-facts", "escalation", "problems", "typos", "english",
              "smalltalk", "out-of-scope")
ENGINE = "charterbot"


def phrasings(knowledge: Knowledge) -> list[tuple[str, str]]:
    """(text, entry id) for every phrasing of every entry: what the baselines search."""
    return [(text, entry.id) for entry in knowledge.entries for lang in ("fr", "en")
            for text in entry.phrasings.get(lang, ())]


def categories(split: str) -> list[str] | None:
    """The category of each case of a jsonl split, in `evaluate.load` order (None elsewhere)."""
    path = evaluate.DATA / evaluate.SPLITS[split]
    if path.suffix != ".jsonl" or not path.exists():
        return None
    return [json.loads(line).get("category", "?") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


# --- baselines ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scored:
    """A baseline's raw outcome: the best phrasing's entry and its score."""

    entry: str
    score: float


class FuzzBaseline:
    name = "rapidfuzz WRatio"

    def __init__(self, knowledge: Knowledge) -> None:
        self.items = phrasings(knowledge)
        self.choices = [text for text, _ in self.items]

    def score(self, message: str) -> Scored | None:
        found = process.extractOne(message, self.choices, scorer=fuzz.WRatio,
                                   processor=utils.default_process)
        if found is None:
            return None
        return Scored(self.items[found[2]][1], float(found[1]))


class BM25Baseline:
    name = "BM25 (bm25s)"

    def __init__(self, knowledge: Knowledge) -> None:
        self.items = phrasings(knowledge)
        self.stopwords = sorted(set(bm25s.stopwords.STOPWORDS_EN) | set(bm25s.stopwords.STOPWORDS_FRENCH))
        corpus = self._tokens([text for text, _ in self.items])
        self.retriever = bm25s.BM25()
        self.retriever.index(corpus, show_progress=False)
        self.vocab = set(self.retriever.vocab_dict)

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        out = bm25s.tokenize(texts, lower=True, stopwords=self.stopwords, return_ids=False,
                             show_progress=False)
        return [list(tokens) for tokens in out]

    def score(self, message: str) -> Scored | None:
        tokens = [t for t in self._tokens([message])[0] if t in self.vocab]
        if not tokens:
            return None
        scores = self.retriever.get_scores(tokens)
        best = int(scores.argmax())
        if scores[best] <= 0:
            return None
        return Scored(self.items[best][1], float(scores[best]))


@dataclass(frozen=True)
class BaselineDecision:
    """The part of `bot.engine.Decision` that `evaluate.evaluate` reads."""

    verdict: str
    entry: Entry | None = None
    options: tuple[Entry, ...] = ()
    confidence: float = 0.0


class AsEngine:
    """A baseline's precomputed scores behind `decide(text)`, so `evaluate.evaluate` scores it."""

    def __init__(self, knowledge: Knowledge, scored: dict[str, Scored | None], cutoff: float) -> None:
        self.knowledge, self.scored, self.cutoff = knowledge, scored, cutoff

    def decide(self, text: str) -> BaselineDecision:
        found = self.scored.get(text)
        if found is None or found.score < self.cutoff:
            return BaselineDecision("fallback")
        entry = self.knowledge.entry(found.entry)
        if entry is None or entry.kind == "outside":
            return BaselineDecision("fallback", confidence=found.score)
        return BaselineDecision("answer", entry, confidence=found.score)


def best_cutoff(knowledge: Knowledge, scored: dict[str, Scored | None],
                cases: Sequence[evaluate.Case]) -> float:
    """The cutoff maximising right in scope + refused out of scope on these cases (ties: fewer
    wrong answers, then the lower cutoff); infinity (never answer) is one of the candidates."""
    candidates = sorted({0.0, math.inf, *(s.score for s in scored.values() if s is not None)})

    def objective(cutoff: float) -> tuple[float, float, float]:
        score = evaluate.evaluate(AsEngine(knowledge, scored, cutoff), list(cases))["all"]  # type: ignore[arg-type]
        row = score.row()
        return (float(row["right"]) + float(row["refused"]), -score.wrong, -cutoff)
    return max(candidates, key=objective)


# --- the whole run ------------------------------------------------------------------------------

def _groups(found: dict[str, evaluate.Score]) -> dict[str, dict]:
    """Each group's `Score.row()` plus its raw counts (to say 'by how many messages')."""
    out = {}
    for key in GROUPS:
        score = found.get(key)
        if score is None:
            continue
        out[key] = {**score.row(), "n_right": score.right, "n_wrong": score.wrong,
                    "n_clarify": score.clarify, "n_refused": score.refused}
    return out


def _per_category(system: object, cases: list[evaluate.Case], cats: list[str]) -> dict[str, list[int]]:
    """category -> [right, total]; right = the labelled entry, or a refusal when out of scope."""
    out = {}
    for category in dict.fromkeys(cats):
        subset = [c for c, k in zip(cases, cats, strict=True) if k == category]
        score = evaluate.evaluate(system, subset)["all"]  # type: ignore[arg-type]
        out[category] = [score.right + score.refused, score.n_in + score.n_out]
    return out


def run(log: Callable[[str], None] = print) -> dict:
    """Every system on every split; returns plain data for the report (no message text)."""
    splits = {name: evaluate.load(name) for name in evaluate.SPLITS}
    missing = [name for name, cases in splits.items() if not cases]
    splits = {name: cases for name, cases in splits.items() if cases}
    with tempfile.TemporaryDirectory(prefix="charterbot-bench-acc-") as tmp:
        engine, _ = compile_knowledge(ROOT / "knowledge", Path(tmp) / "index.sqlite")
    knowledge = engine.knowledge
    systems: dict[str, dict[str, object]] = {ENGINE: {s: engine for s in splits}}
    cutoffs: dict[str, dict[str, float]] = {}
    for baseline_cls in (FuzzBaseline, BM25Baseline):
        baseline = baseline_cls(knowledge)
        scored = {s: {c.text: baseline.score(c.text) for c in cases} for s, cases in splits.items()}
        cutoffs[baseline.name] = {}
        systems[baseline.name] = {}
        for split in splits:
            dev = FAMILIES[split]
            if dev not in splits:
                continue
            if dev not in cutoffs[baseline.name]:
                cutoffs[baseline.name][dev] = best_cutoff(knowledge, scored[dev], splits[dev])
            systems[baseline.name][split] = AsEngine(knowledge, scored[split], cutoffs[baseline.name][dev])
        log(f"  {baseline.name}: cutoffs "
            + ", ".join(f"{v:.2f} (tuned on {k})" for k, v in cutoffs[baseline.name].items()))
    result: dict = {"splits": {}, "cutoffs": cutoffs, "systems": list(systems), "missing": missing,
                    "entries": len(knowledge.entries), "phrasings": len(phrasings(knowledge)),
                    "outside_entries": sum(e.kind == "outside" for e in knowledge.entries)}
    for split, cases in splits.items():
        cats = categories(split)
        data: dict = {
            "file": f"tests/data/{evaluate.SPLITS[split]}", "n": len(cases),
            "held_out": split in evaluate.HELD_OUT, "tuned_on": FAMILIES[split],
            "langs": {lang: sum(c.lang == lang for c in cases) for lang in ("fr", "en")},
            "lengths": {g: sum(c.length == g for c in cases) for g in GROUPS[3:]},
            "groups": {name: _groups(evaluate.evaluate(per[split], cases))  # type: ignore[arg-type]
                       for name, per in systems.items() if split in per},
        }
        if cats and len(cats) == len(cases):
            order = [c for c in CATEGORIES if c in cats] + sorted(set(cats) - set(CATEGORIES))
            data["categories"] = order
            data["per_category"] = {name: _per_category(per[split], cases, cats)
                                    for name, per in systems.items() if split in per}
        result["splits"][split] = data
        row = data["groups"][ENGINE]["all"]
        log(f"  {split}: charterbot right {row['right']:.1%} wrong {row['wrong']:.1%} clarify "
            f"{row['clarify']:.1%} of {row['in_scope']} in scope; refused {row['refused']:.1%} of "
            f"{row['out_of_scope']} out of scope")
    return result


if __name__ == "__main__":
    print(json.dumps(run(log=lambda line: print(line, file=sys.stderr)), indent=1, default=str))
