"""Replies that fit a phone screen: the answer first, the platform's own route, details on demand.

Each test reads what a seller (or staff running `charterbot`) sees: the first message, the
buttons under it and what each one opens.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from adapters.console import run_console
from bot.compose import (
    FIRST_MESSAGE_MAX,
    FIRST_MESSAGE_TARGET,
    SOURCES_IN_DETAILS,
    answer_reply,
    first_message_text,
    word_count,
)
from bot.knowledge import Entry, Knowledge, Platform
from bot.lint import lint
from bot.model import LANGS, Lang, Message, Reply
from bot.phrases import PHRASES, say
from bot.service import Charterbot
from tests.conftest import DATA, labelled

ROOT = Path(__file__).resolve().parent.parent
# what staff write for each other, never for a seller
INTERNAL_NOTES = re.compile(r"non vérifi|pas (pu )?(été )?vérifi|not (been )?(verified|checked)"
                            r"|unverified|could not check", re.IGNORECASE)


def knowledge(core: Charterbot) -> Knowledge:
    return core.library.knowledge


def platform(core: Charterbot, name: str) -> Platform:
    return next(p for p in knowledge(core).platforms if p.name == name)


def answered(core: Charterbot) -> list[Entry]:
    return [e for e in knowledge(core).entries if e.kind != "outside"]


def reply_for(core: Charterbot, entry: str, lang: Lang = "fr", *names: str) -> Reply:
    found = knowledge(core).entry(entry)
    assert found is not None
    return answer_reply(knowledge(core), found, [platform(core, n) for n in names], lang, 1.0, [])


def ask(core: Charterbot, text: str) -> Reply:
    return core.handle(Message(text=text, user="test:replies", channel="cli"))


def details(reply: Reply, more: str) -> str:
    expansion = reply.expansion(more)
    assert expansion is not None, f"no '{more}' button under {reply.entry}"
    return expansion.text


# -- the first message --------------------------------------------------------------------------

def test_every_entrys_first_message_fits_one_phone_screen(shared_core: Charterbot) -> None:
    """About 80 words alone; never over 150 with a platform's status and own route added."""
    too_long = []
    for entry in answered(shared_core):
        for lang in LANGS:
            alone = word_count(first_message_text(reply_for(shared_core, entry.id, lang)))
            if alone > FIRST_MESSAGE_TARGET:
                too_long.append(f"{entry.id} ({lang}): {alone} words")
            for name in ("Amazon", "Boulanger", "Vinted"):
                named = reply_for(shared_core, entry.id, lang, name)
                count = word_count(first_message_text(named))
                if count > FIRST_MESSAGE_MAX:
                    too_long.append(f"{entry.id} ({lang}, {name}): {count} words")
    assert not too_long, "\n".join(too_long)


def test_real_sellers_messages_get_a_first_message_of_150_words_at_most(
        shared_core: Charterbot) -> None:
    """Long stories and pasted notices add caveats and platforms: still one screen or so."""
    texts = [case["q"] for name in ("real_dev.yaml", "real_dev2.yaml", "real_dev3.yaml",
                                                   "real_dev4.yaml", "real_heldout.yaml")
             for case in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["cases"]]
    texts += [case["q"] for name in ("questions.jsonl", "questions_heldout.jsonl")
              for case in labelled(name)]
    counts = {text[:60]: word_count(first_message_text(ask(shared_core, text))) for text in texts}
    assert max(counts.values()) <= FIRST_MESSAGE_MAX, max(counts.items(), key=lambda c: c[1])


def test_no_two_entries_start_with_the_same_first_message(shared_core: Charterbot) -> None:
    for lang in LANGS:
        firsts = [first_message_text(reply_for(shared_core, e.id, lang))
                  for e in answered(shared_core)]
        assert len(set(firsts)) == len(firsts)


def test_the_first_message_answers_and_names_the_platforms_status_in_one_sentence(
        shared_core: Charterbot) -> None:
    reply = ask(shared_core, "mon compte amazon est suspendu")
    assert reply.entry == "problem-suspension"
    first = reply.text
    assert "réclamation interne" in first                      # what to do now
    status = [line for line in first.split("\n\n") if line.startswith("Amazon")]
    assert len(status) == 1 and status[0].count(". ") == 0     # its status: one sentence
    assert "http" not in first                                 # sources are behind their button
    assert word_count(first) <= FIRST_MESSAGE_TARGET            # one screen
    steps = next(e.text for e in reply.more if e.id == "steps")
    assert "CEDR" in steps                                     # Amazon's own route, one tap away
    assert [e.label for e in reply.more] == [say("more_steps", "fr"), say("more_sources", "fr"),
                                             say("more_details", "fr")]


def test_an_uncertain_signature_is_said_in_plain_words(shared_core: Charterbot) -> None:
    first = ask(shared_core, "boulanger a signé la charte ?").text
    assert say("status_probably", "fr") in first
    assert "incertain" not in first


def test_who_signed_names_todays_signatories_in_the_first_message(
        shared_core: Charterbot) -> None:
    reply = ask(shared_core, "qui a signé la charte ?")
    assert "Cdiscount" in reply.text and "Certideal" in reply.text
    assert word_count(reply.text) <= FIRST_MESSAGE_TARGET


# -- what the buttons open ----------------------------------------------------------------------

def test_amazons_escalation_steps_use_its_own_route(shared_core: Charterbot) -> None:
    reply = ask(shared_core, "amazon a désactivé mon compte vendeur, que faire ?")
    steps = details(reply, "steps")
    assert "1. " in steps and "Santé du compte" in steps and "CEDR" in steps
    assert "10 jours ouvrés" in steps and "6 mois" in steps    # its own time limits
    assert "sellercentral" in steps                            # each with its source
    assert say("route_in_terms", "fr") not in steps


def test_an_unknown_platforms_steps_say_where_to_find_its_route_in_its_terms(
        shared_core: Charterbot) -> None:
    reply = ask(shared_core, "vinted a supprimé toutes mes annonces")
    steps = details(reply, "steps")
    assert say("route_in_terms", "fr") in steps and "CEDR" not in steps
    assert "CEDR" not in reply.text


def test_ebays_steps_name_the_two_mediators_its_help_page_lists(shared_core: Charterbot) -> None:
    reply = ask(shared_core, "ebay a suspendu mon compte vendeur pro")
    steps = details(reply, "steps")
    assert "CEDR" in steps and "Camera Arbitrale di Milano" in steps
    assert "ebay.it/help" in steps and say("own_route_check", "fr") in steps


def test_a_partly_checked_route_tells_the_seller_to_check_the_terms(
        shared_core: Charterbot) -> None:
    steps = details(ask(shared_core, "etsy a fermé ma boutique"), "steps")
    assert "Platform-to-Business" in steps and say("own_route_check", "fr") in steps
    assert say("route_in_terms", "fr") in steps    # no mediators known for Etsy: where to look


def test_details_cite_two_sources_at_most_and_the_sources_button_all_of_them(
        shared_core: Charterbot) -> None:
    for entry in answered(shared_core):
        reply = reply_for(shared_core, entry.id, "en", "Amazon")
        for expansion in reply.more:
            if expansion.id != "sources":
                assert len(expansion.sources) <= SOURCES_IN_DETAILS, (entry.id, expansion.id)
        listed = reply.expansion("sources")
        if reply.sources:
            assert listed is not None
            assert all(s.url in listed.text for s in reply.sources)


def test_more_details_hold_the_full_answer(shared_core: Charterbot) -> None:
    reply = ask(shared_core, "la plateforme a fermé mon compte définitivement")
    assert reply.entry == "problem-closure"
    assert "18 mois" in details(reply, "details")             # the corrected facts are kept
    assert "18 mois" in reply.full_text


def test_a_button_press_gets_the_details_for_the_platform_named(core: Charterbot) -> None:
    pressed = core.handle(Message(text="", user="test:1", channel="cli", entry="problem-delisting",
                                  more="steps", platform="Amazon", lang="en"))
    assert pressed.lang == "en" and "CEDR" in pressed.text
    gone = core.handle(Message(text="", user="test:1", channel="cli", entry="problem-delisting",
                               more="no-such-button"))
    assert gone.text == say("more_gone", "fr")


def test_seller_facing_text_has_no_internal_notes(shared_core: Charterbot) -> None:
    found = knowledge(shared_core)
    texts: list[tuple[str, str]] = []
    for entry in found.entries:
        texts += [(entry.id, t) for t in (*entry.answer.values(), *entry.short.values(),
                                          *entry.title.values())]
    for route in found.routes.values():
        texts += [(route.id, t) for t in (*route.name.values(), *route.how.values(),
                                          *route.cost.values())]
    for item in found.platforms:
        texts += [(item.name, t) for e in item.history for t in e.note.values()]
        texts += [(item.name, t) for step in item.route for t in step.text.values()]
    texts += [(key, t) for key, values in PHRASES.items() for t in values.values()]
    assert not [(where, t) for where, t in texts if INTERNAL_NOTES.search(t)]


# -- the console and the command line -----------------------------------------------------------

def test_console_offers_numbered_choices_and_a_typed_number_opens_one(
        core: Charterbot) -> None:
    out = io.StringIO()
    run_console(core, io.StringIO("mon compte amazon est suspendu\n1\n2\n"), out)
    shown = out.getvalue()
    choices = (f"1 {say('more_steps', 'fr')} · 2 {say('more_sources', 'fr')} · "
               f"3 {say('more_details', 'fr')}")
    assert choices in shown
    answer, steps, sources = shown.split(choices)[:3]
    assert "réclamation interne" in answer and "1. " not in answer and "CEDR" not in answer
    assert say("escalation_heading", "fr") in steps and "CEDR" in steps
    assert "https://eur-lex.europa.eu" in sources


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "CHARTERBOT_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], text=True,
                          capture_output=True, cwd=ROOT, env=environ, timeout=60)


def test_ask_json_text_is_the_first_message_and_more_lists_the_details(tmp_path: Path) -> None:
    out = run(["ask", "--json", "mon compte amazon est suspendu"], tmp_path)
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    assert word_count(reply["text"]) <= FIRST_MESSAGE_TARGET + 30
    assert [m["id"] for m in reply["more"]] == ["steps", "sources", "details"]
    assert all(m["label"] and m["text"] for m in reply["more"])
    assert "CEDR" in reply["more"][0]["text"]


def test_ask_full_prints_everything(tmp_path: Path) -> None:
    short = run(["ask", "mon compte amazon est suspendu"], tmp_path).stdout
    full = run(["ask", "--full", "mon compte amazon est suspendu"], tmp_path).stdout
    assert say("escalation_heading", "fr") not in short
    assert say("escalation_heading", "fr") in full and "https://" in full
    assert word_count(full) > 2 * word_count(short)


# -- knowledge check ------------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy)
    return copy


def test_knowledge_check_refuses_a_platform_route_without_a_source(folder: Path) -> None:
    path = folder / "platforms.yaml"
    text = path.read_text(encoding="utf-8")
    sourced = "      sources: [amazon-mediation, cedr-amazon]\n"
    assert sourced in text
    path.write_text(text.replace(sourced, "", 1), encoding="utf-8")
    errors = [p for p in lint(folder) if p.severity == "error"]
    assert any(p.file.endswith("platforms.yaml") and "no 'sources'" in p.message
               for p in errors), errors


def test_knowledge_check_warns_about_a_first_message_too_long(folder: Path) -> None:
    path = folder / "entries" / "problems.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  short:\n    fr: |\n      ", text.index("- id: problem-fees"))
    at = start + len("  short:\n    fr: |\n      ")
    path.write_text(text[:at] + "Bla bla. " * 60 + text[at:], encoding="utf-8")
    warnings = [p for p in lint(folder, max_age_days=100_000) if p.severity == "warning"]
    assert any("problem-fees" in p.message and "first message" in p.message for p in warnings)
    assert all(p.severity == "warning" for p in lint(folder, max_age_days=100_000))
