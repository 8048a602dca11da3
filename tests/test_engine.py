"""The decision as a pure unit: real-style seller messages in, a decision out, no database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.engine.decide import MAX_CHARS
from bot.knowledge import KnowledgeError
from bot.loader import load_knowledge
from bot.model import Message
from bot.service import Charterbot
from bot.settings import DEFAULT_KNOWLEDGE_DIR

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine() -> Engine:
    knowledge, _ = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    return Engine(knowledge)


# A long story and a pasted notice per situation, in each language (written for these tests,
# in the way sellers post them: context first, the platform's words quoted).
SITUATIONS = [
    ("problem-suspension",
     "Bonjour à tous, je vends des articles de puériculture depuis quatre ans sans le moindre "
     "souci. Lundi matin, impossible de me connecter à l'espace vendeur : mon compte est suspendu. "
     "Le message dit seulement que mon activité ne respecte pas les règles. J'ai écrit trois fois, "
     "réponse automatique à chaque fois. Que puis-je faire ?"),
    ("problem-suspension",
     "Here is the email I got this morning: 'Your selling account has been deactivated and your "
     "listings are no longer visible. To reactivate it, please submit an appeal.' I have sold "
     "garden tools for six years with no complaint. What are my options?"),
    ("problem-payments-held",
     "Depuis un mois la plateforme garde l'argent de mes ventes. Les commandes sont livrées, les "
     "clients contents, mais mes versements sont bloqués et le solde ne m'est pas reversé. Le "
     "support parle d'une vérification en cours, sans date."),
    ("problem-payments-held",
     "They put a hold on my funds two weeks ago. My balance keeps growing but no disbursement "
     "comes through, and support says the money stays in my account while they review it."),
    ("problem-counterfeit-accused",
     "Nous avons reçu ce message : « Nous avons retiré votre offre suite à la réclamation d'un "
     "titulaire de droits pour contrefaçon de marque. » Nos produits viennent du distributeur "
     "officiel et nous avons toutes les factures. Comment contester ?"),
    ("problem-counterfeit-accused",
     "Notice received: 'We removed your listing because a rights owner reported that it may "
     "infringe their trademark.' The item is genuine, bought from the brand's wholesaler, and I "
     "have invoices. How do I get the listing back?"),
    ("problem-fees",
     "Mail reçu hier : « Nous faisons évoluer nos frais de vente : à compter du mois prochain la "
     "commission passera de 12 % à 15 % sur toutes les catégories. » C'est la deuxième hausse "
     "cette année, ont-ils le droit ?"),
    ("problem-fees",
     "Just got the announcement: 'We are updating our seller fees. Starting next month the "
     "transaction fee increases to 9.5 percent.' That's the second increase this year. Can they "
     "just do that?"),
    ("problem-performance",
     "Mon taux de retard d'expédition a dépassé l'objectif pendant les grèves de la poste et la "
     "plateforme a restreint mon compte. Elle me demande un plan d'action avec les causes et les "
     "mesures prises. Que dois-je écrire ?"),
    ("problem-performance",
     "During the carrier strike my late shipment rate went over the target and they removed my "
     "selling privileges. They want a plan of action with root causes and preventive steps. "
     "What should I write?"),
    ("problem-closure",
     "Après neuf ans de ventes de pièces de vélo, la plateforme m'écrit : « Nous avons décidé de "
     "mettre fin à notre relation commerciale. Votre compte sera fermé définitivement sous 48 "
     "heures. » Aucun motif, aucun préavis. Que puis-je faire ?"),
    ("problem-closure",
     "After nine years selling bike parts I got this: 'We have decided to end our business "
     "relationship. Your account will be permanently closed within 48 hours.' No reason, no "
     "notice period. What can I do?"),
    ("problem-delisting",
     "Ce matin la moitié de mon catalogue de luminaires n'était plus en ligne. Le mail dit : "
     "« Certaines de vos offres ont été retirées car elles ne respectent pas nos règles. » Sans "
     "dire lesquelles ni quelle règle."),
    ("problem-delisting",
     "This morning half of my lamp catalogue was gone. The email says: 'Some of your listings "
     "have been removed because they do not comply with our policies.' It doesn't say which "
     "listings or which policy."),
    ("problem-terms-change",
     "Nous avons reçu un mail annonçant de nouvelles conditions générales pour les vendeurs, qui "
     "s'appliquent dans cinq jours, avec des règles de retour beaucoup plus strictes à notre "
     "charge. Ont-ils le droit de changer le contrat si vite ?"),
    ("problem-terms-change",
     "We got an email announcing a new seller agreement that applies in five days, with much "
     "stricter return rules at our expense. Can they change the contract that fast?"),
    ("problem-counterfeit-competitors",
     "Je crée des sacs en cuir dans mon atelier. Depuis un mois, des vendeurs proposent des "
     "copies de mes modèles avec mes propres photos, trois fois moins cher. Je les signale mais "
     "elles reviennent sous d'autres noms."),
    ("problem-counterfeit-competitors",
     "I make leather bags in my workshop. For a month, sellers have been offering copies of my "
     "designs with my own photos at a third of the price. I report them but they come back "
     "under other names."),
    ("problem-ranking",
     "Mes ventes ont chuté de 70 % en deux semaines. Mes produits sont toujours en ligne mais "
     "n'apparaissent plus dans les résultats de recherche, même en tapant leur nom exact."),
    ("problem-ranking",
     "My sales fell 70 percent in two weeks. My products are still live but no longer show up in "
     "search results, even when I type their exact name."),
    ("problem-no-contact",
     "Cela fait un mois que j'essaie de parler à quelqu'un au service vendeurs. Je n'ai que des "
     "réponses automatiques, aucun numéro de téléphone, et chaque ticket est fermé sans réponse."),
    ("problem-no-contact",
     "For a month I've been trying to reach someone at seller support. I only get automated "
     "replies, there is no phone number and every ticket is closed without an answer."),
    ("escalation-platform-mediators",
     "Ma réclamation auprès de la plateforme a été rejetée. Leurs conditions parlent d'une "
     "médiation : qui sont les médiateurs désignés, et combien ça coûte pour un petit vendeur ?"),
    ("escalation-platform-mediators",
     "My complaint to the platform was rejected. Their terms mention mediation: who are the named "
     "mediators and how much does it cost a small seller?"),
    # the other form (story or pasted notice) of the situations above, in both languages
    ("problem-suspension",
     "Message reçu ce matin : « Votre compte vendeur a été suspendu. Nous avons constaté une "
     "activité qui enfreint nos règles. Vos offres ne sont plus visibles. Pour demander la "
     "réactivation, soumettez un recours. » Aucune explication de plus, je ne sais pas quoi corriger."),
    ("problem-suspension",
     "I run a small shop selling baby clothes, four years without a single issue. On Monday I "
     "could not log into my seller dashboard: the account is suspended. The message only says my "
     "activity breaks the rules. I wrote three times and got the same automatic reply. What can I do?"),
    ("problem-payments-held",
     "Notification : « Nous avons placé une réserve sur votre compte. 75 % des fonds de vos ventes "
     "seront retenus pendant 45 jours afin de couvrir d'éventuels remboursements. » Mes clients sont "
     "satisfaits et je n'ai aucun litige. Comment faire lever cette retenue ?"),
    ("problem-payments-held",
     "Email from the marketplace: 'A reserve has been placed on your account. 75% of your sales "
     "funds will be held for 45 days to cover possible refunds.' My customers are happy and I have "
     "no open case. How do I get this hold lifted?"),
    ("problem-counterfeit-accused",
     "Je revends des parfums achetés chez le distributeur officiel de la marque, factures à l'appui. "
     "La semaine dernière, trois de mes fiches ont disparu : la marque m'accuse de vendre des "
     "contrefaçons. Je n'ai jamais vendu de faux. Comment me défendre ?"),
    ("problem-counterfeit-accused",
     "I resell perfume bought from the brand's official distributor and I have the invoices. Last "
     "week three of my listings vanished: the brand says I sell counterfeits. I have never sold a "
     "fake. How do I defend myself?"),
    ("problem-fees",
     "Je vends des bougies artisanales depuis trois ans. Au début la plateforme prenait 5 %, "
     "aujourd'hui entre la commission, les frais de paiement et la publicité imposée, elle prend "
     "presque 20 % de chaque vente. Je ne fais plus de marge. Peuvent-ils augmenter comme ça ?"),
    ("problem-fees",
     "I have sold handmade candles for three years. At first the platform took 5 percent; now with "
     "the commission, payment fees and forced advertising it takes almost 20 percent of each sale. "
     "My margin is gone. Can they keep raising it like that?"),
    ("problem-performance",
     "Notification de la plateforme : « Votre taux de défaut de commande est supérieur à notre "
     "objectif de 1 %. Vos privilèges de vente ont été retirés. Pour les rétablir, envoyez un plan "
     "d'action. » Ce sont trois colis perdus par le transporteur."),
    ("problem-performance",
     "Notice: 'Your order defect rate is above our 1% target. Your selling privileges have been "
     "removed. To reinstate them, submit a plan of action.' It's three parcels the carrier lost."),
    ("problem-closure",
     "Nous sommes une petite maison d'édition, nous vendions sur cette marketplace depuis 2016. "
     "Hier, sans avertissement, ils ont fermé notre compte pour de bon : plus d'accès, plus de "
     "ventes, et personne pour nous dire pourquoi. C'est 40 % de notre chiffre. Quels recours ?"),
    ("problem-closure",
     "We are a small publisher and had sold on this marketplace since 2016. Yesterday, with no "
     "warning, they closed our account for good: no access, no sales, and nobody will tell us why. "
     "It was 40 percent of our revenue. What are our options?"),
    ("problem-terms-change",
     "Mail de la plateforme : « Nous mettons à jour nos conditions générales pour les vendeurs. "
     "Les nouvelles conditions s'appliqueront à partir du 1er du mois prochain. En continuant à "
     "vendre, vous les acceptez. » Le délai de retour passe à 60 jours à nos frais."),
    ("problem-terms-change",
     "Email: 'We are updating our seller terms and conditions. The new terms apply from the 1st of "
     "next month. By continuing to sell, you accept them.' The return window goes up to 60 days at "
     "our cost."),
    ("problem-no-contact",
     "Réponse reçue pour la cinquième fois : « Merci de votre message. Nous ne sommes pas en mesure "
     "de vous donner plus d'informations. Ce ticket est maintenant fermé. » Impossible d'avoir un "
     "humain, pas de numéro. Vers qui me tourner ?"),
    ("problem-no-contact",
     "Fifth time I get this reply: 'Thank you for contacting us. We are unable to provide further "
     "information. This case is now closed.' No human, no phone number. Who can I turn to?"),
]

REFUSED = [
    "le médiateur de la consommation peut-il m'aider, ma commande n'est jamais arrivée",
    "je voudrais saisir le médiateur de la consommation",  # the consumer's mediator, not the seller's
    "I want to take my complaint about an online shop to a consumer mediator",
    "comment annuler une commande passée hier sur le site",
    "Quel taux de TVA dois-je appliquer à mes bougies vendues en Belgique ?",
    "I bought a blender from a marketplace seller and it broke after a week, how do I get a refund?",
    "J'ai commandé un aspirateur sur une marketplace il y a un mois. Le colis n'est jamais arrivé, le "
    "vendeur ne répond plus et le service client me dit d'attendre. Je veux être remboursée, que faire ?",
    "I ordered a vacuum cleaner from a marketplace seller a month ago. The parcel never came, the "
    "seller stopped answering and customer service tells me to wait. I want my money back, what now?",
    "How should I photograph jewellery for my shop, natural light or a lightbox?",
]


@pytest.mark.parametrize("expected, text", SITUATIONS)
def test_a_story_or_a_pasted_notice_gets_its_answer(engine: Engine, expected: str,
                                                    text: str) -> None:
    decision = engine.decide(text)
    assert decision.verdict == "answer", (decision.verdict, [o.id for o in decision.options])
    assert decision.entry is not None and decision.entry.id == expected


@pytest.mark.parametrize("text", REFUSED)
def test_out_of_scope_and_keyword_traps_are_refused(engine: Engine, text: str) -> None:
    assert engine.decide(text).verdict == "fallback"


@pytest.mark.parametrize("text", ["comment saisir le médiateur des entreprises",
                                  "how do I go to mediation with my marketplace as a seller"])
def test_the_sellers_own_mediator_is_still_answered(engine: Engine, text: str) -> None:
    decision = engine.decide(text)
    assert decision.verdict == "answer" and decision.entry is not None
    assert decision.entry.topic == "escalation", decision.entry.id


def test_a_refusal_says_where_to_look_when_the_topic_is_known(engine: Engine) -> None:
    decision = engine.decide("comment déclarer la TVA de mes ventes en ligne")
    assert decision.verdict == "fallback" and decision.outside is not None
    assert "impots.gouv.fr" in decision.outside.answer["fr"]


def test_a_vague_seller_message_gets_a_question_not_a_refusal(engine: Engine) -> None:
    decision = engine.decide("problème avec mon compte vendeur et mon argent, je ne comprends pas")
    assert decision.verdict in ("clarify", "answer")
    if decision.verdict == "clarify":
        assert 2 <= len(decision.options) <= 3
        assert all(o.kind == "answer" for o in decision.options)


@pytest.mark.parametrize("text, caveat", [
    ("I sell on amazon.com in the United States and my account was suspended without reason",
     "outside-eu"),
    ("En 2018 la plateforme a suspendu mon compte vendeur sans explication", "before-p2b"),
    ("je suis un particulier et mon compte a été suspendu sans explication", "private-seller"),
])
def test_facts_that_limit_the_law_add_their_caveat(engine: Engine, text: str, caveat: str) -> None:
    decision = engine.decide(text)
    assert decision.verdict == "answer"
    assert caveat in [c.id for c in decision.caveats]


def test_no_caveat_without_its_fact(engine: Engine) -> None:
    decision = engine.decide("mon compte vendeur a été suspendu hier sans explication")
    assert decision.caveats == ()


def test_a_message_with_two_problems_offers_the_other_one(engine: Engine) -> None:
    decision = engine.decide("My seller account was suspended yesterday without a reason. On "
                             "top of that they are holding my funds: the money from my sales "
                             "is stuck in my balance.")
    ids = {decision.entry.id if decision.entry else None, *(o.id for o in decision.options)}
    assert {"problem-suspension", "problem-payments-held"} <= ids


def test_a_message_is_weighed_as_training_weighed_the_phrasings(engine: Engine) -> None:
    """The fast path (columns cached per term, sentences cut from one pass over the words) must
    give the model what the training path gives it, or answers drift from what was measured."""
    texts = [text for _, text in SITUATIONS] + REFUSED
    for text in texts:
        whole = engine.analyser.read(text)
        split = engine.analyser.read(text, sentences=8)
        assert split.terms == whole.terms and split.sentences
        for reading in (whole, *split.sentences):
            trained = engine.model.probabilities(engine.analyser.features(reading))
            served = engine.model.probabilities_of([engine.encoder.vector(reading)])[0]
            assert abs(trained - served).max() < 1e-9, text


def test_a_huge_message_is_read_from_its_beginning(engine: Engine) -> None:
    text = "mon compte vendeur a été suspendu sans explication. " + "blabla " * 5000
    decision = engine.decide(text)
    assert decision.truncated and len(text) > MAX_CHARS
    assert decision.entry is not None and decision.entry.id == "problem-suspension"


def test_words_unknown_to_the_knowledge_are_not_guessed(engine: Engine) -> None:
    assert engine.decide("zorglub wakanda quetzalcoatl").verdict == "fallback"


def test_no_entry_id_is_written_in_code() -> None:
    """Code asks for entries by role; renaming an entry must never break a command silently."""
    knowledge, _ = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    ids = {e.id for e in knowledge.entries}
    found = []
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "adapters").rglob("*.py")]:
        for literal in re.findall(r"[\"']([a-z0-9-]+)[\"']", path.read_text()):
            if literal in ids and literal not in {e.role for e in knowledge.entries}:
                found.append(f"{path.relative_to(ROOT)}: {literal}")
    assert found == []


def test_each_role_is_played_exactly_once(knowledge_copy: Path) -> None:
    charter = knowledge_copy / "entries" / "charter.yaml"
    text = charter.read_text()
    charter.write_text(text.replace("  role: signatory-list\n", "", 1))
    with pytest.raises(KnowledgeError) as missing:
        load_knowledge(knowledge_copy)
    assert "role: signatory-list" in str(missing.value)
    charter.write_text(text.replace("  role: signatory-list\n", "  role: platform-status\n", 1))
    with pytest.raises(KnowledgeError) as twice:
        load_knowledge(knowledge_copy)
    assert "already played" in str(twice.value)


def test_word_lists_must_be_written_folded(knowledge_copy: Path) -> None:
    words = knowledge_copy / "words.yaml"
    words.write_text(words.read_text().replace("courtesy: >-\n", "courtesy: >-\n  Merci!\n", 1))
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(knowledge_copy)
    assert "words.yaml:" in str(error.value) and "Merci!" in str(error.value)


def test_the_sms_spellings_come_from_the_knowledge(knowledge_copy: Path) -> None:
    words = knowledge_copy / "words.yaml"
    words.write_text(words.read_text().replace("spellings:\n", 'spellings:\n  zcpt: "compte"\n', 1))
    knowledge, _ = load_knowledge(knowledge_copy)
    decision = Engine(knowledge).decide("mon zcpt vendeur est suspendu")
    assert decision.entry is not None and decision.entry.id == "problem-suspension"


def test_the_seller_gets_the_question_back_with_topic_buttons(shared_core: Charterbot) -> None:
    reply = shared_core.handle(Message(
        text="la plateforme a changé quelque chose sur mon compte et mes ventes",
        user="test:clarify", channel="cli")).to_json()
    assert reply["kind"] == "clarify" and reply["entry"] is None
    assert reply["text"].startswith("Votre message parle-t-il de")
    assert 2 <= len(reply["suggestions"]) <= 3


def test_two_builds_of_one_knowledge_decide_alike() -> None:
    """Every worker and every restart trains the same model, so a seller never gets a different
    answer depending on which process read the message."""
    import numpy as np

    from bot.engine.engine import train_model

    knowledge, _ = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    assert np.array_equal(train_model(knowledge).weights, train_model(knowledge).weights)
