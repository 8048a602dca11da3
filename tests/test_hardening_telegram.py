# ruff: noqa: F811  (the fixtures of tests/test_telegram.py are imported, then used by name)
"""Issue 12 on Telegram (items 4, 6, 8, 9, 11, 12, 13): the real python-telegram-bot Application
against the fake Bot API on 127.0.0.1, asserting what sellers and staff would notice."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import admin
from bot.phrases import say
from bot.report import feedback_summary, group_unanswered
from bot.service import Charterbot
from bot.settings import Settings
from bot.shared import SHARED_ERASURE
from tests.fakes.telegram_api import (
    BOT_ID,
    BOT_USERNAME,
    GROUP_ID,
    SELLER_ID,
    FakeBotApi,
    callback_update,
    mention_update,
    text_update,
)
from tests.test_telegram import (  # noqa: F401  (fixtures used by name)
    SECRET,
    WAIT,
    api,
    buttons,
    compiled_index,
    data_dir_with_index,
    environment,
    polling,
    seen,
    webhook,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

STAFF_ID = 4242
ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot: every anonymous admin is this user
OTHER_GROUP = -100888


@pytest.fixture
def core(tmp_path: Path, compiled_index: Path) -> Iterator[Charterbot]:
    """The test_telegram core, with STAFF_ID listed in CHARTERBOT_ADMINS."""
    data_dir = data_dir_with_index(tmp_path / "data", compiled_index)
    bot = Charterbot(replace(Settings.from_env(), data_dir=data_dir,
                             admins=frozenset({str(STAFF_ID)})))
    yield bot
    bot.close()


def sellers_with_questions(core: Charterbot) -> set[str]:
    return {row["seller"] for row in core.state.query("select seller from questions")}


def anonymous(text: str, group: int, **fields: Any) -> dict[str, Any]:
    """A group message posted by an anonymous admin ("as the group")."""
    update = text_update(text, chat_id=group, user_id=ANONYMOUS_ADMIN, **fields)
    update["message"]["from"] = {"id": ANONYMOUS_ADMIN, "is_bot": True, "first_name": "Group",
                                 "username": "GroupAnonymousBot"}
    update["message"]["sender_chat"] = {"id": group, "type": "supergroup", "title": f"Shop {group}"}
    return update


# -- item 4: anonymous group admins ----------------------------------------------------------------
async def test_anonymous_admins_of_two_groups_are_two_senders(
        api: FakeBotApi, polling: Any, core: Charterbot) -> None:
    mention = f"@{BOT_USERNAME} "
    entity = [{"type": "mention", "offset": 0, "length": len(mention) - 1}]
    api.push(anonymous(mention + "recette de crêpes au sarrasin", GROUP_ID, entities=entity),
             anonymous(mention + "météo demain à Brest", OTHER_GROUP, entities=entity))
    await api.wait_for("sendMessage", 2)
    assert len(sellers_with_questions(core)) == 2   # shop A and shop B are not one person

    api.push(anonymous("/oubli", OTHER_GROUP))
    refusal = (await api.wait_for("sendMessage", 3))[2]
    assert refusal["chat_id"] == str(OTHER_GROUP)
    assert refusal["text"] == seen(SHARED_ERASURE["fr"])
    assert len(sellers_with_questions(core)) == 2   # nobody's questions were erased


async def test_a_sellers_own_erasure_still_works_in_a_group(
        api: FakeBotApi, polling: Any, core: Charterbot) -> None:
    api.push(mention_update("recette de crêpes au sarrasin"))
    await api.wait_for("sendMessage")
    api.push(text_update(f"/oubli@{BOT_USERNAME}", chat_id=GROUP_ID))
    done = (await api.wait_for("sendMessage", 2))[1]
    assert done["text"] == seen(say("forgotten", "fr"))
    assert sellers_with_questions(core) == set()


# -- item 6: /unanswered is bounded and never holds up sellers -------------------------------------
WORDS = ("colis retour frais vendeur client avis note stock prix promo litige photo annonce "
         "compte banque virement délai transport douane taxe facture remise solde marque "
         "taille couleur poids garantie panne notice").split()


def fill_unanswered(core: Charterbot, count: int) -> None:
    """`count` distinct, mostly dissimilar unanswered questions, as a hostile sender could log
    them (made-up words, plus a common one that many share)."""
    rng = random.Random(12)
    for number in range(count):
        made_up = " ".join("".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(3))
        core.state.log_question({"seller": "x", "channel": "telegram", "lang": "fr",
                                 "kind": "fallback", "entry": None, "confidence": 0.1,
                                 "platform": None, "text": f"{WORDS[number % len(WORDS)]} {made_up}",
                                 "candidate": None, "candidate_score": None})


def test_grouping_5000_unanswered_questions_takes_seconds_not_minutes(
        core: Charterbot) -> None:
    fill_unanswered(core, 5000)
    started = time.monotonic()
    groups = group_unanswered(core.state, "0000")
    assert time.monotonic() - started < 5.0
    assert sum(g.count for g in groups) == 5000 and len(groups) > 4000


async def test_unanswered_runs_beside_other_sellers(
        api: FakeBotApi, polling: Any, core: Charterbot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fill_unanswered(core, 5000)
    seller_answered = threading.Event()
    original = admin.unanswered_blocks

    def slow_report(bot: Charterbot, lang: Any) -> Any:
        seller_answered.wait(WAIT)  # the report only ends once the seller got an answer
        return original(bot, lang)

    monkeypatch.setattr(admin, "unanswered_blocks", slow_report)
    api.push(text_update("/unanswered", user_id=STAFF_ID, chat_id=STAFF_ID),
             text_update("bonjour", user_id=7, chat_id=7))
    [first] = await api.wait_for("sendMessage", timeout=WAIT)
    seller_answered.set()
    assert first["chat_id"] == "7"
    report = (await api.wait_for("sendMessage", 2, timeout=WAIT))[1]
    assert report["chat_id"] == str(STAFF_ID) and "×" in report["text"]


# -- item 8: the webhook checks the secret and the length before the body ---------------------------
async def raw_post(url: str, headers: dict[str, str]) -> bytes:
    """Send only the request's headers and return the status line the server answers with."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = ["POST /telegram HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
             *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.readline(), 2.0)
    finally:
        writer.close()


@pytest.mark.parametrize(("headers", "status"), [
    ({"X-Telegram-Bot-Api-Secret-Token": "wrong", "Content-Length": "95000000"}, b"403"),
    ({"Content-Length": "95000000"}, b"403"),
    ({"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Length": "95000000"}, b"413"),
    ({"X-Telegram-Bot-Api-Secret-Token": SECRET, "Transfer-Encoding": "chunked"}, b"411"),
])
async def test_webhook_refuses_before_reading_a_body(
        api: FakeBotApi, webhook: Any, headers: dict[str, str], status: bytes) -> None:
    line = await raw_post(api.webhook["url"], headers)
    assert line.split()[1] == status, line
    assert await api.deliver(text_update("bonjour")) == 200  # and real updates still go through
    await api.wait_for("sendMessage")


# -- item 9: odd text gets a reply -------------------------------------------------------------------
async def test_lone_surrogate_over_polling_gets_a_reply(api: FakeBotApi, polling: Any) -> None:
    api.push(text_update("recette de crêpes \ud800"))  # JSON "\\ud800", as a client may send
    [sent] = await api.wait_for("sendMessage")
    assert sent["chat_id"] == str(SELLER_ID) and sent["text"]


async def test_invalid_utf8_over_the_webhook_gets_a_reply(api: FakeBotApi, webhook: Any) -> None:
    body = json.dumps(text_update("recette de crêpes XX")).encode().replace(b"XX", b"\xff\xfe")
    async with aiohttp.ClientSession() as session, session.post(
            api.webhook["url"], data=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                     "Content-Type": "application/json"}) as response:
        assert response.status == 200
    [sent] = await api.wait_for("sendMessage")
    assert sent["chat_id"] == str(SELLER_ID)


# -- item 11: one vote per seller and entry -----------------------------------------------------------
async def test_thumbs_up_then_down_counts_one_down(api: FakeBotApi, polling: Any,
                                                   core: Charterbot) -> None:
    api.push(text_update("Amazon a-t-il signé la charte ?"))
    [sent] = await api.wait_for("sendMessage")
    up, down = (b["callback_data"] for b in buttons(sent)[-2:])
    answer = api.messages[-1]
    for data in (up, down, *([up] * 5), down):
        api.push(callback_update(data, answer))
    await api.wait_for("answerCallbackQuery", 8)
    entry = up.removeprefix("f:+:")
    assert feedback_summary(core.state) == [{"entry": entry, "up": 0, "down": 1}]


# -- item 12: forum topics --------------------------------------------------------------------------
TOPIC = 77


def in_topic(text: str, **kwargs: Any) -> dict[str, Any]:
    """A message in the forum topic TOPIC, which the bot created: Telegram sets reply_to_message
    to the topic's creation message even when the member did not reply to anything."""
    created = {"message_id": TOPIC, "date": int(time.time()),
               "chat": {"id": GROUP_ID, "type": "supergroup", "title": "Vendeurs",
                        "is_forum": True},
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "Charterbot",
                        "username": BOT_USERNAME},
               "message_thread_id": TOPIC,
               "forum_topic_created": {"name": "FAQ", "icon_color": 7322096}}
    return text_update(text, chat_id=GROUP_ID, message_thread_id=TOPIC, is_topic_message=True,
                       reply_to_message=created, **kwargs)


async def test_plain_message_in_the_bots_topic_is_not_for_the_bot(
        api: FakeBotApi, polling: Any) -> None:
    api.push(in_topic("Amazon a-t-il signé la charte ?"))
    await api.wait_for("getUpdates", len(api.sent("getUpdates")) + 1)
    assert await api.quiet() == []


async def test_mention_in_a_topic_is_answered_in_that_topic(
        api: FakeBotApi, polling: Any) -> None:
    mention = f"@{BOT_USERNAME}"
    api.push(in_topic(f"{mention} Amazon a-t-il signé la charte ?",
                      entities=[{"type": "mention", "offset": 0, "length": len(mention)}]))
    [sent] = await api.wait_for("sendMessage")
    assert sent["chat_id"] == str(GROUP_ID) and str(sent["message_thread_id"]) == str(TOPIC)


# -- item 13: blocked bot, migrated group -------------------------------------------------------------
async def test_a_seller_who_blocked_the_bot_is_one_quiet_line(
        api: FakeBotApi, polling: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    api.refuse_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=42)
    api.push(text_update("bonjour"))
    api.push(text_update("bonjour", user_id=7, chat_id=7))  # chats run side by side
    [sent] = await api.wait_for("sendMessage")   # the next seller is still answered
    assert sent["chat_id"] == "7"
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert problems == []
    assert [r for r in caplog.records if "blocked" in r.getMessage()]


async def test_a_group_migrated_to_a_supergroup_gets_the_answer_there(
        api: FakeBotApi, polling: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    api.refuse_next("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup "
                    "chat", {"migrate_to_chat_id": -1009999})
    api.push(mention_update("Amazon a-t-il signé la charte ?", chat_id=-4242))
    [sent] = await api.wait_for("sendMessage")
    assert sent["chat_id"] == "-1009999" and "Amazon" in sent["text"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

