"""Guess whether a question is French or English (French when in doubt)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.model import Lang

FRENCH_MARKERS = frozenset(
    "le la les un une des du de et est sont je tu il elle nous vous ils on mon ma mes ton ta "
    "tes son sa ses notre votre leur que qui quoi quel quelle quels quelles pourquoi comment "
    "quand combien ou dans pour par avec sans sur chez pas ne plus tres aussi mais donc car "
    "ce cet cette ces a ai as avons avez ont suis es etes fait faire peut peux puis dois doit "
    "signe signee compte annonces frais bonjour salut merci aide charte plateforme vendeur "
    "moi toi oui non quoi faut y en au aux ca rien tout tous mes"
    .split()
)
ENGLISH_MARKERS = frozenset(
    "the a an and is are was were i you he she we they my your his her our their what who "
    "whom which why how when where in on for with without by from at not no yes do does did "
    "can could should would will have has had be been this that these those it its of to me "
    "us them account fees listing listings seller sign signed charter platform hello hi "
    "thanks thank help please any there about get got just today price status bye goodbye "
    "sell selling sold store shop delisted suspended banned closed fee refund anyone"
    .split()
)
# Words both languages share ("a", "on", "me"...) count for neither.
_SHARED = FRENCH_MARKERS & ENGLISH_MARKERS
_ACCENTED = set("éèêëàâîïôûùüçœ")


def detect_language(text: str, folded_words: list[str], default: Lang = "fr",
                    vocabulary: Mapping[str, Lang] | None = None) -> Lang:
    """French or English from marker words, accents and, as a tie-breaker, words the knowledge
    uses in one language only (`vocabulary`); `default` when nothing decides."""
    fr = sum(1 for w in folded_words if w in FRENCH_MARKERS and w not in _SHARED)
    en = sum(1 for w in folded_words if w in ENGLISH_MARKERS and w not in _SHARED)
    if fr == en and vocabulary:
        votes = [vocabulary[w] for w in folded_words if w in vocabulary]
        fr, en = votes.count("fr"), votes.count("en")
    if any(ch in _ACCENTED for ch in text.lower()):
        fr += 2
    if fr == en:
        return default
    return "fr" if fr > en else "en"
