"""Commands typed to the Slack app: `/charte oubli`, a DM saying "langue en", "forget my data".

Slack gives an app one slash command (`/charte`), so the core's commands are words: the whole
text (after `/charte`, in a direct message or after the mention) must be one command word, with an
argument only for the language, so a question that merely starts with "aide" stays a question.
"dossier" / "case" starts the case builder ("/charte dossier" opens its form instead), "annuler" /
"cancel" drops a case under way: Slack itself refuses "/dossier" or "/annuler" typed in a message
(it reads them as slash commands the app does not have), so the words are typed alone.
Erasure is also recognised in a few plain sentences ("please forget my data", "effacez mes
données"): a member asking for it must not have the request itself stored as a question.
"""

from __future__ import annotations

import re
import unicodedata

from bot.model import Command

# Command word -> the core's command (the Telegram names, without the slash).
WORDS: dict[str, Command] = {
    "aide": "help", "help": "help", "start": "help",
    "signataires": "signatories", "signatories": "signatories",
    "recours": "escalate", "escalate": "escalate",
    "langue": "language", "language": "language", "lang": "language",
    "oubli": "forget", "forget": "forget", "oublier": "forget",
    "stats": "stats", "unanswered": "unanswered", "reload": "reload",
    "dossier": "case", "case": "case", "annuler": "cancel", "cancel": "cancel",
}
LANGUAGE_ARGS = ("fr", "en", "francais", "english", "anglais", "french")
MAX_ERASURE_WORDS = 8  # "please could you forget all my data" fits; a long question does not

_ERASURE = (
    re.compile(r"\b(forget|erase|delete|remove|wipe)\b.*\b(me|my (data|details|info\w*|messages"
               r"|questions|history))\b"),
    re.compile(r"\b(oubli\w*|efface\w*|supprime\w*)\b.*\b(moi|m'|mes (donnees|infos?|informations"
               r"|messages|questions|traces))\b"),
)


def fold(text: str) -> str:
    """Lowercase, without accents, punctuation around words removed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("’", "'").strip(" \t\n?!.,;:").split())


def parse(text: str) -> tuple[Command, str] | None:
    """The core command and its argument a member's text asks for, or None for a question."""
    folded = fold(text)
    parts = folded.lstrip("/").split()
    if not parts:
        return None
    command = WORDS.get(parts[0])
    if command == "language" and len(parts) <= 2:
        arg = parts[1] if len(parts) == 2 else ""
        if not arg or arg in LANGUAGE_ARGS:
            return command, "en" if arg in ("english", "anglais") else arg[:2]
    elif command is not None and len(parts) == 1:
        return command, ""
    if _asks_erasure(folded, text):
        return "forget", ""
    return None


def _asks_erasure(folded: str, text: str) -> bool:
    """A short sentence asking to erase one's data (not a question about erasing elsewhere)."""
    if "?" in text or len(folded.split()) > MAX_ERASURE_WORDS:
        return False
    return any(pattern.search(folded) for pattern in _ERASURE)
