"""The mediators' commands, read once: `!prendre 12`, `!note 12 ...`, `!r 12 ...`, French and English.

`parse_command` turns a message of the mediators' room into a `Command`, or None when it is plain
chat (mediators talk to each other there too). The ticket number may be left out when the message
answers the ticket's card; a command that cannot be read becomes HELP with a French `problem`
saying what was missing. bot/desk/room.py carries the commands out.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from ..messages import UserID
from ..texts import say
from .tickets import TicketNumber


class Verb(str, Enum):
    HELP = "help"
    TAKE = "take"
    NOTE = "note"
    CLOSE = "close"
    REOPEN = "reopen"
    ASSIGN = "assign"
    LIST = "list"
    SHOW = "show"
    CANNED = "canned"
    REPLY_CANNED = "reply_canned"
    REPLY = "reply"
    STATS = "stats"
    MINE = "mine"
    SEARCH = "search"
    GAPS = "gaps"


# Typed words (lower case, no accents) -> verb: the README's French names, the forms a mediator
# would guess from them (`!liste`, `!clôturer`, `!chercher`...), then English aliases.
ALIASES: dict[str, Verb] = {
    "aide": Verb.HELP, "commandes": Verb.HELP, "help": Verb.HELP,
    "prendre": Verb.TAKE, "prends": Verb.TAKE, "take": Verb.TAKE,
    "note": Verb.NOTE, "noter": Verb.NOTE,
    "clore": Verb.CLOSE, "fermer": Verb.CLOSE, "cloturer": Verb.CLOSE, "terminer": Verb.CLOSE, "close": Verb.CLOSE,
    "rouvrir": Verb.REOPEN, "reouvrir": Verb.REOPEN, "reopen": Verb.REOPEN,
    "transferer": Verb.ASSIGN, "transfert": Verb.ASSIGN, "assigner": Verb.ASSIGN, "assign": Verb.ASSIGN,
    "tickets": Verb.LIST, "liste": Verb.LIST, "lister": Verb.LIST, "demandes": Verb.LIST, "list": Verb.LIST,
    "mes-tickets": Verb.MINE, "mestickets": Verb.MINE, "mes_tickets": Verb.MINE, "mes-demandes": Verb.MINE,
    "mine": Verb.MINE,
    "ticket": Verb.SHOW, "voir": Verb.SHOW, "afficher": Verb.SHOW, "show": Verb.SHOW,
    "cherche": Verb.SEARCH, "chercher": Verb.SEARCH, "recherche": Verb.SEARCH, "rechercher": Verb.SEARCH,
    "search": Verb.SEARCH,
    "reponses": Verb.CANNED, "canned": Verb.CANNED,
    "rc": Verb.REPLY_CANNED,
    "r": Verb.REPLY, "repondre": Verb.REPLY, "reply": Verb.REPLY,
    "stats": Verb.STATS, "statistiques": Verb.STATS,
    "lacunes": Verb.GAPS, "gaps": Verb.GAPS,
}
WITH_TICKET = {Verb.TAKE, Verb.NOTE, Verb.CLOSE, Verb.REOPEN, Verb.ASSIGN, Verb.SHOW,
               Verb.REPLY_CANNED, Verb.REPLY}
WITH_TEXT = {Verb.NOTE, Verb.REPLY}
NUMBER = re.compile(r"#?(\d{1,9})")  # bounded: a 5,000-digit "number" is text, not a ticket
USER = re.compile(r"@[^:\s]+:\S+")


@dataclass(frozen=True, kw_only=True)
class Command:
    """A mediator's command, read once. `problem` (French) is set when a HELP stands in for a
    command that could not be read, so the bot can say what was missing before the help."""

    verb: Verb
    ticket: TicketNumber | None = None
    text: str = ""
    user: UserID | None = None
    canned: str | None = None
    problem: str | None = None


def plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _strip_quote(text: str) -> str:
    """Drop the "> quoted" fallback a rich reply may still carry."""
    lines = text.strip().splitlines()
    while lines and (lines[0].startswith(">") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines).strip()


def parse_command(text: str, card_ticket: TicketNumber | None = None) -> Command | None:
    """Read `!verb [N] [rest]`; None when the message is not a command (mediators chat too).

    The number may be left out when the message replies to a ticket's card (`card_ticket`);
    a number typed first always wins. An unknown verb gives HELP.
    """
    text = _strip_quote(text)
    if not text.startswith("!"):
        return None
    head, _, rest = text[1:].partition(" ")
    if plain(head) == "mes" and plain(rest.strip()) in ("tickets", "demandes"):  # « !mes tickets »
        head, rest = f"{head}-{rest.strip()}", ""
    verb = ALIASES.get(plain(head.strip()))
    if verb is None:
        return Command(verb=Verb.HELP, problem=say("tickets.unknown_command", command=f"!{head}"))
    if verb is Verb.SEARCH:
        if not rest.strip():
            return Command(verb=Verb.HELP, problem=say("tickets.need_words", command=f"!{head}"))
        return Command(verb=verb, text=rest.strip())
    if verb not in WITH_TICKET:
        return Command(verb=verb)
    number, rest = _take_number(rest.strip(), card_ticket)
    if number is None:
        return Command(verb=Verb.HELP, problem=say("tickets.need_number", command=f"!{head}"))
    return _with_arguments(verb, number, rest, head)


def _take_number(rest: str, card_ticket: TicketNumber | None) -> tuple[TicketNumber | None, str]:
    first, _, after = rest.partition(" ")
    match = NUMBER.fullmatch(first)
    if match:
        return int(match[1]), after.strip()
    return card_ticket, rest


def _with_arguments(verb: Verb, number: TicketNumber, rest: str, head: str) -> Command:
    if verb is Verb.ASSIGN:
        user = USER.search(rest)
        if user is None:
            return Command(verb=Verb.HELP, problem=say("tickets.need_user", command=f"!{head}"))
        return Command(verb=verb, ticket=number, user=user[0])
    if verb is Verb.REPLY_CANNED:
        if not rest:
            return Command(verb=Verb.HELP, problem=say("tickets.need_canned", command=f"!{head}"))
        return Command(verb=verb, ticket=number, canned=plain(rest.split()[0]))
    if verb in WITH_TEXT:
        if not rest:
            return Command(verb=Verb.HELP, problem=say("tickets.need_text", command=f"!{head}"))
        return Command(verb=verb, ticket=number, text=rest)
    return Command(verb=verb, ticket=number)
