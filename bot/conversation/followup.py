"""A short message right after an answer is read with that answer's topic as context.

"c combien" after the transport answer, "et pour un iphone ?" after the phone set-up, "et si je l'ai
perdu" after the badge app: on its own such a message has no subject, so the matcher finds nothing
or hesitates. People mean the topic they were just reading, or its neighbour. So when the matcher
is not confident about such a message:

1. among the candidates it already ranked, the previous topic and its neighbours (the same family
   of the catalogue: `badge.*`, `mailbox.*`...) come first: "perdu" after the badge app is the lost
   badge, not the forgotten password;
2. otherwise the message is decided again with the previous topic's title appended, and that
   decision is kept only if it is a confident answer on the topic or a neighbour: a message whose
   own words are foreign to the FAQ ("et la météo ?") drags the score below that, and stays unanswered.

Bounded, so that context never hijacks a new question: only the message right after an answer (the
engine forgets the topic after any other turn), only a message of at most FOLLOW_UP_WORDS words,
only within FOLLOW_UP_MINUTES (the time comes from the message, not a clock). A confident decision on the message alone always wins. The matcher is only called through
`decide`, so this works the same with whatever matcher the knowledge holds.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from ..answering.faq import Faq
from ..answering.lexicon import surface
from ..answering.matching import Decision

FOLLOW_UP_WORDS = 6
FOLLOW_UP_MINUTES = 5


class Decides(Protocol):
    def decide(self, text: str) -> Decision: ...


def in_context(matcher: Decides, faq: Faq, decision: Decision, text: str, now: datetime,
               last_topic: str | None, last_at: datetime | None, clarify_score: float) -> Decision:
    """`decision` on `text` alone, or a better one read as a follow-up of `last_topic`."""
    previous = faq.get(last_topic) if last_topic else None
    if decision.kind == "answer" or previous is None or last_at is None:
        return decision
    if not timedelta(0) <= now - last_at <= timedelta(minutes=FOLLOW_UP_MINUTES):
        return decision
    if not 0 < len(surface(text)) <= FOLLOW_UP_WORDS:
        return decision
    near = [c for c in decision.candidates if _neighbours(c.id, previous.id) and c.score >= clarify_score]
    if near:
        return Decision(kind="answer", candidates=(near[0], *[c for c in decision.candidates if c is not near[0]]))
    again = matcher.decide(f"{text} {previous.title}")
    if again.kind == "answer" and again.top is not None and _neighbours(again.top.id, previous.id):
        return again
    return decision


def _neighbours(topic: str, previous: str) -> bool:
    """The same topic, or one of the same family of the catalogue (the part before the dot)."""
    return topic.split(".")[0] == previous.split(".")[0]
