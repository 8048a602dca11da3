"""The engine over one version of the knowledge: its reader, its model and its exact phrasings."""

from __future__ import annotations

import random
import zlib
from collections import Counter, defaultdict

from bot.engine import decide as rules
from bot.engine.columns import ColumnEncoder
from bot.engine.model import LinearModel
from bot.engine.text import PLATFORM_TERM, Analyser, Reading
from bot.knowledge import Entry, Knowledge
from bot.model import LANGS, Lang


class Engine:
    """Everything needed to decide, built once per knowledge version (the model may come from
    the index, where it was trained when the knowledge was compiled)."""

    def __init__(self, knowledge: Knowledge, model: LinearModel | None = None) -> None:
        self.knowledge = knowledge
        self.analyser = Analyser(knowledge)
        self.model = model or train_model(knowledge, self.analyser)
        self.encoder = ColumnEncoder(self.analyser, self.model)
        self._class_entries = [knowledge.entry(c) for c in self.model.classes]
        self.exact = self._exact_phrasings()
        self.language_of = self._one_language_words()

    def decide(self, text: str, exact: bool = True) -> rules.Decision:
        """Which entry answers `text`, which to offer, or none (see `bot.engine.decide`);
        without `exact`, a text typed like a phrasing is ranked like any other."""
        return rules.decide(self, text, exact)

    def rank(self, reading: Reading) -> tuple[list[tuple[Entry, float]], Entry | None, float]:
        """Entries that answer, best first with their probability; the likeliest out-of-scope
        theme and the probability of all of them together."""
        probs = self.model.probabilities_of([self.encoder.vector(reading)])[0]
        inside: list[tuple[Entry, float]] = []
        outside: list[tuple[Entry, float]] = []
        for entry, p in zip(self._class_entries, probs.tolist(), strict=True):
            if entry is not None:
                (outside if entry.kind == "outside" else inside).append((entry, p))
        inside.sort(key=lambda item: item[1], reverse=True)
        outside.sort(key=lambda item: item[1], reverse=True)
        return inside, outside[0][0] if outside else None, sum(p for _, p in outside)

    def best_of_each(self, readings: list[Reading]) -> list[tuple[Entry, float]]:
        """The likeliest entry of each reading (sentences of one message), in one model pass."""
        vectors = [self.encoder.vector(r) for r in readings]
        out = []
        for probs in self.model.probabilities_of(vectors):
            best = int(probs.argmax())
            entry = self._class_entries[best]
            if entry is not None:
                out.append((entry, float(probs[best])))
        return out

    def knows_a_word(self, reading: Reading) -> bool:
        """Whether any word of the text (platform names aside) is one the phrasings use."""
        vocabulary = self.model.vocabulary
        return any("w:" + t in vocabulary for t in reading.terms if t != PLATFORM_TERM)

    def _exact_phrasings(self) -> dict[str, Entry]:
        """A message typed exactly like a phrasing gets that phrasing's entry."""
        table: dict[str, Entry] = {}
        for entry in self.knowledge.entries:
            for texts in entry.phrasings.values():
                for text in texts:
                    table.setdefault(" ".join(self.analyser.phrasing_words[text]), entry)
        return table

    def _one_language_words(self) -> dict[str, Lang]:
        """Words the phrasings use in one language only (a tie-breaker for the language)."""
        seen: dict[str, set[Lang]] = defaultdict(set)
        for entry in self.knowledge.entries:
            for lang in LANGS:
                for text in entry.phrasings.get(lang, ()):
                    for word in self.analyser.phrasing_words[text]:
                        seen[word].add(lang)
        return {w: next(iter(langs)) for w, langs in seen.items() if len(langs) == 1}


def training_examples(knowledge: Knowledge, analyser: Analyser,
                      leave_out: set[tuple[str, str]] | None = None) -> list[tuple[Counter[str], str]]:
    """(features, entry id) for every phrasing and title, and for the phrasings of the entries
    sellers tell as stories also inside context sentences; `leave_out` holds (entry, text) pairs
    kept out for cross-validation."""
    out = []
    for entry in knowledge.entries:
        for lang in LANGS:
            for text in (*entry.phrasings.get(lang, ()), entry.title.get(lang, "")):
                if not text or leave_out and (entry.id, text) in leave_out:
                    continue
                variants = [text]
                if entry.topic in rules.CONTEXT_TOPICS:
                    variants += in_context(text, knowledge.words.context.get(lang, ()))
                out += [(analyser.features(analyser.read(v, fuzzy=False)), entry.id)
                        for v in variants]
    return out


def in_context(text: str, context: tuple[str, ...]) -> list[str]:
    """The text told among two context sentences, CONTEXT_COPIES times; the choice depends only
    on the text, so that training gives the same model on every machine."""
    if len(context) < 2:
        return []
    pick = random.Random(zlib.crc32(text.encode()))
    out = []
    for _ in range(rules.CONTEXT_COPIES):
        first, second = pick.sample(context, 2)
        out.append(f"{first}. {text}. {second}." if pick.random() < 0.5 else
                   f"{first}. {second}. {text}.")
    return out


def train_model(knowledge: Knowledge, analyser: Analyser | None = None,
                regularisation: float | None = None) -> LinearModel:
    """Fit the model on the knowledge (scikit-learn is imported here only)."""
    from bot.engine.train import fit

    analyser = analyser or Analyser(knowledge)
    return fit(training_examples(knowledge, analyser),
               regularisation or rules.REGULARISATION)
