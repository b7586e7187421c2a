"""« mes données » and « effacer mes données » in the pure conversation core: recognised in the ways
agents write them, even mid-flow; the erasure is only asked for after an explicit oui."""
from __future__ import annotations

import pytest

from bot.conversation import intents
from bot.messages import EraseAgentData, ShowMyData
from bot.texts import say

from ..conversation.test_engine import AGENT, ROOM, Chat, engine  # noqa: F401  (engine is a fixture)

CONFIRM = say("privacy.erase_confirm")


@pytest.mark.parametrize("text", ["mes données", "Mes donnees ?", "quelles données gardez-vous", "RGPD",
                                  "je voudrais voir mes données svp", "que savez-vous sur moi"])
def test_ways_of_asking_what_is_kept(text):
    assert intents.asks_my_data(text) and not intents.asks_erasure(text)


@pytest.mark.parametrize("text", ["effacer mes données", "Effacez mes donnees svp", "supprimer mes données",
                                  "je veux supprimer mes donnees", "oubliez-moi", "droit à l'oubli"])
def test_ways_of_asking_for_the_erasure(text):
    assert intents.asks_erasure(text) and not intents.asks_my_data(text)


@pytest.mark.parametrize("text", ["j'ai perdu mes données sur mon téléphone", "mes demandes",
                                  "comment effacer mes données du téléphone pro"])
def test_questions_that_only_look_alike_stay_questions(text):
    assert not intents.asks_my_data(text) and not intents.asks_erasure(text)


def test_mes_donnees_is_for_the_store_to_answer(engine):  # noqa: F811
    [action] = Chat(engine).send("mes données")
    assert action.agent == AGENT and action.room == ROOM and action.retention_days == 90
    assert isinstance(action, ShowMyData)


def test_the_erasure_waits_for_an_explicit_oui_even_in_the_middle_of_a_flow(engine):  # noqa: F811
    chat = Chat(engine)
    assert chat.lines("jai oublié de badger")[0] == "[flow started: badge.forgot_punch]"
    assert chat.lines("effacer mes données") == [CONFIRM]
    [erase] = chat.send("oui")
    assert isinstance(erase, EraseAgentData) and (erase.agent, erase.room, erase.asked_by) == (AGENT, ROOM, "agent")
    assert erase.time == chat.time


def test_non_or_anything_else_erases_nothing(engine):  # noqa: F811
    chat = Chat(engine)
    chat.send("supprimer mes données")
    assert chat.lines("non") == [say("privacy.erase_cancelled")]
    chat.send("effacer mes données")
    said = chat.send("ma boite mail est pleine")  # a new question: answered, the request dropped
    assert not any(isinstance(a, EraseAgentData) for a in said)
    assert not any(isinstance(a, EraseAgentData) for a in chat.send("oui"))
