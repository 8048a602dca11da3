"""Facts a fact check corrected (issue 14): each test fails if one of those mistakes comes back.

The checks read the knowledge as the bot loads it (bot.loader), never hard-coded answers: every
seller-facing text (entry answers and titles, escalation routes, platform notes) is searched, so
a wrong claim is caught wherever it is written again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache

import pytest

from bot.knowledge import Knowledge
from bot.loader import load_knowledge
from bot.model import Lang
from bot.settings import DEFAULT_KNOWLEDGE_DIR

Text = tuple[str, str]  # (where, text)


@cache
def knowledge() -> Knowledge:
    loaded, _warnings = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    return loaded


def texts(include_titles: bool = False) -> Iterator[Text]:
    """Every seller-facing text, labelled with where it comes from."""
    k = knowledge()
    for entry in k.entries:
        for lang, text in entry.answer.items():
            yield f"entry {entry.id} ({lang})", text
        if include_titles:
            for lang, text in entry.title.items():
                yield f"title of {entry.id} ({lang})", text
    for route in k.routes.values():
        for field in ("name", "how", "cost"):
            for lang, text in getattr(route, field).items():
                yield f"route {route.id}.{field} ({lang})", text
    for platform in k.platforms:
        for event in platform.history:
            for lang, text in event.note.items():
                yield f"note of {platform.name} {event.date} ({lang})", text


# A sentence ends at . ! ? followed by a capital, or at a line break; "art. 17" and
# "art. L442-1" do not end one.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\bart\.)(?<!\barts\.)(?<!\bC\.)\s+(?=[A-ZÀ-ÖØ-Ý«\"])|\n+")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def has(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def offending(check: Callable[[str], bool]) -> list[str]:
    return [f"{where}: {text}" for where, text in texts() if check(text)]


# --- 1. L111-7 of the Consumer Code is a duty toward consumers, not sellers -------------------

def test_l111_7_is_described_as_owed_to_consumers() -> None:
    bad = offending(lambda t: "L111-7" in t and not has(r"consommateur|consumer", t))
    assert bad == [], "L111-7 must be presented as information owed to consumers"


def test_l111_7_is_not_presented_as_delisting_rules_for_sellers() -> None:
    bad = [f"{w}: {s}" for w, t in texts() for s in sentences(t)
           if "L111-7" in s and has(r"d[ée]r[ée]f[ée]rencement|removed|delist", s)]
    assert bad == [], "for marketplaces L111-7 covers terms of use and ranking, not delisting"


# --- 2. An advantage without consideration is L442-1 I 1°, not I 2° ---------------------------

ADVANTAGE = r"sans contrepartie|aucune contrepartie|nothing in return|without consideration|no consideration"


def test_advantage_without_consideration_is_l442_1_i_1() -> None:
    bad = []
    for where, text in texts():
        for sentence in sentences(text):
            if not has(ADVANTAGE, sentence):
                continue
            if "I 2°" in sentence or ("L442-1" in sentence and "1°" not in sentence):
                bad.append(f"{where}: {sentence}")
    assert bad == [], "an advantage without consideration is art. L442-1 I 1° (I 2° is imbalance)"


def test_l442_1_i_1_is_stated_somewhere() -> None:
    assert any("I 1°" in text for _, text in texts())


# --- 3. DSA arts 20-21: decisions on illegal content / terms; not small platforms (art. 19) ---

DSA_20_21 = r"\bart(?:s|icles?)?\.?\s*(?:20|21)\b"
SMALL_PLATFORM_CAVEAT = r"art\. 19|art 19|petites plateformes|small platforms|50 salariés|50 staff"


def test_every_mention_of_dsa_arts_20_21_carries_the_small_platform_caveat() -> None:
    bad = offending(lambda t: has(DSA_20_21, t) and "DSA" in t
                    and not has(SMALL_PLATFORM_CAVEAT, t))
    assert bad == [], "DSA arts 20-21 do not bind micro and small platforms (art. 19)"


def test_dsa_redress_is_tied_to_illegal_content_or_terms() -> None:
    """Where the DSA redress is explained, it says which decisions it covers."""
    k = knowledge()
    explained = [e for e in k.entries if all(has(DSA_20_21, a) for a in e.answer.values())
                 and all("art. 17" in a for a in e.answer.values())]
    explained_routes = [r for r in k.routes.values() if all(has(DSA_20_21, h) for h in r.how.values())]
    assert explained and explained_routes
    grounds: tuple[tuple[Lang, str], ...] = (("fr", r"illicite.*CGU|CGU.*illicite"),
                                             ("en", r"illegal.*terms|terms.*illegal"))
    for lang, pattern in grounds:
        bad = [e.id for e in explained if not has(pattern, e.answer[lang])]
        bad += [r.id for r in explained_routes if not has(pattern, r.how[lang])]
        assert bad == [], f"say the DSA covers decisions on illegal content or terms ({lang})"


def test_overview_of_remedies_does_not_promise_dsa_redress_for_every_platform() -> None:
    bad = offending(lambda t: has(r"le DSA ajoute|the DSA adds", t)
                    and not has(SMALL_PLATFORM_CAVEAT, t))
    assert bad == []


# --- 4. The seller can waive the 15-day notice of P2B art. 3 ----------------------------------

def test_p2b_art_3_notice_mentions_the_waiver() -> None:
    bad = offending(lambda t: has(r"art\. 3\b", t) and has(r"15 (jours|days)", t)
                    and not has(r"renonc|waive", t))
    assert bad == [], "listing new goods during the notice waives it (P2B art. 3(2), 3(4))"


def test_waiver_exception_for_longer_notice_is_stated_where_the_waiver_is_explained() -> None:
    detailed = [(w, t) for w, t in texts() if has(r"vous pouvez renoncer|you can waive", t)]
    assert detailed
    bad = [w for w, t in detailed if not has(r"adaptation|adjust", t)]
    assert bad == []


# --- 5. Brutal termination: no notice is allowed for non-performance or force majeure ---------

def test_18_month_rule_comes_with_the_no_notice_exception() -> None:
    bad = offending(lambda t: has(r"18 (mois|months)", t) and not has(r"force majeure", t))
    assert bad == [], "L442-1 II allows termination without notice for non-performance or force majeure"


# --- 6. P2B arts 11(5) and 12(7): small enterprises are exempt, not only "very small" ---------

def test_no_very_small_platforms_wording() -> None:
    bad = offending(lambda t: has(r"tr[èe]s petites plateformes|very small platforms", t))
    assert bad == [], "P2B arts 11 and 12 exempt small enterprises (< 50 staff, <= €10M)"


def test_p2b_complaints_and_mediators_not_claimed_for_every_platform() -> None:
    bad = [f"{w}: {s}" for w, t in texts() for s in sentences(t)
           if has(r"\bart\. 1[12]\b", s)
           and has(r"\b(toutes les plateformes|chaque plateforme|every platform|all platforms)", s)]
    assert bad == []


def test_small_enterprise_thresholds_are_stated_the_same_way() -> None:
    bad = offending(lambda t: (has(r"(?<!\d)50 salariés", t) and "10 M€" not in t)
                    or (has(r"(?<!\d)50 staff", t) and "€10M" not in t))
    assert bad == [], "small enterprise: fewer than 50 staff and at most €10M turnover or balance sheet"


def test_entries_explaining_arts_11_and_12_carry_the_exemption() -> None:
    k = knowledge()
    bad = []
    for entry in k.entries:
        for lang, answer in entry.answer.items():
            explains = has(r"art\. 1[12]\b", answer) and has(
                r"réclamation interne gratuit|médiateurs|free internal complaint|mediators", answer)
            caveat = SMALL_PLATFORM_CAVEAT + r"|small ones|petites \("
            if explains and "P2B" in answer and not has(caveat, answer):
                bad.append(f"{entry.id} ({lang})")
    assert bad == [], "P2B arts 11(5)/12(7): small platforms are exempt"


# --- 7. Withheld payouts: DSA art. 17(1)(b) requires reasons --------------------------------

def test_payouts_are_not_said_to_have_no_rule() -> None:
    bad = offending(lambda t: has(r"aucune règle spécifique|no specific rule", t))
    assert bad == []


def test_payment_restrictions_cite_dsa_art_17_1_b() -> None:
    payouts = [(w, t) for w, t in texts()
               if has(r"retenue des fonds|withheld funds|retenir vos fonds|hold your funds", t)]
    assert payouts
    bad = [w for w, t in payouts if "17(1)(b)" not in t]
    assert bad == []


# --- 8. DGCCRF enforces DSA arts 25 and 30-32 only; Arcom coordinates -------------------------

def test_dgccrf_dsa_role_is_limited_to_arts_25_and_30_to_32() -> None:
    bad = [f"{w}: {s}" for w, t in texts() for s in sentences(t)
           if "DGCCRF" in s and has(r"\bDSA\b|SREN", s)
           and not (re.search(r"\b25\b", s) and re.search(r"\b30\b", s))]
    assert bad == []
    bad = offending(lambda t: has(r"DGCCRF (supervise|supervises|contr[ôo]le) (les )?"
                                  r"(places de march[ée]|marketplaces)", t))
    assert bad == [], "DGCCRF does not supervise marketplaces in general under the DSA"


# --- 9. DGCCRF v. Amazon: Paris administrative court, 9 July 2025 ----------------------------

def test_amazon_penalty_is_not_left_as_merely_contested() -> None:
    bad = offending(lambda t: has(r"3,33 M€|€3\.33M|90 000 €|€90,000", t)
                    and not has(r"9 juillet 2025|9 July 2025", t))
    assert bad == [], "the TA Paris decision of 9 July 2025 (no. 2206656) must be told"
    bad = offending(lambda t: has(r"contestés par Amazon|which Amazon contests", t))
    assert bad == []


def test_amazon_penalty_cut_to_50000_per_day() -> None:
    judged = [(w, t) for w, t in texts() if has(r"9 juillet 2025|9 July 2025", t)
              and has(r"astreinte|penalty", t) and has(r"réduit|ramène|cut|reduced", t)]
    assert judged
    assert all(has(r"50 000 €|€50,000", t) for _, t in judged)


def test_injunction_date_is_15_december_2021() -> None:
    bad = offending(lambda t: has(r"injonction|injunction", t) and has(r"décembre 2021|December 2021", t)
                    and not has(r"15 décembre 2021|15 December 2021", t))
    assert bad == []


# --- 10. Courts: TAE since 1 January 2025; Lille Métropole sits in Tourcoing ------------------

def test_no_lille_or_tourcoing_hedge() -> None:
    bad = offending(lambda t: has(r"Lille ou Tourcoing|Lille or Tourcoing|sources divergent|"
                                  r"sources differ", t))
    assert bad == [], "Lille Métropole commercial court sits in Tourcoing: one court"


def test_specialised_court_list_mentions_the_tae_trial() -> None:
    lists = [(w, t) for w, t in texts() if "Fort-de-France" in t]
    assert lists
    bad = [w for w, t in lists if not ("Lille Métropole" in t and has(r"activités économiques", t)
                                       and has(r"1er janvier 2025|1 January 2025", t))]
    assert bad == []


# --- 11. AliExpress: commitments binding on 18 June 2025 -------------------------------------

def test_aliexpress_dsa_proceedings_are_up_to_date() -> None:
    bad = offending(lambda t: "AliExpress" in t and has(r"procédure|proceedings", t)
                    and not has(r"18 juin 2025|18 June 2025", t))
    assert bad == []
    assert any("AliExpress" in t and has(r"18 juin 2025", t) for _, t in texts())
    assert any("AliExpress" in t and has(r"18 June 2025", t) for _, t in texts())


# --- 12. Digital Omnibus: a proposal, with the date its status was last checked --------------

CHECKED = r"(derni[èe]re v[ée]rification|last checked)[^.]*\b\d{1,2} \w+ 20\d\d"


def test_digital_omnibus_status_is_stated_and_dated() -> None:
    mentions = [(w, t) for w, t in texts() if has(r"omnibus", t)]
    assert mentions
    for where, text in mentions:
        adopted = has(r"\badopté le\b|\badopted on\b|cesse de s'appliquer|stops applying", text)
        assert adopted or has(r"non adopté|not adopted", text), where
        assert has(CHECKED, text), f"{where}: say when the status was last checked"


def test_digital_omnibus_source_is_the_proposal() -> None:
    k = knowledge()
    urls = [k.sources[s].url if s in k.sources else s
            for e in k.entries if any(has("omnibus", a) for a in e.answer.values()) for s in e.sources]
    assert any("52025PC0837" in u for u in urls)


# --- 13. Not over-hedged: sellers are DSA recipients, Amazon Marketplace is a DMA CPS ---------

def test_no_over_hedging() -> None:
    bad = offending(lambda t: has(r"notre lecture|our reading|pas une certitude|not a certainty|"
                                  r"lecture plausible|plausible reading|an interpretation", t))
    assert bad == []


def test_sellers_are_dsa_recipients_of_the_service() -> None:
    fr = [t for _, t in texts() if "destinataire du service" in t]
    en = [t for _, t in texts() if "recipient of the service" in t]
    assert fr and en
    assert all("art. 3" in t for t in fr + en)


def test_amazon_marketplace_dma_duties_are_stated() -> None:
    dma = [(w, t) for w, t in texts() if "DMA" in t and "Amazon" in t and has("gatekeeper|contrôleur", t)]
    assert dma
    for where, text in dma:
        assert "Marketplace" in text, where
        for article in ("5(3)", "6(2)", "6(5)"):
            assert article in text, f"{where}: art. {article}"


def test_fees_in_the_terms_are_terms_and_conditions() -> None:
    """A fee increase set in the terms gets the P2B notice, stated plainly (art. 2(10))."""
    fees = [(w, t) for w, t in texts()
            if any(has(r"\bfrais\b|\bfees\b", s) and has(r"15 (jours|days)", s) for s in sentences(t))]
    assert fees
    assert all("2(10)" in t for _, t in fees)


# --- every source an entry cites exists and has a title and a link ---------------------------

@pytest.mark.parametrize("source_id", [
    "digital-omnibus", "dsa-small-platforms", "dsa-authorities-fr", "aliexpress-commitments-2025",
    "ta-paris-2025-amazon", "tae-2025", "courts-annex-4-2-1", "dma", "l111-7", "l442-1",
])
def test_sources_of_the_corrections_are_known(source_id: str) -> None:
    doc = knowledge().sources[source_id]
    assert doc.title and doc.url.startswith("https://")
