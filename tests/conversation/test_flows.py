"""Guided flows, read as transcripts: what the agent types, what the bot says, how the flow ends.

The clock is fixed: Wednesday 12 March 2025, 10:00. The four flows of flows/ are walked end to end
with the variables of the example configuration; loading mistakes are checked line by line.
"""
import json
from datetime import datetime, timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from bot.conversation.flows import FlowState, Outcome, advance, expired, load_flows, load_flows_text, start

NOW = datetime(2025, 3, 12, 10, 0)
FLOWS_DIR = Path(__file__).parents[2] / "flows"
VARIABLES = {
    "mail_portal_url": "https://messagerie.ville.example.fr",
    "mail_app_name": "Outlook",
    "mail_server": "outlook.office365.com",
    "mail_domain": "ville.example.fr",
    "payslip_safe_url": "https://bulletins.ville.example.fr",
    "payslip_safe_months": "24",
}


@pytest.fixture(scope="module")
def flows():
    loaded, problems = load_flows(FLOWS_DIR, VARIABLES)
    assert problems == []
    return loaded


def talk(flow, *answers, now=NOW):
    """Play a conversation; return every turn (the first is the flow's opening)."""
    turns = [start(flow, now)]
    for answer in answers:
        assert turns[-1].state is not None, f"the flow already ended before « {answer} »"
        turns.append(advance(flow, turns[-1].state, answer, now))
    return turns


def said(turn):
    return "\n".join(turn.messages)


# --- the four flows, end to end ---------------------------------------------------------------------

def test_the_four_catalogue_flows_are_there(flows):
    assert sorted(flows) == ["badge.forgot_punch", "mailbox.activate", "mailbox.phone_setup", "payslip.duplicate"]


def test_forgot_punch_both_times_becomes_a_ticket_for_the_manager(flows):
    turns = talk(flows["badge.forgot_punch"], "hier", "les deux", "7h30", "16 h 30", "réunion à la mairie")
    assert said(turns[0]) == "Quel jour avez-vous oublié de badger ?"
    assert said(turns[1]) == "Qu'avez-vous oublié de badger ?\n1. L'arrivée\n2. Le départ\n3. Les deux"
    assert said(turns[2]) == "À quelle heure êtes-vous arrivé(e) ?"
    assert said(turns[3]) == "À quelle heure êtes-vous parti(e) ?"
    assert "(ou répondez « non » pour passer)" in said(turns[4])
    end = turns[5]
    assert end.outcome is Outcome.TICKET and end.state is None
    assert "régularisation du mardi 11/03/2025" in said(end)
    assert end.ticket.reason == "régularisation de pointage"
    assert end.ticket.fields == {"date": "2025-03-11", "oubli": "Les deux", "heure_arrivee": "07:30",
                                 "heure_depart": "16:30", "commentaire": "réunion à la mairie"}


@pytest.mark.parametrize("missed, time_asked, field", [
    ("2", "À quelle heure êtes-vous parti(e) ?", "heure_depart"),
    ("l'arrivée", "À quelle heure êtes-vous arrivé(e) ?", "heure_arrivee"),
    ("entree", "À quelle heure êtes-vous arrivé(e) ?", "heure_arrivee"),
])
def test_forgot_punch_asks_only_the_missing_time(flows, missed, time_asked, field):
    turns = talk(flows["badge.forgot_punch"], "lundi dernier", missed, "7h", "non")
    assert said(turns[2]) == time_asked
    assert turns[-1].outcome is Outcome.TICKET
    assert turns[-1].ticket.fields == {"date": "2025-03-10", "oubli": turns[-1].ticket.fields["oubli"], field: "07:00"}


def test_forgot_punch_refuses_a_day_to_come(flows):
    turns = talk(flows["badge.forgot_punch"], "14/03/2025")
    assert turns[1].messages[0].startswith("Cette date est dans le futur")
    assert turns[1].state.step == "date"


def test_activation_with_the_letter_gives_the_portal_steps(flows):
    turns = talk(flows["mailbox.activate"], "oui je l'ai")
    assert turns[-1].outcome is Outcome.ANSWER and turns[-1].state is None
    assert "1. Ouvrez https://messagerie.ville.example.fr" in said(turns[-1])
    assert "nouveau mot de passe" in said(turns[-1])
    assert "portable" in said(turns[-1])


@pytest.mark.parametrize("answer", ["non", "nan je l'ai pas reçu", "je l'ai perdu"])
def test_activation_without_the_letter_asks_for_a_new_code(flows, answer):
    end = talk(flows["mailbox.activate"], answer)[-1]
    assert end.outcome is Outcome.TICKET
    assert end.ticket.reason == "nouveau code d'activation"
    assert "nouveau code d'activation" in said(end)


@pytest.mark.parametrize("answer, store", [
    ("1", "Play Store"), ("android", "Play Store"), ("j'ai un samsung", "Play Store"),
    ("2", "App Store"), ("iphone", "App Store"), ("ifone", "App Store"), ("Iphon", "App Store"),
])
def test_phone_setup_gives_the_steps_for_the_phone(flows, answer, store):
    end = talk(flows["mailbox.phone_setup"], answer)[-1]
    assert end.outcome is Outcome.ANSWER
    assert store in said(end)
    assert "« Outlook »" in said(end) and "outlook.office365.com" in said(end)
    assert "prenom.nom@ville.example.fr" in said(end)


@pytest.mark.parametrize("months", ["fevrier", "janvier et fevrier 2025", "04/2023", "les 3 derniers mois"])
def test_recent_payslips_are_in_the_safe(flows, months):
    end = talk(flows["payslip.duplicate"], months)[-1]
    assert end.outcome is Outcome.ANSWER
    assert "https://bulletins.ville.example.fr" in said(end)


def test_older_payslips_become_a_request_for_hr(flows):
    end = talk(flows["payslip.duplicate"], "de octobre a decembre 2022")[-1]
    assert end.outcome is Outcome.TICKET
    assert end.ticket.reason == "duplicata de bulletin de paie"
    assert end.ticket.fields == {"mois": "2022-10,2022-11,2022-12"}
    assert "octobre 2022, novembre 2022, décembre 2022" in said(end)
    assert "https://bulletins.ville.example.fr" in said(end)  # the recent ones are said to be online


def test_one_old_month_among_recent_ones_goes_to_hr(flows):
    end = talk(flows["payslip.duplicate"], "03/2023 et 04/2023")[-1]  # 24 and 23 months ago
    assert end.outcome is Outcome.TICKET
    assert end.ticket.fields == {"mois": "2023-03,2023-04"}


# --- built-in words ---------------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["annuler", "Stop", "arrêter", "laisse tomber", "STOP svp"])
def test_the_agent_can_leave_at_any_question(flows, word):
    end = talk(flows["badge.forgot_punch"], "hier", word)[-1]
    assert end.outcome is Outcome.CANCELLED and end.state is None
    assert said(end).startswith("D'accord, j'arrête là.")
    assert end.ticket is None


def test_back_asks_the_previous_question_again_and_forgets_its_answer(flows):
    turns = talk(flows["badge.forgot_punch"], "hier", "2", "retour", "3", "précédent", "précédent", "le 3")
    assert said(turns[3]) == ("D'accord, on revient à la question précédente.\n"
                              "Qu'avez-vous oublié de badger ?\n1. L'arrivée\n2. Le départ\n3. Les deux")
    assert said(turns[4]) == "À quelle heure êtes-vous arrivé(e) ?"   # the new choice, "Les deux"
    assert said(turns[6]).endswith("Quel jour avez-vous oublié de badger ?")
    assert turns[6].state.fields == {}
    assert turns[7].state.fields == {"date": "2025-03-03"}


def test_back_at_the_first_question_stays_there(flows):
    turn = talk(flows["badge.forgot_punch"], "retour")[-1]
    assert turn.messages == ("C'est la première question : on ne peut pas revenir plus loin.",
                             "Quel jour avez-vous oublié de badger ?")
    assert turn.outcome is Outcome.CONTINUE


def test_an_unreadable_answer_is_asked_again_with_an_example(flows):
    turn = talk(flows["badge.forgot_punch"], "je sais plus trop")[-1]
    assert turn.messages == ("Je n'ai pas compris votre réponse.\nExemple de réponse : hier, lundi, 14/03",
                             "Quel jour avez-vous oublié de badger ?")
    assert turn.outcome is Outcome.CONTINUE


def test_a_choice_without_its_own_example_shows_the_first_option(flows):
    turn = talk(flows["mailbox.phone_setup"], "un nokia")[-1]
    assert "« 1 » ou « Android (Samsung, Xiaomi, Oppo…) »" in turn.messages[0]


def test_two_unreadable_answers_to_one_question_offer_a_mediator(flows):
    end = talk(flows["badge.forgot_punch"], "hier", "1", "tôt", "assez tôt")[-1]
    assert end.outcome is Outcome.MEDIATOR and end.state is None
    assert "médiateur" in said(end)
    assert end.ticket.fields == {"date": "2025-03-11", "oubli": "L'arrivée"}  # what was said so far
    assert "Oubli de badgeage" in end.ticket.reason


def test_a_good_answer_in_between_resets_the_count(flows):
    turns = talk(flows["badge.forgot_punch"], "bof", "hier", "bof")
    assert turns[-1].outcome is Outcome.CONTINUE
    assert turns[-1].state.step == "oubli"


# --- time and storage -------------------------------------------------------------------------------

def test_a_flow_expires_after_the_timeout_since_the_last_answer(flows):
    state = talk(flows["badge.forgot_punch"], "hier", now=NOW)[-1].state
    assert not expired(state, NOW + timedelta(minutes=30), timeout_minutes=30)
    assert expired(state, NOW + timedelta(minutes=31), timeout_minutes=30)
    later = advance(flows["badge.forgot_punch"], state, "1", NOW + timedelta(minutes=20)).state
    assert not expired(later, NOW + timedelta(minutes=45), timeout_minutes=30)


def test_the_state_survives_a_restart_through_json(flows):
    flow = flows["badge.forgot_punch"]
    state = talk(flow, "hier", "3", "7h30", "retour", "7h45")[-1].state
    stored = json.loads(json.dumps(state.to_dict()))
    restored = FlowState.from_dict(stored)
    assert restored == state
    finish = [advance(flow, restored, "16h", NOW)]
    finish.append(advance(flow, finish[-1].state, "non", NOW))
    assert finish[-1].ticket.fields == {"date": "2025-03-11", "oubli": "Les deux",
                                        "heure_arrivee": "07:45", "heure_depart": "16:00"}


def test_a_state_from_an_older_version_of_the_flow_is_dropped_politely(flows):
    state = FlowState(flow="badge.forgot_punch", step="etape_supprimee", started=NOW, updated=NOW)
    turn = advance(flows["badge.forgot_punch"], state, "hier", NOW)
    assert turn.outcome is Outcome.CANCELLED and turn.state is None
    assert "modifié" in said(turn)


# --- texts with variables ---------------------------------------------------------------------------

def test_every_variable_of_the_flows_must_be_in_the_config():
    flows, problems = load_flows(FLOWS_DIR, {k: v for k, v in VARIABLES.items() if k != "mail_server"})
    assert "mailbox.phone_setup" not in flows
    assert {(Path(p.file).name, p.line) for p in problems} == {("mailbox.phone_setup.yaml", 16),
                                                              ("mailbox.phone_setup.yaml", 25)}
    assert all("variable inconnue « {mail_server} »" in p.message for p in problems)


# --- loading mistakes, each at its line -------------------------------------------------------------

GOOD = """\
id: essai
titre: Essai
etapes:
  - id: tel
    question: Quel téléphone ?
    choix:
      - Android
      - iPhone
  - id: fin
    reponse: Voilà pour {tel}.
"""


def test_a_correct_flow_loads():
    flows, problems = load_flows_text(GOOD, "essai.yaml", {})
    assert problems == [] and list(flows) == ["essai"]
    end = talk(flows["essai"], "iphone")[-1]
    assert said(end) == "Voilà pour iPhone."


@pytest.mark.parametrize("text, line, message", [
    ("id: essai\ntitre: [Essai\n", 2, "« [ » ouvert et jamais refermé"),
    ("- un\n- deux\n", 1, "le fichier doit commencer par « id: »"),
    (GOOD.replace("titre: Essai\n", "titre: Essai\nauteur: moi\n"), 3, "clé inconnue « auteur »"),
    (GOOD.replace("titre: Essai\n", ""), 1, "« titre » manquant"),
    (GOOD.replace("id: essai\n", "id: Mon Essai\n"), 1, "« id » manquant ou invalide"),
    ("id: essai\ntitre: Essai\netapes: []\n", 3, "« etapes » manquant ou vide"),
    (GOOD.replace("    reponse: Voilà", "    reponce: Voilà"), 10, "vouliez-vous dire « reponse » ?"),
    (GOOD.replace("  - id: fin\n", "  - id: tel\n"), 9, "id d'étape en double (déjà utilisé ligne 4)"),
    (GOOD.replace("    reponse: Voilà pour {tel}.\n", "    reponse: Voilà pour {tel}.\n    champ: x\n"), 11,
     "« champ » ne va qu'avec « question: »"),
    (GOOD.replace("    question: Quel téléphone ?\n", "    question: Quel téléphone ?\n    type: couleur\n"),
     6, "type « couleur » inconnu"),
    (GOOD.replace("      - iPhone\n", ""), 6, "au moins deux options"),
    (GOOD.replace("      - iPhone\n", "      - android\n"), 8, "option « android » en double"),
    (GOOD.replace("    question: Quel téléphone ?\n", "    question: Quel téléphone ?\n    type: date\n"),
     7, "« choix » avec le type « date »"),
    (GOOD.replace("Voilà pour {tel}.", "Voir {site_web}."), 10, "variable inconnue « {site_web} »"),
    (GOOD.replace("      - iPhone\n", "      - iPhone\n    suite: fni\n"), 9, "étape inconnue « fni » : vouliez-vous dire « fin » ?"),
    (GOOD.replace("      - iPhone\n", "      - texte: iPhone\n        suite: nulle_part\n"), 8, "étape inconnue « nulle_part »"),
    (GOOD.replace("    reponse: Voilà pour {tel}.\n", "    reponse: Voilà.\n    suite: tel\n"), 11, "« suite » après une fin"),
    (GOOD.replace("    reponse: Voilà pour {tel}.\n", "    dire: Voilà.\n"), 9, "le parcours s'arrête ici sans fin"),
    (GOOD + "  - id: oubliee\n    reponse: Personne ne vient ici.\n", 11, "étape jamais atteinte"),
    (GOOD.replace("  - id: fin\n", "  - id: fin\n    question: Autre chose ?\n"), 9, "une étape fait une seule chose"),
    (GOOD.replace("    reponse: Voilà pour {tel}.\n", ""), 9, "étape vide"),
    (GOOD.replace("      - iPhone\n", "      - iPhone\n    si:\n      - tel = Nokia: fin\n"), 10,
     "« Nokia » n'est pas une réponse possible à « tel » (possibles : Android, iPhone)"),
    (GOOD.replace("      - iPhone\n", "      - iPhone\n    si:\n      - couleur = rouge: fin\n"), 10,
     "condition sur « couleur », qu'aucune question ne remplit"),
    (GOOD.replace("      - iPhone\n", "      - iPhone\n    si:\n      - tel ressemble à iPhone: fin\n"), 10,
     "condition illisible « tel ressemble à iPhone »"),
    (GOOD.replace("      - iPhone\n", "      - iPhone\n    si:\n      - tel a plus de 3 mois: fin\n"), 10,
     "comparent un champ de type date ou mois"),
    (GOOD.replace("      - iPhone\n", "      - iPhone\n    si:\n      - tel a plus de {delai} mois: fin\n"), 10,
     "variable inconnue « {delai} »"),
    (GOOD.replace("  - id: fin\n    reponse: Voilà pour {tel}.\n",
                  "  - id: a\n    dire: Un\n    suite: b\n  - id: b\n    dire: Deux\n    suite: a\n"),
     9, "boucle sans question : a → b → a"),
    (GOOD.replace("    reponse: Voilà pour {tel}.\n", "    ticket: test\n    champs: [tel, couleur]\n"), 11,
     "aucune question ne remplit le champ « couleur »"),
])
def test_each_mistake_is_reported_at_its_line(text, line, message):
    flows, problems = load_flows_text(text, "essai.yaml", {"site": "x"})
    assert flows == {}
    assert [(p.file, p.line) for p in problems][:1] == [("essai.yaml", line)], problems
    assert message in problems[0].message, problems[0].message


def test_problems_name_the_flow_and_the_step():
    _, problems = load_flows_text(GOOD.replace("suite", "x").replace("Voilà pour {tel}.", "Voir {inconnue}."), "essai.yaml", {})
    assert str(problems[0]).startswith("essai.yaml:10: parcours « essai », étape « fin » : variable inconnue")


def test_a_field_may_not_hide_a_config_variable():
    _, problems = load_flows_text(GOOD, "essai.yaml", {"tel": "01 23 45 67 89"})
    assert [(p.line, "porte le nom d'une variable" in p.message) for p in problems] == [(5, True)]


def test_two_files_with_the_same_flow_id(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text("# copie\n" + GOOD, encoding="utf-8")
    flows, problems = load_flows(tmp_path, {})
    assert list(flows) == ["essai"]
    assert [(Path(p.file).name, p.line) for p in problems] == [("b.yaml", 2)]
    assert "en double (déjà défini en" in problems[0].message


def test_a_missing_flows_folder_is_a_problem(tmp_path):
    flows, problems = load_flows(tmp_path / "absent", {})
    assert flows == {} and "dossier des parcours introuvable" in problems[0].message


def test_keys_may_be_written_with_accents():
    text = GOOD.replace("etapes:", "étapes:").replace("reponse:", "réponse:")
    flows, problems = load_flows_text(text, "essai.yaml", {})
    assert problems == [] and "essai" in flows


def test_conditions_on_months_use_config_variables():
    text = dedent("""\
        id: paie
        titre: Paie
        etapes:
          - id: mois
            question: Quels mois ?
            type: mois
            si:
              - mois a plus de {garde} mois: rh
          - id: coffre
            reponse: En ligne ({mois}).
          - id: rh
            ticket: duplicata
        """)
    flows, problems = load_flows_text(text, "paie.yaml", {"garde": "6"})
    assert problems == []
    assert talk(flows["paie"], "septembre 2024")[-1].outcome is Outcome.TICKET   # 6 months ago
    assert said(talk(flows["paie"], "octobre 2024")[-1]) == "En ligne (octobre 2024)."
