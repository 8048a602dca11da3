"""The case builder in the core and the console: whole conversations, the papers' content, cancel,
restart, expiry, /oubli, staff counts, and `knowledge check` on cases.yaml.

The adapters' own conversations (buttons, files) are in test_case_telegram.py / test_case_slack.py.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import run_console
from bot.case.book import PLACEHOLDERS
from bot.case.desk import today
from bot.case.files import docx_text
from bot.knowledge import KnowledgeError
from bot.loader import load_knowledge
from bot.model import Message, Reply
from bot.report import case_summary
from bot.service import Charterbot
from bot.settings import Settings
from tests import databases

ROOT = Path(__file__).resolve().parent.parent
SELLER = "telegram:4242"
database_url = databases.database_url  # fixture: SQLite, and PostgreSQL when there is one


def say(core: Charterbot, text: str = "", channel: str = "telegram", **fields: object) -> Reply:
    return core.handle(Message(text=text, user=SELLER, channel=channel, **fields))  # type: ignore[arg-type]


def press(core: Charterbot, reply: Reply, label_start: str) -> Reply:
    """Press the button of `reply` whose label starts with `label_start`."""
    choice = next(c for c in reply.choices if c.label.startswith(label_start))
    return say(core, answer=choice.value, lang=reply.lang)


def paper(reply: Reply, kind: str) -> str:
    """A document's text, checked to be the same in its .docx file."""
    document = next(d for d in reply.documents if d.kind == kind)
    assert document.filename.endswith(".docx")
    assert docx_text(document.data).split() == document.text.split()
    return document.text


@pytest.fixture
def db_core(tmp_path: Path, database_url: str) -> Iterator[Charterbot]:
    url = None if database_url.startswith("sqlite") else database_url
    bot = Charterbot(Settings(data_dir=tmp_path / "data", database_url=url,
                              secret="test-secret-for-cases" if url else None))
    yield bot
    bot.close()


# -- a whole case ---------------------------------------------------------------------------------

def test_a_story_prefills_the_case_and_the_papers_cite_the_rules(db_core: Charterbot) -> None:
    core = db_core
    answer = say(core, "Amazon a fermé mon compte vendeur hier sans aucun motif")
    assert answer.kind == "answer" and [c.label for c in answer.choices] == [
        "Préparer ma réclamation"]
    confirm = press(core, answer, "Préparer")
    yesterday = today() - timedelta(days=1)
    assert "Amazon" in confirm.text and "compte fermé" in confirm.text
    assert str(yesterday.year) in confirm.text and confirm.kind == "case"
    notice = press(core, confirm, "Oui")
    assert "prévenu" in notice.text
    said = press(core, notice, "Pas prévenu")
    refs = press(core, said, "Rien")
    done = say(core, "Vendeur A1B2C3, ticket 987654")
    assert [d.kind for d in done.documents] == ["complaint", "mediation", "checklist"]
    complaint = paper(done, "complaint")
    assert "Amazon" in complaint and "A1B2C3" in complaint and "987654" in complaint
    assert "art. 4(2)" in complaint and "L442-1 II" in complaint
    assert "sans aucun préavis" in complaint                      # the notice check
    assert "Account Health" in complaint or "Santé du compte" in complaint  # Amazon's own route
    mediation = paper(done, "mediation")
    assert "CEDR" in mediation and "mediation-entreprises" in mediation
    assert "[À COMPLÉTER" in mediation                            # what the seller did not say
    checklist = paper(done, "checklist")
    assert "30 jours" in checklist and "chiffre d'affaires" in checklist
    assert refs.kind == "case" and "(6/6)" in refs.text
    kept = core.state.case(core.state.pseudonym(SELLER))       # only for a retried delivery
    assert kept is not None and '"step": "done"' in kept[0]
    assert case_summary(core.state, "0000")["outcomes"] == {
        "completed": 1, "cancelled": 0, "expired": 0}


def test_dates_typed_show_a_notice_period_that_was_not_respected(core: Charterbot) -> None:
    first = say(core, "/dossier", command="case")
    assert "(1/" in first.text and any(c.label == "Cdiscount" for c in first.choices)
    problem_question = press(core, first, "Cdiscount")
    date_question = press(core, problem_question, "Compte fermé")
    effect, warned = today() - timedelta(days=12), today() - timedelta(days=22)
    notice_question = say(core, effect.strftime("%d/%m/%Y"))
    said_question = say(core, warned.strftime("%d/%m/%Y"))
    refs_question = say(core, "Nous avons décidé de fermer votre compte : plaintes clients.")
    done = press(core, refs_question, "Passer")
    complaint = paper(done, "complaint")
    assert "Préavis non respecté" in complaint and "soit 10 jour(s)" in complaint
    assert "au moins 30" in complaint
    assert "« Nous avons décidé de fermer votre compte" in complaint  # the pasted notice, quoted
    assert "signée par Cdiscount" in complaint                       # a signatory: the charter
    assert "[À COMPLÉTER : identifiant vendeur" in complaint        # references skipped
    assert "Quel jour" in date_question.text and "prévenu" in notice_question.text
    assert "Collez" in said_question.text and "références" in refs_question.text


def test_a_respected_notice_is_said_so(core: Charterbot) -> None:
    reply = say(core, "/case", command="case", lang="en")
    reply = press(core, reply, "eBay")
    reply = press(core, reply, "Fee or terms")
    reply = say(core, "3 weeks ago")
    reply = say(core, "8 weeks ago")
    reply = press(core, reply, "A vague")
    done = press(core, reply, "Skip")
    complaint = paper(done, "complaint")
    assert "Notice:" in complaint and "seems respected" in complaint
    assert "art. 3(2)" in complaint and "Dear Sir or Madam" in complaint
    assert "cites no specific fact" not in complaint  # that check is for suspensions


def test_an_unknown_platform_typed_is_used_as_typed_and_counted_as_other(core: Charterbot) -> None:
    reply = say(core, "/dossier", command="case")
    reply = say(core, "MaBoutiqueLocale.fr")
    reply = press(core, reply, "Offres déréférencées")
    reply = say(core, "je ne sais plus")
    reply = press(core, reply, "Rien")
    done = say(core, "ticket 55")
    complaint = paper(done, "complaint")
    assert "MaBoutiqueLocale.fr" in complaint
    assert "[À COMPLÉTER : date]" in complaint                 # "je ne sais plus"
    assert "[À COMPLÉTER : l'outil de réclamation" in complaint  # no known route
    assert "Charte" not in complaint.split("Sources")[0]       # not a signatory: no charter line
    assert "Aucun exposé des motifs reçu" in complaint          # restriction without reasons
    summary = case_summary(core.state, "0000")
    assert summary["platforms"][0]["name"] == "other"


def test_an_answer_not_understood_is_asked_again_then_taken_as_unknown(core: Charterbot) -> None:
    reply = say(core, "/dossier", command="case")
    reply = press(core, reply, "Amazon")
    again = say(core, "blablabla xyz")
    assert "Je n'ai pas compris" in again.text and "(2/" in again.text
    reply = say(core, "mes fonds sont bloqués depuis 3 semaines")  # read by the engine
    assert "(3/" in reply.text and "Quel jour" in reply.text


def test_english_sellers_get_english_papers(core: Charterbot) -> None:
    answer = say(core, "eBay suspended my seller account 3 days ago, no reason given")
    reply = press(core, answer, "Prepare")
    assert "Is that right?" in reply.text and "eBay" in reply.text
    reply = press(core, reply, "Yes")
    reply = press(core, reply, "Nothing")
    done = press(core, reply, "Skip")
    assert "Here are your documents" in done.text
    complaint = paper(done, "complaint")
    assert "Subject: complaint" in complaint and "CEDR" in paper(done, "mediation")
    assert all(d.filename.startswith(("complaint-", "mediation-", "documents-"))
               for d in done.documents)


# -- cancel, restart, expiry, erasure -------------------------------------------------------------

def test_cancel_at_any_step_erases_the_case(core: Charterbot) -> None:
    reply = say(core, "/dossier", command="case")
    press(core, reply, "Amazon")
    cancelled = say(core, "/annuler", command="cancel")
    assert "annulé" in cancelled.text
    assert core.state.case(core.state.pseudonym(SELLER)) is None
    normal = say(core, "Amazon a-t-il signé la charte ?")
    assert normal.kind == "answer"                      # back to questions
    assert "Vous n'avez pas de dossier" in say(core, command="cancel").text
    assert case_summary(core.state, "0000")["outcomes"]["cancelled"] == 1


def test_a_case_survives_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = Charterbot(settings)
    reply = say(first, "/dossier", command="case")
    press(first, reply, "Fnac Darty")
    first.close()
    second = Charterbot(settings)
    try:
        reply = say(second, "mon compte est suspendu")
        assert "(3/" in reply.text, reply.text          # the problem step of the same case
        assert "Fnac" in second.state.case(second.state.pseudonym(SELLER))[0]
    finally:
        second.close()


def test_a_case_left_24_hours_expires_and_the_text_is_a_question_again(core: Charterbot) -> None:
    reply = say(core, "/dossier", command="case")
    press(core, reply, "Amazon")
    old = (datetime.now(UTC) - timedelta(hours=25)).isoformat(timespec="seconds")
    core.state.db.execute("update cases set updated = ?", [old])
    reply = say(core, "Amazon a-t-il signé la charte ?")
    assert reply.kind == "answer"
    assert core.state.case(core.state.pseudonym(SELLER)) is None
    late = say(core, answer="k:closure", lang="fr")      # an old button pressed after expiry
    assert "expiré" in late.text
    assert case_summary(core.state, "0000")["outcomes"]["expired"] == 1


def test_idle_cases_are_expired_by_the_periodic_purge(core: Charterbot) -> None:
    say(core, "/dossier", command="case")
    old = (datetime.now(UTC) - timedelta(hours=30)).isoformat(timespec="seconds")
    core.state.db.execute("update cases set updated = ?", [old])
    core.state.purged_at = -1e9  # the next message runs the hourly purge
    say(core, "bonjour")
    assert core.state.query("select count(*) as n from cases")[0]["n"] == 0
    assert case_summary(core.state, "0000")["outcomes"]["expired"] == 1


def test_forget_erases_a_case_under_way(db_core: Charterbot) -> None:
    reply = say(db_core, "/dossier", command="case")
    press(db_core, reply, "Amazon")
    say(db_core, "Mon identifiant vendeur secret", command="forget")
    assert db_core.state.query("select count(*) as n from cases")[0]["n"] == 0


# -- staff ----------------------------------------------------------------------------------------

def test_report_cases_counts_by_platform_and_problem_without_content(tmp_path: Path) -> None:
    env = {"CHARTERBOT_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    core = Charterbot(Settings(data_dir=tmp_path / "data"))
    for platform in ("Amazon", "Amazon", "eBay"):  # typed at the console: no rate limit
        say(core, "/dossier", channel="console", command="case")
        say(core, channel="console", answer=f"p:{platform}")
        say(core, channel="console", answer="k:suspension")
    say(core, "/annuler", channel="console", command="cancel")
    core.close()
    run = subprocess.run([sys.executable, "-m", "bot.cli", "report", "cases", "--json"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    # a new /dossier replaces (cancels) the case under way
    assert report["platforms"] == [
        {"name": "Amazon", "total": 2, "completed": 0, "cancelled": 2, "expired": 0},
        {"name": "eBay", "total": 1, "completed": 0, "cancelled": 1, "expired": 0}]
    assert {r["name"] for r in report["problems"]} == {"suspension"}
    assert "Vendeur" not in run.stdout


def _broken(folder: Path, old: str, new: str) -> list[str]:
    path = folder / "cases.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(folder)
    return [str(p) for p in raised.value.problems]


def test_knowledge_check_refuses_an_unknown_placeholder(knowledge_copy: Path) -> None:
    found = _broken(knowledge_copy, "Objet : réclamation – {problem}",
                    "Objet : réclamation – {probleme}")
    assert any("cases.yaml:" in p and "unknown placeholder '{probleme}'" in p for p in found)


def test_knowledge_check_refuses_a_problem_without_its_request(knowledge_copy: Path) -> None:
    found = _broken(knowledge_copy, "    request:\n      fr: \"rétablir mes offres",
                    "    requests:\n      fr: \"rétablir mes offres")
    assert any("problem 'delisting' has no 'request'" in p for p in found), found


def test_knowledge_check_refuses_a_missing_translation(knowledge_copy: Path) -> None:
    found = _broken(knowledge_copy, "    title: {fr: \"Pièces à réunir et délais\", en: "
                    "\"Documents to gather and deadlines\"}",
                    "    title: {fr: \"Pièces à réunir et délais\"}")
    assert any("'title' has no 'en:' text" in p for p in found), found


def test_knowledge_check_command_reports_a_broken_template(knowledge_copy: Path) -> None:
    path = knowledge_copy / "cases.yaml"
    path.write_text(path.read_text().replace("        {rules}\n", "        {regles}\n", 1))
    run = subprocess.run([sys.executable, "-m", "bot.cli", "knowledge", "check", "--dir",
                          str(knowledge_copy)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0 and "{regles}" in run.stdout + run.stderr


# -- console ----------------------------------------------------------------------------------------

def test_the_console_builds_a_case_with_numbers_and_writes_the_files(tmp_path: Path) -> None:
    core = Charterbot(Settings(data_dir=tmp_path / "data"))
    lines = ["/dossier", "1", "3", "hier", "1", "2", "Vendeur 77"]  # Amazon, closure, no notice
    out = io.StringIO()
    run_console(core, io.StringIO("\n".join(lines) + "\n"), out, tmp_path / "papers")
    text = out.getvalue()
    assert "1 Amazon" in text and "Tapez un numéro" in text
    files = sorted(p.name for p in (tmp_path / "papers").iterdir())
    assert files == ["mediation-amazon.docx", "pieces-et-delais-amazon.docx",
                     "reclamation-amazon.docx"]
    letter = docx_text((tmp_path / "papers" / "reclamation-amazon.docx").read_bytes())
    assert "Vendeur 77" in letter and "sans aucun préavis" in letter
    assert "=== Réclamation à la plateforme ===" in text


def test_a_long_story_prefills_no_day_the_seller_types_it(core: Charterbot) -> None:
    story = ("Bonjour, je vends des bijoux faits main depuis 15 ans, dont 6 sur Amazon, et tout "
             "allait bien jusqu'à la semaine dernière. " * 4
             + "Amazon a suspendu mon compte vendeur sans me dire pourquoi.")
    answer = say(core, story)
    start = next(c for c in answer.choices if c.label == "Préparer ma réclamation")
    assert start.value.endswith("|Amazon|")                # platform and problem, no day
    confirm = say(core, answer=start.value, lang="fr")
    assert "Amazon, compte suspendu. C'est bien ça" in confirm.text
    asked = press(core, confirm, "Oui")
    assert "Quel jour" in asked.text


# -- hostile answers ------------------------------------------------------------------------------

answers = st.one_of(
    st.text(max_size=3000),
    st.binary(max_size=300).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    st.sampled_from(["", " ", "<b>x</b>", "{platform}", "{0}", "%s", "99/99/9999", "0", "7",
                     "new|closure|Amazon|9999-99-99", "new|||", "p:Nope", "k:nope", "cancel"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.booleans(), answers), min_size=1, max_size=9))
def test_any_answers_keep_the_case_going_and_the_papers_valid(core: Charterbot,
                                                             steps: list[tuple[bool, str]]) -> None:
    """Whatever is typed or pressed, every reply is readable and JSON-safe, the papers valid
    .docx files with every placeholder filled (braces typed by the seller stay as typed)."""
    say(core, "/dossier", channel="console", command="case")
    typed = ""
    for pressed, text in steps:
        fields = {"answer": text} if pressed else {}
        reply = say(core, "" if pressed else text, channel="console", **fields)
        typed += text
        assert reply.kind in ("case", "answer", "fallback", "smalltalk", "clarify", "notice")
        silent = pressed and reply.kind == "notice" and not reply.blocks  # a second tap
        assert silent or reply.text.strip()
        json.dumps(reply.to_json(), ensure_ascii=False).encode("utf-8")
        for document in reply.documents:
            assert docx_text(document.data).strip()
            left = [p for p in PLACEHOLDERS if f"{{{p}}}" in document.text and p not in typed]
            assert not left, left                      # every template placeholder was filled
    say(core, "/annuler", channel="console", command="cancel")


def test_staff_see_case_counts_in_stats(tmp_path: Path) -> None:
    core = Charterbot(Settings(data_dir=tmp_path / "data", admins=frozenset({"4242"})))
    try:
        say(core, "/dossier", channel="console", command="case")
        say(core, "/annuler", channel="console", command="cancel")
        stats = say(core, "/stats", channel="console", command="stats")
        assert "Dossiers : 0 terminés, 1 annulés, 0 expirés." in stats.text
    finally:
        core.close()


# -- deliveries retried, old buttons, public chats, links from a group ---------------------------

def _finish(core: Charterbot, last: str = "Vendeur 8") -> Reply:
    say(core, "/dossier", channel="console", command="case")
    for value in ("p:Amazon", "k:suspension", "d:yesterday", "s:none"):
        say(core, channel="console", answer=value)
    return say(core, last, channel="console")


def test_a_retried_final_answer_gets_the_same_papers_counted_once(core: Charterbot) -> None:
    done = _finish(core)
    again = say(core, "Vendeur 8", channel="console")   # the platform retries a failed send
    assert [d.text for d in again.documents] == [d.text for d in done.documents]
    assert case_summary(core.state, "0000")["outcomes"]["completed"] == 1
    question = say(core, "Amazon a-t-il signé la charte ?", channel="console")
    assert question.kind == "answer" and not question.documents
    assert core.state.query("select count(*) as n from cases")[0]["n"] == 0


def test_a_finished_case_is_erased_after_the_replay_window(core: Charterbot) -> None:
    _finish(core)
    old = (datetime.now(UTC) - timedelta(minutes=11)).isoformat(timespec="seconds")
    core.state.db.execute("update cases set updated = ?", [old])
    reply = say(core, "Vendeur 8", channel="console")
    assert not reply.documents                          # a question again, nothing kept
    assert core.state.query("select count(*) as n from cases")[0]["n"] == 0
    assert case_summary(core.state, "0000")["outcomes"] == {
        "completed": 1, "cancelled": 0, "expired": 0}


def test_a_button_of_an_earlier_question_changes_nothing(core: Charterbot) -> None:
    say(core, "/dossier", channel="console", command="case")
    say(core, channel="console", answer="p:Amazon")
    twice = say(core, channel="console", answer="p:eBay")    # a second tap on that question
    assert twice.kind == "notice" and not twice.blocks
    asked = say(core, channel="console", answer="k:closure")
    stale = say(core, channel="console", answer="p:eBay")    # a question further back
    assert "question précédente" in stale.text and "(3/" in stale.text
    assert [c.value for c in stale.choices] == [c.value for c in asked.choices]
    assert '"platform": "Amazon"' in core.state.case(core.state.pseudonym(SELLER))[0]


def test_no_case_is_built_or_continued_in_a_group(core: Charterbot) -> None:
    reply = say(core, "/dossier", command="case")
    press(core, reply, "Amazon")
    in_group = core.handle(Message(text="mon compte est suspendu", user=SELLER,
                                   channel="telegram", in_public=True))
    assert in_group.kind == "answer"                    # a question, not the case's answer
    assert '"problem": ""' in core.state.case(core.state.pseudonym(SELLER))[0]
    start = core.handle(Message(text="", user=SELLER, channel="telegram", in_public=True,
                                answer="new|closure|Fnac Darty|2026-11-30", lang="fr"))
    assert "en privé" in start.text and start.extra["private_start"] == (
        "dossier_closure_fnac-darty_20261130")


def test_a_link_from_a_group_starts_the_case_prefilled(core: Charterbot) -> None:
    reply = say(core, "/start dossier_closure_fnac-darty_20261130", command="start",
                args="dossier_closure_fnac-darty_20261130")
    assert "Fnac Darty, compte fermé, le 30 novembre 2026" in reply.text
    plain = say(core, "/start dossier", command="start", args="dossier")
    assert "(1/6)" in plain.text


def test_the_words_dossier_and_annuler_work_where_slash_commands_cannot_be_typed(
        core: Charterbot) -> None:
    started = say(core, "Dossier")
    assert started.kind == "case" and "(1/6)" in started.text
    cancelled = say(core, "annuler !")
    assert "annulé" in cancelled.text
    assert core.state.case(core.state.pseudonym(SELLER)) is None


def test_a_retried_delivery_is_not_taken_for_the_next_answer(core: Charterbot) -> None:
    say(core, "/dossier", channel="console", command="case")
    say(core, channel="console", answer="p:Amazon", delivery="u1")
    say(core, channel="console", answer="k:closure", delivery="u2")
    asked = say(core, "12/11/2026", channel="console", delivery="u3")
    assert "prévenu" in asked.text                      # the notice question comes next
    again = say(core, "12/11/2026", channel="console", delivery="u3")  # its send failed: retry
    assert again.text == asked.text                     # the same question, not an answer to it
    stored = core.state.case(core.state.pseudonym(SELLER))[0]
    assert '"notice": ""' in stored and '"date": "2026-11-12"' in stored


def test_a_button_pressed_twice_is_answered_once(core: Charterbot) -> None:
    say(core, "/dossier", channel="console", command="case")
    first = say(core, channel="console", answer="p:Amazon", delivery="u1")
    second = say(core, channel="console", answer="p:Amazon", delivery="u2")  # a double tap
    assert "(2/" in first.text and second.kind == "notice" and not second.blocks
    for n, value in enumerate(("k:suspension", "d:today", "s:none"), 3):
        say(core, channel="console", answer=value, delivery=f"u{n}")
    done = say(core, channel="console", answer="r:skip", delivery="u9")
    twice = say(core, channel="console", answer="r:skip", delivery="u10")
    retried = say(core, channel="console", answer="r:skip", delivery="u9")
    assert len(done.documents) == 3 and not twice.blocks and not twice.documents
    assert [d.text for d in retried.documents] == [d.text for d in done.documents]
    assert case_summary(core.state, "0000")["outcomes"]["completed"] == 1


def test_a_ranking_drop_cites_the_ranking_parameters_rule(core: Charterbot) -> None:
    reply = say(core, "/dossier", channel="console", command="case")
    for value in ("p:Cdiscount", "k:ranking", "d:unknown", "s:vague"):
        reply = say(core, channel="console", answer=value)
    assert not any(c.value.startswith("n:") for c in reply.choices)  # no notice question
    complaint = paper(say(core, channel="console", answer="r:skip"), "complaint")
    assert "P2B, art. 5" in complaint and "paramètres de classement" in complaint
    assert "ne cite aucun fait précis" not in complaint   # that check is for restrictions


def test_unicode_digits_are_not_taken_for_numbered_choices(core: Charterbot) -> None:
    from adapters.console import chosen

    reply = say(core, "/dossier", channel="console", command="case")
    assert chosen("¹", reply) is None and chosen("1", reply) is not None
    again = say(core, "²", channel="console")          # a platform typed as "²", kept as typed
    assert again.kind == "case" and "(2/" in again.text


# -- what a review of the papers found -------------------------------------------------------------

def _closure(core: Charterbot, platform: str = "p:Cdiscount") -> Reply:
    say(core, "/dossier", channel="console", command="case")
    say(core, channel="console", answer=platform)
    return say(core, channel="console", answer="k:closure")


def test_a_warning_dated_after_the_measure_is_asked_again(core: Charterbot) -> None:
    _closure(core)
    say(core, "01/11/2026", channel="console")
    after = say(core, "15/11/2026", channel="console")
    assert "après le jour de la mesure" in after.text and "prévenu" in after.text
    said = say(core, "10 jours avant", channel="console")    # counted back from the measure
    assert "Collez" in said.text
    assert '"notice": "2026-10-22"' in core.state.case(core.state.pseudonym(SELLER))[0]


def test_no_warning_is_a_notice_not_respected_even_without_the_date(core: Charterbot) -> None:
    _closure(core)
    say(core, channel="console", answer="d:unknown")
    say(core, "je n'ai jamais été prévenu", channel="console")   # typed, not the button
    say(core, "rien", channel="console")                         # typed "nothing"
    complaint = paper(say(core, channel="console", answer="r:skip"), "complaint")
    assert "Préavis non respecté" in complaint and "[À COMPLÉTER : date]" in complaint
    assert "« rien »" not in complaint and "aucun message ni aucun motif" in complaint


def test_a_coming_fee_change_can_be_dated_ahead(core: Charterbot) -> None:
    say(core, "/dossier", channel="console", command="case")
    say(core, channel="console", answer="p:eBay")
    asked = say(core, channel="console", answer="k:fees")
    assert "changement s'applique" in asked.text
    ahead = (today() + timedelta(days=10)).strftime("%d/%m/%Y")
    notice = say(core, ahead, channel="console")
    assert "prévenu" in notice.text                            # the future day was taken
    say(core, (today() - timedelta(days=1)).strftime("%d/%m/%Y"), channel="console")
    say(core, channel="console", answer="s:vague")
    papers = say(core, channel="console", answer="r:skip")
    complaint, checklist = paper(papers, "complaint"), paper(papers, "checklist")
    assert "soit 11 jour(s) au lieu d'au moins 15" in complaint
    assert "DSA" not in checklist                              # art. 20 is not about fees


def test_something_else_says_what_the_seller_typed_or_marks_it(core: Charterbot) -> None:
    say(core, "/dossier", channel="console", command="case")
    say(core, channel="console", answer="p:Amazon")
    say(core, "zzz qqq", channel="console")
    say(core, "blorp glorp fnord", channel="console")  # still unclear: taken as typed
    say(core, channel="console", answer="d:unknown")
    say(core, channel="console", answer="s:none")
    complaint = paper(say(core, channel="console", answer="r:skip"), "complaint")
    assert ": blorp glorp fnord." in complaint
    say(core, "/dossier", channel="console", command="case")
    say(core, channel="console", answer="p:Amazon")
    say(core, channel="console", answer="k:other")
    say(core, channel="console", answer="d:unknown")
    say(core, channel="console", answer="s:none")
    marked = paper(say(core, channel="console", answer="r:skip"), "complaint")
    assert "[À COMPLÉTER : ce qui s'est passé]" in marked


def test_the_platforms_own_time_limits_are_in_the_checklist(core: Charterbot) -> None:
    _closure(core, "p:Amazon")
    for value in ("d:yesterday", "n:none", "s:none"):
        say(core, channel="console", answer=value)
    checklist = paper(say(core, channel="console", answer="r:skip"), "checklist")
    amazon = core.library.knowledge.platforms
    own = next(p for p in amazon if p.name == "Amazon").route_step("deadlines")
    assert own is not None and own.text["fr"][:40] in checklist


def test_a_long_pasted_notice_is_cut_visibly(core: Charterbot) -> None:
    _closure(core)
    say(core, channel="console", answer="d:yesterday")
    say(core, channel="console", answer="n:none")
    say(core, "Votre compte est fermé. " * 200, channel="console")
    complaint = paper(say(core, channel="console", answer="r:skip"), "complaint")
    assert "[…] »" in complaint


def test_two_processes_finishing_one_case_make_one_set_of_papers(core: Charterbot) -> None:
    _closure(core)
    for value in ("d:yesterday", "n:none", "s:none"):
        say(core, channel="console", answer=value)
    seller = core.state.pseudonym(SELLER)
    draft = core.cases.current(seller)
    assert draft is not None
    knowledge, engine = core.library.knowledge, core.library.engine
    first = core.cases.answer(seller, draft, knowledge, engine, value="r:skip", delivery="a")
    second = core.cases.answer(seller, draft, knowledge, engine, value="r:skip", delivery="b")
    assert len(first.documents) == 3 and not second.documents and not second.blocks
    assert case_summary(core.state, "0000")["outcomes"]["completed"] == 1


def test_an_answer_read_before_an_erasure_does_not_bring_the_case_back(core: Charterbot) -> None:
    _closure(core)
    seller = core.state.pseudonym(SELLER)
    draft = core.cases.current(seller)
    assert draft is not None
    core.state.forget(seller)
    late = core.cases.answer(seller, draft, core.library.knowledge, core.library.engine,
                             value="d:today")
    assert "pas de dossier" in late.text and core.state.case(seller) is None


def test_a_notice_text_with_a_placeholder_it_cannot_have_is_refused(knowledge_copy: Path) -> None:
    found = _broken(knowledge_copy, "sans aucun préavis, alors que {rule}",
                    "sans aucun préavis ({given} jours), alors que {rule}")
    assert any("notices: texts: none (fr): unknown placeholder '{given}'" in p for p in found)


def test_a_group_link_keeps_any_known_platform_and_never_a_raw_payload(core: Charterbot) -> None:
    public = core.handle(Message(text="", user=SELLER, channel="telegram", in_public=True,
                                 command="start", args="dossier_a_b_c zz"))
    assert public.extra["private_start"] == "dossier"     # nothing of the forged payload kept
    link = core.handle(Message(text="", user=SELLER, channel="telegram", in_public=True,
                               answer="new|closure|La Redoute|", lang="fr"))
    payload = str(link.extra["private_start"])
    started = say(core, f"/start {payload}", command="start", args=payload)
    assert "La Redoute, compte fermé" in started.text


def test_the_slack_form_replacing_a_case_under_way_counts_it_cancelled(core: Charterbot) -> None:
    say(core, "/dossier", channel="console", command="case")
    reply = core.submit_case(SELLER, "fr", {"platform": "Amazon", "problem": "fees",
                                            "date": (today() + timedelta(days=20)).isoformat(),
                                            "notice": (today() - timedelta(days=2)).isoformat()})
    complaint = paper(reply, "complaint")
    assert "soit 22 jours ; le minimum de 15 jours" in complaint      # a change announced ahead
    assert case_summary(core.state, "0000")["outcomes"] == {
        "completed": 1, "cancelled": 1, "expired": 0}


def test_a_retried_slack_form_gets_the_same_papers_counted_once(core: Charterbot) -> None:
    fields = {"platform": "Amazon", "problem": "suspension", "said": "none", "refs": "A-77"}
    first = core.submit_case(SELLER, "fr", fields, delivery="slack:action:t1")
    again = core.submit_case(SELLER, "fr", fields, delivery="slack:action:t1")
    assert [d.text for d in again.documents] == [d.text for d in first.documents]
    assert "Médiateur des entreprises (economie.gouv.fr)" in paper(first, "complaint")
    assert case_summary(core.state, "0000")["outcomes"]["completed"] == 1
    other = core.submit_case(SELLER, "fr", fields, delivery="slack:action:t2")  # a new form
    assert len(other.documents) == 3
    assert case_summary(core.state, "0000")["outcomes"]["completed"] == 2
