"""The three papers of a finished case, filled from what the seller typed and the knowledge only.

Each template of `cases.yaml` is filled with values computed here; a line whose placeholders all
came out empty (a notice check that does not apply) is left out, while what the seller did not give
shows the `missing:` marker ("[À COMPLÉTER : ...]").
"""

from __future__ import annotations

from datetime import date

from bot.case.book import CaseBook, CaseProblem, placeholders
from bot.case.files import docx_bytes
from bot.case.flow import Draft, iso_day, slug
from bot.knowledge import Knowledge, Platform
from bot.model import Document, Lang
from bot.phrases import long_date, say

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PLATFORM_WORD = {"fr": "plateforme", "en": "platform"}  # a file name without a platform


def papers(knowledge: Knowledge, draft: Draft, today: date) -> tuple[Document, ...]:
    """The complaint, the mediation summary and the checklist, in the draft's language."""
    book = knowledge.cases
    assert book is not None, "papers need cases.yaml"
    lang = draft.lang
    values = case_values(knowledge, book, draft, today)
    out = []
    for template in book.templates:
        text = fill(template.text[lang], values)
        name = f"{template.file[lang]}-{slug(draft.platform)[:30] or PLATFORM_WORD[lang]}"
        out.append(Document(kind=template.id, title=template.title[lang], text=text,
                            filename=f"{name}.docx", media_type=DOCX,
                            data=docx_bytes(template.title[lang], text)))
    return tuple(out)


def fill(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders replaced; lines whose placeholders are all empty go."""
    lines = []
    for line in template.splitlines():
        names = placeholders(line)
        if names and all(not values.get(n) for n in names):
            continue
        lines.append(line.format_map(values))
    text = "\n".join(lines).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def case_values(knowledge: Knowledge, book: CaseBook, draft: Draft,
                today: date) -> dict[str, str]:
    """Every placeholder's text for this case."""
    lang = draft.lang
    problem = book.problem(draft.problem) or book.problem("other") or book.problems[-1]
    platform = _platform(knowledge, draft)
    signed = platform is not None and platform.standing()[0] == "signed"
    name = draft.platform or book.missing["platform"][lang]
    rules = [r for r in (book.rules.get(i) for i in problem.rules)
             if r and (signed or not r.signatories)]
    cited = [s for r in rules for s in r.sources]
    if platform is not None:
        cited += [s for step in platform.route for s in step.sources]
    cited += [url for url in (book.links.get("mediateur"),) if url]
    return {
        "platform": name,
        "problem": _what_happened(book, problem, draft),
        "date": long_date(draft.date, lang) if draft.date else book.missing["date"][lang],
        "notice_date": _notice_date(draft, lang),
        "said": _said(book, draft, lang),
        "references": draft.refs or book.missing["references"][lang],
        "request": problem.request[lang],
        "rules": "\n".join(f"- {r.text[lang].format(platform=name)}" for r in rules),
        "notice_check": notice_check(book, problem, draft),
        "complaint_route": _route_text(platform, "complaint", lang)
        or book.missing["complaint_route"][lang],
        "mediators": _route_text(platform, "mediators", lang) or book.missing["mediators"][lang],
        "mediateur_url": book.links.get("mediateur", ""),
        "reporting_url": book.links.get("reporting", ""),
        "evidence": "\n".join(f"- {line}" for line in problem.evidence.get(lang, ())),
        "deadlines": "\n".join(f"- {line}" for line in _deadlines(book, problem, platform,
                                                                    lang)),
        "sources": _sources(knowledge, cited),
        "today": long_date(today.isoformat(), lang),
    }


def _what_happened(book: CaseBook, problem: CaseProblem, draft: Draft) -> str:
    """The problem's label; for "other", the seller's own words, or a marker to fill in."""
    lang = draft.lang
    if problem.id == "other":
        return draft.described or book.missing["problem"][lang]
    return problem.label[lang].lower()


def _deadlines(book: CaseBook, problem: CaseProblem, platform: Platform | None,
               lang: Lang) -> list[str]:
    """The deadlines of every case and of this problem's notice kind, then the platform's own
    time limits when its route gives them (`platforms.yaml`, step `deadlines`)."""
    lines = [line for key in ("always", problem.notice)
             for line in book.deadlines.get(key, {}).get(lang, ())]
    own = _route_text(platform, "deadlines", lang)
    return lines + ([f"{platform.name} : {own}" if lang == "fr" else f"{platform.name}: {own}"]
                    if own and platform else [])


def notice_check(book: CaseBook, problem: CaseProblem, draft: Draft) -> str:
    """Whether the notice the law asks for was respected, from the seller's dates and words."""
    lang, texts = draft.lang, book.notice_texts
    if problem.notice == "restriction":
        if draft.said in ("none", "vague"):
            return texts["no_reasons" if draft.said == "none" else "vague"][lang]
        return ""
    notice = book.notices.get(problem.notice)
    if notice is None:
        return ""
    values = {"days": str(notice.days), "rule": notice.rule[lang],
              "date": long_date(draft.date, lang) if draft.date else book.missing["date"][lang],
              "notice_date": long_date(draft.notice, lang) if iso_day(draft.notice) is not None else ""}
    if draft.notice in ("none", "same"):  # no warning, or on the day itself: no notice at all
        return texts["none"][lang].format_map(values)
    if not (draft.date and iso_day(draft.notice) is not None):
        return texts["unknown"][lang].format_map(values)
    given = (date.fromisoformat(draft.date) - date.fromisoformat(draft.notice)).days
    key = "short" if given < notice.days else "kept"
    return texts[key][lang].format_map({**values, "given": str(max(given, 0))})


def _notice_date(draft: Draft, lang: Lang) -> str:
    return long_date(draft.notice, lang) if iso_day(draft.notice) is not None else ""


def _said(book: CaseBook, draft: Draft, lang: Lang) -> str:
    if draft.said in ("none", "vague"):
        return book.said[draft.said][lang]
    if draft.said_text:
        quoted = "\n".join(f"« {line} »" if lang == "fr" else f"\"{line}\""
                           for line in draft.said_text.splitlines() if line.strip())
        return f"{book.said['pasted'][lang]}\n{quoted}"
    return book.said["missing"][lang]


def _platform(knowledge: Knowledge, draft: Draft) -> Platform | None:
    if not draft.known:
        return None
    return next((p for p in knowledge.platforms if p.name == draft.platform), None)


def _route_text(platform: Platform | None, step: str, lang: Lang) -> str:
    """The platform's own route step (`platforms.yaml`), flagged when not fully checked."""
    found = platform.route_step(step) if platform else None
    if found is None:
        return ""
    return f"{found.text[lang]} {say('case_check_terms', lang)}" if found.uncertain \
        else found.text[lang]


def _sources(knowledge: Knowledge, cited: list[str]) -> str:
    seen: dict[str, str] = {}
    for source in cited:
        doc = knowledge.sources.get(source) or next(
            (d for d in knowledge.sources.values() if d.url == source), None)  # cited by link
        url = doc.url if doc else source
        title = doc.title if doc else source
        seen.setdefault(url, title)
    return "\n".join(f"- {title} <{url}>" for url, title in seen.items())
