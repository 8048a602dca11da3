"""The case builder's own sentences and button labels (`bot.phrases.say` knows them too)."""

from __future__ import annotations

from bot.model import Lang

CASE_PHRASES: dict[str, dict[Lang, str]] = {
    "case_button": {"fr": "Préparer ma réclamation", "en": "Prepare my complaint"},
    "case_intro": {
        "fr": "Préparons votre réclamation : quelques questions, puis je vous donne la lettre à "
              "la plateforme, le résumé pour la médiation et la liste des pièces. Tapez "
              "« annuler » à tout moment.",
        "en": "Let's prepare your complaint: a few questions, then I give you the letter to the "
              "platform, the summary for mediation and the list of documents. Type \"cancel\" at "
              "any time.",
    },
    "case_ask_platform": {"fr": "({n}/{total}) Sur quelle plateforme ? Choisissez-la ou tapez "
                                "son nom.",
                          "en": "({n}/{total}) Which platform? Pick it or type its name."},
    "case_ask_problem": {"fr": "({n}/{total}) Que s'est-il passé ?",
                         "en": "({n}/{total}) What happened?"},
    "case_ask_date": {
        "fr": "({n}/{total}) Quel jour la mesure a-t-elle pris effet ? Tapez la date (par "
              "exemple 12/11/2026 ou « il y a 3 jours »).",
        "en": "({n}/{total}) On what day did it take effect? Type the date (for example "
              "12/11/2026 or \"3 days ago\").",
    },
    "case_ask_date_terms": {
        "fr": "({n}/{total}) Quel jour le changement s'applique-t-il (ou s'est-il appliqué) ? "
              "Tapez la date, par exemple 01/01/2027.",
        "en": "({n}/{total}) On what day does the change apply (or did it)? Type the date, for "
              "example 01/01/2027.",
    },
    "case_notice_after": {
        "fr": "Cette date tombe après le jour de la mesure. Tapez le jour où la plateforme vous a "
              "prévenu, avant la mesure, ou choisissez.",
        "en": "That date is after the day of the measure. Type the day the platform warned you, "
              "before the measure, or pick.",
    },
    "case_ask_notice": {
        "fr": "({n}/{total}) Quand la plateforme vous a-t-elle prévenu ? Tapez la date de son "
              "message (ou par exemple « 10 jours avant »).",
        "en": "({n}/{total}) When did the platform warn you? Type the date of its message (or "
              "for example \"10 days before\").",
    },
    "case_ask_said": {
        "fr": "({n}/{total}) Qu'a dit la plateforme ? Collez son message, ou choisissez.",
        "en": "({n}/{total}) What did the platform say? Paste its message, or pick.",
    },
    "case_ask_refs": {
        "fr": "({n}/{total}) Des références à citer (identifiant vendeur, numéros de commande ou "
              "de ticket) ? Tapez-les, ou passez.",
        "en": "({n}/{total}) Any references to quote (seller id, order or ticket numbers)? Type "
              "them, or skip.",
    },
    "case_confirm": {"fr": "J'ai compris : {summary}. C'est bien ça ?",
                     "en": "I understood: {summary}. Is that right?"},
    "case_not_understood": {
        "fr": "Je n'ai pas compris cette réponse. Utilisez un bouton, ou tapez « annuler ».",
        "en": "I did not understand that answer. Use a button, or type \"cancel\".",
    },
    "case_done": {
        "fr": "Voici vos documents, dans des fichiers modifiables. Relisez-les et complétez les "
              "passages [À COMPLÉTER] avant l'envoi. Ils ne contiennent que ce que vous m'avez "
              "dit et ce que disent les textes cités ; ce n'est pas un avis d'avocat. Je "
              "n'en garde rien au-delà de quelques minutes.",
        "en": "Here are your documents, as editable files. Read them and fill in the [TO FILL "
              "IN] parts before sending. They contain only what you told me and what the cited "
              "texts say; this is not legal advice. I keep nothing of your case beyond a few minutes.",
    },
    "case_cancelled": {"fr": "Dossier annulé : j'ai effacé ce que vous m'aviez dit.",
                       "en": "Case cancelled: I erased what you had told me."},
    "case_none": {"fr": "Vous n'avez pas de dossier en cours. Tapez « dossier » pour en "
                         "préparer un.",
                  "en": "You have no case under way. Type \"case\" to prepare one."},
    "case_over": {
        "fr": "Ce dossier n'est plus en cours (terminé, annulé ou expiré après 24 heures). Tapez "
              "« dossier » pour en préparer un.",
        "en": "That case is no longer under way (finished, cancelled, or expired after 24 hours). "
              "Type \"case\" to prepare one.",
    },
    "case_unavailable": {"fr": "Je ne peux pas préparer de dossier pour le moment.",
                         "en": "I cannot prepare a case at the moment."},
    "case_check_terms": {"fr": "(à vérifier dans les CGU)", "en": "(check it in the terms)"},
    "case_today": {"fr": "Aujourd'hui", "en": "Today"},
    "case_yesterday": {"fr": "Hier", "en": "Yesterday"},
    "case_unknown": {"fr": "Je ne sais plus", "en": "I don't remember"},
    "case_not_warned": {"fr": "Pas prévenu", "en": "No warning"},
    "case_same_day": {"fr": "Le jour même", "en": "The same day"},
    "case_said_none": {"fr": "Rien, aucun motif", "en": "Nothing, no reason"},
    "case_said_vague": {"fr": "Un message vague", "en": "A vague message"},
    "case_skip": {"fr": "Passer", "en": "Skip"},
    "case_ok": {"fr": "Oui, continuer", "en": "Yes, go on"},
    "case_edit": {"fr": "Corriger", "en": "Correct it"},
    "case_cancel": {"fr": "Annuler", "en": "Cancel"},
    "case_on": {"fr": "le {date}", "en": "on {date}"},
    "case_stale": {"fr": "Ce bouton répondait à une question précédente. La question en cours :",
                   "en": "That button answered an earlier question. The current question:"},
    "stats_cases": {"fr": "Dossiers : {completed} terminés, {cancelled} annulés, {expired} expirés.",
                    "en": "Cases: {completed} completed, {cancelled} cancelled, {expired} expired."},
    # a group chat: a case holds the seller's details, so it is prepared in the private chat
    "case_private": {
        "fr": "Un dossier contient vos informations (plateforme, dates, références) : "
              "préparons-le en privé, pas dans ce groupe. Touchez le bouton ci-dessous.",
        "en": "A case holds your details (platform, dates, references): let's prepare it in "
              "private, not in this group. Tap the button below.",
    },
    "case_private_button": {"fr": "Continuer en privé", "en": "Continue in private"},
    # Slack: a case started in a channel goes on in the direct messages with the app
    "case_in_private": {
        "fr": "Je continue en message privé, pour que votre dossier n'apparaisse pas ici.",
        "en": "I'll go on in a direct message, so your case does not show here.",
    },
}
