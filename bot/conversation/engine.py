"""One agent's conversation: (state, incoming message) -> (new state, actions). Pure: no I/O, no clock.

A message goes through these steps, in order; the first that applies decides the answer:

    welcome        first contact, or back after `welcome_again_after_days`: the welcome goes first
    expiry         a flow silent for `flow_timeout_minutes` is dropped (and said so); a stale
                   pending question is forgotten; the message then reads as new
    own data       « mes données » / « effacer mes données » (asked to confirm: oui / non), even mid-flow:
                   the store answers or erases (ShowMyData, EraseAgentData; bot/storage/erasure.py)
    human          "médiateur", "humain"... (or the matcher's help.human) opens a ticket at once,
                   even mid-flow, with the fields collected so far and the recent transcript
    flow           a flow under way gets the message (bot/conversation/guided.py)
    pending        the answer to the bot's last question: oui/non after an answer or an offer,
                   a number or words after "Vous voulez parler de : ..."
    blank          nothing readable: "je n'ai pas compris"
    question       the matcher decides: answer / clarify / none

Every handler returns the new `ConversationState` and the actions, so tests compare lists of
actions without any network. The texts are in bot/texts/conversation.yaml.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from . import followup, intents, transcript
from ..config import Config
from .state import ConversationState, Pending, Result, Turn
from ..errors import DataError
from ..answering.faq import Entry
from .flows import expired
from .guided import continue_flow, start_flow
from .knowledge import Knowledge, load_knowledge
from .language import follow
from ..answering.lexicon import surface
from ..answering.matching import Decision
from ..messages import (Action, EraseAgentData, FlowEvent, Incoming, OpenTicket, RecordDecision, RecordFeedback,
                        ShowMyData)
from ..texts import language, say, speaking

MAX_CHARS = 2000         # longer messages are read up to here: nobody types more on a phone
HUMAN_TOPIC = "help.human"
GREETING_TOPIC = "smalltalk.greeting"
PICK_SCORE = 80          # words naming an offered topic: how close to its title they must be
PICK_MARGIN = 10
OUTCOMES = {"answer": "answer", "flow": "flow", "escalate": "ticket", "smalltalk": "smalltalk"}  # entry kind -> logged

def build_engine(config: Config, encoder=None) -> Engine:
    """The engine over the FAQ and flows of `config`; a broken FAQ stops the start (DataError).
    With an encoder (bot/answering/encoder.py), the matcher also uses the messages' vectors."""
    knowledge, problems = load_knowledge(config, encoder=encoder)
    if problems:
        raise DataError(problems)
    return Engine(config, knowledge)


class Engine:
    """Holds what does not change between messages (config, knowledge); `handle` is pure."""

    def __init__(self, config: Config, knowledge: Knowledge):
        self.config = config
        self.knowledge = knowledge

    def handle(self, state: dict | None, incoming: Incoming) -> tuple[dict, list[Action]]:
        before = ConversationState.from_dict(state)
        turn = Turn(incoming=incoming, text=incoming.text[:MAX_CHARS].strip(),
                    welcomed=self._due_welcome(before, incoming.time))
        current = replace(before, last_seen=turn.now, language=follow(before.language, turn.text),
                          transcript=transcript.add_agent(before.transcript, turn.now, turn.text))
        with speaking(current.language):  # the bot's sentences, in the agent's language (bot/texts.py)
            return self._turn(before, current, turn)

    def _turn(self, before: ConversationState, current: ConversationState, turn: Turn) -> tuple[dict, list[Action]]:
        current, notices = self._expire(current, turn)
        current, actions = self._route(current, turn)
        if current.last_topic_at != turn.now:  # a follow-up is the message right after an answer, not later
            current = replace(current, last_topic=None, last_topic_at=None)
        said = notices + actions
        current = replace(current, transcript=transcript.add_replies(current.transcript, turn.now, said))
        return current.to_dict(), self._welcome(turn) + self._logged(said, turn, before.pending, before, current)

    # --- the decision log (one RecordDecision per message, last)

    def _logged(self, said: list[Action], turn: Turn, asked: Pending | None, before: ConversationState,
                after: ConversationState) -> list[Action]:
        """`said` with exactly one RecordDecision at the end, telling what became of the last question."""
        records = [a for a in said if isinstance(a, RecordDecision)]
        rest = [a for a in said if not isinstance(a, RecordDecision)]
        record = records[0] if records else self._plain_record(turn, rest, before, after)
        if record.settles is None:
            record = replace(record, settles=self._settles(rest, asked, after))
        return [*rest, record]

    @staticmethod
    def _settles(said: list[Action], asked: Pending | None, after: ConversationState) -> str | None:
        feedback = next((a for a in said if isinstance(a, RecordFeedback)), None)
        if feedback is not None:
            return "helpful" if feedback.helpful else "rejected"
        if asked is not None and asked.kind == "clarify" and after.pending != asked:
            return "unpicked"  # something else than one of the offered topics (a pick says "picked" itself)
        return None

    def _plain_record(self, turn: Turn, said: list[Action], before: ConversationState,
                      after: ConversationState) -> RecordDecision:
        """A message the matcher did not decide: a request for a person, a flow's slot, an answer to the bot."""
        ticket = next((a for a in said if isinstance(a, OpenTicket)), None)
        feedback = next((a for a in said if isinstance(a, RecordFeedback)), None)
        flow = before.flow or after.flow
        if feedback is not None:
            return self._record(turn, "reply", topic=feedback.topic)
        if ticket is not None:
            return self._record(turn, "ticket", topic=ticket.topic)
        if flow is not None:
            return self._record(turn, "flow_step", topic=flow.entry)
        return self._record(turn, "reply")

    def _record(self, turn: Turn, outcome: str, *, topic: str | None = None, decision=None,
                settles: str | None = None) -> RecordDecision:
        """With a matcher's decision, the message's words and vector go in too (erased at retention)."""
        if decision is None:
            return RecordDecision(agent=turn.incoming.sender, time=turn.now, outcome=outcome, topic=topic,
                                  settles=settles)
        vector = getattr(turn.incoming, "vector", None)
        scores = [c.score for c in decision.candidates[:2]]
        return RecordDecision(
            agent=turn.incoming.sender, time=turn.now, outcome=outcome,
            topic=decision.top.id if decision.top else None, score=scores[0] if scores else None,
            second=scores[1] if len(scores) > 1 else None, text=turn.text,
            vector=None if vector is None else vector.astype("<f4").tobytes())

    # --- before reading the message

    def _due_welcome(self, state: ConversationState, now: datetime) -> bool:
        """Once per agent, and again after a long absence (they may have forgotten what the bot does)."""
        absence = timedelta(days=self.config.welcome_again_after_days)
        return state.last_seen is None or now - state.last_seen >= absence

    def _welcome(self, turn: Turn) -> list[Action]:
        """Said first, but kept out of the transcript: a mediator does not need to read it."""
        if not turn.welcomed:
            return []
        return [turn.reply(say("conversation.welcome", retention_days=self.config.retention_days))]

    def _expire(self, state: ConversationState, turn: Turn) -> Result:
        timeout = self.config.flow_timeout_minutes
        if state.pending and turn.now - state.pending.since > timedelta(minutes=timeout):
            state = replace(state, pending=None, misses=0)  # "1" or "oui" an hour later answers nothing
        if state.flow is None or not expired(state.flow.state, turn.now, timeout):
            return state, []
        flow = state.flow.state.flow
        title = self._flow_title(flow)
        return replace(state, flow=None), [turn.reply(say("conversation.flow_expired", title=title)),
                                           FlowEvent(agent=turn.incoming.sender, flow=flow, event="expired")]

    def _flow_title(self, flow_id: str) -> str:
        flow = self.knowledge.flows.get(flow_id)
        return flow.title if flow else flow_id

    # --- routing

    def _route(self, state: ConversationState, turn: Turn) -> Result:
        own_data = self._own_data(state, turn)
        if own_data is not None:
            return own_data
        if state.pending is not None and state.pending.kind == "erase":
            state = replace(state, pending=None)  # neither oui nor non: nothing is erased, the message reads as new
        if self._asks_for_human(turn.text, turn.incoming.vector):
            return self._to_human(state, turn, *self._ticket_context(state))
        if state.flow is not None:
            return continue_flow(self, state, turn)
        if state.pending is not None:
            answered = self._answer_pending(state, state.pending, turn)
            if answered is not None:
                return answered
            if not intents.is_blank(turn.text):
                state = replace(state, pending=None)
        if intents.is_blank(turn.text):
            return self._blank(state, turn)
        if intents.says_cancel(turn.text):
            return replace(state, pending=None, misses=0), [turn.reply(say("conversation.cancelled"))]
        return self._question(state, turn)

    def _own_data(self, state: ConversationState, turn: Turn) -> Result | None:
        """What the line keeps about the agent, and its erasure once confirmed: the store does both."""
        agent, room = turn.incoming.sender, turn.incoming.room
        if state.pending is not None and state.pending.kind == "erase":
            if intents.says_yes(turn.text):
                return replace(state, pending=None), [EraseAgentData(agent=agent, room=room, time=turn.now,
                                                                        language=language())]
            if intents.says_no(turn.text):
                return replace(state, pending=None), [turn.reply(say("privacy.erase_cancelled"))]
        if intents.asks_erasure(turn.text):
            return replace(state, pending=Pending(kind="erase", since=turn.now)), [turn.reply(say("privacy.erase_confirm"))]
        if intents.asks_my_data(turn.text):
            return state, [ShowMyData(agent=agent, room=room, retention_days=self.config.retention_days, time=turn.now,
                                      language=language())]
        return None

    def _blank(self, state: ConversationState, turn: Turn) -> Result:
        """No words. A lone 👍 / 👎 is a reaction to something that asked nothing: acknowledge it."""
        if intents.says_yes(turn.text):
            return state, [turn.reply(say("conversation.thanks_ack"))]
        if intents.says_no(turn.text):
            offer = Pending(kind="offer", since=turn.now, reason=say("conversation.reason_asked"))
            return replace(state, pending=offer), [turn.reply(say("conversation.feedback_not_helpful"))]
        return state, [turn.reply(say("conversation.not_understood"))]

    def _asks_for_human(self, text: str, vector=None) -> bool:
        if intents.asks_for_human(text):
            return True
        if intents.is_blank(text):
            return False
        decision = self.knowledge.matcher.decide(text, vector)
        return decision.kind == "answer" and decision.top is not None and decision.top.id == HUMAN_TOPIC

    def _ticket_context(self, state: ConversationState) -> tuple[str, str | None, dict[str, str]]:
        """(reason, topic, fields) for a ticket the agent asks for now: what the bot was doing."""
        if state.flow is not None:
            title = self._flow_title(state.flow.state.flow)
            return say("conversation.reason_mid_flow", title=title), state.flow.entry, dict(state.flow.state.fields)
        if state.pending is not None and state.pending.reason:
            return state.pending.reason, state.pending.topic, dict(state.pending.fields)
        return say("conversation.reason_asked"), None, {}

    def _to_human(self, state: ConversationState, turn: Turn, reason: str, topic: str | None,
                  fields: dict[str, str]) -> Result:
        """Open the ticket now: an agent who asks for a person never has to ask twice."""
        human = self.knowledge.faq.get(HUMAN_TOPIC)
        actions: list[Action] = [turn.reply(human.answer_in(language()) if human else say("conversation.ticket_opened")),
                                 self.ticket(state, turn, reason=reason, topic=topic, fields=fields)]
        if state.flow is not None:
            actions.append(FlowEvent(agent=turn.incoming.sender, flow=state.flow.state.flow, event="cancelled"))
        return replace(state, flow=None, pending=None, misses=0), actions

    def ticket(self, state: ConversationState, turn: Turn, *, reason: str, topic: str | None,
               fields: dict[str, str]) -> OpenTicket:
        incoming = turn.incoming
        return OpenTicket(agent=incoming.sender, room=incoming.room, reason=reason, topic=topic, fields=dict(fields),
                          transcript=state.transcript, agent_name=incoming.sender_name, language=language())

    # --- the answer to the bot's last question

    def _answer_pending(self, state: ConversationState, pending: Pending, turn: Turn) -> Result | None:
        """The agent's reply to what the bot just asked, or None when the message is something new."""
        if pending.kind == "feedback":
            return self._feedback(state, pending, turn)
        if pending.kind == "offer":
            if intents.says_yes(turn.text):
                return self._to_human(state, turn, pending.reason or say("conversation.reason_asked"),
                                      pending.topic, dict(pending.fields))
            if intents.says_no(turn.text):
                return replace(state, pending=None), [turn.reply(say("conversation.offer_declined"))]
            return None
        if pending.kind == "clarify":
            return self._clarified(state, pending, turn)
        return None

    def _feedback(self, state: ConversationState, pending: Pending, turn: Turn) -> Result | None:
        helpful = intents.says_helpful(turn.text)
        if not helpful and not intents.says_no(turn.text):
            return None
        record = RecordFeedback(agent=turn.incoming.sender, topic=pending.topic or "", helpful=helpful, time=turn.now)
        if helpful:
            return replace(state, pending=None, misses=0), [turn.reply(say("conversation.feedback_thanks")), record]
        offer = replace(pending, kind="offer", since=turn.now)
        return (replace(state, pending=offer, misses=1),
                [turn.reply(say("conversation.feedback_not_helpful")), record])

    def _clarified(self, state: ConversationState, pending: Pending, turn: Turn) -> Result | None:
        number = intents.choice_number(turn.text)
        options = pending.options
        if number == len(options) + 1 or (number is None and intents.says_other(turn.text)):
            offer = replace(pending, kind="offer", since=turn.now, options=())
            return replace(state, pending=offer, misses=1), [turn.reply(say("conversation.clarify_other_chosen"))]
        chosen = options[number - 1] if number and 1 <= number <= len(options) else self._named(turn.text, options)
        entry = self.knowledge.faq.get(chosen) if chosen else None
        if entry is None:
            return None
        state, actions = self.entry(replace(state, pending=None), turn, entry)
        return state, [*actions, self._record(turn, OUTCOMES[entry.kind], topic=entry.id, settles="picked")]

    def _named(self, text: str, options: tuple[str, ...]) -> str | None:
        """The offered topic the agent's words point to ("le badge perdu"), if one clearly stands out."""
        words = " ".join(surface(text))
        if not words:
            return None
        scores = []
        for topic in options:
            entry = self.knowledge.faq.get(topic)
            title = " ".join(surface(entry.title_in(language()))) if entry else ""  # the title they were shown
            scores.append((max(fuzz.token_set_ratio(words, title), fuzz.WRatio(words, title)), topic))
        scores.sort(reverse=True)
        best, second = scores[0][0], scores[1][0] if len(scores) > 1 else 0.0
        return scores[0][1] if best >= PICK_SCORE and best - second >= PICK_MARGIN else None

    # --- a new question

    def _question(self, state: ConversationState, turn: Turn) -> Result:
        decision = self._in_context(state, turn, self.knowledge.matcher.decide(turn.text, turn.incoming.vector))
        entries = [e for e in (self.knowledge.faq.get(c.id) for c in decision.candidates) if e is not None]
        if decision.kind == "clarify" and len(entries) > 1:
            (state, actions), outcome = self._clarify(state, turn, entries), "clarify"
        elif decision.kind in ("answer", "clarify") and entries:
            (state, actions), outcome = self.entry(state, turn, entries[0]), OUTCOMES[entries[0].kind]
        else:
            (state, actions), outcome = self._no_match(state, turn), "none"
        return state, [*actions, self._record(turn, outcome, decision=decision)]

    def _in_context(self, state: ConversationState, turn: Turn, decision: Decision) -> Decision:
        """A short message right after an answer is read as its follow-up (bot/followup.py)."""
        return followup.in_context(self.knowledge.matcher, self.knowledge.faq, decision, turn.text, turn.now,
                                   state.last_topic, state.last_topic_at, self.config.thresholds.clarify)

    def _clarify(self, state: ConversationState, turn: Turn, entries: list[Entry]) -> Result:
        lines = [say("conversation.clarify_intro")]
        lines += [say("conversation.clarify_option", number=n, title=e.title_in(language()))
                  for n, e in enumerate(entries, 1)]
        lines += [say("conversation.clarify_option", number=len(entries) + 1, title=say("conversation.clarify_other")),
                  say("conversation.clarify_hint")]
        pending = Pending(kind="clarify", since=turn.now, options=tuple(e.id for e in entries),
                          reason=say("conversation.reason_unanswered", question=turn.text))
        return replace(state, pending=pending, misses=0), [turn.reply("\n".join(lines))]

    def _no_match(self, state: ConversationState, turn: Turn) -> Result:
        """Say so plainly; the second miss in a row puts the mediator first."""
        misses = state.misses + 1
        pending = Pending(kind="offer", since=turn.now,
                          reason=say("conversation.reason_unanswered", question=turn.text))
        text = say("conversation.no_match" if misses < 2 else "conversation.no_match_again")
        return replace(state, pending=pending, misses=misses), [turn.reply(text)]

    def entry(self, state: ConversationState, turn: Turn, entry: Entry) -> Result:
        """Do what the FAQ entry says: answer, start its flow, chat, or hand over to a mediator."""
        if entry.kind == "flow":
            return start_flow(self, state, turn, entry)
        if entry.kind == "escalate":
            if entry.id == HUMAN_TOPIC:
                return self._to_human(state, turn, *self._ticket_context(state))
            reply = turn.reply(entry.answer_in(language()) or say("conversation.ticket_opened"))
            ticket = self.ticket(state, turn, reason=entry.title, topic=entry.id, fields={})
            return replace(state, pending=None, misses=0), [reply, ticket]
        if entry.kind == "smalltalk":
            said = [] if entry.id == GREETING_TOPIC and turn.welcomed else [turn.reply(entry.answer_in(language()))]
            return replace(state, pending=None, misses=0), said
        return self.answered(state, turn, entry.id, entry.answer_in(language()))

    def answered(self, state: ConversationState, turn: Turn, topic: str, text: str) -> Result:
        """Give an answer and ask whether it helped: the feedback tells the FAQ authors what to fix."""
        entry = self.knowledge.faq.get(topic)
        title = entry.title if entry else topic
        pending = Pending(kind="feedback", since=turn.now, topic=topic,
                          reason=say("conversation.reason_not_helpful", title=title))
        reply = turn.reply(f"{text}\n\n{say('conversation.feedback_question')}")
        return replace(state, pending=pending, misses=0, last_topic=topic, last_topic_at=turn.now), [reply]
