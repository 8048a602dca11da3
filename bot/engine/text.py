"""From a message to the terms and features the model reads.

Folding comes from `bot.normalise`; the word lists (stop words, courtesy words, SMS spellings)
and the synonym groups come from the knowledge; stems from the Snowball stemmers (English, then
French, so that a message mixing both languages, as pasted platform emails do, is stemmed the
same way as the phrasings whatever its language).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

import snowballstemmer

from bot.engine.decide import CHAR_GRAMS, COURTESY_KEPT_UP_TO, MIN_NUMBER_DIGITS, PLATFORM_TERM, SENTENCE_END
from bot.engine.platforms import Mention, PlatformFinder
from bot.knowledge import Knowledge, WordLists
from bot.normalise import words

_EN = snowballstemmer.stemmer("english")
_FR = snowballstemmer.stemmer("french")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The word's stem, language-neutral (English then French Snowball)."""
    return str(_FR.stemWord(_EN.stemWord(word)))


@lru_cache(maxsize=65536)
def char_grams(term: str) -> tuple[str, ...]:
    """The character n-gram features of one term, with word boundaries."""
    padded = f" {term} "
    return tuple("c:" + padded[i:i + n] for n in CHAR_GRAMS for i in range(len(padded) - n + 1))


@dataclass(frozen=True)
class Reading:
    """What the engine reads in one text."""

    words: tuple[str, ...]        # folded words, SMS spellings replaced
    mentions: tuple[Mention, ...]  # platforms named
    terms: tuple[str, ...]        # stems of the content words, platforms as one placeholder
    courtesy_only: bool = False   # nothing but courtesy words ("merci !")
    sentences: tuple[Reading, ...] = ()  # its first sentences read on their own, when asked


class Analyser:
    """Reads texts the same way for the phrasings (at build time) and the messages."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.lists: WordLists = knowledge.words
        self._spellings = {w: tuple(r.split()) for w, r in self.lists.spellings.items()}
        self._courtesy_stems = frozenset(stem(w) for w in self.lists.courtesy)
        self._concepts, self._longest = _concept_table(knowledge, self.lists)
        self._concept_starts = frozenset(key[0] for key in self._concepts)
        # every phrasing's words, spelt once here for the finder and the engine's tables
        self.phrasing_words: dict[str, tuple[str, ...]] = {
            t: tuple(self.spelled(t)) for e in knowledge.entries for texts in e.phrasings.values()
            for t in texts}
        vocabulary = {w for spelt in self.phrasing_words.values() for w in spelt}
        self.finder = PlatformFinder(knowledge.platforms, vocabulary | set(self.lists.stopwords))

    def spelled(self, text: str) -> list[str]:
        """Folded words with SMS spellings replaced by the words they stand for."""
        found = words(text)
        spellings = self._spellings
        if spellings.keys().isdisjoint(found):  # most messages: nothing to replace
            return found
        out: list[str] = []
        for word in found:
            replaced = spellings.get(word)
            if replaced is None:
                out.append(word)
            else:
                out.extend(replaced)
        return out

    def without_platforms(self, text: str) -> list[str]:
        """The words that are not part of a platform's name ("la redoute" is not French)."""
        raw = self.spelled(text)
        covered = {i for m in self.finder.find(raw) for i in range(m.start, m.end)}
        return [w for i, w in enumerate(raw) if i not in covered]

    def read(self, text: str, fuzzy: bool = True, sentences: int = 0) -> Reading:
        """Words, platform mentions and content terms of a text; with `sentences`, also those
        of its first sentences (up to that many), from the same pass over the words."""
        # the sentences wanted on their own (room for empty ones), then the rest as one piece
        chunks = SENTENCE_END.split(text, maxsplit=2 * sentences) if sentences else [text]
        pieces = [self.spelled(chunk) for chunk in chunks]
        raw = [w for piece in pieces for w in piece]
        mentions = self.finder.find(raw, fuzzy=fuzzy)
        covered = {i for m in mentions for i in range(m.start, m.end)}
        stopwords = self.lists.stopwords
        content = [(i, stem(w)) for i, w in enumerate(raw) if i not in covered
                   and w not in stopwords and (not w.isdigit() or len(w) >= MIN_NUMBER_DIGITS)]
        whole = self._reading(raw, mentions, [t for _, t in content])
        if not sentences:
            return whole
        parts: list[Reading] = []
        positions = [i for i, _ in content]
        start = 0
        for piece in pieces[:2 * sentences]:  # the piece after them is the rest of the text
            end = start + len(piece)
            if piece and len(parts) < sentences:
                first, last = bisect_left(positions, start), bisect_left(positions, end)
                parts.append(self._reading(
                    piece, [Mention(m.platform, m.start - start, m.end - start)
                            for m in mentions if start <= m.start < end],
                    [t for _, t in content[first:last]]))
            start = end
        return replace(whole, sentences=tuple(parts))

    def _reading(self, raw: list[str], mentions: list[Mention], content: list[str]) -> Reading:
        """The reading of words whose platform mentions and content stems are known."""
        topical = [t for t in content if t not in self._courtesy_stems]
        kept = content if len(topical) <= COURTESY_KEPT_UP_TO else topical
        terms = ([PLATFORM_TERM] if mentions else []) + kept
        return Reading(tuple(raw), tuple(mentions), tuple(terms),
                       courtesy_only=bool(content) and not topical)

    def features(self, reading: Reading) -> Counter[str]:
        """Counts of word, word-pair, synonym-concept and character n-gram features."""
        terms = reading.terms
        out: Counter[str] = Counter("w:" + t for t in terms)
        out.update("b:" + a + "_" + b for a, b in zip(terms, terms[1:], strict=False))
        out.update("w:" + c for c in self.concepts_in(terms))
        for term in terms:
            if term != PLATFORM_TERM:
                out.update(char_grams(term))
        return out

    def concepts_in(self, terms: tuple[str, ...]) -> list[str]:
        """The synonym groups the terms use (longest expression first)."""
        found: list[str] = []
        starts, concepts = self._concept_starts, self._concepts
        i = 0
        while i < len(terms):
            if terms[i] not in starts:  # most terms begin no synonym expression
                i += 1
                continue
            for size in range(min(self._longest, len(terms) - i), 0, -1):
                concept = concepts.get(terms[i:i + size])
                if concept:
                    found.append(concept)
                    i += size
                    break
            else:
                i += 1
        return found


def _concept_table(knowledge: Knowledge,
                   lists: WordLists) -> tuple[dict[tuple[str, ...], str], int]:
    """Stem sequences of every synonym expression, mapped to one concept name per group."""
    table: dict[tuple[str, ...], str] = {}
    for group in knowledge.synonyms:
        concept = "~" + "_".join(words(group[0]))
        for expression in group:
            key = tuple(stem(w) for w in words(expression) if w not in lists.stopwords)
            if key:
                table.setdefault(key, concept)
    return table, max((len(k) for k in table), default=1)
