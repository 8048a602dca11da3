"""Identities several people share, such as a Telegram group's anonymous admins.

Everyone posting "as the group" arrives with the same sender, so they share one pseudonym, one
language choice and one rate-limit bucket. Erasing that identity would erase the other people's
questions too: it is refused, with the reason and what to do instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.model import Block, Lang, Reply

if TYPE_CHECKING:
    from bot.service import Charterbot

SHARED_ERASURE: dict[Lang, str] = {
    "fr": "Vous écrivez de façon anonyme au nom du groupe : cette identité est partagée par tous "
          "ses administrateurs anonymes, je ne peux donc pas l'effacer sans effacer aussi leurs "
          "questions. Ce qui a été demandé ainsi est supprimé automatiquement au bout de la durée "
          "de conservation. Pour effacer vos propres données, envoyez /oubli depuis votre compte "
          "personnel.",
    "en": "You are posting anonymously as the group: this identity is shared by all its anonymous "
          "admins, so I cannot erase it without erasing their questions too. What was asked this "
          "way is deleted automatically after the retention period. To erase your own data, send "
          "/forget from your personal account.",
}


def shared_erasure_refused(core: Charterbot, user: str) -> Reply:
    """The reply to /oubli from a shared identity, in the language chosen for it (else French)."""
    chosen = core.state.language(core.state.pseudonym(user))
    lang: Lang = "en" if chosen == "en" else "fr"
    return Reply(kind="command", lang=lang, blocks=(Block("paragraph", SHARED_ERASURE[lang]),))
