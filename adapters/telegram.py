"""The Telegram adapter: updates in, core messages through, Telegram calls out.

A thin translator around `Charterbot` (see docs/core-api.md): a command, a text, an attachment or a
button press becomes a core `Message` (or a `feedback` call), and the core's `Reply` is rendered by
`adapters.telegram_render` into HTML messages and an inline keyboard. No wording is decided here.

Every update goes through `adapters.telegram_delivery.ChatProcessor` first: stored in the
inbox (a webhook stores it before its 200), claimed by one process only, handled in its chat's
lane (chats side by side), and marked answered once the reply was sent.

Handlers, in the order python-telegram-bot tries them:
  group  0  on_command        /start [payload], /help, /signataires, /recours, /langue,
                              /dossier, /annuler, ...
            on_button         suggestions (e:<lang>:<entry>), details (m:...), 👍 / 👎
                              (f:+:<entry>, f:-:<entry>), case-builder choices (c:<lang>:<value>)
            on_text           any other text (unknown /commands included; during a case, the
                              answer to its question: the core knows)
            on_attachment     stickers, photos, voice notes, files...
In groups only commands, replies to the bot and messages mentioning it are answered, as replies.
A case (/dossier) holds a seller's details, so it is only built in the private chat: in a group,
/dossier and the case builder's buttons answer with a button to that chat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    Chat,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    MaybeInaccessibleMessage,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram import Message as TelegramMessage
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from tornado.httpserver import HTTPServer

from adapters import telegram_webhook
from adapters.telegram_delivery import ChatProcessor, ChatRateLimiter
from adapters.telegram_render import (
    document_messages,
    keyboard,
    parse_press,
    private_link,
    render,
    without_choices,
    without_feedback,
)
from bot.inbox import Inbox
from bot.model import Command, Lang, Message, Reply
from bot.phrases import say
from bot.service import Charterbot
from bot.settings import ConfigError, Settings, require
from bot.shared import shared_erasure_refused
from bot.state import valid_text

log = logging.getLogger("charterbot.telegram")

CHANNEL = "telegram"
DEFAULT_API_URL = "https://api.telegram.org/bot"
WEBHOOK_PATH = "telegram"
LISTEN_ALL = "0.0.0.0"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
BOOTSTRAP_RETRIES = 3  # getMe / setWebhook attempts at start-up before giving up
CALLBACK_ANSWER_LIMIT = 200  # characters Telegram shows in a callback answer
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
EXIT_OK, EXIT_UNREACHABLE, EXIT_CONFIG = 0, 1, 2
ADMIN_COMMANDS = ("stats", "unanswered", "reload")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
NOT_MODIFIED = "message is not modified"  # Telegram's 400 for an edit that changes nothing

# Telegram command -> core command. Unknown commands addressed to the bot get `help`.
COMMANDS: dict[str, Command] = {
    "start": "start", "help": "help", "aide": "help",
    "signataires": "signatories", "signatories": "signatories",
    "recours": "escalate", "escalate": "escalate",
    "langue": "language", "language": "language",
    "oubli": "forget", "forget": "forget",
    "dossier": "case", "case": "case", "annuler": "cancel", "cancel": "cancel",
    "stats": "stats", "unanswered": "unanswered", "reload": "reload",
}
# The command menu (setMyCommands). Telegram UI metadata, not answers: the core has no menu texts.
MENU: dict[Lang, tuple[tuple[str, str], ...]] = {
    "fr": (("start", "Accueil et sujets"), ("help", "Aide"),
           ("signataires", "Les plateformes signataires de la charte"),
           ("recours", "Mes recours, étape par étape"), ("langue", "Langue : fr ou en"),
           ("dossier", "Préparer ma réclamation"), ("annuler", "Annuler le dossier en cours"),
           ("oubli", "Effacer mes données")),
    "en": (("start", "Welcome and topics"), ("help", "Help"),
           ("signatories", "Platforms that signed the charter"),
           ("escalate", "How to escalate, step by step"), ("language", "Language: fr or en"),
           ("case", "Prepare my complaint"), ("cancel", "Cancel the case under way"),
           ("forget", "Erase my data")),
}
# Attribute of a Telegram message -> the core's attachment kind, first match wins.
ATTACHMENTS = (("sticker", "sticker"), ("photo", "photo"), ("voice", "voice"),
               ("video_note", "video"), ("video", "video"), ("animation", "video"),
               ("audio", "audio"), ("document", "file"), ("location", "location"),
               ("venue", "location"), ("contact", "contact"), ("poll", "poll"))

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class TelegramConfig:
    """What the adapter reads from the environment; webhook fields only matter with --webhook."""

    token: str
    api_url: str = DEFAULT_API_URL
    webhook: bool = False
    webhook_url: str = ""
    webhook_secret: str = ""
    port: int = 0

    @classmethod
    def from_env(cls, env: dict[str, str], webhook: bool = False) -> TelegramConfig:
        """Read TELEGRAM_* (and PORT for a webhook); ConfigError names every missing variable."""
        names = ["TELEGRAM_BOT_TOKEN"]
        if webhook:
            names += ["TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "PORT"]
        values = require({k: v.strip() for k, v in env.items() if k in names}, *names)
        api_url = env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL
        if not webhook:
            return cls(values["TELEGRAM_BOT_TOKEN"], api_url)
        if not SECRET_PATTERN.fullmatch(values["TELEGRAM_WEBHOOK_SECRET"]):
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
        if not (values["PORT"].isascii() and values["PORT"].isdigit()) or not 0 < int(values["PORT"]) < 65536:
            raise ConfigError(f"PORT must be a TCP port number, not '{values['PORT']}'")
        return cls(values["TELEGRAM_BOT_TOKEN"], api_url, True, values["TELEGRAM_WEBHOOK_URL"],
                   values["TELEGRAM_WEBHOOK_SECRET"], int(values["PORT"]))


# --- callbacks ---------------------------------------------------------------------------------

def to_message(user: User, text: str, sender_chat: Chat | None = None, **fields: Any) -> Message:
    """The core's message for something a Telegram user sent.

    Someone posting as a chat (an anonymous group admin, a linked channel) is that chat: all
    anonymous admins share Telegram's one placeholder user, so they are told apart by group.
    """
    sender = f"{CHANNEL}:chat:{sender_chat.id}" if sender_chat else f"{CHANNEL}:{user.id}"
    return Message(text=valid_text(text), user=sender, channel=CHANNEL,
                   locale=None if sender_chat else user.language_code, **fields)


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a known /command, with its arguments or deep-link payload.

    Staff commands run in a worker thread, so grouping many unanswered questions never holds up
    other sellers' answers (other chats run in their own lanes anyway).
    """
    message, user = update.message, update.effective_user
    if message is None or user is None or not message.text:
        return
    name = message.text.split()[0][1:].split("@")[0].lower()
    request = to_message(user, message.text, message.sender_chat,
                         command=COMMANDS.get(name, "help"), args=" ".join(context.args or []),
                         in_public=message.chat.type != ChatType.PRIVATE)
    core = _core(context)
    if request.command == "forget" and message.sender_chat:
        reply = shared_erasure_refused(core, request.user)
    elif request.command in ADMIN_COMMANDS:
        reply = await asyncio.to_thread(core.handle, request)
    else:
        reply = core.handle(request)
    await send_reply(context.bot, message.chat, reply, _quote(message), _thread(message))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message: any in private, in groups only those addressed to the bot."""
    message, user = update.message, update.effective_user
    if message is None or user is None or not addressed(message, context.bot):
        return
    text = strip_mention(message.text or "", context.bot.username)
    # a /command the bot does not have gets the help
    request = to_message(user, text, message.sender_chat,
                         command="help" if text.startswith("/") else None,
                         in_public=message.chat.type != ChatType.PRIVATE,
                         delivery=f"{CHANNEL}:{update.update_id}")
    await send_reply(context.bot, message.chat, _core(context).handle(request), _quote(message),
                     _thread(message))


async def on_attachment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a sticker, photo, voice note or file; a caption, if any, is the question."""
    message, user = update.message, update.effective_user
    if message is None or user is None or not addressed(message, context.bot):
        return
    request = to_message(user, strip_mention(message.caption or "", context.bot.username),
                         message.sender_chat, attachment=attachment_kind(message),
                         in_public=message.chat.type != ChatType.PRIVATE)
    await send_reply(context.bot, message.chat, _core(context).handle(request), _quote(message),
                     _thread(message))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open the entry a suggestion button names, send the details behind a button of an answer
    (as a reply to that answer), store the 👍 / 👎 pressed, or pass a case-builder choice on."""
    query = update.callback_query
    if query is None:
        return
    press, user = parse_press(query.data), f"{CHANNEL}:{query.from_user.id}"
    if press is None:  # a button from an older version of the bot
        await query.answer()
        return
    core = _core(context)
    if press.answer is not None:
        await query.answer()
        await on_choice(context.bot, core, query.message, user, press.answer, press.lang,
                        f"{CHANNEL}:{update.update_id}")
        return
    if press.useful is not None:
        thanks = core.feedback(user, press.entry, press.useful)
        await query.answer(thanks.text[:CALLBACK_ANSWER_LIMIT])
        await _drop_feedback_buttons(query.message)
        return
    await query.answer()
    if query.message is not None:
        reply = core.handle(Message(text="", user=user, channel=CHANNEL, entry=press.entry,
                                    lang=press.lang, more=press.more, platform=press.platform))
        # details go under the answer they expand, even in a private chat
        quote = query.message.message_id if press.more else _quote(query.message)
        await send_reply(context.bot, query.message.chat, reply, quote, _thread(query.message))


async def on_choice(bot: ExtBot[Any], core: Charterbot, message: object, user: str, value: str,
                    lang: Lang | None, delivery: str | None = None) -> None:
    """A case-builder button: its choices leave the question (so it cannot be answered twice),
    then the core's next question, or the papers. A second press on a question already answered
    (a double tap) changes nothing; in a group, the seller is sent to the private chat."""
    if not isinstance(message, MaybeInaccessibleMessage):
        return
    if message.chat.type != ChatType.PRIVATE:  # the core answers with the private-chat link
        request = Message(text="", user=user, channel=CHANNEL, answer=value, lang=lang,
                          in_public=True)
        await send_reply(bot, message.chat, core.handle(request), message.message_id,
                         _thread(message))
        return
    # a message Telegram no longer shows the bot (InaccessibleMessage): no buttons to take off.
    # Buttons already gone: a double tap, or this update retried after a failed send; the core
    # tells them apart (the delivery id) and answers a retry, a double tap with nothing.
    if isinstance(message, TelegramMessage):
        await _drop_choices(message)
    reply = core.handle(Message(text="", user=user, channel=CHANNEL, answer=value, lang=lang,
                                delivery=delivery))
    await send_reply(bot, message.chat, reply, None, _thread(message))


async def register_commands(app: AnyApplication) -> None:
    """Show the commands in Telegram's menu: French by default, English for English clients."""
    await register_menu(app.bot)


async def register_menu(bot: Any) -> None:
    """The command menu, for a bot outside an Application too (`charterbot release`)."""
    menus: tuple[tuple[Lang, str | None], ...] = (("fr", None), ("fr", "fr"), ("en", "en"))
    for lang, language_code in menus:
        commands = [BotCommand(name, description) for name, description in MENU[lang]]
        try:
            await bot.set_my_commands(commands, language_code=language_code)
        except TelegramError as exc:  # the menu is a convenience: answer questions anyway
            log.warning("could not register the %s command menu: %s", lang, exc)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an error with the update that caused it, which is then tried again later (its reply
    was not sent); the bot keeps serving others."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    processor = context.application.update_processor
    if isinstance(processor, ChatProcessor):
        processor.failed(update)



# --- translation helpers -----------------------------------------------------------------------

def buttons(bot: ExtBot[Any], reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's keyboard; for a case asked for in a group, the button that opens the private
    chat with the core's /start payload (the case starts there, pre-filled)."""
    payload = reply.extra.get("private_start")
    if isinstance(payload, str) and bot.username:
        return private_link(say("case_private_button", reply.lang),
                            f"https://t.me/{bot.username}?start={payload}")
    return keyboard(reply)


async def send_reply(bot: ExtBot[Any], chat: Chat, reply: Reply, reply_to: int | None,
                     thread: int | None = None, markup: InlineKeyboardMarkup | None = None
                     ) -> None:
    """Send a Reply as one or more HTML messages; the keyboard (`markup`, else the reply's
    buttons) goes with the last one. The case builder's papers follow, each as messages and
    then as its editable file.

    In a forum topic the messages go to that topic (`thread`). A seller who blocked the bot, or a
    chat the bot left, is one log line; a group that became a supergroup gets the answer at its
    new id.
    """
    chunks, markup = render(reply), markup if markup is not None else buttons(bot, reply)
    sends: list[partial[Any]] = []
    for number, chunk in enumerate(chunks):
        first, last = number == 0, number == len(chunks) - 1
        quote = (ReplyParameters(reply_to, allow_sending_without_reply=True)
                 if first and reply_to else None)
        sends.append(partial(bot.send_message, text=chunk, parse_mode=ParseMode.HTML,
                             link_preview_options=NO_PREVIEW, message_thread_id=thread,
                             reply_markup=markup if last else None, reply_parameters=quote))
    for document in reply.documents:
        sends += [partial(bot.send_message, text=chunk, parse_mode=ParseMode.HTML,
                          link_preview_options=NO_PREVIEW, message_thread_id=thread)
                  for chunk in document_messages(document)]
        sends.append(partial(bot.send_document,
                             document=InputFile(document.data, filename=document.filename),
                             caption=document.title, message_thread_id=thread))
    chat_id: int = chat.id
    for send in sends:
        try:
            await send(chat_id=chat_id)
        except ChatMigrated as moved:
            log.info("telegram: chat %s is now %s, answering there", chat_id, moved.new_chat_id)
            chat_id = int(moved.new_chat_id)
            await send(chat_id=chat_id, reply_parameters=None)  # the quoted id was the old chat's
        except Forbidden as refused:
            log.info("telegram: cannot write to chat %s (%s), answer dropped", chat_id,
                     refused.message)
            return


def _thread(message: object) -> int | None:
    """The forum topic a message was posted in, to answer there (None outside topics)."""
    if isinstance(message, TelegramMessage) and message.is_topic_message:
        return message.message_thread_id
    return None


def addressed(message: TelegramMessage, bot: ExtBot[Any]) -> bool:
    """Whether the bot should answer: always in private, in groups when replied to or mentioned."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    # in a forum topic every message "replies" to the topic's first message: a topic the bot
    # opened is not a conversation with it
    if (replied and replied.from_user and replied.from_user.id == bot.id
            and not replied.forum_topic_created):
        return True
    return mentions_bot(message, bot)


def mentions_bot(message: TelegramMessage, bot: ExtBot[Any]) -> bool:
    """Whether the text or caption names the bot: @username, a text mention, /command@username."""
    handle = f"@{bot.username}".lower()
    kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION,
                               MessageEntity.BOT_COMMAND]
    found = {**message.parse_entities(kinds), **message.parse_caption_entities(kinds)}
    for entity, text in found.items():
        if entity.type == MessageEntity.TEXT_MENTION:
            if entity.user and entity.user.id == bot.id:
                return True
        elif text.lower() == handle or text.lower().endswith(handle):
            return True
    return False


def strip_mention(text: str, username: str | None) -> str:
    """The text without '@botname' (so the core sees only the question)."""
    if not username:
        return text.strip()
    return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE).strip()


def attachment_kind(message: TelegramMessage) -> str:
    """What was sent instead of text: sticker, photo, voice, video, audio, file..."""
    for attribute, kind in ATTACHMENTS:
        if getattr(message, attribute, None):
            return kind
    return "file"


def _quote(message: object) -> int | None:
    """The id to reply to: the message answered in a group, nothing in a private chat."""
    chat = getattr(message, "chat", None)
    if chat is None or chat.type == ChatType.PRIVATE:
        return None
    return getattr(message, "message_id", None)


async def _drop_choices(message: TelegramMessage) -> bool:
    """Remove the case builder's choices from the message a choice was pressed on; False when
    they were already gone (a double tap, or a retried update)."""
    if message.reply_markup is None:
        return True
    try:
        await message.edit_reply_markup(without_choices(message.reply_markup))
    except BadRequest as exc:
        if NOT_MODIFIED in exc.message.lower():
            log.info("telegram: a case question's buttons were already gone (double tap or retry)")
            return False
        log.info("could not remove the case buttons: %s", exc)  # too old, or deleted
    return True


async def _drop_feedback_buttons(message: object) -> None:
    """Remove the 👍 / 👎 row once the seller has rated (no-op if the message is gone)."""
    if not isinstance(message, TelegramMessage) or message.reply_markup is None:
        return
    markup: InlineKeyboardMarkup | None = without_feedback(message.reply_markup)
    try:
        await message.edit_reply_markup(markup)
    except BadRequest as exc:  # too old, or already edited by a double tap
        log.info("could not remove the feedback buttons: %s", exc)


class RedactToken(logging.Filter):
    """Replaces the bot token in log lines and tracebacks (PTB puts it in some error messages)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record without the token; never drops it."""
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        return True


def _core(context: ContextTypes.DEFAULT_TYPE) -> Charterbot:
    core: Charterbot = context.bot_data["core"]
    return core


# --- wiring ------------------------------------------------------------------------------------

def build(core: Charterbot, config: TelegramConfig,
          limiter: ChatRateLimiter | None = None) -> AnyApplication:
    """The python-telegram-bot Application for `core`, handlers registered, not yet running."""
    inbox = Inbox(core.state, CHANNEL)
    processor = ChatProcessor(inbox)
    builder = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_url)
        .rate_limiter(limiter or ChatRateLimiter())
        .concurrent_updates(processor)
        .post_init(register_commands)
    )
    if config.webhook:  # updates come through adapters.telegram_webhook, not PTB's Updater
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data["core"] = core
    app.bot_data["inbox"] = inbox
    processor.app = app  # it hands over the updates a dead process left (from initialize on)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the token
    messages = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(list(COMMANDS), on_command, filters=messages))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(messages & filters.TEXT, on_text))
    app.add_handler(MessageHandler(messages & filters.ATTACHMENT, on_attachment))
    app.add_error_handler(on_error)
    return app


def webhook_options(config: TelegramConfig, listen: str = LISTEN_ALL) -> dict[str, Any]:
    """Arguments for PTB's run_webhook / Updater.start_webhook: path /telegram, secret checked.

    Kept for callers of PTB's own server; `run` uses `serve_webhook` instead, which checks the
    secret and the length before reading a body.
    """
    return {"listen": listen, "port": config.port, "url_path": WEBHOOK_PATH,
            "webhook_url": config.webhook_url, "secret_token": config.webhook_secret,
            "allowed_updates": ALLOWED_UPDATES}


async def start_webhook(app: AnyApplication, config: TelegramConfig,
                        listen: str = LISTEN_ALL) -> HTTPServer:
    """Serve /telegram on listen:$PORT (secret and length checked first), then setWebhook."""
    server = telegram_webhook.server(app, WEBHOOK_PATH, config.webhook_secret)
    server.listen(config.port, address=listen)
    try:
        await telegram_webhook.set_webhook(app.bot, config.webhook_url, config.webhook_secret,
                                           ALLOWED_UPDATES, BOOTSTRAP_RETRIES)
    except BaseException:
        await stop_webhook(server)
        raise
    return server


async def stop_webhook(server: HTTPServer) -> None:
    """Stop accepting updates and close the open connections."""
    server.stop()
    await server.close_all_connections()


async def serve_webhook(app: AnyApplication, config: TelegramConfig,
                        stop: asyncio.Event | None = None) -> None:
    """What run_webhook does, with charterbot's webhook server: until SIGINT / SIGTERM."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with app:  # initialize (getMe) ... shutdown
        if app.post_init:
            await app.post_init(app)
        server = await start_webhook(app, config)
        try:
            await app.start()
            await stop.wait()
            await app.stop()
        finally:
            await stop_webhook(server)


def run(app: AnyApplication, config: TelegramConfig) -> None:
    """Serve until SIGINT / SIGTERM: long polling, or the webhook on 0.0.0.0:$PORT."""
    if config.webhook:
        if urlsplit(config.webhook_url).path.rstrip("/") != f"/{WEBHOOK_PATH}":
            log.warning("TELEGRAM_WEBHOOK_URL does not end with /%s, where updates are served "
                        "(fine only if a proxy rewrites the path)", WEBHOOK_PATH)
        asyncio.run(serve_webhook(app, config))
    else:
        app.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=BOOTSTRAP_RETRIES)


def main(webhook: bool = False) -> int:
    """`charterbot run telegram [--webhook]`: returns the process exit code."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the token
    try:
        config = TelegramConfig.from_env(dict(os.environ), webhook=webhook)
        core = Charterbot(Settings.from_env())
    except ConfigError as exc:
        print(f"charterbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(config.token))
    try:
        run(build(core, config), config)
    except InvalidToken:
        print("charterbot: TELEGRAM_BOT_TOKEN was refused by the Bot API", file=sys.stderr)
        return EXIT_CONFIG
    except NetworkError as exc:
        print(f"charterbot: cannot reach the Bot API at TELEGRAM_API_URL ({exc})", file=sys.stderr)
        return EXIT_UNREACHABLE
    finally:
        core.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(webhook="--webhook" in sys.argv[1:]))
