"""The case builder around the pure flow: drafts kept in the state database between messages,
24-hour expiry, the questions and buttons of each step, and the papers at the end.

Nothing of a case outlives it: its answers are erased 10 minutes after the papers are made (time
for a platform to retry a failed send), when the seller cancels or types /oubli, or after 24
hours without an answer. What stays is a count per platform, problem and outcome, for
`charterbot report cases` and /stats.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.case import flow
from bot.case.book import CaseBook
from bot.case.dates import story_date
from bot.case.flow import Draft
from bot.case.papers import papers
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.model import Block, Choice, Lang, Reply
from bot.phrases import long_date, say
from bot.state import State, valid_text

CASE_TTL = timedelta(hours=24)   # a case without an answer for this long is erased
# A finished case is kept this long after its papers were made, so that a platform retrying a
# delivery whose send failed gets the same papers again; then it is erased.
REPLAY_WINDOW = timedelta(minutes=10)
LOCAL_TIME = ZoneInfo("Europe/Paris")  # "today" and "yesterday" as a French seller means them
OTHER_PLATFORM = "other"         # how a platform typed by the seller is counted (no content)


def today() -> date:
    return datetime.now(LOCAL_TIME).date()


class EngineReader:
    """The flow's `Reader`: the engine's platform names and answers, mapped to case problems."""

    def __init__(self, engine: Engine, book: CaseBook) -> None:
        self.engine, self.book = engine, book

    def platform(self, text: str) -> str | None:
        mentions = self.engine.analyser.read(text).mentions
        return mentions[0].platform.name if mentions else None

    def problem(self, text: str) -> str | None:
        decision = self.engine.decide(text)
        for entry in (decision.entry, *decision.options):
            problem = self.book.problem_for_entry(entry.id) if entry else None
            if problem:
                return problem.id
        return None


class CaseDesk:
    """Starts, continues, cancels and expires the sellers' cases."""

    def __init__(self, state: State) -> None:
        self.state = state

    # -- reading the state ---------------------------------------------------------------------
    def current(self, seller: str) -> Draft | None:
        """The seller's case under way, or one just finished (step "done", within the replay
        window); None if there is none or it just expired."""
        found = self.state.case(seller)
        if found is None:
            return None
        data, updated, version = found
        try:
            draft = replace(Draft.from_json(data), version=version)
        except (ValueError, TypeError, KeyError):  # written by an incompatible version
            self._close(seller, data, "expired")
            return None
        if draft.step == "done" and updated < _cutoff(REPLAY_WINDOW):
            self.state.drop_case(seller)
            return None
        if updated < _cutoff(CASE_TTL):
            self._close(seller, data, "expired")
            return None
        return draft

    def expire_idle(self) -> int:
        """Erase finished cases past the replay window, and cases idle for CASE_TTL (counted as
        expired); how many were erased."""
        erased = 0
        for seller, data in self.state.idle_cases(_cutoff(REPLAY_WINDOW)):
            if _finished(data):
                self.state.drop_case(seller)
                erased += 1
        for seller, data in self.state.idle_cases(_cutoff(CASE_TTL)):
            erased += self._close(seller, data, "expired")
        return erased

    # -- the conversation ----------------------------------------------------------------------
    def start(self, seller: str, lang: Lang, knowledge: Knowledge, engine: Engine,
              story: str = "", problem: str = "", platform: str = "", day: str = "") -> Reply:
        """A new case (an older one is replaced), pre-filled from a story or a button."""
        book = knowledge.cases
        if book is None:
            return _notice("case_unavailable", lang)
        self._replace_older(seller)
        reader = EngineReader(engine, book)
        if story.strip():
            platform = platform or reader.platform(story) or ""
            problem = problem or reader.problem(story) or ""
            found = story_date(story, today())
            day = day or (found.isoformat() if found else "")
        known = any(p.name == platform for p in knowledge.platforms)
        draft = flow.start(lang, book, problem, platform, known, day)
        self.state.save_case(seller, draft.to_json())
        return prompt(draft, book, intro=True)

    def respond(self, seller: str, knowledge: Knowledge, engine: Engine, text: str = "",
                value: str = "", delivery: str | None = None) -> Reply | None:
        """The reply to the seller's answer (typed `text` or pressed `value`) for their case:
        the next question, the papers, the papers again for a retried delivery; None when no
        case is under way (then a text is a question like any other)."""
        draft = self.current(seller)
        if draft is None:
            return None
        if draft.step == "done":
            return self.replay(seller, draft, knowledge, text, value, delivery)
        return self.answer(seller, draft, knowledge, engine, text, value, delivery)

    def answer(self, seller: str, draft: Draft, knowledge: Knowledge, engine: Engine,
               text: str = "", value: str = "", delivery: str | None = None) -> Reply:
        """The seller's answer to the current step: the next question, or the papers. The same
        `delivery` again (the platform retrying a reply that failed) asks the current question
        again rather than taking the answer for the next one."""
        book = knowledge.cases
        if book is None:
            return _notice("case_unavailable", draft.lang)
        if delivery and delivery == draft.delivery:
            return prompt(draft, book)
        answered = flow.step_of(draft.pressed) if draft.pressed else None
        if value and answered not in (None, draft.step) and flow.step_of(value) == answered:
            return _silence(draft.lang)  # a second tap on the question just answered
        outcome = flow.answer(draft, book, EngineReader(engine, book), today(), valid_text(text),
                              valid_text(value))
        taken = not (outcome.misunderstood or outcome.stale)
        updated = replace(outcome.draft, delivery=valid_text(delivery or "")[:200],
                          pressed=valid_text(value)[:100] if taken else draft.pressed)
        if updated.step != "done":
            if not self.state.update_case(seller, updated.to_json(), draft.version):
                return self._overtaken(seller, draft.lang)
            return prompt(updated, book, misunderstood=outcome.misunderstood,
                          stale=outcome.stale, hint=outcome.hint)
        return self._papers(seller, knowledge, updated)

    def _overtaken(self, seller: str, lang: Lang) -> Reply:
        """The case changed while this answer was read: another answer got there first (it is
        being answered: say nothing more), or the case was cancelled or erased."""
        return _silence(lang) if self.state.case(seller) else _notice("case_none", lang)

    def replay(self, seller: str, draft: Draft, knowledge: Knowledge, text: str = "",
               value: str = "", delivery: str | None = None) -> Reply | None:
        """For a finished case: the same papers again when the answer that finished it comes
        again (a retried delivery); None for anything else, and the case is erased."""
        same_answer = flow.answer_key(text, value) == draft.final
        if delivery and draft.delivery and delivery != draft.delivery:
            if same_answer and value:  # the last button pressed twice: the papers went already
                return _silence(draft.lang)
            same_answer = False
        if knowledge.cases is not None and same_answer:
            return _papers_reply(knowledge, draft)
        self.state.drop_case(seller)
        return None

    def submit(self, seller: str, lang: Lang, knowledge: Knowledge, engine: Engine,
               fields: dict[str, str], delivery: str | None = None) -> Reply:
        """The papers for a case filled in one go (Slack's form): `fields` holds `platform`,
        `problem` (an id), `date` and `notice` (ISO days, or "none" for no warning), `said`
        ("none", "vague" or the pasted message) and `refs`; any may be empty. Like a case
        finished in conversation, it is kept for REPLAY_WINDOW: the same `delivery` again (a
        retried form) gets the same papers, counted once."""
        book = knowledge.cases
        if book is None:
            return _notice("case_unavailable", lang)
        done = self.current(seller)
        if done is not None and done.step == "done" and delivery and done.delivery == delivery:
            return _papers_reply(knowledge, done)
        reader = EngineReader(engine, book)
        typed = " ".join(fields.get("platform", "").split())
        named = typed if typed in book.platforms else (reader.platform(typed) if typed else None)
        said = fields.get("said", "").strip()
        picked = book.problem(fields.get("problem", ""))
        problem = picked.id if picked else "other"
        day = _day(fields.get("date", ""), future=picked is not None and picked.notice == "terms")
        warned = "none" if fields.get("notice") == "none" else _day(fields.get("notice", ""))
        if warned not in ("", "none") and day and warned > day:  # a warning after the measure
            warned = ""
        draft = Draft(lang=lang, step="done", platform=(named or typed)[:flow.MAX_PLATFORM_CHARS],
                      known=named is not None, problem=problem, date=day, notice=warned,
                      said=said if said in ("none", "vague") else "",
                      said_text="" if said in ("none", "vague") else said[:flow.MAX_SAID_CHARS],
                      refs=" ".join(fields.get("refs", "").split())[:flow.MAX_REFS_CHARS],
                      delivery=valid_text(delivery or "")[:200])
        self._replace_older(seller)
        self.state.save_case(seller, draft.to_json())  # then finished like a conversation's case
        return self._papers(seller, knowledge, replace(draft, version=1))

    def _papers(self, seller: str, knowledge: Knowledge, draft: Draft) -> Reply:
        """The papers; the case stays (step "done") for REPLAY_WINDOW, counted completed once
        (the same answer handled twice at once by two processes makes one set of papers)."""
        reply = _papers_reply(knowledge, draft)
        if not self.state.finish_case(seller, draft.to_json(), draft.version,
                                      _counted_platform(draft), draft.problem or None):
            return self._overtaken(seller, draft.lang)
        return reply

    def cancel(self, seller: str, lang: Lang) -> Reply:
        """Drop the seller's case, if any (a finished one is erased, not counted again)."""
        draft = self.current(seller)
        if draft is not None and draft.step == "done":
            self.state.drop_case(seller)
            return _notice("case_none", lang)
        if draft is None or not self.state.close_case(seller, _counted_platform(draft),
                                                      draft.problem or None, "cancelled"):
            return _notice("case_none", lang)
        return _notice("case_cancelled", lang)

    def _replace_older(self, seller: str) -> None:
        """A new case replaces the seller's older one: counted as cancelled if it was under
        way (a finished one is counted already)."""
        older = self.current(seller)
        if older is not None and older.step == "done":
            self.state.drop_case(seller)
        elif older is not None:
            self.state.close_case(seller, _counted_platform(older), older.problem or None,
                                  "cancelled")

    def _close(self, seller: str, data: str, outcome: str) -> bool:
        try:
            draft: Draft | None = Draft.from_json(data)
        except (ValueError, TypeError, KeyError):
            draft = None
        platform = _counted_platform(draft) if draft else None
        return self.state.close_case(seller, platform, draft.problem or None if draft else None,
                                     outcome)


def prompt(draft: Draft, book: CaseBook, intro: bool = False, misunderstood: bool = False,
           stale: bool = False, hint: str = "") -> Reply:
    """The question of the draft's current step, with its buttons (always one to cancel)."""
    lang, step = draft.lang, draft.step
    blocks = []
    if intro:
        blocks.append(Block("paragraph", say("case_intro", lang)))
    if misunderstood:
        blocks.append(Block("note", say(hint or "case_not_understood", lang)))
    if stale:
        blocks.append(Block("note", say("case_stale", lang)))
    if step == "confirm":
        blocks.append(Block("paragraph", say("case_confirm", lang, summary=summary(draft, book))))
    else:
        path = steps_of(draft, book)
        number = path.index(step) + 1 if step in path else len(path)
        key = "case_ask_date_terms" if step == "date" and flow.coming_change(draft, book) \
            else f"case_ask_{step}"
        blocks.append(Block("paragraph", say(key, lang, n=number, total=len(path))))
    choices = _choices(draft, book) + (Choice(say("case_cancel", lang), "cancel"),)
    return Reply(kind="case", lang=lang, blocks=tuple(blocks), choices=choices,
                 extra={"stale": True} if stale else {})


def steps_of(draft: Draft, book: CaseBook) -> list[str]:
    """The questions of this case, in order (the notice one only when it applies, or while the
    problem is unknown: the count may then go down, never up)."""
    return [s for s in flow.STEPS[1:]
            if s != "notice" or not draft.problem or flow.needs_notice(draft, book)]


def summary(draft: Draft, book: CaseBook) -> str:
    """What a pre-filled case says so far: "Amazon, compte fermé, le 1er décembre 2026"."""
    lang = draft.lang
    problem = book.problem(draft.problem)
    parts = [draft.platform] if draft.platform else []
    if problem:
        parts.append(problem.label[lang].lower())
    if draft.date:
        parts.append(say("case_on", lang, date=long_date(draft.date, lang)))
    return ", ".join(parts)


def _choices(draft: Draft, book: CaseBook) -> tuple[Choice, ...]:
    lang, step = draft.lang, draft.step
    if step == "confirm":
        return (Choice(say("case_ok", lang), flow.OK), Choice(say("case_edit", lang), flow.EDIT))
    if step == "platform":
        return tuple(Choice(name, f"p:{name}") for name in book.platforms)
    if step == "problem":
        return tuple(Choice(p.label[lang], f"k:{p.id}") for p in book.problems)
    if step == "date":
        return (Choice(say("case_today", lang), flow.TODAY),
                Choice(say("case_yesterday", lang), flow.YESTERDAY),
                Choice(say("case_unknown", lang), flow.UNKNOWN))
    if step == "notice":
        return (Choice(say("case_not_warned", lang), flow.NOT_WARNED),
                Choice(say("case_same_day", lang), flow.WARNED_SAME_DAY),
                Choice(say("case_unknown", lang), flow.NOTICE_UNKNOWN))
    if step == "said":
        return (Choice(say("case_said_none", lang), flow.SAID_NONE),
                Choice(say("case_said_vague", lang), flow.SAID_VAGUE))
    if step == "refs":
        return (Choice(say("case_skip", lang), flow.SKIP),)
    return ()


def _day(value: str, future: bool = False) -> str:
    """An ISO day no later than today (unless `future`), else empty."""
    day = flow.iso_day(value)
    return day.isoformat() if day and (future or day <= today()) else ""


def _finished(data: str) -> bool:
    try:
        return Draft.from_json(data).step == "done"
    except (ValueError, TypeError, KeyError):
        return False


def _silence(lang: Lang) -> Reply:
    """A notice without blocks: adapters send nothing."""
    return Reply(kind="notice", lang=lang, blocks=())


def _papers_reply(knowledge: Knowledge, draft: Draft) -> Reply:
    return Reply(kind="case", lang=draft.lang,
                 blocks=(Block("paragraph", say("case_done", draft.lang)),),
                 documents=papers(knowledge, draft, today()))


def _counted_platform(draft: Draft) -> str:
    return draft.platform if draft.known else OTHER_PLATFORM


def _cutoff(age: timedelta) -> str:
    return (datetime.now(UTC) - age).isoformat(timespec="seconds")


def _notice(key: str, lang: Lang) -> Reply:
    return Reply(kind="case", lang=lang, blocks=(Block("paragraph", say(key, lang)),))
