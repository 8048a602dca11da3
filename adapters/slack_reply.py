"""Between Slack and the core, for every Slack listener: who is speaking, their message as a core
`Message`, their language, and a core `Reply` posted as Block Kit (the case builder's papers as
messages and .docx files), in a channel, a thread or the member's direct messages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters import slack_commands
from adapters import slack_render as render
from adapters.slack_delivery import KEY
from bot.model import Command, Lang, Message, Reply
from bot.phrases import say
from bot.service import Charterbot
from bot.state import valid_text

log = logging.getLogger("charterbot.slack")


def core_of(context: BoltContext) -> Charterbot:
    core: Charterbot = context["charterbot"]
    return core


def user_of(context: BoltContext, user_id: str) -> str:
    """The core's user id: `slack:<team or enterprise>:<user>`."""
    return f"slack:{context.team_id or context.enterprise_id or '-'}:{user_id}"


def from_bot(event: Mapping[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile")
                or event.get("subtype") == "bot_message")


def member_message(context: BoltContext, event: Mapping[str, Any]) -> Message:
    """A member's message (DM or mention) for the core; a command word becomes the command."""
    attachment = "file" if event.get("files") or event.get("subtype") == "file_share" else None
    return request(context, event.get("user", ""), event.get("text") or "",
                    attachment=attachment)


def request(context: BoltContext, user_id: str, slack_text: str, **fields: Any) -> Message:
    fields.setdefault("delivery", context.get(KEY))  # a retried delivery keeps its key
    text = valid_text(render.plain_from_slack(slack_text))
    command: tuple[Command, str] | None = slack_commands.parse(text)
    if command:
        return Message(text=text, user=user_of(context, user_id), channel="slack",
                       command=command[0], args=command[1])
    return Message(text=text, user=user_of(context, user_id), channel="slack", **fields)


def locale_lang(client: WebClient, user_id: str) -> Lang:
    """The member's Slack locale as fr/en; French when unknown (the core's default too)."""
    try:
        found = client.users_info(user=user_id, include_locale=True)
    except SlackClientError as error:
        log.warning("users.info failed, App Home in French: %s", error)
        return "fr"
    user = found.get("user") or {}
    return "en" if str(user.get("locale", "")).lower().startswith("en") else "fr"


def member_lang(context: BoltContext, client: WebClient, user_id: str) -> Lang:
    """The member's language: their choice, else their Slack locale."""
    chosen = core_of(context).handle(Message(text="", user=user_of(context, user_id),
                                           channel="slack", command="help",
                                           locale=locale_lang(client, user_id)))
    return chosen.lang


def post(client: WebClient, channel: str, reply: Reply, thread_ts: str | None = None) -> None:
    """The reply, then the case builder's papers if it has any (each as a message and a file).

    `channel` may be a member's id: Slack then posts in their direct messages with the app, and
    answers with that conversation's id, which file uploads need."""
    if not reply.blocks:  # the core chose silence (a flooding member was already told to wait)
        return
    posted = client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False,
                                     unfurl_media=False, **render.message(reply))
    if reply.documents:
        send_documents(client, str(posted.get("channel") or channel), reply, thread_ts)


def send_documents(client: WebClient, channel: str, reply: Reply,
                    thread_ts: str | None) -> None:
    """Each paper's text as a message, then its editable file. A paper that cannot be sent is
    logged and the others still go: the case is already closed, nothing could send it again."""
    for document in reply.documents:
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False,
                                    unfurl_media=False, **render.document_message(document))
        except SlackClientError as error:
            log.warning("slack: a case paper's text was not posted (%s)", reason(error))
        if not document.data:
            continue
        try:
            client.files_upload_v2(channel=channel, thread_ts=thread_ts, file=document.data,
                                   filename=document.filename, title=document.title,
                                   initial_comment=None)
        except (SlackClientError, OSError) as error:
            log.warning("slack: a case paper's file was not uploaded (%s)", reason(error))


def reason(error: Exception) -> str:
    """Why a Web API call failed, without what was sent (file names hold what members typed)."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__


def private_reply(reply: Reply) -> bool:
    """A case question or the papers: only for the member, in their direct messages."""
    return reply.kind == "case" and bool(reply.choices or reply.documents)


def in_private_note(lang: Lang) -> dict[str, Any]:
    """The short line shown where a case was started outside the direct messages."""
    return render.note(say("case_in_private", lang))


def thread_of(body: Mapping[str, Any]) -> str | None:
    container = body.get("container") or {}
    return container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")


def tell(client: WebClient, channel: str, user_id: str, thread_ts: str | None,
          shown: dict[str, Any]) -> None:
    """A line for one member only, where they are; a failure is logged (it is only a note)."""
    try:
        client.chat_postEphemeral(channel=channel, user=user_id, thread_ts=thread_ts, **shown)
    except SlackClientError as error:
        log.warning("slack: a private note was not posted (%s)", reason(error))


def close_question(client: WebClient, body: Mapping[str, Any], channel: str,
                    label: str) -> None:
    """The pressed question's case buttons become one line saying the answer, so it cannot be
    answered twice; the question stays readable. A failure is logged: the case goes on."""
    pressed = body.get("message") or {}
    blocks = render.answered(list(pressed.get("blocks") or []), label)
    if blocks is None or not pressed.get("ts"):
        return
    try:
        client.chat_update(channel=channel, ts=pressed["ts"], blocks=blocks,
                           text=pressed.get("text") or "")
    except SlackClientError as error:
        log.warning("slack: an answered question kept its buttons (%s)", reason(error))
