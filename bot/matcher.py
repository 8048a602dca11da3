"""Match a question to a knowledge entry, or say that none fits.

Questions and phrasings are reduced to stems (see `normalise`), platform names are replaced by one
placeholder token, unknown words are corrected towards the knowledge vocabulary with rapidfuzz, and
synonyms become one concept token, and entries are ranked by TF-IDF cosine against both the entry
as a whole and its closest phrasing, plus character 4-grams for endings the stemmer misses. Scores
are accumulated from the postings of the question's few tokens, so the cost grows with the matches,
not with the size of the knowledge.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.knowledge import Entry, Knowledge
from bot.normalise import stem, words
from bot.platforms import Mention, PlatformFinder

PLATFORM_TOKEN = "<platform>"

# Named thresholds, pinned by tests/test_answers.py; tuned on tests/data/questions.jsonl only.
ANSWER_THRESHOLD = 0.36      # at or above: answer with the best entry
SUGGEST_THRESHOLD = 0.20     # between this and ANSWER_THRESHOLD: "did you mean ..." suggestions
MIN_COVERAGE = 0.30          # share of the question's weight the entry must explain
MIN_EVIDENCE = 1.0           # IDF weight of the question's words found in the closest phrasing
CLEAR_MARGIN = 0.08          # best - second under this: offer the runner-ups as suggestions
TYPO_CUTOFF = 85             # rapidfuzz ratio for correcting an unknown word to a known one
TYPO_MIN_LENGTH = 5
MAX_SUGGESTIONS = 3
NEAR_PHRASING_CUTOFF = 88    # rapidfuzz ratio for a short question typed almost like a phrasing
SHORT_QUESTION_CHARS = 40
CHAR_WEIGHT = 0.2            # share of the score from character 4-grams (endings, compounds)
CHAR_COMMON_SHARE = 20       # 4-grams found in more than 1 phrasing in 20 are not indexed
MIN_NUMBER_DIGITS = 4        # shorter numbers (8 %, 3 weeks) say nothing about the topic; years do
PHRASING_WEIGHT = 0.6        # share of the score given to the closest phrasing (vs whole entry)

STOPWORDS = frozenset(
    "le la les l un une des du de d et ou a au aux en dans sur pour par avec sans chez ce cet "
    "cette ces ca cela je j tu il elle on nous vous ils elles me m te t se s lui leur leurs y "
    "mon ma mes ton ta tes son sa ses notre nos votre vos est sont etre ai as avons avez ont "
    "eu suis es etes fait faire ne n pas plus que qu qui quoi quel quelle quels quelles ce c "
    "si alors donc mais car bien tres tout tous toute toutes aussi deja encore moi toi the a "
    "an and or of to in on for with without by from at is are was were be been being am do "
    "does did have has had i you he she we they it its my your our their me us them this that "
    "these those there what which can could would should will shall just so very any some "
    "about into avoir va vais vas allez peux peut pouvez pouvons dois doit devez faut fallait "
    "veux voudrais vraiment exactement aujourd hui maintenant ici la-bas oui non ok bon "
    "if then than also too really exactly today now here yes no many much more most get got "
    "want would like need make la-dessus comme ceci celui celle ceux dont after before one two "
    "since because while again still even only other others all every each over under up down "
    "out off ever never always same such both few us"
    .split()
)
# Words that carry meaning only when nothing else does ("merci" alone is small talk).
COURTESY = frozenset("bonjour salut merci hello hi thanks thank svp please coucou bonsoir hey".split())


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    score: float
    phrasing: int = -1  # number of the entry's phrasing closest to the question


@dataclass(frozen=True)
class Match:
    """The outcome of matching one question."""

    best: Candidate | None
    others: tuple[Candidate, ...]
    mentions: tuple[Mention, ...]
    coverage: float
    tokens: tuple[str, ...]
    exact: bool = False  # the question is typed exactly like one of the entry's phrasings
    evidence: float = 0.0

    @property
    def confidence(self) -> float:
        return self.best.score if self.best else 0.0


Vector = dict[str, float]


def _content_words(raw: list[str], mentions: list[Mention] | tuple[Mention, ...]) -> list[str]:
    """The words that are neither stopwords nor part of a platform's name."""
    covered = {i for m in mentions for i in range(m.start, m.end)}
    return [w for i, w in enumerate(raw) if i not in covered and w not in STOPWORDS]


def _char_grams(kept: list[str]) -> Counter[str]:
    grams: Counter[str] = Counter()
    for word in set(kept):
        padded = f" {word} "
        grams.update(padded[i : i + 4] for i in range(len(padded) - 3))
    return grams


def _unit(counts: Counter[str], idf: dict[str, float]) -> Vector:
    vec = {t: (1.0 + math.log(c)) * idf.get(t, 0.0) for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


class Matcher:
    """An in-memory index over one version of the knowledge."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self._vocab_words: set[str] = set()
        self._concepts, self._longest = self._concept_table(knowledge)
        phrasing_tokens = self._phrasing_tokens(knowledge)
        self.finder = PlatformFinder(knowledge.platforms, self._vocab_words | STOPWORDS)
        self._build_word_index(phrasing_tokens)
        self._build_char_index(knowledge)
        self._exact = self._exact_table(knowledge)
        self._vocab_list = sorted(w for w in self._vocab_words if len(w) >= TYPO_MIN_LENGTH)
        self._correct = lru_cache(maxsize=16384)(self._correct_uncached)

    def _build_word_index(self, phrasing_tokens: dict[str, list[list[str]]]) -> None:
        """IDF, and postings token -> [(entry, weight)] and token -> [(phrasing, weight)]: a
        question's score is accumulated from the postings of its few tokens."""
        docs = {entry_id: Counter(t for toks in lists for t in toks)
                for entry_id, lists in phrasing_tokens.items()}
        n = max(len(docs), 1)
        df = Counter(t for counts in docs.values() for t in counts)
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.unknown_weight = math.log(1 + n)  # a word no phrasing has weighs like the rarest
        self.entry_vecs = {e: _unit(c, self.idf) for e, c in docs.items()}
        self.entry_postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for entry_id, vec in self.entry_vecs.items():
            for token, weight in vec.items():
                self.entry_postings[token].append((entry_id, weight))
        self.phrasing_entry: list[str] = []
        self.phrasing_words: list[frozenset[str]] = []
        self.phrasing_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for entry_id, lists in phrasing_tokens.items():
            for toks in filter(None, lists):
                number = len(self.phrasing_entry)
                self.phrasing_entry.append(entry_id)
                self.phrasing_words.append(frozenset(toks))
                # each word once: repeating it in one phrasing must not make it weigh more
                for token, weight in _unit(Counter(set(toks)), self.idf).items():
                    self.phrasing_postings[token].append((number, weight))

    def _phrasing_tokens(self, knowledge: Knowledge) -> dict[str, list[list[str]]]:
        finder = PlatformFinder(knowledge.platforms, set())
        out: dict[str, list[list[str]]] = {}
        for entry in knowledge.entries:
            lists = []
            for text in (*entry.phrasings.get("fr", ()), *entry.phrasings.get("en", ()),
                         *entry.title.values()):
                raw = words(text)
                self._vocab_words.update(w for w in raw if w not in STOPWORDS)
                lists.append(self._stems(raw, finder.find(raw)))
            out[entry.id] = lists
        return out

    def _build_char_index(self, knowledge: Knowledge) -> None:
        """Character 4-grams of each phrasing's words: catches endings the stemmer misses."""
        finder = PlatformFinder(knowledge.platforms, set())
        grams_per: list[Counter[str]] = []
        owner: list[str] = []
        for entry in knowledge.entries:
            for text in (*entry.phrasings.get("fr", ()), *entry.phrasings.get("en", ())):
                raw = words(text)
                grams = _char_grams(_content_words(raw, finder.find(raw)))
                if grams:
                    grams_per.append(grams)
                    owner.append(entry.id)
        df = Counter(g for grams in grams_per for g in grams)
        n = max(len(grams_per), 1)
        self.char_idf = {g: math.log(1 + n / c) for g, c in df.items()}
        self.char_owner = owner
        self.char_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        common = math.log(1 + CHAR_COMMON_SHARE)  # grams in over 1/CHAR_COMMON_SHARE phrasings
        for number, grams in enumerate(grams_per):
            for gram, weight in _unit(grams, self.char_idf).items():
                if self.char_idf[gram] > common:  # too common to tell entries apart: skip
                    self.char_postings[gram].append((number, weight))

    def _char_scores(self, content: list[str]) -> dict[str, float]:
        """Per entry, the character-4-gram cosine of its closest phrasing."""
        grams = _char_grams(content)
        query = _unit(grams, {g: self.char_idf.get(g, 0.0) for g in grams})
        per: dict[int, float] = defaultdict(float)
        for gram, q_weight in query.items():
            for number, weight in self.char_postings.get(gram, ()):
                per[number] += q_weight * weight
        best: dict[str, float] = defaultdict(float)
        for number, score in per.items():
            entry_id = self.char_owner[number]
            best[entry_id] = max(best[entry_id], score)
        return best

    @staticmethod
    def _exact_table(knowledge: Knowledge) -> dict[str, str]:
        """Every phrasing, normalised, to its entry: a question typed like one is that entry."""
        table: dict[str, str] = {}
        for entry in knowledge.entries:
            for lang in ("fr", "en"):
                for text in entry.phrasings.get(lang, ()):
                    table.setdefault(" ".join(words(text)), entry.id)
        return table

    def _near_phrasing(self, raw: list[str], content: bool) -> Candidate | None:
        """An entry whose phrasing is exactly the question, or almost when it has no content
        word at all ('what can you do')."""
        text = " ".join(raw)
        entry_id = self._exact.get(text)
        if entry_id is None and not content and len(text) <= SHORT_QUESTION_CHARS:
            found = process.extractOne(text, self._exact.keys(), scorer=fuzz.ratio,
                                       processor=None, score_cutoff=NEAR_PHRASING_CUTOFF)
            entry_id = self._exact[found[0]] if found else None
        entry = self.knowledge.entry(entry_id) if entry_id else None
        return Candidate(entry, 1.0) if entry else None

    def _concept_table(self, knowledge: Knowledge) -> tuple[dict[tuple[str, ...], str], int]:
        """Stem sequences of every synonym, mapped to one token per group."""
        table: dict[tuple[str, ...], str] = {}
        for group in knowledge.synonyms:
            concept = "~" + "_".join(words(group[0]))
            for expression in group:
                raw = [w for w in words(expression) if w not in STOPWORDS]
                self._vocab_words.update(raw)
                if raw:
                    table.setdefault(tuple(stem(w) for w in raw), concept)
        return table, max((len(k) for k in table), default=1)

    def _stems(self, raw: list[str], mentions: list[Mention]) -> list[str]:
        """Stems of the content words, synonyms merged, platform names as one placeholder."""
        stems = [stem(w) for w in _content_words(raw, mentions)]
        out = [PLATFORM_TOKEN] * bool(mentions)
        i = 0
        while i < len(stems):
            for size in range(min(self._longest, len(stems) - i), 0, -1):
                concept = self._concepts.get(tuple(stems[i : i + size]))
                if concept:
                    out.append(concept)
                    i += size
                    break
            else:
                out.append(stems[i])
                i += 1
        return out

    def _correct_uncached(self, word: str) -> str:
        """A known word for an unknown one when a close spelling exists, else the word itself."""
        if word in self._vocab_words or len(word) < TYPO_MIN_LENGTH or word.isdigit():
            return word
        found = process.extractOne(word, self._vocab_list, scorer=fuzz.ratio, processor=None,
                                   score_cutoff=TYPO_CUTOFF)
        return found[0] if found else word

    def analyse(self, text: str) -> tuple[list[str], list[Mention], list[str]]:
        """Folded words, platform mentions and the stems used for matching."""
        raw = [w for w in words(text) if not w.isdigit() or len(w) >= MIN_NUMBER_DIGITS]
        mentions = self.finder.find(raw)
        corrected = [w if w in STOPWORDS else self._correct(w) for w in raw]
        tokens = self._stems(corrected, mentions)
        if any(t not in COURTESY_STEMS for t in tokens):
            tokens = [t for t in tokens if t not in COURTESY_STEMS]
        return raw, mentions, tokens

    def match(self, text: str, shortcut: bool = True) -> Match:
        """Rank the entries for a question; `best` is None when nothing shares a word with it.

        With `shortcut`, a question typed exactly like a phrasing gets that phrasing's entry;
        without it, the ranking alone decides (the linter uses that to test phrasings).
        """
        raw, mentions, tokens = self.analyse(text)
        exact = self._near_phrasing(raw, bool(tokens) or bool(mentions)) if shortcut else None
        if exact:
            return Match(exact, (), tuple(mentions), 1.0, tuple(tokens), exact=True)
        if not tokens:
            return Match(None, (), tuple(mentions), 0.0, ())
        tokens = list(dict.fromkeys(tokens))  # repeating a word does not make it matter more
        query = _unit(Counter(tokens), self._query_idf(tokens))
        chars = self._char_scores(_content_words(raw, mentions)) if CHAR_WEIGHT else {}
        ranked = self._rank(query, chars)
        if not ranked:
            return Match(None, (), tuple(mentions), 0.0, tuple(tokens))
        coverage = self._coverage(tokens, ranked[0].entry.id)
        return Match(ranked[0], tuple(ranked[1:MAX_SUGGESTIONS + 1]), tuple(mentions), coverage,
                     tuple(tokens), evidence=self._evidence(tokens, ranked[0].phrasing))

    def _query_idf(self, tokens: list[str]) -> dict[str, float]:
        return {t: self.idf.get(t, self.unknown_weight) for t in tokens}

    def _rank(self, query: Vector, chars: dict[str, float]) -> list[Candidate]:
        """Entries sharing a token with the query, best first (sparse dot products)."""
        whole: dict[str, float] = defaultdict(float)
        closest: dict[str, float] = defaultdict(float)
        per_phrasing: dict[int, float] = defaultdict(float)
        for token, q_weight in query.items():
            for entry_id, weight in self.entry_postings.get(token, ()):
                whole[entry_id] += q_weight * weight
            for number, weight in self.phrasing_postings.get(token, ()):
                per_phrasing[number] += q_weight * weight
        nearest: dict[str, int] = {}
        for number, score in per_phrasing.items():
            entry_id = self.phrasing_entry[number]
            if score > closest[entry_id]:
                closest[entry_id], nearest[entry_id] = score, number
        scored = []
        for entry_id, score in whole.items():
            entry = self.knowledge.entry(entry_id)
            if entry is not None:
                total = PHRASING_WEIGHT * closest[entry_id] + (1 - PHRASING_WEIGHT) * score
                total = (1 - CHAR_WEIGHT) * total + CHAR_WEIGHT * chars.get(entry_id, 0.0)
                scored.append(Candidate(entry, total, nearest.get(entry_id, -1)))
        return sorted(scored, key=lambda c: c.score, reverse=True)

    def _evidence(self, tokens: list[str], phrasing: int) -> float:
        """Weight of the question's words found in the closest phrasing (platform names aside):
        one specific word, or several common ones, before the bot dares an answer."""
        if phrasing < 0:
            return 0.0
        shared = self.phrasing_words[phrasing]
        return sum(self.idf.get(t, 0.0) for t in tokens if t in shared and t != PLATFORM_TOKEN)

    def _coverage(self, tokens: list[str], entry_id: str) -> float:
        """Share of the question's weight made of words the entry knows."""
        vec = self.entry_vecs[entry_id]
        weights = self._query_idf(tokens)
        total = sum(weights[t] for t in tokens) or 1.0
        return sum(weights[t] for t in tokens if t in vec) / total


COURTESY_STEMS = frozenset(stem(w) for w in COURTESY)
