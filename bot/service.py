"""`Charterbot`: one message in, one reply out, for every channel.

This is the only entry point adapters use (see docs/core-api.md). It never imports a platform
library.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from dataclasses import replace
from typing import Any

from bot import compose
from bot.admin import admin_reply
from bot.case import flow
from bot.case.dates import story_date
from bot.case.desk import CaseDesk, today
from bot.engine import Decision
from bot.engine.decide import MAX_CHARS, WEAK_CONFIDENCE
from bot.knowledge import Entry
from bot.lang import detect_language
from bot.library import INDEX_FILE, Library
from bot.model import Block, Choice, Command, Lang, Message, Reply
from bot.settings import Settings
from bot.state import State, open_state, valid_text

log = logging.getLogger("charterbot")

MAX_LOGGED_CHARS = 500         # what is kept of an unanswered question for staff
RATE_LIMIT_MESSAGES = 8        # per seller within RATE_LIMIT_WINDOW seconds
RATE_LIMIT_WINDOW = 20.0
RATE_LIMIT_TRACKED = 10_000    # sellers remembered before idle ones are forgotten
PURGE_EVERY_SECONDS = 3600.0
CASE_EXPIRY_EVERY_SECONDS = 60.0  # finished cases go 10 minutes after their papers, give or take this
LOCAL_CHANNELS = ("console", "cli")  # a person at this machine is not rate limited
ADMIN_COMMANDS = ("stats", "unanswered", "reload")
START_TOPICS = {"signataires": "signatory-list", "signatories": "signatory-list",
                "recours": "escalation-overview", "escalate": "escalation-overview",
                "escalation": "escalation-overview"}  # deep links to roles; else the overview
CASE_START = ("dossier", "case")  # /start payloads that open the case builder
# Words that work as the case builder's commands where "/" cannot be typed (Slack's message box)
CASE_WORDS: dict[str, Command] = {"dossier": "case", "case": "case", "annuler": "cancel",
                                  "cancel": "cancel"}
OVERVIEW_ROLES = ("charter-overview", "signatory-list", "escalation-overview")
OVERVIEW_PROBLEMS = 3  # the first problem entries of the knowledge are shown in the overview


class Charterbot:
    """The platform-neutral bot: knowledge, matching, replies and state."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        data_dir = self.settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.library = Library(self.settings.knowledge_dir, data_dir / INDEX_FILE)
        self.state: State = open_state(self.settings)
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self.cases = CaseDesk(self.state)
        self._cases_expired_at = 0.0

    # -- the one entry point -------------------------------------------------------------------
    def handle(self, message: Message) -> Reply:
        """Answer anything a person sends: question, command, button or attachment."""
        self.refresh()
        seller = self.state.pseudonym(message.user)
        lang = self._language(message, seller)
        if message.channel not in LOCAL_CHANNELS:
            over = self._over_limit(seller)
            if over == 1:
                return compose.notice("rate_limited", lang)
            if over > 1:  # told once per window; answering every flooded message would flood back
                return Reply(kind="notice", lang=lang, blocks=())
        if message.command in ("case", "cancel") or message.answer is not None:
            return self._case(message, seller, lang)
        if message.command:
            return self._command(message, seller, lang)
        if message.entry:
            return self._entry_reply(message.entry, lang, message.platform, message.more)
        if message.attachment and not message.text.strip():
            return compose.notice("text_only", lang, kind="fallback")  # a question not understood
        word = message.text.strip().lower().strip(" .!")
        if word in CASE_WORDS and not message.attachment:  # "dossier", "annuler" typed as words
            return self._case(replace(message, command=CASE_WORDS[word], args=""), seller, lang)
        if message.text.strip() and not message.in_public:  # a case under way: its answer
            reply = self.cases.respond(seller, self.library.knowledge, self.library.engine,
                                       text=message.text, delivery=message.delivery)
            if reply is not None:
                return reply
        return self._question(message, seller, lang)

    def _question(self, message: Message, seller: str, lang: Lang) -> Reply:
        decision = self.library.engine.decide(message.text)
        reply = compose.decision_reply(self.library.knowledge, decision, lang)
        if decision.verdict != "empty":
            self._log(message, seller, reply, decision)
        if reply.kind == "answer" and decision.entry:
            platform = decision.platforms[0].name if decision.platforms else ""
            reply = self._with_case_button(reply, decision.entry.id, platform, message.text)
        return reply

    # -- the case builder ----------------------------------------------------------------------
    def _case(self, message: Message, seller: str, lang: Lang) -> Reply:
        """/dossier, /annuler, and the case builder's buttons."""
        knowledge, engine = self.library.knowledge, self.library.engine
        if message.command == "cancel" or message.answer == "cancel":
            return self.cases.cancel(seller, lang)
        if message.in_public:  # a case holds the seller's details: built in private only
            return _case_private(lang, flow.start_payload(message.answer or "") or flow.DEEP_LINK)
        if message.command == "case":
            return self.cases.start(seller, lang, knowledge, engine, story=message.args)
        started = flow.parse_start(message.answer or "")
        if started:
            problem, platform, day = started
            return self.cases.start(seller, lang, knowledge, engine, problem=problem,
                                    platform=platform, day=day)
        reply = self.cases.respond(seller, knowledge, engine, value=message.answer or "",
                                   delivery=message.delivery)
        if reply is None:  # cancelled, finished or expired: a button of a case that is over
            return Reply(kind="case", lang=lang,
                         blocks=(Block("paragraph", compose.say("case_over", lang)),))
        return reply

    def _case_link(self, message: Message, seller: str, lang: Lang, args: str) -> Reply:
        """`/start dossier[_<problem>_<platform>_<day>]`, the link a group gives: the case
        starts pre-filled (in private; in a group, the link again, with a clean payload)."""
        knowledge = self.library.knowledge
        link = flow.parse_payload(args, tuple(p.name for p in knowledge.platforms))
        problem, platform, day = link or ("", "", "")
        if knowledge.cases and not knowledge.cases.problem(problem):
            problem = ""  # a problem id that is not one: left out
        if message.in_public:
            value = flow.start_value(problem, platform, day)
            return _case_private(lang, flow.start_payload(value) or flow.DEEP_LINK)
        return self.cases.start(seller, lang, knowledge, self.library.engine,
                                problem=problem, platform=platform, day=day)

    def case_form(self, lang: Lang) -> dict[str, list[tuple[str, str]]]:
        """What a one-page case form offers (Slack's modal): `platforms` and `problems` as
        (value, label) pairs, and `coming`, the problems whose measure may still be ahead (a
        change announced); empty when the knowledge has no case builder."""
        book = self.library.knowledge.cases
        if book is None:
            return {"platforms": [], "problems": [], "coming": []}
        return {"platforms": [(name, name) for name in book.platforms],
                "problems": [(p.id, p.label[lang]) for p in book.problems],
                "coming": [(p.id, p.label[lang]) for p in book.problems if p.notice == "terms"]}

    def submit_case(self, user: str, lang: Lang, fields: dict[str, str],
                    delivery: str | None = None) -> Reply:
        """The papers for a case filled in one form (see `CaseDesk.submit` for `fields`);
        `delivery`: the platform's id of the form sent, so that a retry gets the same papers."""
        self.refresh()
        seller = self.state.pseudonym(user)
        return self.cases.submit(seller, lang, self.library.knowledge, self.library.engine,
                                 {k: valid_text(str(v)) for k, v in fields.items()}, delivery)

    def _with_case_button(self, reply: Reply, entry_id: str, platform: str, story: str) -> Reply:
        """An answer about a problem the case builder knows gets "Prepare my complaint", which
        starts a case pre-filled with the problem, the platform and the day the story told."""
        book = self.library.knowledge.cases
        problem = book.problem_for_entry(entry_id) if book else None
        if problem is None:
            return reply
        day = story_date(story, today()) if story else None
        value = flow.start_value(problem.id, platform, day.isoformat() if day else "")
        return replace(reply, choices=(Choice(compose.say("case_button", reply.lang), value),))

    # -- commands and buttons ------------------------------------------------------------------
    def _command(self, message: Message, seller: str, lang: Lang) -> Reply:
        command, args = message.command, message.args.strip().lower()
        if command in ADMIN_COMMANDS:
            if not self.is_admin(message.user):
                return compose.notice("unknown_command", lang)
            return admin_reply(self, command, lang)
        if command == "language":
            return self._set_language(seller, args, lang)
        if command == "forget":
            self.state.forget(seller)
            return compose.notice("forgotten", lang, kind="command")
        if command == "signatories":
            return self._role_reply("signatory-list", lang)
        if command == "escalate":
            return self._role_reply("escalation-overview", lang)
        if command == "start" and (args in CASE_START or args.split("_")[0] == flow.DEEP_LINK):
            return self._case_link(message, seller, lang, args)
        if command == "start" and args in START_TOPICS:
            return self._role_reply(START_TOPICS[args], lang)
        return self.overview(lang)

    def _set_language(self, seller: str, args: str, lang: Lang) -> Reply:
        wanted: Lang | None = "fr" if args.startswith("fr") else "en" if args.startswith(
            ("en", "an")) else None
        if wanted is None and not args:
            wanted = "en" if lang == "fr" else "fr"
        if wanted is None:
            return compose.notice("language_usage", lang, kind="command")
        self.state.set_language(seller, wanted)
        return compose.notice("language_set", wanted, kind="command")

    def _role_reply(self, role: str, lang: Lang) -> Reply:
        entry = self.library.knowledge.role(role)
        return self._entry_reply(entry.id if entry else role, lang)

    def _entry_reply(self, entry_id: str, lang: Lang, platform: str | None = None,
                     more: str | None = None) -> Reply:
        """An entry's answer (a suggestion button), or the details behind one of its buttons."""
        knowledge = self.library.knowledge
        entry = knowledge.entry(entry_id)
        if entry is None:
            return compose.notice("unknown_entry", lang)
        named = [p for p in knowledge.platforms if p.name == platform]
        reply = compose.answer_reply(knowledge, entry, named, lang, 1.0, [])
        if more:
            return compose.expansion_reply(reply, more)
        return self._with_case_button(reply, entry.id, named[0].name if named else "", "")

    def overview(self, lang: Lang) -> Reply:
        """What the bot knows and can do, with the main topics as suggestions."""
        knowledge = self.library.knowledge
        blocks = [Block("paragraph", compose.say("overview_intro", lang))]
        help_entry = knowledge.role("help")
        if help_entry:  # its short text when it has one: the overview fits a phone screen
            blocks += compose.text_blocks(help_entry.short.get(lang) or help_entry.answer[lang])
        blocks.append(Block("paragraph", compose.signatory_line(knowledge, lang)))
        topics: list[Entry] = [e for r in OVERVIEW_ROLES if (e := knowledge.role(r))]
        topics += [e for e in knowledge.entries if e.topic == "problems"][:OVERVIEW_PROBLEMS]
        return Reply(kind="command", lang=lang, blocks=tuple(blocks),
                     suggestions=compose.suggestions(topics, lang))

    # -- other services for adapters -----------------------------------------------------------
    def feedback(self, user: str, entry: str, useful: bool) -> Reply:
        """Store a thumbs up or down for an entry."""
        seller = self.state.pseudonym(user)
        lang = self._language(Message(text="", user=user), seller)
        if self.library.knowledge.entry(entry):
            self.state.add_feedback(seller, entry, useful)
        return compose.notice("feedback_thanks", lang)

    def first_delivery(self, key: str, event: str | None = None) -> bool:
        """True the first time a delivery key is seen (durable across restarts); with `event`,
        also when that same event recorded it (the event replayed after a crash)."""
        return self.state.first_delivery(key, event)

    def is_admin(self, user: str) -> bool:
        """Whether the raw platform id in `user` is listed in CHARTERBOT_ADMINS."""
        admins = self.settings.admins
        return user in admins or user.split(":")[-1] in admins

    def refresh(self) -> None:
        """Pick up knowledge edits, and purge old records now and then."""
        self.library.refresh()
        now = time.monotonic()
        if now - self.state.purged_at > PURGE_EVERY_SECONDS:
            self.state.purge()
        if now - self._cases_expired_at > CASE_EXPIRY_EVERY_SECONDS:
            self._cases_expired_at = now
            self.cases.expire_idle()

    def close(self) -> None:
        self.state.close()

    # -- helpers -------------------------------------------------------------------------------
    def _language(self, message: Message, seller: str) -> Lang:
        if message.lang:
            return message.lang
        preferred = self.state.language(seller) or (
            "en" if (message.locale or "").lower().startswith("en") else None)
        default: Lang = "en" if preferred == "en" else "fr"
        text = message.args if message.command == "case" else message.text
        if message.command and message.command != "case" or message.entry or not text.strip():
            return default
        text = text[:MAX_CHARS]
        engine = self.library.engine
        return detect_language(text, engine.analyser.without_platforms(text), default,
                               engine.knowledge.words.markers, engine.language_of)

    def _over_limit(self, seller: str) -> int:
        """0 while within the limit, then 1, 2, ... for each message over it in the window."""
        now = time.monotonic()
        if len(self._recent) > RATE_LIMIT_TRACKED:
            self._recent = defaultdict(deque, {s: q for s, q in self._recent.items()
                                               if q and now - q[-1] <= RATE_LIMIT_WINDOW})
        recent = self._recent[seller]
        while recent and now - recent[0] > RATE_LIMIT_WINDOW:
            recent.popleft()
        recent.append(now)
        return max(0, len(recent) - RATE_LIMIT_MESSAGES)

    def _log(self, message: Message, seller: str, reply: Reply, decision: Decision) -> None:
        weak = reply.kind != "answer" and reply.kind != "smalltalk" \
            or reply.confidence < WEAK_CONFIDENCE
        best = decision.entry or decision.outside or (
            decision.options[0] if decision.options else None)
        row: dict[str, Any] = {
            "seller": seller, "channel": message.channel, "lang": reply.lang, "kind": reply.kind,
            "entry": reply.entry, "confidence": round(reply.confidence, 3),
            "platform": ", ".join(p.name for p in reply.platforms) or None,
            "text": message.text[:MAX_LOGGED_CHARS] if weak else None,
            "candidate": best.id if best and weak else None,
            "candidate_score": round(decision.confidence, 3) if best and weak else None,
        }
        self.state.log_question(row)


def _case_private(lang: Lang, payload: str) -> Reply:
    """Why a case is not built in a group or channel; `extra["private_start"]` is the /start
    payload that opens it, pre-filled, in the private chat."""
    return Reply(kind="case", lang=lang,
                 blocks=(Block("paragraph", compose.say("case_private", lang)),),
                 extra={"private_start": payload})
