"""Guess whether a question is French or English (French when in doubt)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.model import Lang

_ACCENTED = set("éèêëàâîïôûùüçœ")


def detect_language(text: str, folded_words: list[str], default: Lang,
                    markers: Mapping[Lang, frozenset[str]],
                    vocabulary: Mapping[str, Lang] | None = None) -> Lang:
    """French or English from the marker words of `words.yaml` (those both languages share
    count for neither), accents and, as a tie-breaker, words the knowledge uses in one language
    only (`vocabulary`); `default` when nothing decides."""
    french, english = markers.get("fr", frozenset()), markers.get("en", frozenset())
    fr = sum(1 for w in folded_words if w in french and w not in english)
    en = sum(1 for w in folded_words if w in english and w not in french)
    if fr == en and vocabulary:
        votes = [vocabulary[w] for w in folded_words if w in vocabulary]
        fr, en = votes.count("fr"), votes.count("en")
    if any(ch in _ACCENTED for ch in text.lower()):
        fr += 2
    if fr == en:
        return default
    return "fr" if fr > en else "en"
