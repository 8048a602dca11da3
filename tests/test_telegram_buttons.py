"""Telegram, end to end: the answer's details buttons (steps, sources, more details).

The real python-telegram-bot Application polls the fake Bot API on 127.0.0.1 (fixtures from
tests/test_telegram.py); each test presses a button as a seller would and reads what comes back.
"""
# The fixtures are imported from tests/test_telegram.py, so test parameters reuse their names.
# ruff: noqa: F811

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.telegram_render import CALLBACK_LIMIT
from bot.phrases import say
from tests.fakes.telegram_api import FakeBotApi, callback_update, text_update
from tests.test_telegram import (  # noqa: F401  (fixtures)
    api,
    compiled_index,
    core,
    environment,
    polling,
    seen,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
QUESTION = "mon compte amazon est suspendu"


def labelled(sent: dict[str, Any]) -> dict[str, str]:
    """The message's buttons: label -> callback data."""
    rows = (sent.get("reply_markup") or {"inline_keyboard": []})["inline_keyboard"]
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def answered(api: FakeBotApi) -> tuple[dict[str, Any], dict[str, str]]:
    """Ask the question; the answer as sent, and its buttons."""
    api.push(text_update(QUESTION))
    [sent] = await api.wait_for("sendMessage")
    return sent, labelled(sent)


async def press(api: FakeBotApi, data: str) -> dict[str, Any]:
    """Press a button of the answer; the message the bot sends back."""
    answer = api.messages[-1]
    before = len(api.sent("sendMessage"))
    api.push(callback_update(data, answer))
    sent = await api.wait_for("sendMessage", before + 1)
    assert api.sent("answerCallbackQuery"), "the button must stop spinning"
    detail = sent[before]
    assert detail["reply_parameters"]["message_id"] == answer["message_id"]  # under the answer
    return detail


async def test_the_answer_fits_a_screen_with_its_buttons(api: FakeBotApi, polling: Any) -> None:
    sent, buttons = await answered(api)
    assert "réclamation interne" in sent["text"] and "<a href" not in sent["text"]
    assert say("escalation_heading", "fr") not in sent["text"]
    assert list(buttons)[:3] == [say("more_steps", "fr"), say("more_sources", "fr"),
                                 say("more_details", "fr")]
    assert {"👍", "👎"} <= buttons.keys()
    assert all(len(data.encode()) <= CALLBACK_LIMIT for data in buttons.values())


async def test_steps_button_sends_amazons_own_route(api: FakeBotApi, polling: Any) -> None:
    _, buttons = await answered(api)
    detail = await press(api, buttons[say("more_steps", "fr")])
    assert seen(say("escalation_heading", "fr")) in detail["text"]
    assert "Santé du compte" in detail["text"] and "CEDR" in detail["text"]
    assert '<a href="https://sellercentral' in detail["text"]


async def test_sources_button_sends_every_source_as_a_link(api: FakeBotApi, polling: Any,
                                                          ) -> None:
    _, buttons = await answered(api)
    detail = await press(api, buttons[say("more_sources", "fr")])
    assert detail["text"].count('<a href="https://') >= 3
    assert "eur-lex.europa.eu" in detail["text"]


async def test_details_button_sends_the_full_answer(api: FakeBotApi, polling: Any) -> None:
    _, buttons = await answered(api)
    detail = await press(api, buttons[say("more_details", "fr")])
    assert "art. 21" in detail["text"]                 # the DSA route the first message leaves out
    assert detail["text"].count('<a href="https://') <= 2


async def test_an_english_answers_buttons_open_english_details(api: FakeBotApi,
                                                               polling: Any) -> None:
    api.push(text_update("my amazon seller account was suspended"))
    [sent] = await api.wait_for("sendMessage")
    buttons = labelled(sent)
    detail = await press(api, buttons[say("more_steps", "en")])
    assert seen(say("escalation_heading", "en")) in detail["text"]


async def test_a_button_from_an_older_answer_is_answered_politely(api: FakeBotApi,
                                                                  polling: Any) -> None:
    await answered(api)
    detail = await press(api, "m:fr:gone:problem-suspension:Amazon")
    assert detail["text"] == seen(say("more_gone", "fr"))
    assert json.dumps(detail).count("reply_markup") == 0
