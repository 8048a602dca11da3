"""Telegram, end to end: the case builder (/dossier), from a seller's story to three papers.

The real python-telegram-bot Application talks to the fake Bot API on 127.0.0.1 (fixtures from
tests/test_telegram.py); each test holds a whole conversation as a seller would, pressing the
buttons and typing the answers, and reads the papers back from the .docx files the bot uploaded.
"""
# The fixtures are imported from tests/test_telegram.py, so test parameters reuse their names.
# ruff: noqa: F811

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram_render import CALLBACK_LIMIT
from bot.case.desk import today
from bot.case.files import docx_text
from bot.phrases import long_date, say
from bot.service import Charterbot
from bot.settings import Settings
from tests.fakes.telegram_api import (
    BOT_USERNAME,
    GROUP_ID,
    SELLER_ID,
    FakeBotApi,
    callback_update,
    mention_update,
    text_update,
)
from tests.test_telegram import (  # noqa: F401  (fixtures)
    api,
    compiled_index,
    core,
    environment,
    polling,
    seen,
    webhook_app,
)
from tests.test_telegram_buttons import labelled

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
STORY = "Amazon a fermé mon compte vendeur hier sans motif"
REFS = "Vendeur A1B2C3, commande 402-7788990"
PAPERS = ("complaint", "mediation", "checklist")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Seller:
    """The seller's side of a private chat: types, presses, and reads what the bot sends."""

    api: FakeBotApi
    webhook: bool = False  # updates POSTed to the bot's webhook instead of served to its polling

    async def _send(self, update: dict[str, Any]) -> None:
        if self.webhook:
            assert await self.api.deliver(update) == 200
        else:
            self.api.push(update)

    async def says(self, text: str, **fields: Any) -> dict[str, Any]:
        """Type a message; the bot's next message (as Telegram returned it to the bot)."""
        before = len(self.api.messages)
        await self._send(text_update(text, **fields))
        await self.api.wait_for("sendMessage", before + 1)
        return self.api.messages[before]

    async def press(self, label: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Press the button `label` of `message` (the bot's last one by default); the bot's next
        message."""
        message = message or self.api.messages[-1]
        data = labelled(message)[label]
        before = len(self.api.messages)
        await self._send(callback_update(data, message))
        await self.api.wait_for("sendMessage", before + 1)
        return self.api.messages[before]


def question(step: str, n: int, total: int, lang: str = "fr") -> str:
    """A question of the case builder as the seller reads it."""
    return seen(say(f"case_ask_{step}", lang, n=n, total=total))  # type: ignore[arg-type]


def dmy(day: Any) -> str:
    """A day as a French seller types it."""
    return str(day.strftime("%d/%m/%Y"))


async def papers(api: FakeBotApi) -> dict[str, str]:
    """The three files the bot uploaded, read back: kind -> text (checked to be .docx)."""
    files = (await api.wait_for("sendDocument", 3))[:3]
    assert len(api.sent("sendDocument")) == 3
    uploaded = api.files()
    assert [f["filename"].endswith(".docx") for f in uploaded] == [True] * 3
    assert all(f["content_type"] == DOCX and f["chat_id"] == str(SELLER_ID) for f in uploaded)
    assert [f["caption"] for f in files] == [f["caption"] for f in uploaded]
    return dict(zip(PAPERS, (docx_text(f["data"]) for f in uploaded), strict=True))


def delivered_in_order(api: FakeBotApi, since: int) -> list[str]:
    """What the seller's chat received after call number `since`: "text" (one or more messages
    in a row) or "file", in order."""
    kinds = {"sendMessage": "text", "sendDocument": "file"}
    sent = [kinds[c.method] for c in api.calls[since:]
            if c.method in kinds and "_rejected" not in c.params]
    return [kind for i, kind in enumerate(sent) if i == 0 or kind == "file" or sent[i - 1] != kind]


def seller_key(core: Charterbot) -> str:
    return core.state.pseudonym(f"telegram:{SELLER_ID}")


def outcomes(core: Charterbot) -> dict[str, int]:
    return {row["outcome"]: row["n"] for row in core.state.case_counts("2000-01-01")}


# --- the whole conversation --------------------------------------------------------------------

async def test_story_to_three_papers(api: FakeBotApi, polling: Any, core: Charterbot) -> None:
    seller = Seller(api)
    answer = await seller.says(STORY)
    buttons = labelled(answer)
    assert say("case_button", "fr") in buttons
    assert all(len(data.encode()) <= CALLBACK_LIMIT for data in buttons.values())

    confirm = await seller.press(say("case_button", "fr"))
    assert seen(say("case_intro", "fr")) in confirm["text"]
    yesterday = today() - timedelta(days=1)
    assert "Amazon" in confirm["text"] and long_date(yesterday.isoformat(), "fr") in confirm["text"]
    # the button left the answer (its details stay), so the case cannot be restarted by mistake
    [edited] = await api.wait_for("editMessageReplyMarkup")
    left = [b["callback_data"] for row in edited["reply_markup"]["inline_keyboard"] for b in row]
    assert left and not any(d.startswith("c:") for d in left)

    notice = await seller.press(say("case_ok", "fr"))
    assert question("notice", 4, 6) in notice["text"]
    said = await seller.press(say("case_not_warned", "fr"))
    assert question("said", 5, 6) in said["text"]
    refs = await seller.says("Votre compte a été fermé définitivement.")
    assert question("refs", 6, 6) in refs["text"]

    calls, before = len(api.calls), len(api.sent("sendMessage"))
    done = await seller.says(REFS)
    assert done["text"] == seen(say("case_done", "fr"))
    assert "reply_markup" not in done
    texts = await papers(api)
    # the done note, then each paper: its text as messages, then its file
    assert delivered_in_order(api, calls) == ["text", "file"] * 3
    shown = [m["text"] for m in api.sent("sendMessage")[before + 1:]]
    titles = [f"<b>{seen(f['caption'])}</b>" for f in api.files()]
    starts = [i for i, text in enumerate(shown) if text.split("\n")[0] in titles]
    assert [shown[i].split("\n")[0] for i in starts] == titles   # each paper under its title
    complaint_shown = "\n".join(shown[starts[0]:starts[1]])
    assert "A1B2C3" in complaint_shown and "402-7788990" in complaint_shown
    assert "Amazon" in complaint_shown and "&lt;https://" in complaint_shown  # escaped, plain

    complaint = texts["complaint"]
    assert "Amazon" in complaint and REFS in complaint
    assert "fermé définitivement" in complaint             # what the platform said, quoted
    assert "P2B, art. 4(2)" in complaint and "L442-1" in complaint   # the rules cited
    assert "sans aucun préavis" in complaint               # not warned: the notice check says so
    assert "Amazon" in texts["mediation"] and "Médiateur des entreprises" in texts["mediation"]
    assert REFS in texts["mediation"]
    assert "Pièces à réunir" in texts["checklist"]
    kept = core.state.case(seller_key(core))               # kept only for a retried delivery
    assert kept is not None and '"step": "done"' in kept[0]
    assert outcomes(core) == {"completed": 1}


async def test_cancel_midway_erases_the_case(api: FakeBotApi, polling: Any,
                                             core: Charterbot) -> None:
    seller = Seller(api)
    first = await seller.says("/dossier")
    assert question("platform", 1, 6) in first["text"]
    platforms = labelled(first)
    assert {"Amazon", "Cdiscount", say("case_cancel", "fr")} <= platforms.keys()
    problem = await seller.press("Cdiscount")
    assert question("problem", 2, 6) in problem["text"]
    assert core.state.case(seller_key(core)) is not None

    cancelled = await seller.says("/annuler")
    assert cancelled["text"] == seen(say("case_cancelled", "fr"))
    assert core.state.case(seller_key(core)) is None
    assert outcomes(core) == {"cancelled": 1}
    # the next message is a question again, not an answer to the dropped case
    answer = await seller.says("Amazon a-t-il signé la charte ?")
    assert say("more_sources", "fr") in labelled(answer)
    again = await seller.says("/cancel")
    assert again["text"] == seen(say("case_none", "fr"))


async def test_cancel_button_ends_the_case(api: FakeBotApi, polling: Any,
                                           core: Charterbot) -> None:
    seller = Seller(api)
    await seller.says("/dossier")
    cancelled = await seller.press(say("case_cancel", "fr"))
    assert cancelled["text"] == seen(say("case_cancelled", "fr"))
    assert core.state.case(seller_key(core)) is None


async def test_a_double_tap_answers_the_question_once(api: FakeBotApi, polling: Any) -> None:
    seller = Seller(api)
    platform = await seller.says("/dossier")
    await seller.press("Amazon", platform)
    [edited] = await api.wait_for("editMessageReplyMarkup")
    assert "reply_markup" not in edited                   # every choice left the question
    api.push(callback_update(labelled(platform)["eBay"], platform))   # the second tap
    await api.wait_for("answerCallbackQuery", 2)          # its spinner stops...
    assert len(await api.quiet()) == 2                    # ...and nothing else happens
    date = await seller.press("Compte suspendu")
    assert question("date", 3, 5) in date["text"]         # still the one case, on Amazon


async def test_a_restart_midway_continues_the_case(api: FakeBotApi, core: Charterbot,
                                                   tmp_path: Path) -> None:
    seller = Seller(api, webhook=True)
    async with webhook_app(api, core) as app:
        await app.start()
        first = await seller.says("/dossier")
        problem = await seller.press("Cdiscount", first)
    core.close()  # the process is gone; the case is in the state database
    reborn = Charterbot(replace(Settings.from_env(), data_dir=core.settings.data_dir))
    try:
        async with webhook_app(api, reborn) as app:
            await app.start()
            date = await seller.press("Compte suspendu", problem)
            assert question("date", 3, 5) in date["text"]
            said = await seller.press(say("case_today", "fr"))
            refs = await seller.press(say("case_said_vague", "fr"), said)
            await seller.press(say("case_skip", "fr"), refs)
            texts = await papers(api)
        assert "Cdiscount" in texts["complaint"]          # answered before the restart
        assert long_date(today().isoformat(), "fr") in texts["complaint"]
        assert outcomes(reborn) == {"completed": 1}
    finally:
        reborn.close()


async def test_an_expired_case_is_erased_and_the_message_answered(
        api: FakeBotApi, polling: Any, core: Charterbot) -> None:
    seller = Seller(api)
    platform = await seller.says("/dossier")
    old = (datetime.now(UTC) - timedelta(hours=25)).isoformat(timespec="seconds")
    core.state.db.execute("update cases set updated = ?", [old])

    answer = await seller.says("Amazon a-t-il signé la charte ?")
    assert "Amazon" in answer["text"] and say("more_sources", "fr") in labelled(answer)
    assert core.state.case(seller_key(core)) is None
    assert outcomes(core) == {"expired": 1}
    late = await seller.press("Amazon", platform)       # a button of the expired question
    assert late["text"] == seen(say("case_over", "fr"))


async def test_a_platform_the_bot_does_not_know_goes_in_the_papers(
        api: FakeBotApi, polling: Any, core: Charterbot) -> None:
    seller = Seller(api)
    await seller.says("/dossier")
    problem = await seller.says("Marché Zéphyr 44")
    assert question("problem", 2, 6) in problem["text"]
    date = await seller.press("Offres déréférencées")
    assert question("date", 3, 5) in date["text"]
    said = await seller.says(dmy(today() - timedelta(days=5)))
    assert question("said", 4, 5) in said["text"]
    await seller.press(say("case_said_none", "fr"))
    await seller.press(say("case_skip", "fr"))
    texts = await papers(api)
    assert "Marché Zéphyr 44" in texts["complaint"] and "Marché Zéphyr 44" in texts["mediation"]
    assert "[À COMPLÉTER" in texts["complaint"]           # its complaint route is for the seller
    assert long_date((today() - timedelta(days=5)).isoformat(), "fr") in texts["complaint"]
    assert [f["filename"] for f in api.files()][0].endswith("marche-zephyr-44.docx")
    assert outcomes(core) == {"completed": 1}
    assert {row["platform"] for row in core.state.case_counts("2000-01-01")} == {"other"}


@pytest.mark.parametrize("warned_days, respected", [(10, False), (45, True)])
async def test_the_notice_period_is_checked_against_the_dates_typed(
        api: FakeBotApi, polling: Any, core: Charterbot, warned_days: int,
        respected: bool) -> None:
    seller = Seller(api)
    await seller.says("/dossier")
    await seller.press("Amazon")
    date = await seller.press("Compte fermé")
    assert question("date", 3, 6) in date["text"]
    effect = today() - timedelta(days=2)
    warned = effect - timedelta(days=warned_days)
    notice = await seller.says(dmy(effect))
    assert question("notice", 4, 6) in notice["text"]
    await seller.says(dmy(warned))
    await seller.press(say("case_said_none", "fr"))
    await seller.press(say("case_skip", "fr"))
    complaint = (await papers(api))["complaint"]

    book = core.library.knowledge.cases
    assert book is not None
    values = {"date": long_date(effect.isoformat(), "fr"), "given": str(warned_days),
              "notice_date": long_date(warned.isoformat(), "fr"), "days": "30",
              "rule": book.notices["termination"].rule["fr"]}
    short = book.notice_texts["short"]["fr"].format_map(values)
    kept = book.notice_texts["kept"]["fr"].format_map(values)
    assert book.notices["termination"].days == 30
    assert (short in complaint, kept in complaint) == (not respected, respected)


# --- groups, commands, language ---------------------------------------------------------------

async def test_a_group_gets_a_link_to_the_private_chat(api: FakeBotApi, polling: Any,
                                                       core: Charterbot) -> None:
    command = text_update(f"/dossier@{BOT_USERNAME}", chat_id=GROUP_ID)
    api.push(command)
    [sent] = await api.wait_for("sendMessage")
    assert sent["chat_id"] == str(GROUP_ID)
    assert sent["reply_parameters"]["message_id"] == command["message"]["message_id"]
    assert sent["text"] == seen(say("case_private", "fr"))
    [[button]] = sent["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/{BOT_USERNAME}?start=dossier"
    assert button["text"] == say("case_private_button", "fr")
    assert core.state.case(seller_key(core)) is None       # nothing started in public

    # the answer's "Prepare my complaint" in the group leads to the same link
    api.push(mention_update(STORY))
    answer = (await api.wait_for("sendMessage", 2))[1]
    data = labelled(answer)[say("case_button", "fr")]
    api.push(callback_update(data, api.messages[-1]))
    link = (await api.wait_for("sendMessage", 3))[2]
    url = link["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert "?start=dossier_closure_amazon_" in url          # the story goes with the link
    assert link["reply_parameters"]["message_id"] == api.messages[-2]["message_id"]
    assert core.state.case(seller_key(core)) is None

    # the link opens the private chat with its /start payload: the case starts there, pre-filled
    started = await Seller(api).says(f"/start {url.split('?start=')[1]}")
    assert seen(say("case_intro", "fr")) in started["text"]
    assert "Amazon, compte fermé" in started["text"]
    plain = await Seller(api).says("/start dossier")
    assert question("platform", 1, 6) in plain["text"]


async def test_menus_and_english_aliases(api: FakeBotApi, polling: Any) -> None:
    menus = {m.get("language_code"): [c["command"] for c in m["commands"]]
             for m in api.sent("setMyCommands")}
    assert {"dossier", "annuler"} <= set(menus["fr"]) and {"case", "cancel"} <= set(menus["en"])
    seller = Seller(api)
    await seller.says("/language en")
    first = await seller.says("/case")
    assert question("platform", 1, 6, "en") in first["text"]
    assert say("case_cancel", "en") in labelled(first)
    cancelled = await seller.says("/cancel")
    assert cancelled["text"] == seen(say("case_cancelled", "en"))
