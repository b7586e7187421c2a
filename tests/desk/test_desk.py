"""The mediators' desk as transcripts: an agent's ticket from opening to its mark, the mediators'
commands, relays both ways, refusals, reopening, autoclose and reminders, on a fixed clock."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.verbatim import plain, verbatim
from bot.config import config_from_dict
from bot.desk.desk import Desk
from bot.desk.room import MediatorsRoom
from bot.desk.hours import PARIS
from bot.desk.ledger import Decision, Ledger
from bot.messages import (Incoming, RecordDecision, Media, OpenTicket, PostCard, RelayToAgent, Reply, StoreNote, ToMediators,
                          TranscriptLine)
from bot.desk.tickets import Status

MARIE, PAUL, EVE = "@marie:tchap", "@paul:tchap", "@eve:tchap"
AGENT, DM, ROOM = "@jean:tchap", "!dm:tchap", "!mediateurs:tchap"
NAMES = {MARIE: "Marie Curie [DINUM]", PAUL: "Paul [Mairie]", EVE: "Eve"}
WEDNESDAY = datetime(2026, 3, 4, 10, 0, tzinfo=PARIS)
CONFIG = config_from_dict({"mediators": [MARIE, PAUL]}, base=Path("."))
CANNED = {"badge": "Passez à l'accueil avec une pièce d'identité."}


class FakeEngine:
    """The conversation engine reduced to two answers: a FAQ reply, or a ticket on "médiateur"."""

    def __call__(self, state, incoming):
        count = (state or {}).get("count", 0) + 1
        if "médiateur" in incoming.text:
            line = TranscriptLine(time=incoming.time, author="agent", text="mon badge ne marche plus")
            return {"count": count}, [Reply(room=incoming.room, text="Je préviens un médiateur."),
                                      OpenTicket(agent=incoming.sender, room=incoming.room, reason="L'agent demande",
                                                 topic="badge", fields={"site": "Mairie"}, transcript=(line,),
                                                 agent_name="Jean Martin [Mairie de Lyon]")]
        return {"count": count}, [Reply(room=incoming.room, text=f"FAQ : {incoming.text}")]


class DeskDriver:
    """Plays the store's part: keeps tickets and event links between turns, like Store.desk_turn."""

    def __init__(self, config=CONFIG):
        self.desk = Desk(config, CANNED)
        self.tickets: dict = {}
        self.links: dict[str, int] = {}
        self.state: dict | None = None
        self.events = 0
        self.clock = WEDNESDAY

    def _ledger(self, reply_to=None, text="") -> Ledger:
        replied = self.links.get(reply_to) if reply_to else None
        return Ledger(tickets=dict(self.tickets), next_number=max(self.tickets, default=0) + 1, replied=replied,
                      state=self.state)

    def _apply(self, decision: Decision) -> list:
        for ticket in decision.tickets:
            self.tickets[ticket.number] = replace(ticket, transcript=())
        self.links.update(dict(decision.links))
        for action in decision.actions:
            if isinstance(action, PostCard):
                self.links[f"$card{action.ticket}"] = action.ticket
        if decision.state is not None:
            self.state = decision.state
        return [a for a in decision.actions if not isinstance(a, RecordDecision)]  # the log: test_decision_log.py

    def _incoming(self, sender, room, text, reply_to=None, media=None, minutes=1) -> Incoming:
        self.clock += timedelta(minutes=minutes)
        self.events += 1
        return Incoming(sender=sender, room=room, text=text, event_id=f"$e{self.events}", time=self.clock,
                        reply_to=reply_to, sender_name=NAMES.get(sender, "Jean Martin [Mairie de Lyon]"), media=media)

    def agent(self, text, **kw) -> list:
        incoming = self._incoming(AGENT, DM, text, **kw)
        return self._apply(self.desk.agent_turn(self._ledger(), incoming, FakeEngine()))

    def mediator(self, who, text, reply_to=None, members=(), **kw) -> list:
        incoming = self._incoming(who, ROOM, text, reply_to=reply_to, **kw)
        room = MediatorsRoom(members=frozenset(members), names=NAMES)
        return self._apply(self.desk.mediator_turn(self._ledger(reply_to), incoming, room))

    def tick(self, at: datetime) -> list:
        return self._apply(self.desk.tick(self._ledger(), at))


def texts(actions) -> list[str]:
    return [plain(a.text) for a in actions if hasattr(a, "text")]


@pytest.fixture
def desk() -> DeskDriver:
    return DeskDriver()


def test_a_ticket_opens_with_its_card_and_the_agent_is_told_when(desk):
    said = desk.agent("je veux un médiateur")
    assert [type(a) for a in said] == [Reply, Reply, PostCard]
    assert said[1].text == "Votre demande porte le n° 1. Un médiateur vous répondra dès maintenant ; " \
                           "vos prochains messages lui seront transmis."
    assert plain(said[2].text).splitlines() == ["#1 · Jean Martin (@jean:tchap) · badge · L'agent demande",
                                         "10:01 Agent : mon badge ne marche plus", "site : Mairie"]
    assert desk.tickets[1].status is Status.OPEN


def test_outside_working_hours_the_agent_is_told_when_a_mediator_will_answer(desk):
    desk.clock = datetime(2026, 3, 6, 18, 0, tzinfo=PARIS)  # a Friday evening
    said = desk.agent("je veux un médiateur")
    assert "Un médiateur vous répondra lundi à 8 h 30" in said[1].text


def test_while_a_ticket_is_open_the_agent_writes_to_the_mediators_not_the_faq(desk):
    desk.agent("je veux un médiateur")
    said = desk.agent("c'est urgent")
    assert said == [ToMediators(text=f"#1 · **{verbatim('Jean Martin')}** : {verbatim('c' + chr(39) + 'est urgent')}",
                                ticket=1, author=AGENT,
                                body="c'est urgent", source_event="$e2")]


def test_the_whole_life_of_a_ticket(desk):
    desk.agent("je veux un médiateur")
    said = desk.mediator(MARIE, "!prendre", reply_to="$card1")
    assert texts(said) == ["#1 pris par Marie Curie.", "Marie Curie s'occupe de votre demande n° 1."]
    assert said[1].room == DM
    said = desk.mediator(MARIE, "Bonjour, quel est votre site ?", reply_to="$card1")
    assert said == [RelayToAgent(ticket=1, room=DM, text="**Marie Curie** : Bonjour, quel est votre site ?",
                                 author=MARIE, body="Bonjour, quel est votre site ?", source_event="$e3")]
    assert texts(desk.agent("Mairie annexe")) == ["#1 · **Jean Martin** : Mairie annexe"]
    said = desk.mediator(MARIE, "!note 1 badge à refaire")
    assert [type(a) for a in said] == [StoreNote, Reply] and said[1].room == ROOM
    assert texts(desk.mediator(MARIE, "!rc 1 badge")) == ["**Marie Curie** : Passez à l'accueil avec une pièce d'identité."]
    said = desk.mediator(MARIE, "!clore 1")
    assert texts(said)[1].startswith("Votre demande n° 1 est close. Comment jugez-vous")
    said = desk.agent("4")
    assert texts(said) == ["Merci pour votre note (4/5) !", "#1 : l'agent a donné la note 4/5."]
    assert desk.tickets[1].mark == 4 and desk.tickets[1].status is Status.CLOSED
    desk.mediator(MARIE, "!rouvrir 1")
    desk.mediator(MARIE, "!clore 1")
    assert texts(desk.agent("5"))[0] == "Merci pour votre note (5/5) !"  # a new close, a new mark


def test_the_agent_writing_after_close_reopens_within_reopen_days_and_starts_anew_after(desk):
    desk.agent("je veux un médiateur")
    desk.mediator(PAUL, "!clore 1")
    said = desk.agent("en fait ça ne marche toujours pas")
    assert texts(said) == ["Votre demande n° 1 est rouverte. Un médiateur vous répondra dès maintenant ; "
                           "vos messages lui sont transmis.", "#1 rouvert : l'agent a écrit de nouveau.",
                           "#1 · **Jean Martin** : en fait ça ne marche toujours pas"]
    desk.mediator(PAUL, "!clore 1")
    assert texts(desk.agent("horaires", minutes=8 * 24 * 60)) == ["FAQ : horaires"]
    assert desk.tickets[1].status is Status.CLOSED


def test_a_reply_to_any_message_of_the_ticket_finds_it(desk):
    desk.agent("je veux un médiateur")
    desk.agent("une précision")  # the agent's event $e2, relayed
    said = desk.mediator(PAUL, "je regarde", reply_to="$e2")
    assert said[0] == RelayToAgent(ticket=1, room=DM, text="**Paul** : je regarde", author=PAUL, body="je regarde",
                                 source_event="$e3")
    assert texts(said)[1] == "#1 pris par Paul."  # answering a free ticket takes it
    assert desk.tickets[1].assignee == PAUL


def test_two_takes_one_owner_the_other_told(desk):
    desk.agent("je veux un médiateur")
    desk.mediator(MARIE, "!prendre 1")
    assert texts(desk.mediator(PAUL, "!take 1")) == ["Le ticket #1 est déjà pris par Marie Curie."]
    assert desk.tickets[1].assignee == MARIE


def test_transfer_to_a_mediator_only(desk):
    desk.agent("je veux un médiateur")
    assert texts(desk.mediator(MARIE, f"!transferer 1 {PAUL}")) == [
        "#1 transféré à Paul par Marie Curie.", "Paul reprend votre demande n° 1."]
    assert desk.tickets[1].assignee == PAUL
    assert texts(desk.mediator(MARIE, f"!transferer 1 {EVE}")) == [
        f"{EVE} n'est pas médiateur : le ticket #1 ne peut pas lui être transféré."]


def test_a_non_mediator_is_refused_and_chat_is_ignored(desk):
    desk.agent("je veux un médiateur")
    assert desk.mediator(EVE, "on déjeune ?") == []
    said = desk.mediator(EVE, "!prendre 1")
    assert texts(said) == ["Désolé, seuls les médiateurs peuvent utiliser les commandes du bot."]
    assert texts(desk.mediator(EVE, "coucou", reply_to="$card1")) == [
        "Désolé, seuls les médiateurs peuvent utiliser les commandes du bot."]
    assert desk.tickets[1].status is Status.OPEN


def test_members_of_the_room_are_mediators_when_configured():
    driver = DeskDriver(replace(CONFIG, mediators=(), mediators_from_room=True))
    driver.agent("je veux un médiateur")
    assert texts(driver.mediator(EVE, "!prendre 1", members={EVE})) == ["#1 pris par Eve.",
                                                                       "Eve s'occupe de votre demande n° 1."]


def test_unknown_commands_and_missing_numbers_get_the_help(desk):
    said = texts(desk.mediator(MARIE, "!frobnicate"))[0]
    assert said.startswith("Je ne connais pas la commande « !frobnicate ».\n\nCommandes des médiateurs")
    assert texts(desk.mediator(MARIE, "!prendre"))[0].startswith("Précisez le numéro du ticket")
    assert texts(desk.mediator(MARIE, "!prendre 9")) == ["Aucun ticket #9."]


def test_list_show_canned_and_stats(desk):
    desk.agent("je veux un médiateur")
    desk.mediator(MARIE, "!prendre 1")
    listing = texts(desk.mediator(PAUL, "!tickets", minutes=125))[0]
    assert listing.splitlines() == ["Demandes ouvertes, de la plus ancienne à la plus récente (attente en heures ouvrées) :",
                                    "- #1 · 2 h 06 · Jean Martin · badge · pris par Marie Curie"]
    assert texts(desk.mediator(PAUL, "!reponses"))[0].splitlines()[1] == \
        "- badge : Passez à l'accueil avec une pièce d'identité."
    shown = texts(desk.mediator(PAUL, "!ticket 1"))[0]
    assert "État : pris par Marie Curie · ouvert le 04/03 10:01" in shown
    stats = texts(desk.mediator(PAUL, "!stats"))[0]
    assert "ouverts aujourd'hui : 1, cette semaine : 1" in stats and "en cours : 1" in stats


def test_agents_see_only_their_own_requests(desk):
    assert texts(desk.agent("mes demandes")) == ["Vous n'avez aucune demande enregistrée."]
    desk.agent("je veux un médiateur")
    desk.mediator(MARIE, "!prendre 1")
    assert texts(desk.agent("Mes demandes ?")) == [
        "Vos demandes :\n- n° 1 · L'agent demande · prise en charge par Marie Curie (ouverte le 04/03/2026)"]
    other = Incoming(sender="@autre:tchap", room="!dm2:tchap", text="mes demandes", event_id="$x", time=desk.clock)
    decision = desk.desk.agent_turn(desk._ledger(), other, FakeEngine())
    assert texts(decision.actions[:-1]) == ["Vous n'avez aucune demande enregistrée."]


def test_images_are_relayed_both_ways(desk):
    photo = Media(msgtype="m.image", name="badge.jpg", url="mxc://x/1", mimetype="image/jpeg")
    assert texts(desk.agent("badge.jpg", media=photo)) == [
        "Je ne sais pas lire les images ni les fichiers. Écrivez-moi votre question, "
        "ou écrivez « médiateur » pour joindre une personne."]
    desk.agent("je veux un médiateur")
    assert desk.agent("badge.jpg", media=photo)[0].media == photo
    said = desk.mediator(MARIE, "schema.png", reply_to="$card1", media=photo)
    assert isinstance(said[0], RelayToAgent) and said[0].media == photo


def test_reminders_during_working_hours_and_autoclose(desk):
    desk.agent("je veux un médiateur")  # opened 10:01
    assert desk.tick(WEDNESDAY + timedelta(minutes=20)) == []
    assert texts(desk.tick(WEDNESDAY + timedelta(minutes=32))) == [
        "Rappel : #1 attend un médiateur depuis 31 min. Pour le prendre : !prendre 1"]
    assert desk.tick(WEDNESDAY + timedelta(minutes=80)) == []
    assert len(desk.tick(WEDNESDAY + timedelta(minutes=93))) == 1
    assert desk.tick(datetime(2026, 3, 4, 22, 0, tzinfo=PARIS)) == []  # nobody reads it at night
    said = desk.tick(WEDNESDAY + timedelta(days=15))
    assert texts(said) == ["Votre demande n° 1 est close : elle était sans nouvelles depuis 14 jours. "
                           "Si besoin, écrivez-nous ici.", "#1 clos automatiquement après 14 jours sans activité."]
    assert desk.tickets[1].status is Status.CLOSED


def test_a_mediator_who_joins_gets_the_open_tickets_they_cannot_read(desk):
    assert desk.desk.mediator_joined(desk._ledger(), PAUL, "Paul [Mairie]", WEDNESDAY).actions == ()
    desk.agent("je veux un médiateur")
    joined = desk.desk.mediator_joined(desk._ledger(), PAUL, "Paul [Mairie]", WEDNESDAY + timedelta(minutes=46))
    assert texts(joined.actions)[0].splitlines() == [
        "Bienvenue Paul ! Les messages d'avant votre arrivée vous sont illisibles ; voici les demandes ouvertes :",
        "- #1 · 45 min · Jean Martin · badge · libre · ⚠️ en retard",
        "Le détail d'un ticket : !ticket 12 ; pour y répondre : !r 12 votre texte ; toutes les commandes : !aide"]
    assert desk.desk.mediator_joined(desk._ledger(), EVE, "Eve", WEDNESDAY).actions == ()  # not a mediator
