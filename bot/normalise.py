"""Text normalisation shared by the knowledge index and incoming questions.

Both sides go through the same steps, so a phrasing and a question typed differently (accents, case,
elisions, English contractions, markup) end up as the same words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ELISION = re.compile(r"\b(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu)['’`´]", re.IGNORECASE)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_EN_NOT = re.compile(r"\b(ca|wo|do|does|did|is|are|was|were|have|has|had|could|should|would)n['’]t\b")
_EN_SUFFIX = re.compile(r"['’](s|re|ve|ll|m|d)\b")
_EN_IRREGULAR = {"ca": "can", "wo": "will"}
# the combining marks NFKD splits off Latin letters (one regex pass: a per-character Python loop
# took a millisecond on a 4,000-character message); other scripts' marks go with _NON_WORD anyway
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_MARKUP = re.compile(r"<\s*/?\s*[a-z][^<>]{0,80}>|<!?[a-z]+>|&[a-z]+;", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case, strip accents and drop elisions (l', d', qu'...), keeping word order."""
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower()))
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = _EN_NOT.sub(lambda m: f"{_EN_IRREGULAR.get(m[1], m[1])} not", text)
    return _EN_SUFFIX.sub("", _ELISION.sub(" ", text))


def words(text: str) -> list[str]:
    """The folded words of `text`; punctuation and emoji dropped (SMS spellings are the
    engine's business: they are a word list in the knowledge)."""
    return list(_words(text))


@lru_cache(maxsize=4096)  # the same question is read by the language guess and the matcher
def _words(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in _NON_WORD.split(fold(_MARKUP.sub(" ", text))):
        if not raw:
            continue
        out.append(raw)
    return tuple(out)


fold_words = words


def normalise(text: str) -> str:
    """One normalised string, used for display-free comparisons (aliases, duplicates)."""
    return " ".join(words(text))
