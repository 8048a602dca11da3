"""The decision: which entry answers a text, which to offer, or none. Pure: no files, clock or
database; every threshold of the engine is here.

The knobs were chosen by `scripts/tune.py` (cross-validation on the knowledge's own phrasings and
on the real development messages, never on a held-out split); BENCHMARKS.md gives the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.knowledge import Caveat, Entry, Knowledge, Platform
from bot.normalise import words

PLATFORM_TERM = "<platform>"  # what a platform's name reads as

if TYPE_CHECKING:
    from bot.engine.engine import Engine
    from bot.engine.text import Reading

# -- the knobs -------------------------------------------------------------------------------
REGULARISATION = 10.0     # C of the logistic regression: higher fits the phrasings more closely
CONTEXT_COPIES = 1        # copies of each phrasing learnt inside two context sentences (words.yaml)
CONTEXT_TOPICS = ("problems", "escalation", "law", "outside")  # the entries sellers tell as stories
ANSWER_PROBABILITY = 0.40  # the best entry's probability needed to answer with it
CLEAR_PROBABILITY = 0.25   # ...or this, when it is CLEAR_LEAD times as likely as the runner-up
CLEAR_LEAD = 4.0
CLARIFY_PROBABILITY = 0.30  # the best three together: ask which one the seller means
OUTSIDE_SHARE = 0.7       # refuse when what the bot does not cover is this likely, relative to the best
SECOND_SHARE = 0.5        # a runner-up this close to the best is offered as a button
WEAK_CONFIDENCE = 0.4     # answers below this are kept (text included) for staff to review
# -- reading ---------------------------------------------------------------------------------
PLATFORM_FUZZY_CUTOFF = 86  # rapidfuzz ratio (0-100) a misspelt name needs to a known alias
PLATFORM_FUZZY_MIN_LENGTH = 5  # shorter words match names exactly only ("mano" is not "mango")
MIN_NUMBER_DIGITS = 4     # "8 %", "3 weeks" say nothing about the topic; years do
CHAR_GRAMS = (3, 4, 5)    # character n-grams of each term: typos and endings the stemmer misses
MIN_CHAR_DF = 2           # a character n-gram of one phrasing only is noise, not a typo to catch
COURTESY_KEPT_UP_TO = 2   # courtesy words count in a message of this many other words at most
                          # ("merci pour votre aide" is thanks), and are ignored around a longer one
# -- limits ----------------------------------------------------------------------------------
MAX_CHARS = 4000          # a longer message is read from its beginning
MAX_OPTIONS = 3           # buttons offered with a clarifying question or an answer
MAX_SENTENCES = 8         # sentences of a long message read one by one for a second problem

Verdict = Literal["answer", "clarify", "fallback", "empty"]
_YEAR = re.compile(r"\b(20[0-9]{2})\b")
SENTENCE_END = re.compile(r"[.!?;\n]+\s*")  # where a sentence ends


@dataclass(frozen=True)
class Decision:
    """What the engine decided for one text."""

    verdict: Verdict
    entry: Entry | None = None
    options: tuple[Entry, ...] = ()        # other problems, or the topics of a clarifying question
    confidence: float = 0.0
    platforms: tuple[Platform, ...] = ()
    caveats: tuple[Caveat, ...] = ()
    outside: Entry | None = None           # the out-of-scope theme recognised, if any
    truncated: bool = False


def decide(engine: Engine, text: str, exact: bool = True) -> Decision:
    """The decision for one message (`exact`: a phrasing typed as is gets its entry)."""
    knowledge = engine.knowledge
    truncated = len(text) > MAX_CHARS
    text = text[:MAX_CHARS]
    reading = engine.analyser.read(text, sentences=MAX_SENTENCES)
    platforms = tuple({m.platform.name: m.platform for m in reading.mentions}.values())
    typed = engine.exact.get(" ".join(reading.words)) if exact else None
    if typed is not None:  # "qui es-tu" is all small words, yet a phrasing
        return _answer(knowledge, typed, (), 1.0, platforms, text, truncated, fit=False)
    if not reading.terms:
        return Decision("empty", platforms=platforms, truncated=truncated)
    if platforms and set(reading.terms) <= {PLATFORM_TERM}:  # just a name: "manomano ?"
        status = knowledge.role("platform-status")
        if status:
            return Decision("answer", status, (), 1.0, platforms, truncated=truncated)
    if not engine.knows_a_word(reading):  # no word in common with the knowledge: don't guess
        return Decision("fallback", platforms=platforms, truncated=truncated)
    ranked, outside, p_outside = engine.rank(reading)
    best, p_best = ranked[0]
    if p_outside > OUTSIDE_SHARE * p_best:
        return Decision("fallback", confidence=p_best, platforms=platforms, outside=outside,
                        truncated=truncated)
    p_second = ranked[1][1] if len(ranked) > 1 else 0.0
    if p_best >= ANSWER_PROBABILITY or (p_best >= CLEAR_PROBABILITY
                                        and p_best >= CLEAR_LEAD * p_second):
        runners = _other_problems(engine, reading, best, ranked, p_best)
        return _answer(knowledge, best, runners, p_best, platforms, text, truncated)
    topics = [(e, p) for e, p in ranked if e.kind == "answer"][:MAX_OPTIONS]
    if sum(p for _, p in topics) >= CLARIFY_PROBABILITY:
        return Decision("clarify", options=tuple(e for e, _ in topics), confidence=p_best,
                        platforms=platforms, truncated=truncated)
    return Decision("fallback", options=tuple(e for e, _ in topics), confidence=p_best,
                    platforms=platforms, truncated=truncated)


def _other_problems(engine: Engine, reading: Reading, best: Entry,
                    ranked: list[tuple[Entry, float]], p_best: float) -> tuple[Entry, ...]:
    """Other topics the message raises: a close runner-up, or an entry that a sentence of its
    own would get ("my account is suspended. And they keep my money.")."""
    if best.kind != "answer":
        return ()
    found = [e for e, p in ranked[1:MAX_OPTIONS] if p >= SECOND_SHARE * p_best and e.kind == "answer"]
    if len(reading.sentences) > 1:
        for top, p in engine.best_of_each(list(reading.sentences)):
            if p >= ANSWER_PROBABILITY and top.kind == "answer" and top.topic == best.topic:
                found.append(top)
    unique = {e.id: e for e in found if e.id != best.id}
    return tuple(unique.values())[:MAX_OPTIONS - 1]


def _answer(knowledge: Knowledge, entry: Entry, runners: tuple[Entry, ...], confidence: float,
            platforms: tuple[Platform, ...], text: str, truncated: bool,
            fit: bool = True) -> Decision:
    """An answer, with the entry fitted to whether a platform was named (unless typed exactly
    like one of its phrasings), and its caveats."""
    if fit:
        entry = _fit_platform_entry(knowledge, entry, bool(platforms))
    if entry.kind == "outside":
        return Decision("fallback", confidence=confidence, platforms=platforms, outside=entry,
                        truncated=truncated)
    return Decision("answer", entry, runners, confidence, platforms,
                    caveats_for(knowledge, entry, text), truncated=truncated)


def _fit_platform_entry(knowledge: Knowledge, entry: Entry, named: bool) -> Entry:
    """'Who signed?' and 'did X sign?' swap according to whether a platform was named."""
    roles = ("platform-status", "signatory-list")
    if entry.role not in roles:
        return entry
    wanted = knowledge.role("platform-status" if named else "signatory-list")
    return wanted or entry


def caveats_for(knowledge: Knowledge, entry: Entry, text: str) -> tuple[Caveat, ...]:
    """The caveats whose facts the message shows, for an entry of one of their topics."""
    folded = " " + " ".join(words(text)) + " "
    years = [int(y) for y in _YEAR.findall(text)]
    out = []
    for caveat in knowledge.caveats:
        if entry.topic not in caveat.topics:
            continue
        cued = any(f" {cue} " in folded for cue in caveat.cues)
        dated = bool(caveat.before_year) and bool(years) and max(years) < caveat.before_year
        if cued or dated:
            out.append(caveat)
    return tuple(out)

