"""Turn the engine's decision (an entry, a question back, or none) into a platform-neutral Reply."""

from __future__ import annotations

from bot.engine import Decision
from bot.knowledge import Caveat, Entry, Knowledge, Platform
from bot.model import Block, Kind, Lang, PlatformStatus, Reply, Source, Suggestion
from bot.phrases import long_date, say

# "Did X sign?" and "who signed?" both reply with the platforms' data.
SIGNATORY_ROLES = ("platform-status", "signatory-list")
MAX_SOURCES = 5


def decision_reply(knowledge: Knowledge, decision: Decision, lang: Lang) -> Reply:
    """The reply a seller gets for the engine's decision on their message."""
    platforms = list(decision.platforms)
    if decision.verdict == "empty":
        return notice("empty", lang, kind="fallback")
    if decision.verdict == "answer" and decision.entry:
        reply = answer_reply(knowledge, decision.entry, platforms, lang, decision.confidence,
                             list(decision.options), decision.caveats)
    elif decision.verdict == "clarify":
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
            mark = f" ({say('uncertain', lang)})" if status.uncertain else ""
            signed.append(f"{platform.name}{mark}, {long_date(first.date, lang) if first else ''}")
        elif status.status == "refused":
            refused.append(platform.name)
    blocks = [Block("heading", say("signatories_heading", lang)), Block("list", items=tuple(signed))]
    if refused:
        blocks += [Block("heading", say("refused_heading", lang)),
                   Block("list", items=tuple(refused))]
    return blocks


def escalation_steps(knowledge: Knowledge, entry: Entry, lang: Lang) -> list[Block]:
    """The entry's escalation routes as numbered steps: name, how, and cost."""
    steps = []
    for route_id in entry.escalation:
        route = knowledge.routes.get(route_id)
        if route:
            steps.append(f"{route.name[lang]} — {route.how[lang]} ({route.cost[lang]})")
    if not steps:
        return []
    return [Block("heading", say("escalation_heading", lang)), Block("steps", items=tuple(steps))]


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
    """The full answer for an entry, adapted to the platforms the question named; the caveats
    the message's facts call for come first."""
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
    blocks += escalation_steps(knowledge, entry, lang)
    if others:
        blocks.append(Block("note", say("also_about", lang)))
    return Reply(kind="smalltalk" if entry.kind == "smalltalk" else "answer", lang=lang,
                 blocks=tuple(blocks), platforms=statuses,
                 sources=() if entry.kind == "smalltalk" else sources_for(knowledge, cited)[
                     :MAX_SOURCES],
                 suggestions=suggestions(others, lang), confidence=confidence, entry=entry.id,
                 reviewed=None if entry.kind == "smalltalk" else entry.reviewed,
                 feedback=entry.kind != "smalltalk")


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
    blocks += [Block("note", s.summary) for s in statuses]
    blocks.append(Block("note", say("logged", lang)))
    if maybe:
        blocks.append(Block("note", say("did_you_mean", lang)))
    return Reply(kind="fallback", lang=lang, blocks=tuple(blocks), platforms=statuses,
                 sources=sources_for(knowledge, list(outside.sources)) if outside else (),
                 suggestions=suggestions(maybe, lang), confidence=confidence)


def notice(key: str, lang: Lang, kind: Kind = "notice", **values: object) -> Reply:
    """A one-paragraph reply made of one of the bot's own sentences."""
    return Reply(kind=kind, lang=lang, blocks=(Block("paragraph", say(key, lang, **values)),))
