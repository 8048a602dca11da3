"""Choose the engine's knobs by cross-validation, never on a held-out split.

For each regularisation C: 5-fold cross-validation over the knowledge's own phrasings (a phrasing
is answered by a model that never saw it), then, with the model trained on every phrasing, the
decision thresholds swept over the development splits (`tuning` questions and the
`real-dev` splits). Prints one line per setting; the chosen values live in `bot/engine/decide.py`.

    python scripts/tune.py
"""

from __future__ import annotations

import itertools
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from evaluate import evaluate, load  # noqa: E402

from bot.engine import Engine  # noqa: E402
from bot.engine import decide as rules  # noqa: E402
from bot.engine.engine import training_examples  # noqa: E402
from bot.engine.text import Analyser  # noqa: E402
from bot.engine.train import fit  # noqa: E402
from bot.loader import load_knowledge  # noqa: E402

REGULARISATIONS = (1.0, 3.0, 10.0, 30.0)
LEADS = ((0.25, 4.0), (0.25, 2.0), (0.25, 100.0))  # (CLEAR_PROBABILITY, CLEAR_LEAD); 100: off
THRESHOLDS = ((0.3, 0.3, 0.7), (0.35, 0.3, 0.7), (0.4, 0.3, 0.7), (0.45, 0.3, 0.7), (0.4, 0.45, 0.7),
              (0.4, 0.3, 0.5), (0.4, 0.3, 1.0))
FOLDS = 5


def phrasing_cv(knowledge, regularisation: float) -> float:  # type: ignore[no-untyped-def]
    """Share of phrasings whose entry a model trained without them ranks first."""
    analyser = Analyser(knowledge)
    pairs = [(e.id, t) for e in knowledge.entries for ts in e.phrasings.values() for t in ts]
    random.Random(0).shuffle(pairs)
    right = 0
    for fold in range(FOLDS):
        left_out = set(pairs[fold::FOLDS])
        model = fit(training_examples(knowledge, analyser, left_out), regularisation)
        engine = Engine(knowledge, model)
        for entry_id, text in left_out:
            ranked, _, _ = engine.rank(analyser.read(text))
            right += ranked[0][0].id == entry_id
    return right / len(pairs)


def main() -> None:
    knowledge, _ = load_knowledge(ROOT / "knowledge")
    dev = {name: load(name) for name in ("tuning", "real-dev", "real-dev2", "real-dev3",
                                                "real-dev4", "real-dev5")}
    for regularisation in REGULARISATIONS:
        cv = phrasing_cv(knowledge, regularisation)
        engine = Engine(knowledge, fit(training_examples(knowledge, Analyser(knowledge)),
                                       regularisation))
        for (answer, clarify, outside), (clear, lead) in itertools.product(THRESHOLDS, LEADS):
            rules.ANSWER_PROBABILITY, rules.CLARIFY_PROBABILITY = answer, clarify
            rules.OUTSIDE_SHARE, rules.CLEAR_PROBABILITY, rules.CLEAR_LEAD = outside, clear, lead
            scores = {name: evaluate(engine, cases)["all"].row() for name, cases in dev.items()}
            print(f"C={regularisation:<5} phrasing-cv={cv:.3f} answer>={answer} clarify>={clarify} "
                  f"outside>={outside}x clear>={clear}@{lead}x "
                  + " ".join(f"{n}: right={s['right']} wrong={s['wrong']} clarify={s['clarify']} "
                             f"refused={s['refused']}" for n, s in scores.items()), flush=True)


if __name__ == "__main__":
    main()
