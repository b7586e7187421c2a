"""Tickets: every move of the state table, every illegal move with the sentence a mediator reads,
the take race, reopening, autoclose, reminders, commands, the card and the statistics."""
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.verbatim import plain
from bot.config import config_from_dict
from bot.desk.hours import PARIS
from bot.messages import TranscriptLine
from bot.desk.commands import Command, Verb, parse_command
from bot.desk.tickets import (TRANSITIONS, Move, Status, Ticket, TicketError, agent_wrote, assign, autoclose,
                         card_text, close, display_name, needs_reminder, new_ticket, note, reopen, reply,
                         stats, take)

CONFIG = config_from_dict({}, base=Path("."))  # reopen 7 d, autoclose 14 d, reminders 30 / 60 min
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=PARIS)  # a Wednesday, office open
MARIE, PAUL = "@marie:agent.tchap.gouv.fr", "@paul:agent.tchap.gouv.fr"
AGENT = "@jean.martin:agent.tchap.gouv.fr"


def ticket(status: Status = Status.OPEN, **changes) -> Ticket:
    base = new_ticket(number=12, agent=AGENT, agent_name="Jean Martin [Mairie de Lyon]", room="!dm:x",
                      reason="L'agent demande à parler à un médiateur", topic="Badgeuse", now=NOW)
    if status is Status.TAKEN:
        base = replace(base, assignee=MARIE, assignee_name="Marie")
    if status is Status.CLOSED:
        base = replace(base, closed_at=NOW)
    return replace(base, status=status, **changes)


LATER = NOW + timedelta(minutes=5)
MOVES = {
    Move.TAKE: lambda t: take(t, mediator=PAUL, name="Paul", now=LATER),
    Move.ASSIGN: lambda t: assign(t, to=PAUL, name="Paul", now=LATER),
    Move.REPLY: lambda t: reply(t, mediator=PAUL, name="Paul", now=LATER),
    Move.NOTE: lambda t: note(t, now=LATER),
    Move.CLOSE: lambda t: close(t, now=LATER),
    Move.REOPEN: lambda t: reopen(t, now=LATER),
    Move.AGENT_WROTE: lambda t: agent_wrote(t, now=LATER, reopen_days=7),
    Move.AUTOCLOSE: lambda t: autoclose(t, now=NOW + timedelta(days=15), autoclose_days=14),
}


# --- The state table ---------------------------------------------------------------------------

@pytest.mark.parametrize("status, move, after", [(s, m, a) for (s, m), a in TRANSITIONS.items()])
def test_every_legal_move(status, move, after):
    moved = MOVES[move](ticket(status))
    assert moved.status is after
    assert moved.updated_at > NOW


ILLEGAL = [
    (Status.OPEN, Move.REOPEN, "Le ticket #12 n'est pas clos : rien à rouvrir."),
    (Status.TAKEN, Move.REOPEN, "Le ticket #12 n'est pas clos : il est pris par Marie."),
    (Status.TAKEN, Move.TAKE, "Le ticket #12 est déjà pris par Marie."),
    (Status.CLOSED, Move.TAKE, "Le ticket #12 est clos. Pour le reprendre : !rouvrir 12"),
    (Status.CLOSED, Move.ASSIGN, "Le ticket #12 est clos. Rouvrez-le avant de le transférer : !rouvrir 12"),
    (Status.CLOSED, Move.REPLY, "Le ticket #12 est clos. Rouvrez-le avant de répondre : !rouvrir 12"),
    (Status.CLOSED, Move.CLOSE, "Le ticket #12 est déjà clos."),
]


@pytest.mark.parametrize("status, move, message", ILLEGAL)
def test_every_illegal_move_names_the_ticket_and_state(status, move, message):
    with pytest.raises(TicketError) as error:
        MOVES[move](ticket(status))
    assert str(error.value) == message
    assert (error.value.number, error.value.status, error.value.move) == (12, status, move)


def test_every_pair_is_either_in_the_table_or_has_a_sentence():
    illegal = {(s, m) for s in Status for m in Move} - set(TRANSITIONS)
    assert illegal == {(s, m) for s, m, _ in ILLEGAL} | {(Status.CLOSED, Move.AUTOCLOSE)}


def test_take_race_second_mediator_is_told_who_has_it():
    stored = ticket()
    first = take(stored, mediator=MARIE, name="Marie", now=LATER)
    with pytest.raises(TicketError, match=r"^Le ticket #12 est déjà pris par Marie\.$"):
        take(first, mediator=PAUL, name="Paul", now=LATER)
    assert (first.status, first.assignee) == (Status.TAKEN, MARIE)


def test_taking_twice_yourself():
    with pytest.raises(TicketError, match="Vous avez déjà pris le ticket #12"):
        take(ticket(Status.TAKEN), mediator=MARIE, name="Marie", now=LATER)


def test_assign_moves_the_ticket_to_someone_else():
    moved = assign(ticket(Status.TAKEN), to=PAUL, name="Paul", now=LATER)
    assert (moved.status, moved.assignee, moved.assignee_name) == (Status.TAKEN, PAUL, "Paul")


def test_first_reply_takes_an_open_ticket_and_is_remembered():
    answered = reply(ticket(), mediator=PAUL, name="Paul", now=LATER)
    again = reply(answered, mediator=MARIE, name="Marie", now=LATER + timedelta(hours=1))
    assert (answered.assignee, answered.first_reply_at) == (PAUL, LATER)
    assert (again.assignee, again.first_reply_at) == (PAUL, LATER)


def test_close_then_reopen_by_a_mediator():
    closed = close(ticket(Status.TAKEN), now=LATER)
    assert (closed.status, closed.closed_at) == (Status.CLOSED, LATER)
    back = reopen(closed, now=LATER + timedelta(days=1))
    assert (back.status, back.assignee, back.closed_at) == (Status.OPEN, None, None)


# --- The agent writes again, and the clock -------------------------------------------------------

@pytest.mark.parametrize("days_after_close, reopened", [
    (0, True), (6, True), (7, True), (7.01, False), (30, False),
])
def test_agent_writing_to_a_closed_ticket(days_after_close, reopened):
    closed = ticket(Status.CLOSED)
    result = agent_wrote(closed, now=NOW + timedelta(days=days_after_close), reopen_days=CONFIG.reopen_days)
    if reopened:
        assert result.status is Status.OPEN and result.closed_at is None
    else:
        assert result is None  # a new ticket


def test_agent_writing_to_a_taken_ticket_keeps_the_mediator():
    result = agent_wrote(ticket(Status.TAKEN), now=LATER, reopen_days=7)
    assert (result.status, result.assignee, result.updated_at) == (Status.TAKEN, MARIE, LATER)


@pytest.mark.parametrize("status, idle_days, closes", [
    (Status.OPEN, 13.9, False), (Status.OPEN, 14, True),
    (Status.TAKEN, 20, True), (Status.CLOSED, 20, False),
])
def test_autoclose_after_inactivity(status, idle_days, closes):
    later = NOW + timedelta(days=idle_days)
    result = autoclose(ticket(status), now=later, autoclose_days=CONFIG.autoclose_days)
    assert (result is not None) is closes
    if closes:
        assert (result.status, result.closed_at) == (Status.CLOSED, later)


def test_activity_postpones_autoclose():
    noted = note(ticket(Status.TAKEN), now=NOW + timedelta(days=10))
    assert autoclose(noted, now=NOW + timedelta(days=15), autoclose_days=14) is None


# --- Reminders ---------------------------------------------------------------------------------

def minutes(n: float) -> datetime:
    return NOW + timedelta(minutes=n)


@pytest.mark.parametrize("status, now, last, expected", [
    (Status.OPEN, minutes(29), None, False),           # not yet 30 minutes
    (Status.OPEN, minutes(30), None, True),
    (Status.OPEN, minutes(60), minutes(30), False),    # reminded 30 min ago, every 60
    (Status.OPEN, minutes(90), minutes(30), True),
    (Status.TAKEN, minutes(90), None, False),          # someone has it
    (Status.CLOSED, minutes(90), None, False),
    (Status.OPEN, minutes(60 * 9), None, False),       # 19:00: nobody there
    (Status.OPEN, datetime(2026, 3, 7, 10, 0, tzinfo=PARIS), None, False),  # Saturday
    (Status.OPEN, datetime(2026, 3, 9, 8, 30, tzinfo=PARIS), minutes(90), True),  # Monday morning
])
def test_needs_reminder(status, now, last, expected):
    assert needs_reminder(ticket(status), now, last, CONFIG) is expected


def test_reopened_ticket_waits_again_before_a_reminder():
    back = reopen(ticket(Status.CLOSED), now=minutes(120))
    assert needs_reminder(back, minutes(130), minutes(60), CONFIG) is False
    assert needs_reminder(back, minutes(150), minutes(60), CONFIG) is True


# --- Commands ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, card, command", [
    ("!aide", None, Command(verb=Verb.HELP)),
    ("!help", None, Command(verb=Verb.HELP)),
    ("!prendre 12", None, Command(verb=Verb.TAKE, ticket=12)),
    ("!take #12", None, Command(verb=Verb.TAKE, ticket=12)),
    ("!Prendre 12", None, Command(verb=Verb.TAKE, ticket=12)),
    ("!prendre", 12, Command(verb=Verb.TAKE, ticket=12)),           # reply to the card
    ("!prendre 7", 12, Command(verb=Verb.TAKE, ticket=7)),          # a typed number wins
    ("!note 12 rappeler lundi", None, Command(verb=Verb.NOTE, ticket=12, text="rappeler lundi")),
    ("!note rappeler lundi", 12, Command(verb=Verb.NOTE, ticket=12, text="rappeler lundi")),
    ("!clore 12", None, Command(verb=Verb.CLOSE, ticket=12)),
    ("!close", 3, Command(verb=Verb.CLOSE, ticket=3)),
    ("!rouvrir 12", None, Command(verb=Verb.REOPEN, ticket=12)),
    ("!reopen 12", None, Command(verb=Verb.REOPEN, ticket=12)),
    ("!transferer 12 @paul:agent.tchap.gouv.fr", None, Command(verb=Verb.ASSIGN, ticket=12, user=PAUL)),
    ("!transférer @paul:agent.tchap.gouv.fr", 12, Command(verb=Verb.ASSIGN, ticket=12, user=PAUL)),
    ("!assign 12 @paul:agent.tchap.gouv.fr", None, Command(verb=Verb.ASSIGN, ticket=12, user=PAUL)),
    ("!tickets", None, Command(verb=Verb.LIST)),
    ("!list", 12, Command(verb=Verb.LIST)),
    ("!ticket 12", None, Command(verb=Verb.SHOW, ticket=12)),
    ("!ticket", 12, Command(verb=Verb.SHOW, ticket=12)),
    ("!reponses", None, Command(verb=Verb.CANNED)),
    ("!réponses", None, Command(verb=Verb.CANNED)),
    ("!canned", None, Command(verb=Verb.CANNED)),
    ("!rc 12 badge", None, Command(verb=Verb.REPLY_CANNED, ticket=12, canned="badge")),
    ("!rc Badge", 12, Command(verb=Verb.REPLY_CANNED, ticket=12, canned="badge")),
    ("!r 12 Bonjour, je regarde.", None, Command(verb=Verb.REPLY, ticket=12, text="Bonjour, je regarde.")),
    ("!r Bonjour", 12, Command(verb=Verb.REPLY, ticket=12, text="Bonjour")),
    ("> <@bot:x> #12 · Jean\n\n!r Bonjour", 12, Command(verb=Verb.REPLY, ticket=12, text="Bonjour")),
    ("!stats", None, Command(verb=Verb.STATS)),
    ("  !stats  ", None, Command(verb=Verb.STATS)),
])
def test_parse_command(text, card, command):
    assert parse_command(text, card_ticket=card) == command


@pytest.mark.parametrize("text, problem", [
    ("!bonjour", "Je ne connais pas la commande « !bonjour »."),
    ("!prendre", "Précisez le numéro du ticket (« !prendre 12 »), ou répondez à la fiche du ticket."),
    ("!transferer 12", "Précisez à qui transférer le ticket (« !transferer 12 @marie.dupont:agent.tchap.gouv.fr »)."),
    ("!rc 12", "Précisez le nom de la réponse (« !rc 12 badge ») ; la liste : !reponses"),
    ("!r 12", "Écrivez le texte après le numéro (« !r 12 votre texte »)."),
])
def test_unreadable_command_gives_help_with_the_reason(text, problem):
    assert parse_command(text) == Command(verb=Verb.HELP, problem=problem)


@pytest.mark.parametrize("text", ["bonjour", "je prends le 12", ""])
def test_chat_between_mediators_is_not_a_command(text):
    assert parse_command(text, card_ticket=12) is None


# --- Card --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, shown", [
    ("Marie Dupont [Mairie de Lyon]", "Marie Dupont"),
    ("Marie Dupont", "Marie Dupont"),
    ("Marie [Dupont] [DINUM]", "Marie [Dupont]"),
    ("[DINUM]", MARIE),
    (None, MARIE),
])
def test_display_name_without_the_organisation(name, shown):
    assert display_name(name, MARIE) == shown


def test_card_text():
    card = ticket(transcript=(
        TranscriptLine(time=datetime.fromisoformat("2026-03-04T08:58:00+00:00"), author="agent",
                       text="ma badgeuse ne marche pas"),
        TranscriptLine(time=NOW, author="bot", text="Je préviens un médiateur."),
    ), fields={"Site": "Gerland"})
    assert plain(card_text(card)).splitlines() == [
        "#12 · Jean Martin (@jean.martin:agent.tchap.gouv.fr) · Badgeuse · L'agent demande à parler à un médiateur",
        "09:58 Agent : ma badgeuse ne marche pas",
        "10:00 Assistant : Je préviens un médiateur.",
        "Site : Gerland",
    ]


def test_card_without_topic():
    assert plain(card_text(ticket(topic=None))).startswith("#12 · Jean Martin (@jean.martin:agent.tchap.gouv.fr) · sans thème · ")


# --- Statistics --------------------------------------------------------------------------------

def test_stats():
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    tickets = [
        ticket(opened_at=NOW, first_reply_at=NOW + timedelta(minutes=10)),
        ticket(Status.CLOSED, opened_at=monday, first_reply_at=monday + timedelta(minutes=30),
               closed_at=monday + timedelta(hours=2), mark=4),
        ticket(Status.CLOSED, opened_at=monday, closed_at=NOW - timedelta(hours=1), mark=5),
        ticket(opened_at=monday - timedelta(days=3)),  # last week
    ]
    assert stats(tickets, NOW + timedelta(hours=1)) == {
        "opened_today": 1, "opened_week": 3, "closed_today": 1, "closed_week": 2, "open_now": 2,
        "median_first_reply": timedelta(minutes=20),
        "median_close": (timedelta(hours=2) + timedelta(days=2)) / 2,
        "mean_mark": 4.5,
        "agents_week": 0, "agents_helped_week": 1,
    }


def test_stats_tell_how_many_agents_needed_a_human_this_week():
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    tickets = [ticket(opened_at=NOW), ticket(opened_at=monday - timedelta(days=3))]  # one this week
    seen = [NOW, monday, NOW - timedelta(hours=2), monday - timedelta(days=1)]  # three agents this week
    figures = stats(tickets, NOW, seen)
    assert (figures["agents_helped_week"], figures["agents_week"]) == (1, 3)


def test_stats_with_nothing_yet():
    assert stats([], NOW)["median_close"] is None
    assert stats([], NOW)["mean_mark"] is None


def test_a_card_shows_the_agent_whole_and_the_bot_in_brief():
    long_answer = "1. Allez sur https://messagerie.ville.example.fr\n2. Touchez « Mot de passe oublié ».\n3. …"
    story = "Bonjour, je travaille à la crèche depuis 12 ans\net je n'ai jamais utilisé la messagerie"
    card = ticket(transcript=(
        TranscriptLine(time=NOW, author="agent", text=story),
        TranscriptLine(time=NOW, author="bot", text=long_answer),
    ))
    lines = plain(card_text(card)).splitlines()
    assert lines[1:] == ["10:00 Agent : Bonjour, je travaille à la crèche depuis 12 ans",
                         "│ et je n'ai jamais utilisé la messagerie",  # set apart: no line passes for the bot's
                         "10:00 Assistant : 1. Allez sur https://messagerie.ville.example.fr …"]
