"""A short message right after an answer keeps its subject (bot/followup.py), within bounds.

Through the Engine with the real FAQ: the follow-up lands on the same topic or its neighbour, and a
long message, a message ten minutes later, a message after a non-answer, or a message whose words
the FAQ does not know are matched on their own. Also the state: the last topic survives a JSON
round trip, and a state stored before it existed still reads.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.conversation.state import ConversationState
from bot.texts import say
from tests.conversation.test_engine import Chat, engine  # noqa: F401  (engine is a fixture)

FEEDBACK = say("conversation.feedback_question")
NO_MATCH = say("conversation.no_match")


def answered_topic(chat: Chat, text: str, **kw) -> str | None:
    """The topic the bot answered `text` with (its pending feedback question), else None."""
    chat.send(text, **kw)
    pending = (chat.state or {}).get("pending") or {}
    return pending.get("topic") if pending.get("kind") == "feedback" else None


@pytest.mark.parametrize("question, topic, follow_up, lands_on", [
    ("je peux me faire rembourser mon abonnement de bus ?", "transport.reimbursement", "c combien",
     "transport.reimbursement"),
    ("comment installer l'application de badgeuse", "badge.install_app", "et si je l'ai perdu", "badge.lost_card"),
    ("je veux voir mon compteur d'heures", "badge.balance", "c ou", "badge.balance"),
    ("ma boite mail est pleine", "mailbox.full", "ça prend combien de temps", "mailbox.full"),
])
def test_a_short_follow_up_lands_on_the_topic_or_its_neighbour(engine, question, topic, follow_up, lands_on):
    chat = Chat(engine)
    assert answered_topic(chat, question) == topic
    assert answered_topic(chat, follow_up) == lands_on


def test_and_for_an_iphone_after_the_android_steps_gives_the_iphone_steps(engine):
    chat = Chat(engine)
    chat.send("installer le mail du travail sur mon samsung")
    lines = chat.lines("et pour un iphone ?")
    assert any(line.startswith("Sur iPhone :") for line in lines)


@pytest.mark.parametrize("question, follow_up, after", [
    ("ma boite mail est pleine", "quelle est la meteo demain", 1),  # words the FAQ does not know
    ("je peux me faire rembourser mon abonnement de bus ?", "c combien", 10),  # ten minutes later
    ("je peux me faire rembourser mon abonnement de bus ?", "et du coup ça ferait combien au total pour la sortie au zoo des enfants ce mois", 1),
])
def test_out_of_bounds_the_message_is_matched_on_its_own(engine, question, follow_up, after):
    chat = Chat(engine)
    chat.send(question)
    assert chat.lines(follow_up, after=timedelta(minutes=after)) == [NO_MATCH]


def test_only_the_message_right_after_the_answer_is_a_follow_up(engine):
    chat = Chat(engine)
    assert answered_topic(chat, "je veux voir mon compteur d'heures") == "badge.balance"
    assert chat.lines("ma voiture est en panne") == [NO_MATCH]
    assert answered_topic(chat, "c ou") is None  # the balance answer is no longer the last thing said


def test_the_latest_answer_gives_the_context(engine):
    chat = Chat(engine)
    chat.send("je peux me faire rembourser mon abonnement de bus ?")
    assert answered_topic(chat, "comment installer l'application de badgeuse") == "badge.install_app"
    assert answered_topic(chat, "et si je l'ai perdu") == "badge.lost_card"


def test_the_last_topic_is_kept_in_the_state_and_old_states_still_read(engine):
    chat = Chat(engine)
    chat.send("ma boite mail est pleine")
    assert chat.state["last_topic"]["id"] == "mailbox.full"
    state = ConversationState.from_dict(chat.state)
    assert state.last_topic == "mailbox.full" and state.last_topic_at == chat.time
    older = {k: v for k, v in chat.state.items() if k not in ("last_topic", "language")}
    restored = ConversationState.from_dict(older)
    assert restored.last_seen == chat.time and restored.last_topic is None and restored.language == "fr"
