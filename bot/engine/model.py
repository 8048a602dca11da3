"""A linear model over text features: trained when the index is built, applied with numpy.

Training needs scikit-learn (`bot.engine.train`); answering only needs the arrays kept here, so
starting the bot and answering a message never import scikit-learn.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from dataclasses import dataclass

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
        cols, values, is_char = [], [], []
        for feature, count in counts.items():
            col = self.vocabulary.get(feature)
            if col is not None:
                cols.append(col)
                values.append((1.0 + math.log(count)) * float(self.idf[col]))
                is_char.append(feature.startswith(CHAR_PREFIX))
        vals = np.asarray(values, dtype=np.float64)
        chars = np.asarray(is_char, dtype=bool)
        for block in (chars, ~chars):
            norm = float(np.sqrt((vals[block] ** 2).sum()))
            if norm:
                vals[block] /= norm
        return np.asarray(cols, dtype=np.int64), vals

    def probabilities(self, counts: Counter[str]) -> np.ndarray:
        """Softmax of the class scores for one text's feature counts."""
        cols, values = self.vector(counts)
        scores = self.bias.astype(np.float64).copy()
        if len(cols):
            scores += values @ self.weights[cols]
        scores -= scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()

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
