"""Find the marketplaces a question names, even misspelt or split ("le bon coin", "amazone")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.engine.decide import PLATFORM_FUZZY_CUTOFF, PLATFORM_FUZZY_MIN_LENGTH
from bot.knowledge import Platform
from bot.normalise import words

MAX_ALIAS_WORDS = 3


@dataclass(frozen=True)
class Mention:
    """A platform named in a question, and the word positions [start, end) that named it."""

    platform: Platform
    start: int
    end: int


class PlatformFinder:
    """Looks up aliases by exact n-gram, then by fuzzy match for words that are no known word."""

    def __init__(self, platforms: tuple[Platform, ...], common_words: set[str]) -> None:
        self._by_key: dict[str, Platform] = {}
        for platform in platforms:
            for alias in (platform.name, *platform.aliases):
                tokens = words(alias)
                if tokens:
                    self._by_key.setdefault(" ".join(tokens), platform)
                    self._by_key.setdefault("".join(tokens), platform)
        self._fuzzy_keys = [k for k in self._by_key if len(k) >= PLATFORM_FUZZY_MIN_LENGTH]
        self._common = common_words
        # a word can only start a name if it begins one of the names written without spaces
        glued = {k.replace(" ", "") for k in self._by_key}
        self._prefixes = {k[:n] for k in glued for n in range(1, len(k) + 1)}
        self._closest = lru_cache(maxsize=65536)(self._closest_uncached)
        self._fuzzy_from = lru_cache(maxsize=65536)(self._fuzzy_from_uncached)

    def find(self, tokens: list[str], fuzzy: bool = True) -> list[Mention]:
        """Mentions in order of appearance, longest alias first, without overlaps; `fuzzy`
        also accepts misspelt names (questions), not needed for the knowledge's own text."""
        prefixes, common = self._prefixes, self._common
        # most words of a long message are common words that start no name: skip them at once
        candidates = [i for i, t in enumerate(tokens) if t in prefixes or fuzzy and t not in common]
        mentions: list[Mention] = []
        covered_to = 0
        for i in candidates:
            if i < covered_to:
                continue
            mention = self._exact_at(tokens, i) or (self._fuzzy_at(tokens, i) if fuzzy else None)
            if mention:
                mentions.append(mention)
                covered_to = mention.end
        return mentions

    def _exact_at(self, tokens: list[str], i: int) -> Mention | None:
        """The longest name written from word i on, with or without its spaces."""
        found, glued = None, ""
        for end in range(i, min(i + MAX_ALIAS_WORDS, len(tokens))):
            glued += tokens[end]
            if glued not in self._prefixes:
                break
            platform = self._by_key.get(glued)
            if platform:
                found = Mention(platform, i, end + 1)
        return found

    def _fuzzy_at(self, tokens: list[str], i: int) -> Mention | None:
        """A misspelt name of two words or one from word i on."""
        found = self._fuzzy_from(tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None)
        return Mention(found[0], i, i + found[1]) if found else None

    def _fuzzy_from_uncached(self, first: str, second: str | None) -> tuple[Platform, int] | None:
        """The platform two words (or the first alone) misspell, and how many words it takes."""
        spans = [(first,)] if second is None else [(first, second), (first,)]
        for span in spans:
            if any(t in self._common for t in span):
                continue
            key = "".join(span)
            if len(key) < PLATFORM_FUZZY_MIN_LENGTH:
                continue
            platform = self._closest(key)
            if platform:
                return platform, len(span)
        return None

    def _closest_uncached(self, key: str) -> Platform | None:
        """The platform whose name is spelt closest to `key`, if close enough."""
        found = process.extractOne(key, self._fuzzy_keys, scorer=fuzz.ratio,
                                   processor=None, score_cutoff=PLATFORM_FUZZY_CUTOFF)
        return self._by_key[found[0]] if found else None
