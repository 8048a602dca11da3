"""Match a question to a knowledge entry, or say that none fits.

Questions and phrasings are reduced to stems (see `normalise`), platform names are replaced by one
placeholder token, unknown words are corrected towards the knowledge vocabulary with rapidfuzz, and
synonyms become one concept token, and entries are ranked by TF-IDF cosine against both the entry
as a whole and its closest phrasing; the best few are then re-ranked with rapidfuzz's character
similarity, for endings the stemmer misses. Scores are accumulated from bounded postings of the
question's few tokens, so the cost does not grow with the size of the knowledge.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from bot.knowledge import Entry, Knowledge
from bot.model import LANGS, Lang
from bot.normalise import stem, words
from bot.platforms import Mention, PlatformFinder

PLATFORM_TOKEN = "<platform>"

# Named thresholds, pinned by tests/test_answers.py; tuned on tests/data/questions.jsonl only.
ANSWER_THRESHOLD = 0.42      # at or above: answer with the best entry
SUGGEST_THRESHOLD = 0.20     # between this and ANSWER_THRESHOLD: "did you mean ..." suggestions
MIN_COVERAGE = 0.30          # share of the question's weight the entry must explain
MIN_EVIDENCE = 1.0           # IDF weight of the question's words found in the closest phrasing
MIN_SPECIFIC = 1.2           # and one of them at least this rare ("charte" 1.3, "plateforme" 0.85)
CLEAR_MARGIN = 0.08          # best - second under this: offer the runner-ups as suggestions
TYPO_CUTOFF = 85             # rapidfuzz ratio for correcting an unknown word to a known one
TYPO_MIN_LENGTH = 5
MAX_SUGGESTIONS = 3
NEAR_PHRASING_CUTOFF = 88    # rapidfuzz ratio for a short question typed almost like a phrasing
SHORT_QUESTION_CHARS = 40
CHAR_WEIGHT = 0.25           # share of the score from character similarity (endings, compounds)
CHAR_SCORER = fuzz.ratio     # rapidfuzz scorer for that similarity
RERANK_CANDIDATES = 8        # best entries kept, whose phrasings get the character comparison
MAX_POSTINGS = 800          # postings kept per word, heaviest first (bounds cost at any size)
MIN_NUMBER_DIGITS = 4        # shorter numbers (8 %, 3 weeks) say nothing about the topic; years do
LONG_QUESTION_WORDS = 6      # a question with more distinct words than this is a story...
LONG_UNKNOWN_SHARE = 0.7     # ...whose unknown words weigh this share of the rarest known word,
LONG_ANSWER_THRESHOLD = 0.34  # ...and whose scores run lower (more words to dilute the cosine)
PHRASING_WEIGHT = 0.6        # share of the score given to the closest phrasing (vs whole entry)

STOPWORDS = frozenset(
    "le la les l un une des du de d et ou a au aux en dans sur pour par avec sans chez ce cet "
    "cette ces ca cela je j tu il elle on nous vous ils elles me m te t se s lui leur leurs y "
    "mon ma mes ton ta tes son sa ses notre nos votre vos est sont etre ai as avons avez ont "
    "eu suis es etes fait faire ne n pas plus que qu qui quel quelle quels quelles ce c "
    "si alors donc mais car bien tres tout tous toute toutes aussi deja encore moi toi the a "
    "an and or of to in on for with without by from at is are was were be been being am do "
    "does did have has had i you he she we they it its my your our their me us them this that "
    "these those there which can could would should will shall just so very any some "
    "about into avoir va vais vas allez peux peut pouvez pouvons dois doit devez faut fallait "
    "veux voudrais vraiment exactement aujourd hui maintenant ici la-bas oui non ok bon "
    "if then than also too really exactly today now here yes no many much more most get got "
    "want would like need make la-dessus comme ceci celui celle ceux dont after before one two "
    "since because while again still even only other others all every each over under up down "
    "out off ever never always same such both few us"
    .split()
)
# Words that carry meaning only when nothing else does ("merci" alone is small talk).
COURTESY = frozenset(
    "bonjour salut merci hello hi thanks thank svp please coucou bonsoir hey madame monsieur "
    "messieurs dames cordialement remercie remerciant remerciements reconnaissant souhaiterais "
    "desirerais aimerais pourriez sauriez permets regards dear sir kindly wondering"
    .split()
)


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
    evidence: float = 0.0   # IDF weight of the question's words found in the closest phrasing
    specific: float = 0.0   # the highest of those: "quoi" + "marketplace" alone prove nothing

    @property
    def confidence(self) -> float:
        return self.best.score if self.best else 0.0

    @property
    def threshold(self) -> float:
        """The score this question needs for an answer: a long story needs less."""
        return LONG_ANSWER_THRESHOLD if len(set(self.tokens)) > LONG_QUESTION_WORDS \
            else ANSWER_THRESHOLD


Vector = dict[str, float]


def _outside(raw: list[str], mentions: list[Mention] | tuple[Mention, ...]) -> list[str]:
    """The words that are not part of a platform's name."""
    covered = {i for m in mentions for i in range(m.start, m.end)}
    return [w for i, w in enumerate(raw) if i not in covered]


def _content_words(raw: list[str], mentions: list[Mention] | tuple[Mention, ...]) -> list[str]:
    """The words that are neither stopwords nor part of a platform's name."""
    return [w for w in _outside(raw, mentions) if w not in STOPWORDS]


def _heaviest(postings: dict[str, list[tuple[Any, float]]], keep: int) -> dict[str, list[Any]]:
    """Each posting list sorted by weight, heaviest first, cut to `keep` postings."""
    return {token: sorted(items, key=lambda p: p[1], reverse=True)[:keep]
            for token, items in postings.items()}


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
        self._exact: dict[str, str] = {}
        self._contentless: dict[str, str] = {}  # phrasings made only of small words
        self.phrasing_text: dict[str, list[str]] = defaultdict(list)  # content words, per entry
        self.language_of: dict[str, Lang] = {}  # words the phrasings use in one language only
        phrasing_tokens = self._read_phrasings(knowledge)
        self.finder = PlatformFinder(knowledge.platforms, self._vocab_words | STOPWORDS)
        self._build_word_index(phrasing_tokens)
        self._vocab_list = sorted(w for w in self._vocab_words if len(w) >= TYPO_MIN_LENGTH)
        self._correct = lru_cache(maxsize=16384)(self._correct_uncached)

    def _read_phrasings(self, knowledge: Knowledge) -> dict[str, list[list[str]]]:
        """One pass over every phrasing: exact-match table, vocabulary, text for the fuzzy
        re-ranking, and the stems each phrasing is indexed under."""
        finder = PlatformFinder(knowledge.platforms, set())
        out: dict[str, list[list[str]]] = {}
        seen_in: dict[str, set[Lang]] = defaultdict(set)
        for entry in knowledge.entries:
            for lang in LANGS:
                for text in entry.phrasings.get(lang, ()):
                    for word in words(text):
                        seen_in[word].add(lang)
            lists = []
            phrasings = (*entry.phrasings.get("fr", ()), *entry.phrasings.get("en", ()))
            for number, text in enumerate((*phrasings, *entry.title.values())):
                raw = words(text)
                mentions = finder.find(raw, fuzzy=False)
                content = _content_words(raw, mentions)
                self._vocab_words.update(content)
                if number < len(phrasings):
                    self._exact.setdefault(" ".join(raw), entry.id)
                    if not content and not mentions:
                        self._contentless.setdefault(" ".join(raw), entry.id)
                    self.phrasing_text[entry.id].append(" ".join(content))
                lists.append(self._stems(raw, mentions))
            out[entry.id] = lists
        self.language_of = {w: next(iter(langs)) for w, langs in seen_in.items()
                            if len(langs) == 1}
        return out

    def _build_word_index(self, phrasing_tokens: dict[str, list[list[str]]]) -> None:
        """IDF, and postings token -> [(entry, weight)] and token -> [(phrasing, weight)]: a
        question's score is accumulated from the postings of its few tokens. Each list keeps
        only its heaviest postings, so a word shared by thousands of entries costs no more to
        look up than a rare one (the entries it leaves out still count through rarer words)."""
        docs = {entry_id: Counter(t for toks in lists for t in toks)
                for entry_id, lists in phrasing_tokens.items()}
        n = max(len(docs), 1)
        df = Counter(t for counts in docs.values() for t in counts)
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.unknown_weight = math.log(1 + n)  # a word no phrasing has weighs like the rarest
        self.entry_vecs = {e: _unit(c, self.idf) for e, c in docs.items()}
        entry_postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for entry_id, vec in self.entry_vecs.items():
            for token, weight in vec.items():
                entry_postings[token].append((entry_id, weight))
        self.phrasing_entry: list[str] = []
        self.phrasing_words: list[frozenset[str]] = []
        phrasing_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for entry_id, lists in phrasing_tokens.items():
            for toks in filter(None, lists):
                number = len(self.phrasing_entry)
                self.phrasing_entry.append(entry_id)
                self.phrasing_words.append(frozenset(toks))
                # each word once: repeating it in one phrasing must not make it weigh more
                for token, weight in _unit(Counter(set(toks)), self.idf).items():
                    phrasing_postings[token].append((number, weight))
        self.entry_postings = _heaviest(entry_postings, MAX_POSTINGS)
        self.phrasing_postings = _heaviest(phrasing_postings, MAX_POSTINGS)

    def _near_phrasing(self, raw: list[str], content: bool) -> Candidate | None:
        """An entry whose phrasing is exactly the question, or almost when it has no content
        word at all ('what can you do')."""
        text = " ".join(raw)
        entry_id = self._exact.get(text)
        if entry_id is None and not content and len(text) <= SHORT_QUESTION_CHARS:
            found = process.extractOne(text, self._contentless.keys(), scorer=fuzz.ratio,
                                       processor=None, score_cutoff=NEAR_PHRASING_CUTOFF)
            entry_id = self._contentless[found[0]] if found else None
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

    def without_platforms(self, raw: list[str]) -> list[str]:
        """The words that are not part of a platform's name ("la redoute" is not French)."""
        return _outside(raw, self.finder.find(raw))

    def analyse(self, text: str, courtesy: bool = False) -> tuple[list[str], list[Mention], list[str]]:
        """Folded words, platform mentions and the stems used for matching; courtesy words
        ("merci", "bonjour") are left out unless they are all there is, or `courtesy` is set."""
        raw = [w for w in words(text) if not w.isdigit() or len(w) >= MIN_NUMBER_DIGITS]
        mentions = self.finder.find(raw)
        corrected = [w if w in STOPWORDS else self._correct(w) for w in raw]
        tokens = self._stems(corrected, mentions)
        if not courtesy and any(t not in COURTESY_STEMS for t in tokens):
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
        found = self._ranked(raw, mentions, tokens)
        polite = self.analyse(text, courtesy=True)[2]
        if polite != tokens:  # "merci pour la réponse" may be small talk after all: the better wins
            with_courtesy = self._ranked(raw, mentions, polite)
            if with_courtesy.confidence > found.confidence:
                return with_courtesy
        return found

    def _ranked(self, raw: list[str], mentions: list[Mention], tokens: list[str]) -> Match:
        if not tokens:
            return Match(None, (), tuple(mentions), 0.0, ())
        tokens = list(dict.fromkeys(tokens))  # repeating a word does not make it matter more
        query = _unit(Counter(tokens), self._query_idf(tokens))
        ranked = self._rerank(self._rank(query), " ".join(_content_words(raw, mentions)))
        if not ranked:
            return Match(None, (), tuple(mentions), 0.0, tuple(tokens))
        coverage = self._coverage(tokens, ranked[0].entry.id)
        shared = self._shared_weights(tokens, ranked[0].phrasing)
        return Match(ranked[0], tuple(ranked[1:MAX_SUGGESTIONS + 1]), tuple(mentions), coverage,
                     tuple(tokens), evidence=sum(shared), specific=max(shared, default=0.0))

    def _query_idf(self, tokens: list[str]) -> dict[str, float]:
        """IDF of each word; a word no phrasing has weighs like the rarest, less in a long story
        (where the seller's own context — products, trade, dates — is expected)."""
        unknown = self.unknown_weight
        if len(tokens) > LONG_QUESTION_WORDS:
            unknown *= LONG_UNKNOWN_SHARE
        return {t: self.idf.get(t, unknown) for t in tokens}

    def _rank(self, query: Vector) -> list[Candidate]:
        """The best few entries sharing a token with the query, best first (sparse dots)."""
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
        totals = {entry_id: PHRASING_WEIGHT * closest[entry_id] + (1 - PHRASING_WEIGHT) * score
                  for entry_id, score in whole.items()}
        best = heapq.nlargest(RERANK_CANDIDATES, totals.items(), key=lambda item: item[1])
        return [Candidate(entry, total, nearest.get(entry_id, -1)) for entry_id, total in best
                if (entry := self.knowledge.entry(entry_id)) is not None]

    def _rerank(self, ranked: list[Candidate], text: str) -> list[Candidate]:
        """Blend in rapidfuzz's character similarity to each of the best few entries' closest
        phrasing: it catches endings and compounds the stemmer misses, at a cost that does not
        grow with the knowledge."""
        if not CHAR_WEIGHT or not text:
            return ranked
        head = []
        for candidate in ranked:
            found = process.extractOne(text, self.phrasing_text[candidate.entry.id],
                                       scorer=CHAR_SCORER, processor=None)
            similarity = found[1] / 100 if found else 0.0
            score = (1 - CHAR_WEIGHT) * candidate.score + CHAR_WEIGHT * similarity
            head.append(Candidate(candidate.entry, score, candidate.phrasing))
        return sorted(head, key=lambda c: c.score, reverse=True)

    def _shared_weights(self, tokens: list[str], phrasing: int) -> list[float]:
        """IDF of the question's words found in the closest phrasing (platform names aside)."""
        shared = self.phrasing_words[phrasing] if phrasing >= 0 else frozenset()
        return [self.idf.get(t, 0.0) for t in tokens if t in shared and t != PLATFORM_TOKEN]

    def _coverage(self, tokens: list[str], entry_id: str) -> float:
        """Share of the question's weight made of words the entry knows."""
        vec = self.entry_vecs[entry_id]
        weights = self._query_idf(tokens)
        total = sum(weights[t] for t in tokens) or 1.0
        return sum(weights[t] for t in tokens if t in vec) / total


COURTESY_STEMS = frozenset(stem(w) for w in COURTESY)
