"""The bot's own sentences (around the knowledge), in French and English."""

from __future__ import annotations

from datetime import date

from bot.case.phrases import CASE_PHRASES
from bot.model import Lang

PHRASES: dict[str, dict[Lang, str]] = {
    "fallback": {
        "fr": "Je ne sais pas répondre à cette question, et je préfère ne pas deviner. Je connais "
              "la Charte des acteurs du e-commerce (2019, renouvelée en 2020), les plateformes "
              "signataires, vos droits au titre du règlement européen P2B et les recours en cas de "
              "déréférencement, suspension, hausse de frais, accusation de contrefaçon ou absence "
              "d'interlocuteur.",
        "en": "I don't know the answer to that, and I would rather not guess. I know about the "
              "French e-commerce charter (2019, renewed in 2020), which platforms signed it, your "
              "rights under the EU P2B Regulation, and what to do about delisting, suspension, fee "
              "increases, counterfeit accusations or having nobody to talk to.",
    },
    "did_you_mean": {"fr": "Vouliez-vous parler de :", "en": "Did you mean:"},
    "clarify": {"fr": "Votre message parle-t-il de :", "en": "Is your message about:"},
    "also_about": {"fr": "Votre message parle aussi de :", "en": "Your message is also about:"},
    "logged": {
        "fr": "J'ai noté votre question pour que l'équipe complète mes connaissances.",
        "en": "I have logged your question so the team can fill the gap.",
    },
    "escalation_heading": {"fr": "Comment faire valoir vos droits, étape par étape :",
                           "en": "How to escalate, step by step:"},
    "platforms_heading": {"fr": "Statut des plateformes :", "en": "Platform status:"},
    "reviewed": {"fr": "Vérifié le {date}", "en": "Reviewed on {date}"},
    "sources": {"fr": "Sources", "en": "Sources"},
    "empty": {
        "fr": "Je n'ai pas reçu de texte. Posez-moi votre question en quelques mots, par exemple "
              "« Amazon a-t-il signé la charte ? » ou « mon compte est suspendu ».",
        "en": "I did not get any text. Ask me in a few words, for example \"Did Amazon sign the "
              "charter?\" or \"my account was suspended\".",
    },
    "text_only": {
        "fr": "Je ne comprends que les messages écrits. Tapez votre question, je vous réponds.",
        "en": "I only understand text messages. Type your question and I will answer.",
    },
    "too_long": {
        "fr": "Votre message est très long : je n'en ai lu que le début. Pour une réponse précise, "
              "résumez votre problème en une ou deux phrases.",
        "en": "Your message is very long, so I only read its beginning. For a precise answer, sum "
              "up your problem in one or two sentences.",
    },
    "rate_limited": {
        "fr": "Vous m'envoyez beaucoup de messages d'un coup. Patientez quelques secondes, puis "
              "posez une question à la fois.",
        "en": "You are sending me many messages at once. Please wait a few seconds, then ask one "
              "question at a time.",
    },
    "language_set": {"fr": "C'est noté : je vous répondrai en français.",
                     "en": "Got it: I will answer in English."},
    "language_usage": {"fr": "Langue : /langue fr ou /langue en.",
                       "en": "Language: /language fr or /language en."},
    "forgotten": {
        "fr": "C'est fait : j'ai effacé tout ce que j'avais enregistré à votre sujet (préférences, "
              "questions, avis).",
        "en": "Done: I have erased everything I had stored about you (preferences, questions, "
              "feedback).",
    },
    "feedback_thanks": {"fr": "Merci pour votre avis, il aide l'équipe à améliorer les réponses.",
                        "en": "Thank you for your feedback: it helps the team improve the answers."},
    "unknown_entry": {"fr": "Ce sujet n'existe plus. Reformulez votre question.",
                      "en": "That topic no longer exists. Please ask your question again."},
    "unknown_command": {"fr": "Je ne connais pas cette commande. Tapez /help pour l'aide.",
                        "en": "I don't know that command. Type /help for help."},
    "reloaded": {"fr": "Connaissances rechargées : {entries} fiches.",
                 "en": "Knowledge reloaded: {entries} entries."},
    "reload_failed": {"fr": "Rechargement refusé, je garde la version précédente :",
                      "en": "Reload refused, I keep the previous version:"},
    "signatories_heading": {"fr": "Signataires aujourd'hui :", "en": "Signatories today:"},
    "refused_heading": {"fr": "Ont refusé sans adhésion connue depuis :",
                        "en": "Refused, with no later joining known:"},
    "status_unknown": {"fr": "{name} ne figure pas parmi les signataires connus de la charte.",
                       "en": "{name} is not among the known signatories of the charter."},
    "status_refused": {
        "fr": "{name} a refusé de signer la charte le {when} ; aucune adhésion ultérieure n'est "
              "connue.",
        "en": "{name} refused to sign the charter on {when}; no later joining is known.",
    },
    "status_refused_then_joined": {
        "fr": "{name} a refusé de signer le {refused}, puis a rejoint la charte renouvelée le "
              "{joined}.",
        "en": "{name} refused to sign on {refused}, then joined the renewed charter on {joined}.",
    },
    "status_signed": {"fr": "{name} a signé la charte le {signed}.",
                      "en": "{name} signed the charter on {signed}."},
    "status_signed_renewed": {
        "fr": "{name} a signé la charte le {signed} et l'a renouvelée le {renewed}.",
        "en": "{name} signed the charter on {signed} and renewed it on {renewed}.",
    },
    "advice_signed": {
        "fr": "Vous pouvez rappeler à {name} ses engagements de la charte (ils ne sont pas "
              "contraignants) ; le règlement P2B, lui, l'oblige.",
        "en": "You can hold {name} to its charter commitments (they are not binding); the P2B "
              "Regulation, however, does bind it.",
    },
    "advice_not_signed": {
        "fr": "La charte n'engage pas {name}, mais le règlement européen P2B (2019/1150) "
              "s'applique à toutes les plateformes qui servent des vendeurs établis dans l'UE.",
        "en": "The charter does not bind {name}, but the EU P2B Regulation (2019/1150) applies "
              "to every platform serving sellers established in the EU.",
    },
    "uncertain": {"fr": "incertain", "en": "uncertain"},
    "status_probably": {"fr": "selon la plupart des sources", "en": "according to most sources"},
    "more_steps": {"fr": "Étapes de recours", "en": "Steps to escalate"},
    "more_sources": {"fr": "Sources", "en": "Sources"},
    "sources_intro": {"fr": "Les documents sur lesquels s'appuie cette réponse :",
                      "en": "The documents this answer is based on:"},
    "more_details": {"fr": "Plus de détails", "en": "More details"},
    "more_gone": {"fr": "Ces détails ne sont plus disponibles. Reposez votre question.",
                  "en": "These details are no longer available. Please ask your question again."},
    "choose_more": {"fr": "Tapez un numéro pour la suite :", "en": "Type a number for more:"},
    "signatories_line": {"fr": "Signataires aujourd'hui : {names}.",
                         "en": "Signatories today: {names}."},
    "own_route_heading": {"fr": "Délais propres à {name} :", "en": "{name}'s own time limits:"},
    "own_route_check": {"fr": "Vérifiez-le dans vos conditions actuelles.",
                        "en": "Check it in your current terms."},
    "route_in_terms": {
        "fr": "Où trouver la réclamation et les médiateurs de votre plateforme : dans ses CGU ou "
              "votre contrat vendeur, rubriques « réclamation », « plainte » ou « médiation » "
              "(le règlement P2B, art. 11 et 12, l'oblige à les y décrire).",
        "en": "Where to find your platform's complaint system and mediators: in its terms or your "
              "seller agreement, under \"complaints\" or \"mediation\" (the P2B Regulation, "
              "arts 11 and 12, requires it to describe them there).",
    },
    "overview_intro": {
        "fr": "Je suis charterbot, un assistant d'information (pas un avocat) pour les vendeurs "
              "TPE/PME sur les places de marché. Posez-moi votre question en quelques mots.",
        "en": "I am charterbot, an information assistant (not a lawyer) for small sellers on "
              "online marketplaces. Ask me your question in a few words.",
    },
}

MONTHS: dict[Lang, tuple[str, ...]] = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}


PHRASES.update(CASE_PHRASES)


def say(key: str, lang: Lang, **values: object) -> str:
    """One of the bot's sentences in `lang`, with `{placeholders}` filled in."""
    return PHRASES[key][lang].format(**values)


def long_date(iso: str, lang: Lang) -> str:
    """'2019-03-26' -> '26 mars 2019' / '26 March 2019'; unparseable dates are returned as is."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    first = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{first} {MONTHS[lang][day.month - 1]} {day.year}"
