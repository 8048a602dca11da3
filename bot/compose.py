"""Turn the engine's decision (an entry, a question back, or none) into a platform-neutral Reply."""

from __future__ import annotations

from bot.engine import Decision
from bot.knowledge import Caveat, Entry, Knowledge, Platform
from bot.model import (
    LANGS,
    Block,
    Expansion,
    Kind,
    Lang,
    PlatformStatus,
    Reply,
    Source,
    Suggestion,
)
from bot.phrases import long_date, say
from bot.render import block_text, first_message

# "Did X sign?" and "who signed?" both reply with the platforms' data.
SIGNATORY_ROLES = ("platform-status", "signatory-list")
MAX_SOURCES = 5
SOURCES_IN_DETAILS = 2      # sources shown under the steps or the details; all behind "Sources"
PLATFORMS_IN_FIRST = 2      # platforms whose status the first message gives in one sentence
FIRST_MESSAGE_TARGET = 80   # words of a first message: what a phone shows in one screen
FIRST_MESSAGE_MAX = 150     # never more
# escalation routes a platform's own route replaces (its complaint system, its mediators)
OWN_ROUTE = {"internal-complaint": "complaint", "platform-mediators": "mediators"}


def decision_reply(knowledge: Knowledge, decision: Decision, lang: Lang) -> Reply:
    """The reply a seller gets for the engine's decision on their message."""
    platforms = list(decision.platforms)
    if decision.verdict == "empty":
        return notice("empty", lang, kind="fallback")
    if decision.verdict == "answer" and decision.entry:
        # "your message was cut" comes first, like a caveat, within the first message's length
        told = (Caveat("too-long", {code: say("too_long", code) for code in LANGS}, ()),) \
            if decision.truncated else ()
        return answer_reply(knowledge, decision.entry, platforms, lang, decision.confidence,
                            list(decision.options), told + decision.caveats)
    if decision.verdict == "clarify":
        reply = clarify_reply(platforms, lang, decision.confidence, list(decision.options))
    else:
        reply = fallback_reply(knowledge, platforms, lang, decision.confidence,
                               list(decision.options), decision.outside)
    if decision.truncated:
        reply = Reply(**{**reply.__dict__, "blocks": (Block("note", say("too_long", lang)),
                                                      *reply.blocks)})
    return reply


def text_blocks(text: str) -> list[Block]:
    """Paragraphs from blank-line-separated text; runs of '- ' lines become list blocks."""
    blocks: list[Block] = []
    for chunk in text.strip().split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        prose = [line for line in lines if not line.startswith("- ")]
        items = tuple(line[2:].strip() for line in lines if line.startswith("- "))
        if prose:
            blocks.append(Block("paragraph", " ".join(prose)))
        if items:
            blocks.append(Block("list", items=items))
    return blocks


def platform_status(platform: Platform, lang: Lang) -> PlatformStatus:
    """Today's standing of a platform, with a one-sentence dated summary."""
    status, latest = platform.standing()
    parts = [_history_sentence(platform, status, lang)]
    parts += [e.note[lang] for e in platform.history if e.uncertain and e.note.get(lang)]
    uncertain = any(e.uncertain for e in platform.history)
    return PlatformStatus(platform.name, status, latest.date if latest else None,
                          " ".join(p for p in parts if p), uncertain)


def _history_sentence(platform: Platform, status: str, lang: Lang) -> str:
    refused, signed, renewed = (platform.first(e) for e in ("refused", "signed", "renewed"))
    name = platform.name
    if status == "unknown":
        return say("status_unknown", lang, name=name)
    if status == "refused" and refused:
        return say("status_refused", lang, name=name, when=long_date(refused.date, lang))
    if refused and signed and signed.date > refused.date:
        return say("status_refused_then_joined", lang, name=name,
                   refused=long_date(refused.date, lang), joined=long_date(signed.date, lang))
    if signed and renewed:
        return say("status_signed_renewed", lang, name=name, signed=long_date(signed.date, lang),
                   renewed=long_date(renewed.date, lang))
    if signed:
        return say("status_signed", lang, name=name, signed=long_date(signed.date, lang))
    return ""


def advice(status: PlatformStatus, lang: Lang) -> str:
    """What the platform's standing means for the seller."""
    key = "advice_signed" if status.status == "signed" else "advice_not_signed"
    return say(key, lang, name=status.name)


def signatory_lists(knowledge: Knowledge, lang: Lang) -> list[Block]:
    """Who stands signed today, and who refused with no later joining, from platforms.yaml."""
    signed, refused = [], []
    for platform in knowledge.platforms:
        status = platform_status(platform, lang)
        if status.status == "signed":
            first = platform.first("signed")
            mark = f" ({say('status_probably', lang)})" if status.uncertain else ""
            signed.append(f"{platform.name}{mark}, {long_date(first.date, lang) if first else ''}")
        elif status.status == "refused":
            refused.append(platform.name)
    blocks = [Block("heading", say("signatories_heading", lang)), Block("list", items=tuple(signed))]
    if refused:
        blocks += [Block("heading", say("refused_heading", lang)),
                   Block("list", items=tuple(refused))]
    return blocks


def escalation_steps(knowledge: Knowledge, entry: Entry, lang: Lang,
                     platform: Platform | None = None) -> list[Block]:
    """The entry's escalation routes as numbered steps: name, how, and cost. With a platform
    whose own route is known, its complaint system, mediators and time limits replace the
    general wording; otherwise a note says where to find them in the platform's terms."""
    steps = []
    for route_id in entry.escalation:
        route = knowledge.routes.get(route_id)
        if not route:
            continue
        own = platform.route_step(OWN_ROUTE[route_id]) if platform and route_id in OWN_ROUTE \
            else None
        how = _own_text(own.text[lang], own.uncertain, lang) if own else route.how[lang]
        steps.append(f"{route.name[lang]} — {how} ({route.cost[lang]})")
    if not steps:
        return []
    blocks = [Block("heading", say("escalation_heading", lang)), Block("steps", items=tuple(steps))]
    deadlines = platform.route_step("deadlines") if platform else None
    if platform and deadlines:
        blocks.append(Block("note", f"{say('own_route_heading', lang, name=platform.name)} "
                                    f"{_own_text(deadlines.text[lang], deadlines.uncertain, lang)}"))
    general = [r for r in entry.escalation if r in OWN_ROUTE
               and not (platform and platform.route_step(OWN_ROUTE[r]))]
    if general:  # what the platform's own route does not say: where to find it in its terms
        blocks.append(Block("note", say("route_in_terms", lang)))
    return blocks


def _own_text(text: str, uncertain: bool, lang: Lang) -> str:
    """A platform's own route, with a plain warning when it was not fully checked."""
    text = text.strip()
    return f"{text} {say('own_route_check', lang)}" if uncertain else text


def route_platform(platforms: list[Platform]) -> Platform | None:
    """The named platform whose own route the steps use: the first one named."""
    return platforms[0] if platforms else None


def route_sources(platform: Platform | None) -> list[str]:
    """The sources of a platform's own route."""
    return [s for step in platform.route for s in step.sources] if platform else []


def route_reviewed(platform: Platform | None, entry: Entry) -> str:
    """When the steps were checked: the oldest date among the entry and the platform's route."""
    dates = [entry.reviewed, *(step.reviewed for step in platform.route)] if platform else []
    return min((d for d in dates if d), default=entry.reviewed)


def sources_for(knowledge: Knowledge, cited: list[str]) -> tuple[Source, ...]:
    """Known ids become titled links; bare URLs are shown with their site name."""
    out: list[Source] = []
    for ref in dict.fromkeys(cited):
        doc = knowledge.sources.get(ref)
        if doc:
            out.append(Source(doc.title, doc.url))
        elif ref.startswith("http"):
            site = ref.split("/")[2].removeprefix("www.")
            out.append(Source(site, ref))
    return tuple(out)


def suggestions(entries: list[Entry], lang: Lang) -> tuple[Suggestion, ...]:
    return tuple(Suggestion(e.id, e.label(lang)) for e in entries)


def answer_reply(knowledge: Knowledge, entry: Entry, platforms: list[Platform], lang: Lang,
                 confidence: float, others: list[Entry],
                 caveats: tuple[Caveat, ...] = ()) -> Reply:
    """The answer for an entry, adapted to the platforms the question named; the caveats the
    message's facts call for come first. `blocks` is the full answer; `first` the short first
    message, and `more` the steps, sources and details behind its buttons."""
    statuses = tuple(platform_status(p, lang) for p in platforms)
    notes = [Block("note", f"{s.summary} {advice(s, lang)}") for s in statuses]
    status_first = entry.role in SIGNATORY_ROLES
    blocks = [Block("note", c.text[lang].strip()) for c in caveats]
    blocks += notes if status_first else []
    blocks += text_blocks(entry.answer[lang])
    blocks += [] if status_first else notes
    cited = list(entry.sources) + [s for c in caveats for s in c.sources]
    for platform in platforms:
        cited += [s for e in platform.history for s in e.sources]
    if entry.role in SIGNATORY_ROLES and not platforms:
        blocks += signatory_lists(knowledge, lang)
    own = route_platform(platforms)
    steps = escalation_steps(knowledge, entry, lang, own)
    blocks += steps
    if others:
        blocks.append(Block("note", say("also_about", lang)))
    smalltalk = entry.kind == "smalltalk"
    sources = () if smalltalk else sources_for(knowledge, cited + route_sources(own))
    first = tuple(first_blocks(knowledge, entry, platforms, lang, caveats, bool(others)))
    more = expansions(knowledge, entry, blocks, steps, sources, own, lang)
    return Reply(kind="smalltalk" if smalltalk else "answer", lang=lang,
                 blocks=tuple(blocks), platforms=statuses, sources=sources[:MAX_SOURCES],
                 suggestions=suggestions(others, lang), confidence=confidence, entry=entry.id,
                 reviewed=None if smalltalk else entry.reviewed, feedback=not smalltalk,
                 first=first, more=more)


def first_blocks(knowledge: Knowledge, entry: Entry, platforms: list[Platform], lang: Lang,
                 caveats: tuple[Caveat, ...], also: bool) -> list[Block]:
    """The first message: caveats, the entry's short answer, the named platforms' status in one
    sentence each (first for "did X sign?"), the signatories' names for "who signed?", and the
    platform's own route in a few words. Over FIRST_MESSAGE_TARGET words, the route summary, then
    the second caveat, make way (they stay in the steps and details)."""
    parts: list[tuple[Block, int]] = [(Block("note", c.text[lang].strip()), 2 if n else 0)
                                      for n, c in enumerate(caveats)]
    status = [(Block("note", status_sentence(p, lang)), 0) for p in platforms[:PLATFORMS_IN_FIRST]]
    status_first = entry.role in SIGNATORY_ROLES
    parts += status if status_first else []
    parts += [(b, 0) for b in text_blocks(entry.short.get(lang) or entry.answer[lang])]
    summary = platforms[0].route_step("summary") if platforms else None
    if summary and set(OWN_ROUTE) & set(entry.escalation):
        parts.append((Block("paragraph", _own_text(summary.text[lang], summary.uncertain, lang)),
                      3))
    if entry.role in SIGNATORY_ROLES and not platforms:
        parts.append((Block("paragraph", signatory_line(knowledge, lang)), 0))
    parts += [] if status_first else status
    if also:
        parts.append((Block("note", say("also_about", lang)), 0))
    return _fitted(parts)


def _fitted(parts: list[tuple[Block, int]]) -> list[Block]:
    """The blocks, leaving out the most optional ones while the whole is longer than one
    screen (FIRST_MESSAGE_TARGET): they stay behind the buttons."""
    for level in (3, 2):
        words = sum(word_count(block_text(b)) for b, _ in parts)
        if words <= FIRST_MESSAGE_TARGET:
            break
        parts = [(b, rank) for b, rank in parts if rank != level]
    return [b for b, _ in parts]


def status_sentence(platform: Platform, lang: Lang) -> str:
    """A platform's standing in one sentence; a disputed fact says so in plain words."""
    status, _ = platform.standing()
    sentence = _history_sentence(platform, status, lang)
    if any(e.uncertain for e in platform.history):
        sentence = f"{sentence.rstrip('.')} ({say('status_probably', lang)})."
    return sentence


def signatory_line(knowledge: Knowledge, lang: Lang) -> str:
    """Today's signatories by name, on one line."""
    names = [p.name for p in knowledge.platforms if p.standing()[0] == "signed"]
    return say("signatories_line", lang, names=", ".join(names))


def expansions(knowledge: Knowledge, entry: Entry, blocks: list[Block], steps: list[Block],
               sources: tuple[Source, ...], own: Platform | None,
               lang: Lang) -> tuple[Expansion, ...]:
    """What the buttons under the first message open: the escalation steps, all the sources,
    and the full answer when it says more than the first message."""
    more = []
    if steps:
        cited = [s for r in entry.escalation if r in knowledge.routes
                 for s in knowledge.routes[r].sources]
        steps_sources = sources_for(knowledge, route_sources(own) + cited)
        more.append(Expansion("steps", say("more_steps", lang), tuple(steps),
                              steps_sources[:SOURCES_IN_DETAILS],
                              route_reviewed(own, entry), lang))
    if sources:
        more.append(Expansion("sources", say("more_sources", lang),
                              (Block("paragraph", say("sources_intro", lang)),), sources,
                              entry.reviewed, lang))
    details = tuple(b for b in blocks if b not in steps and b.text != say("also_about", lang))
    if entry.short.get(lang):
        more.append(Expansion("details", say("more_details", lang), details,
                              sources[:SOURCES_IN_DETAILS], entry.reviewed, lang))
    return tuple(more)


def first_message_text(reply: Reply) -> str:
    """The text of the first message a seller reads for `reply`, buttons aside: what
    `make bench` counts the words of."""
    return first_message(reply)


def word_count(text: str) -> int:
    """Words as a reader counts them: runs of characters between spaces, punctuation alone
    (a dash, a colon) not counted."""
    return sum(1 for token in text.split() if any(c.isalnum() for c in token))


def clarify_reply(platforms: list[Platform], lang: Lang, confidence: float,
                  options: list[Entry]) -> Reply:
    """A question back: the message is about the platforms, but which of these topics?"""
    statuses = tuple(platform_status(p, lang) for p in platforms)
    return Reply(kind="clarify", lang=lang, blocks=(Block("paragraph", say("clarify", lang)),),
                 platforms=statuses, suggestions=suggestions(options, lang),
                 confidence=confidence)


def fallback_reply(knowledge: Knowledge, platforms: list[Platform], lang: Lang,
                   confidence: float, maybe: list[Entry], outside: Entry | None = None) -> Reply:
    """An honest "I don't know", saying where to look when the topic is a known one the bot
    does not cover, with what the bot can help with and any close entries."""
    blocks = text_blocks(outside.answer[lang]) if outside else [
        Block("paragraph", say("fallback", lang))]
    statuses = tuple(platform_status(p, lang) for p in platforms)
    blocks += [Block("note", status_sentence(p, lang)) for p in platforms[:PLATFORMS_IN_FIRST]]
    blocks.append(Block("note", say("logged", lang)))
    if maybe:
        blocks.append(Block("note", say("did_you_mean", lang)))
    return Reply(kind="fallback", lang=lang, blocks=tuple(blocks), platforms=statuses,
                 sources=sources_for(knowledge, list(outside.sources)) if outside else (),
                 suggestions=suggestions(maybe, lang), confidence=confidence)


def notice(key: str, lang: Lang, kind: Kind = "notice", **values: object) -> Reply:
    """A one-paragraph reply made of one of the bot's own sentences."""
    return Reply(kind=kind, lang=lang, blocks=(Block("paragraph", say(key, lang, **values)),))


def expansion_reply(reply: Reply, expansion_id: str) -> Reply:
    """The details behind one button of `reply`, as a reply of their own."""
    expansion = reply.expansion(expansion_id)
    if expansion is None:
        return notice("more_gone", reply.lang)
    return Reply(kind="answer", lang=reply.lang, blocks=expansion.blocks,
                 sources=expansion.sources, confidence=reply.confidence, entry=reply.entry,
                 reviewed=expansion.reviewed, extra={"more": expansion.id})
