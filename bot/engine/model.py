"""A linear model over text features: trained when the index is built, applied with numpy.

Training needs scikit-learn (`bot.engine.train`); answering only needs the arrays kept here, so
starting the bot and answering a message never import scikit-learn.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import numpy as np

CHAR_PREFIX = "c:"  # character n-grams are weighed as a block of their own


@dataclass(frozen=True)
class LinearModel:
    """Class scores = features (tf-idf, each block of unit length) x weights + bias."""

    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray     # (classes,)

    def vector(self, counts: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns and values of the known features of one text."""
        known = [(col, n) for f, n in counts.items() if (col := self.vocabulary.get(f)) is not None]
        cols = np.fromiter((c for c, _ in known), dtype=np.int64, count=len(known))
        tf = np.fromiter((n for _, n in known), dtype=np.float64, count=len(known))
        return self.weigh(cols, tf)

    def weigh(self, cols: np.ndarray, tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values of distinct columns seen `tf` times each: tf-idf, each block of unit length."""
        if not len(cols):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        vals = (1.0 + np.log(tf)) * self.idf[cols]
        chars = self._is_char[cols]
        for block in (chars, ~chars):
            norm = float(np.sqrt((vals[block] ** 2).sum()))
            if norm:
                vals[block] /= norm
        return cols, vals

    def probabilities(self, counts: Counter[str]) -> np.ndarray:
        """Softmax of the class scores for one text's feature counts."""
        return self.probabilities_of([self.vector(counts)])[0]

    def probabilities_of(self, vectors: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """One row of class probabilities per (columns, values) vector."""
        scores = np.tile(self.bias.astype(np.float64), (len(vectors), 1))
        for row, (cols, values) in enumerate(vectors):
            if len(cols):
                scores[row] += values @ self.weights[cols]
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    @cached_property
    def _is_char(self) -> np.ndarray:
        flags = np.zeros(len(self.vocabulary), dtype=bool)
        for feature, col in self.vocabulary.items():
            flags[col] = feature.startswith(CHAR_PREFIX)
        return flags

    def to_bytes(self) -> bytes:
        """One blob for the knowledge index."""
        buffer = io.BytesIO()
        meta = json.dumps({"classes": self.classes, "vocabulary": self.vocabulary})
        np.savez_compressed(buffer, idf=self.idf, weights=self.weights, bias=self.bias,
                            meta=np.frombuffer(meta.encode(), dtype=np.uint8))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearModel:
        """The model written by `to_bytes`."""
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            meta = json.loads(arrays["meta"].tobytes().decode())
            return cls(tuple(meta["classes"]), meta["vocabulary"], arrays["idf"],
                       arrays["weights"], arrays["bias"])
