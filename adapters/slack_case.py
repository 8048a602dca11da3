"""The case builder on Slack: its buttons, and the one-page form (`/charte dossier`, the App Home
button, the global shortcut). A case is personal: its questions and papers always go to the
member's direct messages with the app, never to a channel.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters import slack_render as render
from adapters.slack_delivery import KEY
from adapters.slack_reply import (
    close_question,
    core_of,
    in_private_note,
    member_lang,
    post,
    private_reply,
    reason,
    tell,
    thread_of,
    user_of,
)
from bot.case.desk import today as case_today
from bot.model import Lang, Message

log = logging.getLogger("charterbot.slack")


def on_case_choice(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                   context: BoltContext, client: WebClient, respond: Respond) -> None:
    """A case builder button: the answer goes to the core in the question's language.

    In the direct messages, the question's buttons are closed and the next question (or the
    papers) follows in the same conversation. Anywhere else ("Préparer ma réclamation" under an
    answer in a channel, under a private /charte answer, or in the App Home), the case goes on
    in the direct messages, and a note for the member only says so where they pressed.
    """
    ack()
    user_id = body["user"]["id"]
    reply = core_of(context).handle(Message(text="", user=user_of(context, user_id),
                                            channel="slack", answer=action.get("value") or "",
                                            lang=render.case_lang(action["action_id"]),
                                            delivery=context.get(KEY)))
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    if container.get("type") == "view":               # App Home: the DM is where it goes
        post(client, user_id, reply)
        return
    if not container.get("is_ephemeral") and channel.startswith("D"):  # the app's DM
        if reply.kind == "case" and not reply.extra.get("stale"):  # the answer was taken
            label = (action.get("text") or {}).get("text") or ""
            close_question(client, body, channel, label)
        post(client, channel, reply, thread_ts=thread_of(body))
        return
    if private_reply(reply):
        post(client, user_id, reply)
        shown = in_private_note(reply.lang)
    elif reply.blocks:                                # e.g. "that case expired": said here
        shown = render.message(reply)
    else:
        return
    if container.get("is_ephemeral"):
        respond(response_type="ephemeral", replace_original=False, **shown)
    else:
        tell(client, channel, user_id, thread_of(body), shown)


def open_case_form(context: BoltContext, client: WebClient, trigger_id: str,
                   lang: Lang) -> bool:
    """Open the case form for a click or `/charte dossier`; False when the knowledge has no
    case builder. Slack refusing it (a trigger older than 3 seconds) is logged, not retried."""
    form = core_of(context).case_form(lang)
    if not form["problems"]:
        return False
    try:
        client.views_open(trigger_id=trigger_id, view=render.case_modal(lang, form))
    except SlackApiError as error:
        log.warning("slack: the case form did not open (%s)", reason(error))
    return True


def on_case_form_button(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                        context: BoltContext, client: WebClient) -> None:
    """"Préparer ma réclamation" in the App Home: the case form, in the Home's language."""
    ack()
    lang: Lang = "en" if action.get("value") == "en" else "fr"
    open_case_form(context, client, body.get("trigger_id") or "", lang)


def on_case_shortcut(ack: Ack, body: dict[str, Any], context: BoltContext,
                     client: WebClient) -> None:
    """The global shortcut "Préparer ma réclamation": the case form, in the member's language."""
    ack()
    user_id = (body.get("user") or {}).get("id") or ""
    open_case_form(context, client, body.get("trigger_id") or "",
                   member_lang(context, client, user_id))


def on_case_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext,
                   client: WebClient) -> None:
    """The case form sent: refused with its errors under the inputs, or closed and the papers
    sent to the member's direct messages."""
    core = core_of(context)
    lang = render.case_form_lang(view)
    form = core.case_form(lang)
    problems = [problem for problem, _ in form["problems"]]
    coming = tuple(problem for problem, _ in form["coming"])
    errors = render.case_form_errors(view, case_today(), problems, coming)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    user_id = body["user"]["id"]
    reply = core.submit_case(user_of(context, user_id), lang, render.case_fields(view),
                             delivery=context.get(KEY))
    post(client, user_id, reply)
