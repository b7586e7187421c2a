"""Flows take what the opening message already says (bot/flows/prefill.py), read as transcripts.

The real faq/ and flows/, Wednesday 14 May 2025 (tests/conversation/test_engine.py's clock). For each of
the four flows, opening messages that carry some of its answers: what is noted (« Compris : »),
which questions are skipped, which are still asked, and the ticket's fields; then the guards
against false fills, the corrections, the confirmation before a ticket, and the flow checks.
"""
from __future__ import annotations

from datetime import date

import pytest

from bot.conversation.dates import find_date, find_months, find_times
from bot.conversation.flows import load_flows_text
from bot.conversation.flows.prefill import prefill
from bot.conversation.flows.runner import _next
from bot.texts import say
from tests.conversation.test_engine import Chat, engine, play, tickets  # noqa: F401  (engine is a fixture)

CONFIRM = say("flows.confirm")
HINT = say("flows.noted_hint")
COMMENT = "Un commentaire pour votre responsable ?"
WHICH_DAY = "Quel jour avez-vous oublié de badger ?"
WHAT = "Qu'avez-vous oublié de badger ?"
ARRIVAL = "À quelle heure êtes-vous arrivé(e) ?"
DEPARTURE = "À quelle heure êtes-vous parti(e) ?"
MONTHS = "De quel(s) mois avez-vous besoin ?"
LETTER = "Avez-vous le courrier avec votre identifiant"
PHONE = "Quel téléphone avez-vous ?"
STARTED = "[flow started: "
FEEDBACK = say("conversation.feedback_question")


def ticket_fields(chat: Chat, text: str) -> dict[str, str]:
    found = tickets(chat.send(text))
    assert len(found) == 1, text
    return found[0].fields


# --- badge.forgot_punch --------------------------------------------------------------------------

def test_day_departure_and_time_from_one_message_and_a_correction_that_is_not_feedback(engine):
    chat = Chat(engine)
    play(chat, [
        ("jai oublie de badger hier en partant a 17h",
         [STARTED, "oubli de badgeage", f"Compris : mardi 13/05/2025, le départ, 17h. {HINT}", COMMENT]),
        ("non c'était avant-hier", ["Je corrige : lundi 12/05/2025, le départ, 17h.", COMMENT]),
    ])
    assert ticket_fields(chat, "non") == {"date": "2025-05-12", "oubli": "Le départ", "heure_depart": "17:00"}


def test_this_morning_on_arrival_fills_the_arrival_time(engine):
    chat = Chat(engine)
    play(chat, [("j'ai oublié de pointer ce matin en arrivant vers 8h15",
                 [STARTED, "oubli de badgeage", "Compris : mercredi 14/05/2025, l'arrivée, 8h15.", COMMENT])])
    assert ticket_fields(chat, "réunion dehors") == {"date": "2025-05-14", "oubli": "L'arrivée",
                                                     "heure_arrivee": "08:15", "commentaire": "réunion dehors"}


def test_a_bare_time_is_asked_when_arrival_and_departure_are_both_possible(engine):
    chat = Chat(engine)
    play(chat, [
        ("oubli de badgeage lundi à 17h", [STARTED, "oubli de badgeage", "Compris : lundi 12/05/2025.", WHAT]),
        ("le départ", [DEPARTURE]),  # 17h was not guessed: the departure time is asked
        ("17h", [COMMENT]),
    ])
    assert ticket_fields(chat, "non") == {"date": "2025-05-12", "oubli": "Le départ", "heure_depart": "17:00"}


def test_yesterday_evening_going_out_asks_only_the_time_and_the_comment(engine):
    chat = Chat(engine)
    play(chat, [("pas badgé en sortant hier soir", [STARTED, "oubli de badgeage", "Compris : mardi 13/05/2025, le départ.",
                                                     DEPARTURE]),
                ("18h", [COMMENT])])
    assert ticket_fields(chat, "non")["heure_depart"] == "18:00"


def test_both_punches_forgotten_asks_both_times(engine):
    chat = Chat(engine)
    play(chat, [("oublié de badger les deux hier", [STARTED, "oubli de badgeage", "Compris : mardi 13/05/2025, les deux.",
                                                     ARRIVAL]),
                ("7h", [DEPARTURE]), ("16h30", [COMMENT])])
    assert ticket_fields(chat, "non") == {"date": "2025-05-13", "oubli": "Les deux", "heure_arrivee": "07:00",
                                          "heure_depart": "16:30"}


def test_a_count_is_not_a_date_and_nothing_is_noted(engine):
    chat = Chat(engine)
    lines = chat.lines("j'ai oublié de badger 2 fois cette semaine")
    assert not any(line.startswith("Compris") for line in lines)
    assert lines[-1] == WHICH_DAY


def test_back_after_a_noted_answer_asks_that_question(engine):
    chat = Chat(engine)
    chat.send("pas badgé en sortant hier soir")
    play(chat, [("retour", [say("flows.back"), WHAT]), ("l'arrivée", [ARRIVAL])])


# --- payslip.duplicate ---------------------------------------------------------------------------

def test_an_old_month_is_confirmed_before_the_ticket(engine):
    chat = Chat(engine)
    play(chat, [("je voudrais le duplicata de ma fiche de paie de mars 2019",
                 [STARTED, "copie de vos bulletins", "Compris : mars 2019.", CONFIRM])])
    assert ticket_fields(chat, "oui") == {"mois": "2019-03"}


def test_a_correction_at_the_confirmation_is_confirmed_again(engine):
    chat = Chat(engine)
    play(chat, [
        ("il me faut une copie de mes bulletins de janvier à mars 2020",
         [STARTED, "copie de vos bulletins", "Compris : janvier 2020, février 2020, mars 2020.", CONFIRM]),
        ("non, de janvier à mars 2021", ["Je corrige : janvier 2021, février 2021, mars 2021.", CONFIRM]),
    ])
    assert ticket_fields(chat, "oui") == {"mois": "2021-01,2021-02,2021-03"}


def test_no_at_the_confirmation_asks_the_questions_afresh(engine):
    chat = Chat(engine)
    chat.send("copie de ma fiche de paie d'octobre 2018")
    play(chat, [("non", [say("flows.restart"), MONTHS])])
    assert ticket_fields(chat, "mars 2019") == {"mois": "2019-03"}


def test_last_month_is_in_the_safe_and_is_answered_at_once(engine):
    chat = Chat(engine)
    play(chat, [("duplicata de ma fiche de paie du mois dernier",
                 [STARTED, "copie de vos bulletins", "Compris : avril 2025.", "le bulletin de avril 2025 est dans votre coffre-fort",
                  "[flow finished"])])


def test_a_month_without_year_is_the_latest_one(engine):
    chat = Chat(engine)
    lines = chat.lines("j'ai perdu ma fiche de paie de février, je peux en avoir une autre")
    assert "Compris : février 2025." in lines and FEEDBACK in lines[-2]


def test_a_number_of_payslips_is_not_a_month(engine):
    chat = Chat(engine)
    lines = chat.lines("je voudrais un duplicata de mes 2 dernières fiches de paie")
    assert lines[-1].startswith(MONTHS) and not any(line.startswith("Compris") for line in lines)


# --- mailbox.activate ----------------------------------------------------------------------------

def test_a_lost_letter_is_a_no_confirmed_before_the_ticket(engine):
    chat = Chat(engine)
    play(chat, [("j'ai perdu le courrier avec le code pour activer ma messagerie",
                 [STARTED, "activer votre boîte mail", "Compris : pas de courrier.", CONFIRM])])
    assert ticket_fields(chat, "oui") == {"courrier": "non"}


def test_a_wrongly_noted_no_is_undone_by_no(engine):
    chat = Chat(engine)
    chat.send("je n'ai jamais reçu la lettre pour activer ma boite mail")
    play(chat, [("non", [say("flows.restart"), LETTER]),
                ("oui", ["Très bien !", "[flow finished"])])
    assert not tickets(chat.send("merci"))


def test_a_received_letter_goes_straight_to_the_steps(engine):
    chat = Chat(engine)
    lines = chat.lines("j'ai reçu le courrier avec mon code, comment activer ma messagerie")
    assert "Compris : courrier : oui." in lines and any(line.startswith("Très bien !") for line in lines)


def test_no_letter_mentioned_asks_about_it(engine):
    chat = Chat(engine)
    assert chat.lines("comment activer ma boite mail pro")[-1].startswith(LETTER)


def test_no_code_in_sms_spelling_is_a_no(engine):
    chat = Chat(engine)
    play(chat, [("bjr jai pas de code pour activer mon mail", [STARTED, "activer", "Compris : pas de courrier.", CONFIRM])])
    assert ticket_fields(chat, "ok") == {"courrier": "non"}


# --- mailbox.phone_setup -------------------------------------------------------------------------

@pytest.mark.parametrize("opening, phone", [
    ("comment mettre ma messagerie pro sur mon iphone", "iPhone"),
    ("installer le mail du travail sur mon samsung", "Android"),
    ("mail pro sur android svp", "Android"),
    ("synchroniser les mails du boulot sur mon xiaomi", "Android"),
])
def test_the_phone_named_in_the_message_gets_its_steps(engine, opening, phone):
    chat = Chat(engine)
    lines = chat.lines(opening)
    assert lines[0] == "[flow started: mailbox.phone_setup]"
    assert lines[2].startswith(f"Compris : {phone}")
    assert lines[3].startswith(f"Sur {phone} :") and PHONE not in "".join(lines)


@pytest.mark.parametrize("opening", ["configurer ma boite mail sur mon telephone",
                                     "j'ai un iphone et un android, je veux la messagerie dessus"])
def test_no_phone_or_two_phones_ask_which(engine, opening):
    chat = Chat(engine)
    assert chat.lines(opening)[-1].startswith(PHONE)


# --- the parts ------------------------------------------------------------------------------------

TODAY = date(2025, 5, 14)


@pytest.mark.parametrize("text, expected", [
    ("j'ai perdu 2 badges", None), ("je badge tous les lundis", None), ("badge lundi dernier", date(2025, 5, 12)),
    ("mon badgeage n'est pas passé mardi", date(2025, 5, 13)), ("le 3/05 à 8h", date(2025, 5, 3)),
])
def test_find_date_takes_only_a_day(text, expected):
    assert find_date(text, TODAY) == expected


@pytest.mark.parametrize("text, expected", [
    ("il me manque 3 heures sup", None), ("2h sup en avril", None), ("j'ai 2 fiches", None),
    ("a 5 heures du matin", ["05:00"]), ("de 7h30 à 16:45", ["07:30", "16:45"]),
])
def test_find_times_takes_only_clock_times(text, expected):
    found = find_times(text)
    assert ([f"{t:%H:%M}" for t in found] if found else None) == expected


@pytest.mark.parametrize("text, expected", [
    ("copie fiche de paie 2019", None), ("sept badges", None), ("mais non", None),
    ("ma paie d'octobre", [(2024, 10)]), ("mes 3 derniers mois", [(2025, 2), (2025, 3), (2025, 4)]),
])
def test_find_months_takes_only_named_months(text, expected):
    assert find_months(text, TODAY) == expected


FLOW = """
id: test.visite
titre: Visite
etapes:
  - id: jour
    question: Quel jour ?
    type: date
  - id: retour
    question: Quel jour de retour ?
    type: date
    pre_remplir: non
  - id: fin
    ticket: visite
"""


def test_a_step_marked_never_prefilled_is_asked_and_does_not_make_the_other_ambiguous():
    flows, problems = load_flows_text(FLOW, "t.yaml", {})
    assert problems == []
    assert prefill(flows["test.visite"], "c'était hier", TODAY, _next) == {"jour": "2025-05-13"}


@pytest.mark.parametrize("extra, message", [
    ("    pre_remplir: peut-être\n", "« pré_remplir » : oui ou non"),
    ("    mots: [jour]\n", "« mots » d'une étape ne va qu'avec « type: oui/non »"),
])
def test_flow_checks_refuse_a_bad_prefill_key(extra, message):
    text = FLOW.replace("    type: date\n  - id: retour", f"    type: date\n{extra}  - id: retour")
    _, problems = load_flows_text(text, "t.yaml", {})
    assert any(message in p.message for p in problems), problems


def test_the_faq_example_openings_of_the_flows_are_never_misread(engine):
    """Every FAQ question of a flow entry, read as an opening: what is noted must be what it says."""
    expected = {
        "j'ai oublié de badger ce matin": {"date": "2025-05-14", "oubli": "L'arrivée"},
        "j'ai pas pointé en partant": {"oubli": "Le départ"},
        "j'ai perdu la lettre avec le code d'activation de ma messagerie": {"courrier": "non"},
        "j'ai perdu ma fiche de paie de mars, je peux en avoir une autre": {"mois": "2025-03"},
    }
    seen = {}
    for entry in engine.knowledge.faq.entries:
        if entry.kind == "flow":
            for question in entry.questions:
                seen[question] = prefill(engine.knowledge.flows[entry.flow], question, TODAY, _next)
    for question, fields in expected.items():
        assert seen[question] == fields
    # "mes 3 derniers bulletins", "2019" alone, "2 fois": numbers that are not months or days
    assert seen["il me faut mes 3 derniers bulletins de salaire pour un dossier de logement"] == {}
    assert seen["copie fiche de paie 2019"] == {}
