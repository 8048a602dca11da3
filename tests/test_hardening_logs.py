"""Issue 12, evidence: the suite-wide log check (tests/conftest.py) really looks at every line.

The check itself runs after every test (`log_hygiene`); these tests make sure it is not vacuous:
it sees lines logged anywhere at INFO, and it recognises tokens, secrets and seller text.
"""

from __future__ import annotations

import logging

from tests.conftest import _RECORDER, leaks


def test_every_info_line_of_the_suite_is_recorded() -> None:
    logging.getLogger("charterbot.anything").info("a harmless line %d", 42)
    assert _RECORDER.lines[-1] == "INFO charterbot.anything: a harmless line 42"


def test_tokens_secrets_and_seller_text_are_recognised() -> None:
    assert leaks("POST http://127.0.0.1/bot123456:TEST-token-not-real/getMe")
    assert leaks("bot987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw in a URL")
    assert leaks("auth with xoxb-1234-5678-abcdef")
    assert leaks("Invalid request signature (body: {\"text\": \"<@U0BOT> recette de crêpes\"})")
    assert not leaks("slack: refused a request without a valid, recent signature (1204 bytes)")
    assert not leaks("update 12 already handled, dropped")
