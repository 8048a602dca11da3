"""The model's columns for a reading, built term by term from a cache.

The same features as `Analyser.features` (which training uses), without building and looking up
every feature's string for every message: a 4,000-character message has some ten thousand
character n-grams, but its terms repeat and each term's columns are looked up once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from bot.engine.model import LinearModel
from bot.engine.text import PLATFORM_TERM, Analyser, Reading, char_grams

TERMS_CACHED = 65536  # distinct terms whose columns are kept (bounded: messages are unbounded)


class ColumnEncoder:
    """Reading -> (columns, values) of the model's input vector."""

    def __init__(self, analyser: Analyser, model: LinearModel) -> None:
        self._analyser = analyser
        self._model = model
        self._vocabulary = model.vocabulary
        self._term = lru_cache(maxsize=TERMS_CACHED)(self._term_uncached)

    def vector(self, reading: Reading) -> tuple[np.ndarray, np.ndarray]:
        """The weighted vector of one reading, as `LinearModel.vector` of its features gives."""
        cols, tf = np.unique(self.columns(reading), return_counts=True)
        return self._model.weigh(cols, tf)

    def columns(self, reading: Reading) -> np.ndarray:
        """The known columns of every feature of the reading, once per occurrence."""
        terms = reading.terms
        vocabulary = self._vocabulary
        out: list[int] = []
        for term in terms:
            out.extend(self._term(term))
        for first, second in zip(terms, terms[1:], strict=False):
            col = vocabulary.get(f"b:{first}_{second}")
            if col is not None:
                out.append(col)
        for concept in self._analyser.concepts_in(terms):
            col = vocabulary.get("w:" + concept)
            if col is not None:
                out.append(col)
        return np.array(out, dtype=np.int64)

    def _term_uncached(self, term: str) -> tuple[int, ...]:
        """The known columns of one term: its word and, unless a platform, its n-grams."""
        features = ["w:" + term] + ([] if term == PLATFORM_TERM else list(char_grams(term)))
        return tuple(col for f in features if (col := self._vocabulary.get(f)) is not None)
