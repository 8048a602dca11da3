"""Slack, end to end: the case builder, from "my account was closed" to three papers.

The real slack-bolt app in HTTP mode gets events, button presses, `/charte` and form submissions
signed as Slack signs them, and calls the fake Web API on 127.0.0.1 (fixtures from
tests/test_slack.py). Each test drives a whole conversation as a seller would, and reads what the
seller gets: the questions and their buttons, then each paper as a message and as a .docx file
whose content is read back.
"""
# The fixtures are imported from tests/test_slack.py, so test parameters reuse their names.
# ruff: noqa: F811

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters import slack
from adapters import slack_render as render
from bot.case.desk import today
from bot.case.files import docx_text
from bot.phrases import long_date, say
from bot.service import Charterbot
from tests.fakes.slack_api import FakeSlackApi, Upload, dm_of
from tests.test_slack import (  # noqa: F401  (fixtures)
    APP_ID,
    CHANNEL,
    DM,
    REPO,
    SELLER,
    SETTLE,
    TEAM_ID,
    SlackSender,
    api,
    click,
    core,
    direct,
    event_body,
    expected,
    knowledge_index,
    make_core,
    mention,
    next_id,
    no_slack_env,
    serve,
    settings_for,
    slack_http_app,
    slash,
)

PAPERS = 3                          # complaint, mediation summary, checklist


# -- a seller in the app's direct messages ----------------------------------------------------------
def buttons(posted: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The case builder's buttons of a posted message: value -> button."""
    return {e["value"]: e for b in posted["blocks"] if render.is_case_block(b)
            for e in b["elements"]}


class Seller:
    """One seller talking to the app in its direct messages, as Slack delivers what they do."""

    def __init__(self, api: FakeSlackApi, app: SlackSender) -> None:
        self.api, self.app = api, app

    def _next_post(self, send: Any, count: int) -> list[dict[str, Any]]:
        before = len(self.api.calls_to("chat.postMessage"))
        send()
        posts = self.api.wait_for("chat.postMessage", before + count)
        return [p.params for p in posts[before:]]

    def says(self, text: str) -> dict[str, Any]:
        """A direct message; the message the app posts back."""
        return self._next_post(lambda: self.app.event(event_body(direct(text))), 1)[0]

    def presses(self, posted: dict[str, Any], value: str, where: str = DM,
                thread_ts: str | None = None) -> dict[str, Any]:
        """Press the case button of `posted` whose value is `value`; what the app posts next."""
        payload = pressed(self.api, posted, value, where, thread_ts)
        return self._next_post(lambda: self.app.action(payload), 1)[0]

    def answers(self, posted: dict[str, Any], answer: str,
                count: int = 1) -> list[dict[str, Any]]:
        """Answer the question `posted`: press its button of that value if it has one, else
        type the answer; the `count` messages the app posts back."""
        if answer in buttons(posted):
            payload = pressed(self.api, posted, answer, DM, None)
            return self._next_post(lambda: self.app.action(payload), count)
        return self._next_post(lambda: self.app.event(event_body(direct(answer))), count)

    def walks(self, posted: dict[str, Any], *answers: str) -> dict[str, Any]:
        """Answer question after question; the last question posted."""
        for answer in answers:
            posted = self.answers(posted, answer)[0]
        return posted

    def finishes(self, posted: dict[str, Any], answer: str) -> list[dict[str, Any]]:
        """The last answer: the reply, then each paper as a message (its file follows it)."""
        return self.answers(posted, answer, 1 + PAPERS)


def pressed(api: FakeSlackApi, posted: dict[str, Any], value: str, where: str,
            thread_ts: str | None) -> dict[str, Any]:
    """The block_actions payload of a press on one case button of a message the app posted."""
    button = buttons(posted)[value]
    payload = click(button["action_id"], value, api.response_url(), thread_ts=thread_ts)
    payload["container"]["channel_id"] = where
    payload["channel"] = {"id": where, "name": "directmessage" if where.startswith("D")
                          else "general"}
    payload["message"] |= {"blocks": posted["blocks"], "text": posted["text"]}
    payload["actions"][0]["text"]["text"] = button["text"]["text"]
    return payload


def shown(posted: dict[str, Any]) -> str:
    """What a posted message shows (its blocks), as one string."""
    return json.dumps(posted["blocks"], ensure_ascii=False)


def papers(api: FakeSlackApi) -> dict[str, str]:
    """The files shared so far, read back: file name -> text."""
    files: list[Upload] = api.shared_files()
    assert all(f.data for f in files)
    return {f.filename: docx_text(f.data or b"") for f in files}


def complaint(api: FakeSlackApi) -> str:
    """The complaint (the first paper sent), once the three papers are shared."""
    first = api.wait_for_files(PAPERS)[0]
    return docx_text(first.data or b"")


def day_typed(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@pytest.fixture
def seller(api: FakeSlackApi, slack_http_app: SlackSender) -> Seller:
    return Seller(api, slack_http_app)


# -- the whole conversation -------------------------------------------------------------------------
def test_a_story_becomes_three_papers_as_messages_and_docx_files(
        api: FakeSlackApi, core: Charterbot, seller: Seller) -> None:
    answer = seller.says("Amazon a fermé mon compte vendeur hier sans motif")
    start = next(v for v in buttons(answer) if v.startswith("new|closure|Amazon|"))
    assert buttons(answer)[start]["text"]["text"] == say("case_button", "fr")
    assert render.CASE_ACTION_PATTERN.match(buttons(answer)[start]["action_id"])

    confirm = seller.presses(answer, start)
    assert confirm["channel"] == DM and "Amazon" in confirm["text"]
    assert say("case_intro", "fr")[:40] in shown(confirm)
    closed = api.wait_for("chat.update")[0].params          # the answer's button is spent
    assert closed["channel"] == DM and not buttons(closed)
    assert f"✓ {say('case_button', 'fr')}" in shown(closed)
    assert any(b.get("block_id") == "charte_more" for b in closed["blocks"])  # the rest stays

    notice = seller.presses(confirm, "ok")
    assert {"n:none", "n:same", "n:unknown", "cancel"} <= set(buttons(notice))
    said = seller.presses(notice, "n:none")
    refs = seller.says("Votre compte a été fermé suite à une violation de nos règles.")
    assert "r:skip" in buttons(refs)
    posts = seller.finishes(refs, "Dupont SARL, vendeur A1B2C3, ticket 4417")

    assert said["channel"] == refs["channel"] == DM
    done, *messages = posts
    assert done["text"] == render.escape(say("case_done", "fr"))
    assert [p["channel"] for p in posts] == [DM] * (1 + PAPERS)
    files = api.wait_for_files(PAPERS)
    assert len(files) == PAPERS and {f.channel for f in files} == {DM}
    assert all(f.filename.endswith("-amazon.docx") for f in files)
    for message, file in zip(messages, files, strict=True):     # each paper: message, then file
        assert message["blocks"][0]["text"]["text"] == file.title
    texts = papers(api)
    letter = complaint(api)
    assert "Amazon" in letter and "A1B2C3" in letter and "ticket 4417" in letter
    assert "violation de nos règles" in letter                 # what the platform said, quoted
    assert "P2B, art. 4(2)" in letter and "L442-1" in letter    # the rules it cites
    assert "Préavis non respecté" in letter                    # "no warning" for a closure
    assert long_date((today() - timedelta(days=1)).isoformat(), "fr") in letter
    assert "A1B2C3" in shown(messages[0])                       # the message shows it too
    assert any("Médiateur des entreprises" in text for text in texts.values())
    question = seller.says("amazon a signé la charte ?")          # the case is over
    assert question["text"] == expected(core, text="amazon a signé la charte ?")["text"]


def test_cancel_mid_way_erases_the_case_and_questions_are_answered_again(
        api: FakeSlackApi, core: Charterbot, seller: Seller) -> None:
    platform = seller.says("dossier")
    assert {"p:Amazon", "p:Cdiscount", "cancel"} <= set(buttons(platform))
    problem = seller.presses(platform, "p:Amazon")
    assert "k:closure" in buttons(problem)
    cancelled = seller.says("annuler")
    assert cancelled["text"] == render.escape(say("case_cancelled", "fr"))
    assert not buttons(cancelled)
    answer = seller.says("amazon a signé la charte ?")
    assert answer["text"] == expected(core, text="amazon a signé la charte ?")["text"]
    assert not api.calls_to("files.completeUploadExternal")
    again = seller.says("dossier")                              # the cancel button works too
    gone = seller.presses(again, "cancel")
    assert gone["text"] == render.escape(say("case_cancelled", "fr"))


def test_a_case_survives_a_restart_in_the_middle(
        api: FakeSlackApi, core: Charterbot, seller: Seller, serve: Any, tmp_path: Path) -> None:
    problem = seller.presses(seller.says("dossier"), "p:Amazon")
    restarted = make_core(tmp_path)                     # another process, the same data
    try:
        after = Seller(api, serve(slack.build_app(restarted, settings_for(api))))
        day = after.presses(problem, "k:closure")
        assert "d:today" in buttons(day)
        refs = after.walks(day, "il y a 3 jours", "n:none", "s:none")
        after.finishes(refs, "r:skip")
        letter = complaint(api)
        closed = dict(restarted.case_form("fr")["problems"])["closure"]
        assert "Amazon" in letter and closed.lower() in letter
        assert long_date((today() - timedelta(days=3)).isoformat(), "fr") in letter
    finally:
        restarted.close()


def test_an_expired_case_is_gone_and_the_next_message_is_a_question(
        api: FakeSlackApi, core: Charterbot, seller: Seller) -> None:
    platform = seller.says("dossier")
    old = (datetime.now(UTC) - timedelta(hours=25)).isoformat(timespec="seconds")
    core.state.db.execute("update cases set updated = ?", [old])
    answer = seller.says("amazon a signé la charte ?")
    assert answer["text"] == expected(core, text="amazon a signé la charte ?")["text"]
    late = seller.presses(platform, "p:Amazon")             # a button of the expired question
    assert late["text"] == render.escape(say("case_over", "fr"))


def test_a_platform_the_bot_does_not_know_is_taken_as_typed(
        api: FakeSlackApi, seller: Seller) -> None:
    problem = seller.walks(seller.says("dossier"), "Brocantix")
    assert "k:delisting" in buttons(problem)
    refs = seller.walks(problem, "k:delisting", "d:today", "s:vague")
    seller.finishes(refs, "r:skip")
    letter = complaint(api)
    assert all("brocantix" in f.filename for f in api.shared_files())
    assert "Brocantix" in letter
    assert "[À COMPLÉTER" in letter                     # its complaint route: to fill in
    assert "signée par Brocantix" not in letter         # no charter commitment made up


def test_a_notice_shorter_than_the_law_asks_is_pointed_out(
        api: FakeSlackApi, seller: Seller) -> None:
    effect = today() - timedelta(days=5)
    warned = effect - timedelta(days=10)
    answer = seller.says(f"Amazon a fermé mon compte vendeur le {day_typed(effect)}")
    start = next(v for v in buttons(answer) if v.startswith("new|closure|Amazon|"))
    confirm = seller.presses(answer, start)
    assert long_date(effect.isoformat(), "fr") in confirm["text"]
    refs = seller.walks(confirm, "ok", day_typed(warned), "s:none")
    seller.finishes(refs, "r:skip")
    line = next(line for line in complaint(api).splitlines()
                if long_date(warned.isoformat(), "fr") in line)
    assert long_date(effect.isoformat(), "fr") in line
    assert "Préavis non respecté" in line and " 10 " in line and " 30 " in line


# -- a case is personal: it goes on in the direct messages ----------------------------------------
def test_the_button_under_a_public_answer_goes_on_in_the_direct_messages(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    event = mention("Amazon a fermé mon compte vendeur hier sans motif")
    slack_http_app.event(event_body(event))
    answer = api.wait_for("chat.postMessage")[0].params
    assert answer["channel"] == CHANNEL
    start = next(v for v in buttons(answer) if v.startswith("new|"))
    slack_http_app.action(pressed(api, answer, start, CHANNEL, event["ts"]))
    confirm = api.wait_for("chat.postMessage", 2)[1].params
    assert confirm["channel"] == SELLER and "ok" in buttons(confirm)   # the member's DM
    note = api.wait_for("chat.postEphemeral")[0].params
    assert (note["channel"], note["user"], note["thread_ts"]) == (CHANNEL, SELLER, event["ts"])
    assert note["text"] == render.escape(say("case_in_private", "fr"))
    time.sleep(SETTLE)
    assert not api.calls_to("chat.update")              # the public answer keeps its button
    assert len(api.calls_to("chat.postMessage")) == 2


def test_the_button_under_a_private_answer_goes_on_in_the_direct_messages(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    answer = slack_http_app.form(slash("Amazon a fermé mon compte vendeur hier sans motif",
                                       api.response_url())).json()
    assert answer["response_type"] == "ephemeral"
    start = next(v for v in buttons(answer) if v.startswith("new|closure|"))
    payload = pressed(api, answer, start, CHANNEL, None)
    payload["container"]["is_ephemeral"] = True
    payload["response_url"] = api.response_url("private")
    slack_http_app.action(payload)
    confirm = api.wait_for("chat.postMessage")[0].params
    assert confirm["channel"] == SELLER and "ok" in buttons(confirm)
    note = api.wait_for("response:private")[0].params
    assert note["text"] == render.escape(say("case_in_private", "fr"))
    assert note["response_type"] == "ephemeral" and note["replace_original"] is False


def test_charte_annuler_drops_the_case_privately(
        api: FakeSlackApi, seller: Seller, slack_http_app: SlackSender) -> None:
    seller.says("dossier")
    shown = slack_http_app.form(slash("annuler", api.response_url())).json()
    assert shown["response_type"] == "ephemeral"
    assert shown["text"] == render.escape(say("case_cancelled", "fr"))
    again = slack_http_app.form(slash("annuler", api.response_url())).json()
    assert again["text"] == render.escape(say("case_none", "fr"))


def test_dossier_in_a_mention_starts_the_case_in_the_direct_messages(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    event = mention("dossier")
    slack_http_app.event(event_body(event))
    first = api.wait_for("chat.postMessage")[0].params
    assert first["channel"] == SELLER and "p:Amazon" in buttons(first)
    note = api.wait_for("chat.postEphemeral")[0].params
    assert note["text"] == render.escape(say("case_in_private", "fr"))
    assert note["thread_ts"] == event["ts"]


def test_a_mention_during_a_case_is_a_question_and_the_case_waits(
        api: FakeSlackApi, slack_http_app: SlackSender, core: Charterbot) -> None:
    slack_http_app.event(event_body(mention("dossier")))
    first = api.wait_for("chat.postMessage")[0].params
    assert first["channel"] == SELLER                     # the case started in the DM
    event = mention("Amazon a-t-il signé la charte ?")
    slack_http_app.event(event_body(event))
    answer = api.wait_for("chat.postMessage", 2)[1].params
    assert answer["channel"] == CHANNEL and answer["thread_ts"] == event["ts"]  # in the thread
    assert "rejoint la charte" in answer["text"]              # the answer to that question
    stored = core.state.case(core.state.pseudonym(f"slack:{TEAM_ID}:{SELLER}"))
    assert stored is not None and '"platform": ""' in stored[0]   # still at its first question


# -- the form: /charte dossier and the App Home ---------------------------------------------------
def submission(view: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The view_submission payload of the form `view` filled with `values` (block -> state)."""
    state = {block: {render.CASE_FIELD: value} for block, value in values.items()}
    return {"type": "view_submission", "team": {"id": TEAM_ID, "domain": "charte-test"},
            "user": {"id": SELLER, "team_id": TEAM_ID}, "api_app_id": APP_ID,
            "token": "legacy", "trigger_id": f"trig.{next_id()}",
            "view": view | {"id": "V2", "team_id": TEAM_ID, "state": {"values": state}}}


def picked(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def typed(text: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": text}


def on(day: date | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": day.isoformat() if day else None}


def opened_form(api: FakeSlackApi, app: SlackSender) -> dict[str, Any]:
    """`/charte dossier`: the form Slack is asked to open, checked against the command."""
    command = slash("dossier", api.response_url())
    answer = app.form(command)
    assert answer.status == 200 and not answer.body      # nothing shown in the channel
    opened = api.wait_for("views.open")[0].params
    assert opened["trigger_id"] == command["trigger_id"]
    view: dict[str, Any] = opened["view"]
    return view


def test_charte_dossier_opens_the_form(api: FakeSlackApi, core: Charterbot,
                                       slack_http_app: SlackSender) -> None:
    view = opened_form(api, slack_http_app)
    assert view["type"] == "modal" and view["callback_id"] == render.CASE_FORM_CALLBACK
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    form = core.case_form("fr")
    assert [o["value"] for o in blocks["platform"]["element"]["options"]] == [
        name for name, _ in form["platforms"]]
    assert [o["text"]["text"] for o in blocks["problem"]["element"]["options"]] == [
        label for _, label in form["problems"]]
    assert blocks["problem"]["optional"] is False
    assert blocks["date"]["element"]["type"] == blocks["notice"]["element"]["type"] == \
        "datepicker"
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage")


def test_the_app_home_button_opens_the_form_in_the_homes_language(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    api.locales[SELLER] = "en-US"
    slack_http_app.event(event_body({"type": "app_home_opened", "user": SELLER, "tab": "home",
                                     "event_ts": "1700000500.000042"}))
    home = api.wait_for("views.publish")[0].params["view"]
    button = next(e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == render.CASE_FORM_ACTION)
    assert button["text"]["text"] == say("case_button", "en")
    press = click(button["action_id"], button["value"], api.response_url()) | {
        "container": {"type": "view", "view_id": "V1"}}
    slack_http_app.action(press)
    opened = api.wait_for("views.open")[0].params
    assert opened["trigger_id"] == press["trigger_id"]
    assert opened["view"]["title"]["text"] == render.CASE_FORM_LABELS["en"]["title"]
    problems = next(b for b in opened["view"]["blocks"] if b.get("block_id") == "problem")
    assert "Account closed" in [o["text"]["text"] for o in problems["element"]["options"]]


def test_the_form_sent_brings_the_papers_to_the_direct_messages(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    view = opened_form(api, slack_http_app)
    effect = today() - timedelta(days=2)
    answer = slack_http_app.action(submission(view, {
        "platform": picked("Amazon"), "platform_other": typed(None), "problem": picked("closure"),
        "date": on(effect), "notice": on(effect - timedelta(days=10)),
        "no_notice": {"type": "checkboxes", "selected_options": []},
        "said": {"type": "radio_buttons", "selected_option": None},
        "said_text": typed("Fermeture pour raisons de sécurité."),
        "refs": typed("Dupont SARL, vendeur A1B2C3")}))
    assert answer.status == 200 and not answer.body       # the form closes
    posts = api.wait_for("chat.postMessage", 1 + PAPERS)
    assert posts[0].params["channel"] == SELLER             # the member's DM
    assert posts[0].params["text"] == render.escape(say("case_done", "fr"))
    assert {p.params["channel"] for p in posts[1:]} == {dm_of(SELLER)}
    files = api.wait_for_files(PAPERS)
    assert {f.channel for f in files} == {dm_of(SELLER)}
    letter = complaint(api)
    assert "Amazon" in letter and "A1B2C3" in letter and "raisons de sécurité" in letter
    assert "Préavis non respecté" in letter and " 10 " in letter


def test_a_typed_platform_wins_over_the_list(api: FakeSlackApi,
                                             slack_http_app: SlackSender) -> None:
    view = opened_form(api, slack_http_app)
    slack_http_app.action(submission(view, {
        "platform": picked("Amazon"), "platform_other": typed("Brocantix"),
        "problem": picked("fees"), "date": on(None), "notice": on(None),
        "no_notice": {"type": "checkboxes", "selected_options": [{"value": "none"}]}}))
    letter = complaint(api)
    assert "Brocantix" in letter and "Amazon" not in letter


def test_a_date_in_the_future_is_refused_under_its_field(
        api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    view = opened_form(api, slack_http_app)
    answer = slack_http_app.action(submission(view, {
        "platform": picked("Amazon"), "problem": picked("closure"),
        "date": on(today() + timedelta(days=3)), "notice": on(today())}))
    assert answer.status == 200
    refused = answer.json()
    assert refused["response_action"] == "errors"
    assert refused["errors"] == {"date": render.CASE_FORM_LABELS["fr"]["error_future"]}
    time.sleep(SETTLE)
    assert not api.calls_to("chat.postMessage") and not api.calls_to("files.getUploadURLExternal")


def test_the_shortcut_opens_the_form(api: FakeSlackApi, slack_http_app: SlackSender) -> None:
    shortcut = {"type": "shortcut", "token": "legacy", "action_ts": "1700000800.1",
                "team": {"id": TEAM_ID, "domain": "charte-test"},
                "user": {"id": SELLER, "team_id": TEAM_ID}, "api_app_id": APP_ID,
                "callback_id": render.CASE_SHORTCUT, "trigger_id": f"trig.{next_id()}"}
    assert slack_http_app.action(shortcut).status == 200
    opened = api.wait_for("views.open")[0].params
    assert opened["trigger_id"] == shortcut["trigger_id"]
    assert opened["view"]["callback_id"] == render.CASE_FORM_CALLBACK
    assert opened["view"]["title"]["text"] == render.CASE_FORM_LABELS["fr"]["title"]


def test_the_manifest_offers_the_shortcut_and_the_file_scope() -> None:
    manifest = yaml.safe_load((REPO / "slack-manifest.yaml").read_text())
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == [
        render.CASE_SHORTCUT]
    assert "files:write" in manifest["oauth_config"]["scopes"]["bot"]
    assert "dossier" in manifest["features"]["slash_commands"][0]["usage_hint"]


def test_a_form_without_a_problem_is_refused(api: FakeSlackApi,
                                             slack_http_app: SlackSender) -> None:
    view = opened_form(api, slack_http_app)
    refused = slack_http_app.action(submission(view, {"platform": picked("Amazon")})).json()
    assert refused["response_action"] == "errors" and set(refused["errors"]) == {"problem"}


# -- failures -------------------------------------------------------------------------------------
def test_a_paper_that_fails_to_upload_does_not_stop_the_others(
        api: FakeSlackApi, seller: Seller) -> None:
    refs = seller.walks(seller.says("dossier"), "p:Cdiscount", "k:suspension", "d:yesterday",
                        "s:none")
    api.fail_next("files.completeUploadExternal", status=500, retry_after=None)
    seller.finishes(refs, "r:skip")                      # the reply and every paper's text
    api.wait_for("files.completeUploadExternal", PAPERS)    # every file was tried
    shared = api.wait_for_files(PAPERS - 1)                 # the first failed, not the others
    assert [f.filename for f in shared] == [u.filename for u in list(api.uploads.values())[1:]]


def test_a_question_whose_buttons_cannot_be_closed_still_goes_on(
        api: FakeSlackApi, seller: Seller) -> None:
    platform = seller.says("dossier")
    api.fail_next("chat.update", status=404, retry_after=None)
    problem = seller.presses(platform, "p:Amazon")
    assert "k:closure" in buttons(problem)
