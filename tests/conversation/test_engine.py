"""The conversation core, read as transcripts: what the agent types, what the bot answers and does.

The real faq/ and flows/ of the repository, the variables of config.example.yaml, and a fixed clock
(Wednesday 14 May 2025, 9:00 UTC; each message one minute after the previous one unless said).
Between every two turns the state goes through json.dumps / json.loads, as it does in the store.
Each action is shown as the console shows it (bot/console.py `describe`): a reply as its text,
anything else as `[ticket opened: ...]`, `[flow started: ...]`, `[feedback: ...]`.
"""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.config import load_config
from bot.console import describe
from bot.conversation.engine import MAX_CHARS, Engine, build_engine
from bot.errors import DataError
from bot.messages import FlowEvent, Incoming, OpenTicket, RecordDecision, RecordFeedback, Reply
from bot.texts import say

ROOT = Path(__file__).parents[2]
START = datetime(2025, 5, 14, 9, 0, tzinfo=timezone.utc)
AGENT = "@camille.durand:agent.ville.example.fr"
ROOM = "!dm-camille:agent.ville.example.fr"

WELCOME = say("conversation.welcome", retention_days=90)
ASK_FEEDBACK = say("conversation.feedback_question")
NOT_UNDERSTOOD = say("conversation.not_understood")


@pytest.fixture(scope="module")
def engine() -> Engine:
    config = dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=ROOT / "unused")
    return build_engine(config)


@pytest.fixture(scope="module")
def faq(engine):
    return engine.knowledge.faq


class Chat:
    """One agent talking to the engine; the state is JSON between turns, as in the store."""

    def __init__(self, engine: Engine, *, greeted: bool = True):
        self.engine = engine
        self.state: dict | None = None
        self.time = START
        self.count = 0
        if greeted:
            self.send("bonjour")

    def send(self, text: str, *, after: timedelta = timedelta(minutes=1)) -> list:
        self.time += after
        self.count += 1
        incoming = Incoming(sender=AGENT, room=ROOM, text=text, event_id=f"$e{self.count}", time=self.time,
                            sender_name="Camille Durand")
        state, actions = self.engine.handle(self.state, incoming)
        self.state = json.loads(json.dumps(state, ensure_ascii=False))
        return [a for a in actions if not isinstance(a, RecordDecision)]  # the log: tests/storage/test_decision_log.py

    def lines(self, text: str, **kw) -> list[str]:
        return [describe(a) for a in self.send(text, **kw)]


def play(chat: Chat, script: list[tuple[str, list[str]]]) -> None:
    """Each message, then what the agent notices: one fragment per action, in order."""
    for text, expected in script:
        lines = chat.lines(text)
        assert len(lines) == len(expected), f"« {text} » -> {lines}"
        for line, fragment in zip(lines, expected):
            assert fragment in line, f"« {text} »: expected « {fragment} » in « {line} »"


def tickets(actions) -> list[OpenTicket]:
    return [a for a in actions if isinstance(a, OpenTicket)]


# --- welcome ---------------------------------------------------------------------------------------

def test_first_message_gets_the_welcome_then_its_answer(engine, faq):
    chat = Chat(engine, greeted=False)
    lines = chat.lines("ma boite mail est pleine")
    assert lines == [WELCOME, f"{faq.get('mailbox.full').answer}\n\n{ASK_FEEDBACK}"]
    assert "médiateur" in WELCOME and "90 jours" in WELCOME


def test_a_first_bonjour_is_answered_by_the_welcome_alone(engine):
    assert Chat(engine, greeted=False).lines("bonjour") == [WELCOME]


@pytest.mark.parametrize("absence, welcomed", [
    (timedelta(minutes=5), False),
    (timedelta(days=59), False),
    (timedelta(days=60), True),
    (timedelta(days=200), True),
])
def test_welcome_again_only_after_a_long_absence(engine, absence, welcomed):
    chat = Chat(engine)
    lines = chat.lines("ma boite mail est pleine", after=absence)
    assert (lines[0] == WELCOME) is welcomed
    assert len(lines) == (2 if welcomed else 1)


# --- answer and feedback ---------------------------------------------------------------------------

@pytest.mark.parametrize("reply, helpful", [
    ("oui", True), ("Oui merci", True), ("ouais", True), ("👍", True), ("merci", True), ("ok", True),
    ("non", False), ("nan", False), ("pas vraiment", False), ("👎", False), ("Non ça ne répond pas", False),
])
def test_answer_then_oui_non_records_feedback(engine, reply, helpful):
    chat = Chat(engine)
    assert chat.lines("ma boite mail est pleine")[-1].endswith(ASK_FEEDBACK)
    actions = chat.send(reply)
    assert actions[1] == RecordFeedback(agent=AGENT, topic="mailbox.full", helpful=helpful, time=chat.time)
    expected = "conversation.feedback_thanks" if helpful else "conversation.feedback_not_helpful"
    assert actions[0].text == say(expected)


def test_not_helpful_then_one_word_opens_a_ticket(engine, faq):
    for accept in ("médiateur", "oui"):
        chat = Chat(engine)
        play(chat, [
            ("ma boite mail est pleine", [ASK_FEEDBACK]),
            ("non", ["Reformulez", "[feedback: mailbox.full not helpful]"]),
            (accept, [faq.get("help.human").answer, "[ticket opened: mailbox.full]"]),
        ])


def test_something_else_after_an_answer_is_a_new_question_without_feedback(engine):
    chat = Chat(engine)
    chat.send("ma boite mail est pleine")
    actions = chat.send("jai oublié mon mot de passe")
    assert not [a for a in actions if isinstance(a, RecordFeedback)]
    assert actions[-1].text.endswith(ASK_FEEDBACK)


def test_thanks_and_escalate_topics(engine, faq):
    chat = Chat(engine)
    play(chat, [
        ("merci beaucoup", [faq.get("smalltalk.thanks").answer]),
        ("il y a une erreur sur ma fiche de paie", [faq.get("payslip.error").answer, "[ticket opened: payslip.error]"]),
    ])


# --- clarify ----------------------------------------------------------------------------------------

def offered(chat: Chat, question: str) -> list[str]:
    """Ask a vague question; return the titles offered, "Autre chose" last."""
    (reply,) = chat.send(question)
    assert reply.text.startswith(say("conversation.clarify_intro")), reply.text
    return [line.split(". ", 1)[1] for line in reply.text.splitlines()[1:-1]]


@pytest.mark.parametrize("how", ["number", "words"])
def test_clarify_then_choose(engine, faq, how):
    chat = Chat(engine)
    titles = offered(chat, "paie")
    assert titles[-1] == say("conversation.clarify_other") and len(titles) >= 3
    wanted = faq.get("payslip.online_access")
    choice = str(titles.index(wanted.title) + 1) if how == "number" else "consulter mes bulletins en ligne"
    assert chat.lines(choice) == [f"{wanted.answer}\n\n{ASK_FEEDBACK}"]


def test_clarify_then_a_new_question(engine, faq):
    chat = Chat(engine)
    offered(chat, "paie")
    assert chat.lines("ma boite mail est pleine") == [f"{faq.get('mailbox.full').answer}\n\n{ASK_FEEDBACK}"]


@pytest.mark.parametrize("other", ["autre chose", "aucun", "non", "LAST"])
def test_clarify_other_asks_to_rephrase_then_mediator_carries_the_question(engine, other):
    chat = Chat(engine)
    titles = offered(chat, "paie")
    text = str(len(titles)) if other == "LAST" else other
    assert chat.lines(text) == [say("conversation.clarify_other_chosen")]
    (ticket,) = tickets(chat.send("médiateur"))
    assert ticket.reason == say("conversation.reason_unanswered", question="paie")


# --- no answer ---------------------------------------------------------------------------------------

def test_two_misses_in_a_row_put_the_mediator_first(engine, faq):
    chat = Chat(engine)
    play(chat, [
        ("ma voiture est en panne", [say("conversation.no_match")]),
        ("quelle est la meteo demain", [say("conversation.no_match_again")]),
        ("oui", [faq.get("help.human").answer, "[ticket opened: Question restée sans réponse : « quelle est la meteo"]),
    ])


def test_a_declined_offer_and_an_answer_reset_the_misses(engine):
    chat = Chat(engine)
    play(chat, [
        ("ma voiture est en panne", [say("conversation.no_match")]),
        ("ma boite mail est pleine", [ASK_FEEDBACK]),
        ("quelle est la meteo demain", [say("conversation.no_match")]),
    ])


# --- a human at any moment -----------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "médiateur", "Mediateur !!", "mediatuer", "je veux parler à un humain", "un conseiller svp",
    "je voudrais parler à quelqu'un", "une vraie personne svp", "je voudrais qu'on me rappelle",
])
def test_asking_for_a_human_opens_a_ticket_at_once(engine, faq, text):
    chat = Chat(engine)
    actions = chat.send(text)
    assert actions[0] == Reply(room=ROOM, text=faq.get("help.human").answer)
    (ticket,) = tickets(actions)
    assert (ticket.agent, ticket.room, ticket.agent_name) == (AGENT, ROOM, "Camille Durand")
    assert ticket.reason == say("conversation.reason_asked")
    assert ticket.transcript[-1].text == text and ticket.transcript[-1].author == "agent"


def test_ressources_humaines_is_not_a_request_for_a_human(engine):
    chat = Chat(engine)
    assert not tickets(chat.send("comment joindre les ressources humaines"))


def test_a_human_in_the_middle_of_a_flow_gets_the_fields_and_the_transcript(engine):
    chat = Chat(engine)
    play(chat, [
        ("jai oublié de badger", ["[flow started: badge.forgot_punch]", "oubli de badgeage", "Quel jour"]),
        ("hier", ["oublié de badger ?"]),
        ("l'arrivée", ["quelle heure"]),
    ])
    actions = chat.send("laissez moi parler a un humain")
    (ticket,) = tickets(actions)
    assert ticket.topic == "badge.forgot_punch"
    assert ticket.fields == {"date": "2025-05-13", "oubli": "L'arrivée"}
    assert ticket.reason == say("conversation.reason_mid_flow", title="Oubli de badgeage")
    said = [(line.author, line.text) for line in ticket.transcript]
    assert ("agent", "jai oublié de badger") in said and ("agent", "hier") in said
    assert said[-1] == ("agent", "laissez moi parler a un humain")
    assert FlowEvent(agent=AGENT, flow="badge.forgot_punch", event="cancelled") in actions
    assert chat.state["flow"] is None


# --- the four flows ----------------------------------------------------------------------------------

def test_forgot_punch_flow_ends_in_a_ticket(engine):
    chat = Chat(engine)
    play(chat, [
        ("jai oublié de badger", ["[flow started: badge.forgot_punch]", "Je note", "Quel jour"]),
        ("hier", ["1. L'arrivée"]),
        ("les deux", ["arrivé(e)"]),
        ("7h30", ["parti(e)"]),
        ("16h30", ["commentaire"]),
        ("réunion dehors", ["mardi 13/05/2025",
                            "[ticket opened: badge.forgot_punch date=2025-05-13 oubli=Les deux heure_arrivee=07:30 "
                            "heure_depart=16:30 commentaire=réunion dehors]",
                            "[flow finished: badge.forgot_punch]"]),
    ])
    assert chat.state["flow"] is None


def test_payslip_duplicate_recent_month_is_an_answer_with_feedback(engine):
    chat = Chat(engine)
    play(chat, [
        ("je voudrais un duplicata de ma fiche de paie", ["[flow started: payslip.duplicate]", "copie", "De quel(s) mois"]),
        ("mars", ["coffre-fort", "[flow finished: payslip.duplicate]"]),
        ("oui", [say("conversation.feedback_thanks"), "[feedback: payslip.duplicate helpful]"]),
    ])


def test_payslip_duplicate_old_month_is_a_ticket(engine):
    chat = Chat(engine)
    play(chat, [
        ("duplicata fiche de paie", ["[flow started: payslip.duplicate]", "copie", "De quel(s) mois"]),
        ("de janvier a mars 2020", ["service RH",
                                    "[ticket opened: payslip.duplicate mois=2020-01,2020-02,2020-03]",
                                    "[flow finished: payslip.duplicate]"]),
    ])


@pytest.mark.parametrize("letter, ends", [
    ("oui", ["Ouvrez https://messagerie.ville.example.fr", "[flow finished: mailbox.activate]"]),
    ("non je l'ai perdu", ["nouveau code", "[ticket opened: mailbox.activate courrier=non]",
                           "[flow finished: mailbox.activate]"]),
])
def test_mailbox_activate_flow(engine, letter, ends):
    chat = Chat(engine)
    actions = chat.send("activer ma boite mail")
    assert describe(actions[0]) == "[flow started: mailbox.activate]"
    assert "courrier" in actions[-1].text
    play(chat, [(letter, ends)])


@pytest.mark.parametrize("phone, store", [("iphone", "App Store"), ("un samsung", "Play Store"), ("2", "App Store")])
def test_phone_setup_flow(engine, phone, store):
    chat = Chat(engine)
    play(chat, [
        ("configurer mes mails pro sur mon portable", ["[flow started: mailbox.phone_setup]", "Outlook", "Quel téléphone"]),
        (phone, [store, "[flow finished: mailbox.phone_setup]"]),
        ("non", ["Reformulez", "[feedback: mailbox.phone_setup not helpful]"]),
    ])


def test_annuler_and_retour_go_to_the_flow_runner(engine):
    chat = Chat(engine)
    play(chat, [
        ("jai oublié de badger", ["[flow started: badge.forgot_punch]", "Je note", "Quel jour"]),
        ("hier", ["oublié de badger ?"]),
        ("retour", [say("flows.back"), "Quel jour"]),
        ("annuler", [say("flows.cancelled"), "[flow cancelled: badge.forgot_punch]"]),
        ("ma boite mail est pleine", [ASK_FEEDBACK]),
    ])


def test_two_unreadable_answers_offer_a_mediator_with_the_fields(engine):
    chat = Chat(engine)
    play(chat, [
        ("jai oublié de badger", ["[flow started: badge.forgot_punch]", "Je note", "Quel jour"]),
        ("hier", ["oublié de badger ?"]),
        ("le", [say("flows.invalid"), "1. L'arrivée"]),
    ])
    play(chat, [("le", [say("flows.offer_mediator"), say("conversation.flow_offer"),
                        "[flow cancelled: badge.forgot_punch]"])])
    (ticket,) = tickets(chat.send("oui"))
    assert ticket.fields == {"date": "2025-05-13"} and ticket.topic == "badge.forgot_punch"


# --- flow expiry -------------------------------------------------------------------------------------

def test_a_silent_flow_expires_and_the_message_is_a_new_question(engine):
    chat = Chat(engine)
    chat.send("jai oublié de badger")
    actions = chat.send("ma boite mail est pleine", after=timedelta(minutes=31))
    assert [describe(a) for a in actions[:2]] == [
        say("conversation.flow_expired", title="Oubli de badgeage"), "[flow expired: badge.forgot_punch]"]
    assert actions[2].text.endswith(ASK_FEEDBACK)


def test_a_flow_answered_in_time_goes_on(engine):
    chat = Chat(engine)
    chat.send("jai oublié de badger")
    assert "1. L'arrivée" in chat.lines("hier", after=timedelta(minutes=29))[0]


def test_a_stale_choice_is_not_taken_as_an_answer(engine):
    chat = Chat(engine)
    offered(chat, "paie")
    assert chat.lines("1", after=timedelta(hours=3)) == [say("conversation.no_match")]


# --- odd messages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "\n\t", "😀😀", "?!", "🙂 🙂"])
def test_nothing_readable_gets_a_polite_line(engine, text):
    assert Chat(engine).lines(text) == [NOT_UNDERSTOOD]


@pytest.mark.parametrize("reaction, reply", [("👍", "conversation.thanks_ack"),
                                              ("👎", "conversation.feedback_not_helpful")])
def test_a_reaction_when_nothing_was_asked(engine, reaction, reply):
    chat = Chat(engine)
    assert chat.lines(reaction) == [say(reply)]


def test_nothing_readable_keeps_the_pending_question(engine):
    chat = Chat(engine)
    chat.send("ma boite mail est pleine")
    assert chat.lines("...") == [NOT_UNDERSTOOD]
    assert chat.lines("oui")[-1] == "[feedback: mailbox.full helpful]"


def test_a_huge_message_is_read_up_to_the_limit(engine):
    chat = Chat(engine)
    lines = chat.lines("ma boite mail est pleine " + "x" * 100_000)
    assert len(lines) == 1
    assert all(len(line[2]) <= 500 for line in chat.state["transcript"])
    assert MAX_CHARS == 2000


def test_a_huge_message_asking_for_a_human_in_the_middle_is_cut(engine):
    actions = Chat(engine).send("bla " * 600 + "médiateur")
    assert not tickets(actions)


# --- state ---------------------------------------------------------------------------------------------

def test_a_restart_mid_flow_resumes_from_the_stored_json(engine):
    chat = Chat(engine)
    chat.send("jai oublié de badger")
    stored = json.dumps(chat.state)
    again = Chat(engine, greeted=False)
    again.state, again.time = json.loads(stored), chat.time
    assert "1. L'arrivée" in again.lines("hier")[0]


@pytest.mark.parametrize("state", [{}, {"version": 99}, {"version": 1, "flow": {"entry": "x"}}, {"version": 1, "last_seen": "nope"}])
def test_an_unreadable_state_starts_afresh(engine, state):
    chat = Chat(engine, greeted=False)
    chat.state = state
    assert chat.lines("ma boite mail est pleine")[0] == WELCOME


def test_the_transcript_keeps_the_last_twenty_lines(engine):
    chat = Chat(engine)
    for n in range(15):
        chat.send(f"ma boite mail est pleine {n}")
    (ticket,) = tickets(chat.send("médiateur"))
    assert len(ticket.transcript) == 20
    assert ticket.transcript[-1].text == "médiateur"


def test_build_engine_refuses_a_broken_faq(tmp_path):
    (tmp_path / "faq").mkdir()
    (tmp_path / "faq" / "x.yaml").write_text("entrees: 3\n", encoding="utf-8")
    config = dataclasses.replace(load_config(ROOT / "config.example.yaml"), faq_dir=tmp_path / "faq")
    with pytest.raises(DataError):
        build_engine(config)
