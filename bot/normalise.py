"""Text normalisation shared by the knowledge index and incoming questions.

Both sides go through the same steps, so a phrasing and a question typed differently (accents, case,
elisions, SMS spelling, plural or verb endings) end up as the same tokens.
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
_MARKUP = re.compile(r"<\s*/?\s*[a-z][^<>]{0,80}>|<!?[a-z]+>|&[a-z]+;", re.IGNORECASE)

# SMS spellings and common contractions, mapped to the word they stand for.
SPELLING_VARIANTS: dict[str, str] = {
    "koi": "quoi", "kwa": "quoi", "quoa": "quoi", "ki": "qui", "ke": "que", "kel": "quel",
    "kelle": "quelle", "keske": "quoi", "kesako": "quoi", "kesk": "quoi", "pk": "pourquoi",
    "pq": "pourquoi", "pkoi": "pourquoi", "pourkoi": "pourquoi", "cb": "combien", "qd": "quand",
    "kan": "quand", "komen": "comment", "koment": "comment", "cmt": "comment", "cmnt": "comment",
    "bcp": "beaucoup", "tt": "tout", "ts": "tous", "ds": "dans", "pr": "pour", "pb": "probleme",
    "pbm": "probleme", "pblm": "probleme", "prob": "probleme", "svp": "", "stp": "", "slt": "salut",
    "bjr": "bonjour", "bsr": "bonsoir", "mrc": "merci", "mci": "merci", "jsp": "sais",
    "chui": "suis", "jsuis": "suis", "chuis": "suis", "fo": "faut", "fodrait": "faudrait",
    "ya": "y", "yen": "y", "g": "ai", "u": "you", "ur": "your", "r": "are",
    "pls": "", "plz": "", "thx": "thanks", "ty": "thanks", "im": "i", "dont": "do", "cant": "can",
    "wont": "will", "didnt": "did", "doesnt": "does", "isnt": "is", "whats": "what", "hows": "how",
    "cgv": "conditions", "cgu": "conditions", "tos": "terms", "e": "",
    "jsui": "suis", "mn": "mon", "tro": "trop", "maintenan": "maintenant", "tjrs": "toujours",
    "tjs": "toujours", "qqn": "quelqu un", "qq": "quelques", "dc": "donc", "pcq": "parce que",
    "msg": "message", "rep": "reponse", "koman": "comment",
}

# Suffixes stripped to reach a crude stem, longest first; French then English endings.
_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            "issements", "issement", "ements", "ement", "ations", "ation", "ateurs", "ateur",
            "atrices", "atrice", "ments", "ment", "euses", "euse", "eurs", "eur",
            "ives", "ive", "ifs", "if", "ees", "ee", "es", "er", "ez", "ais", "ait", "ant",
            "ons", "ent", "s", "e", "ings", "ing", "ed", "ies", "ly",
        },
        key=len,
        reverse=True,
    )
)
_MIN_STEM = 4
# Words whose stem would collide with a word of another meaning ("engagé" signed up /
# "engagements" commitments, "règle" rule / "règlement" regulation).
STEM_EXCEPTIONS: dict[str, str] = {
    "engagement": "engagement", "engagements": "engagement",
    "reglement": "reglement", "reglements": "reglement",
    "reference": "reference", "references": "reference",  # my products, not "référencement"
}


def fold(text: str) -> str:
    """Lower-case, strip accents and drop elisions (l', d', qu'...), keeping word order."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = _EN_NOT.sub(lambda m: f"{_EN_IRREGULAR.get(m[1], m[1])} not", text)
    return _EN_SUFFIX.sub("", _ELISION.sub(" ", text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem: drop one common ending when what remains is still a word-sized stem."""
    if word in STEM_EXCEPTIONS:
        return STEM_EXCEPTIONS[word]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """The folded words of `text`, with SMS spellings replaced; punctuation and emoji dropped."""
    return list(_words(text))


@lru_cache(maxsize=4096)  # the same question is read by the language guess and the matcher
def _words(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in _NON_WORD.split(fold(_MARKUP.sub(" ", text))):
        if not raw:
            continue
        word = SPELLING_VARIANTS.get(raw, raw)
        if word:
            out.extend(word.split())
    return tuple(out)


def normalise(text: str) -> str:
    """One normalised string, used for display-free comparisons (aliases, duplicates)."""
    return " ".join(words(text))
