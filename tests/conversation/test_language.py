"""English for an agent who writes English; French, always, for one who writes French with English words.

Detection (bot/language.py) on sentences of our own; the conversation's language with hysteresis;
the fixed sentences and FAQ answers in English through the Engine, the desk and the console (a real
subprocess); `reponse_en` checked by the FAQ loader; the new state erased by retention.
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.conversation.engine import build_engine
from bot.desk.desk import Desk
from bot.answering.faq import load_faq_text
from bot.helpdesk import Helpdesk
from bot.conversation.language import detect, follow
from bot.messages import Reply
from bot.storage.store import Store
from bot.texts import say, say_in, speaking
from tests.test_console import config_file, run  # noqa: F401  (config_file is a fixture)
from tests.conversation.test_engine import AGENT, Chat, engine, tickets  # noqa: F401  (engine is a fixture)
from tests.storage.test_tickets import ListSender, said

ROOT = Path(__file__).parents[2]


# --- detection ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "I lost my badge at the depot", "how do I change my email password?", "my salary is wrong this month",
    "can you send me a copy of my payslip", "where do I find the app to clock in",
])
def test_english_sentences_read_as_english(text):
    assert detect(text) == "en"


@pytest.mark.parametrize("text", [
    "mon mail marche plus", "le wifi du bureau", "ok", "forget mon password outlook stp",
    "jai un souci avec the app de pointage", "hello je voudrais mon planning", "what can you do ? tu fais quoi",
    "c combien le refund du pass", "help", "17h", "merci",
])
def test_french_with_english_words_is_never_english(text):
    assert detect(text) != "en"


def test_one_word_never_changes_the_language():
    assert follow("en", "merci") == "en" and follow("fr", "hello") == "fr" and follow("fr", "thanks") == "fr"
    assert follow("en", "bonjour je voudrais mon bulletin de paie") == "fr"


# --- through the engine ---------------------------------------------------------------------------

def test_an_english_agent_gets_the_welcome_the_answer_and_the_feedback_in_english(engine):
    chat = Chat(engine, greeted=False)
    lines = chat.lines("Hi, my work mailbox is full, what should I delete?")
    assert lines[0] == say_in("en", "conversation.welcome", retention_days=90)
    assert lines[1].startswith("Your mailbox can hold 2 Go.")
    assert lines[1].endswith(say_in("en", "conversation.feedback_question"))
    assert chat.lines("yes") == [say_in("en", "conversation.feedback_thanks"), "[feedback: mailbox.full helpful]"]


def test_english_no_then_yes_opens_a_ticket_with_the_english_hand_over(engine):
    chat = Chat(engine, greeted=False)
    chat.send("I forgot my email password, how can I get a new one?")
    assert chat.lines("no")[0] == say_in("en", "conversation.feedback_not_helpful")
    actions = chat.send("yes")
    assert actions[0].text.startswith("I am letting a mediator know")
    [ticket] = tickets(actions)
    assert ticket.language == "en" and ticket.reason == say("conversation.reason_not_helpful",
                                                            title="Mot de passe de messagerie oublié")


def test_english_no_answer_and_mediator_word(engine):
    chat = Chat(engine, greeted=False)
    assert chat.lines("I don't understand anything on this screen")[-1] == say_in("en", "conversation.no_match")
    actions = chat.send("mediator")
    assert actions[0].text.startswith("I am letting a mediator know") and len(tickets(actions)) == 1


def test_a_flow_stays_french_after_one_english_line(engine):
    chat = Chat(engine, greeted=False)
    lines = chat.lines("I need a copy of my old payslip please")
    assert say_in("en", "conversation.flow_in_french") in lines
    assert lines[-1].startswith("De quel(s) mois avez-vous besoin ?")


def test_a_french_agent_using_english_words_stays_french(engine):
    chat = Chat(engine)
    lines = chat.lines("jai forget mon password de la messagerie")
    assert lines[-1].endswith(say("conversation.feedback_question"))
    assert chat.state["language"] == "fr"


def test_the_language_is_kept_across_a_one_word_message(engine):
    chat = Chat(engine, greeted=False)
    chat.send("how do I see my payslips online?")
    assert chat.lines("merci")[0] == say_in("en", "conversation.feedback_thanks")
    assert chat.state["language"] == "en"


def test_the_english_texts_have_the_same_placeholders_as_the_french_ones():
    import re

    import yaml
    for path in (ROOT / "bot/texts/en").glob("*.yaml"):
        french = yaml.safe_load((ROOT / "bot/texts" / path.name).read_text(encoding="utf-8"))
        for key, value in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            if key in french:
                assert set(re.findall(r"\{(\w+)\}", str(value))) == set(re.findall(r"\{(\w+)\}", str(french[key]))), key


# --- the desk and the console ---------------------------------------------------------------------

async def test_the_ticket_opened_message_is_english_and_the_card_french(tmp_path):
    config = dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=tmp_path)
    store = await Store.open(tmp_path)
    sender = ListSender()
    helpdesk = Helpdesk(engine=build_engine(config), store=store, sender=sender, desk=Desk(config, {}))
    try:
        await helpdesk.turn(said("$a1", AGENT, "can I talk to a real person please"))
        await helpdesk.drain()
        texts = [a.text for a in sender.sent if isinstance(a, Reply)]
        assert any(t.startswith("Your request is number 1. A mediator will answer you") for t in texts)
        assert not any(t.startswith("Votre demande porte") for t in texts)
        assert (await store.load_state(AGENT))["language"] == "en"
        await store.purge(said("$x", AGENT, "").time + timedelta(days=400), 90)
        assert await store.load_state(AGENT) is None  # language and last topic go with the rest of the state
    finally:
        await store.close()


def test_console_scripted_in_english(config_file):
    lines = run(config_file, "Hello, how do I set up my work email on my phone?", "iPhone", "yes")
    assert lines[0] == say_in("en", "conversation.welcome", retention_days=90).splitlines()[0]
    assert say_in("en", "conversation.flow_in_french") in lines
    assert "Sur iPhone :" in lines
    assert lines[-2:] == [say_in("en", "conversation.feedback_thanks"), "[feedback: mailbox.phone_setup helpful]"]


def test_console_scripted_french_opening_with_prefilled_month(config_file):
    lines = run(config_file, "je voudrais le duplicata de ma fiche de paie de mars 2019", "oui")
    assert "Compris : mars 2019." in lines and say("flows.confirm") in lines
    assert "[ticket opened: payslip.duplicate mois=2019-03]" in lines


# --- reponse_en in the FAQ format -----------------------------------------------------------------

ENTRY = """entrees:
  - id: test.entry
    titre: Essai
    type: reponse
    questions: [essai]
    reponse: |
      Allez sur {site}.
{english}"""


@pytest.mark.parametrize("english, problem", [
    ("    reponse_en: |\n      Go to {sit}.\n", "variable inconnue « {sit} »"),
    ("    reponse_en: |\n      Go to the site.\n", "« reponse_en » ne cite pas {site}"),
    ("    reponse_en: ''\n", "« reponse_en » est vide"),
])
def test_faq_check_checks_reponse_en_like_reponse(english, problem):
    _, problems = load_faq_text(ENTRY.format(site="{site}", english=english), {"site": "x.fr"})
    assert any(problem in p.message for p in problems), problems


def test_reponse_en_is_filled_and_chosen_by_language():
    faq, problems = load_faq_text(ENTRY.format(site="{site}", english="    reponse_en: Go to {site}.\n"), {"site": "x.fr"})
    assert problems == []
    entry = faq.get("test.entry")
    assert (entry.answer_in("en"), entry.answer_in("fr")) == ("Go to x.fr.", "Allez sur x.fr.")


def test_every_faq_entry_has_an_english_answer(engine):
    assert all(e.answer_en for e in engine.knowledge.faq.entries)


def test_every_faq_entry_has_an_english_title_and_a_bad_one_is_a_clear_problem(engine):
    assert all(e.title_en for e in engine.knowledge.faq.entries)
    _, problems = load_faq_text(ENTRY.format(site="{site}", english="    titre_en: ''\n"), {"site": "x.fr"})
    assert any("« titre_en »" in p.message and p.line == 8 for p in problems), problems  # its own line


def test_an_english_agent_is_offered_the_english_titles_and_can_pick_one_in_words(engine):
    chat = Chat(engine)
    offered = chat.lines("Hi, I need something about my payslip, I am not sure what")
    assert any("Copy of a payslip" in line for line in offered), offered
    assert not any("bulletin" in line for line in offered)
    assert chat.lines("the copy")[0] == "[flow started: payslip.duplicate]"  # picked by its English title


def test_speaking_is_reset_after_the_block():
    with speaking("en"):
        assert say("conversation.cancelled") == say_in("en", "conversation.cancelled")
    assert say("conversation.cancelled").startswith("D'accord")
