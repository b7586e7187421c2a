"""Guided flows: short question-and-answer paths that flow authors write in French, in flows/*.yaml.

A flow is a list of steps (the whole language, with an example, is in flows/README.md). A step may
say something (`dire`), ask a question (`question`, read according to its `type` and stored in a
field), end with an answer (`reponse`) or end with a ticket for the mediators (`ticket`, carrying the
collected fields). After a step the flow goes to the chosen option's `suite`, else to the target of
the first true condition of `si`, else to `suite`, else to the next step of the list.

The package, in the order a flow goes through it:
- model.py: the typed objects (Flow, Step, FlowState, FlowTurn, Outcome, TicketRequest...).
- loading.py: flows/*.yaml parsed into flows; checks.py: the graph checked at load, each mistake a
  Problem with file, line, flow, step and fix. A flow with a problem is not loaded at all.
- runner.py: the pure runner; `start` and `advance` take the time and return a FlowTurn.
- answers.py: what the agent typed read into one canonical value ("2025-03-14", "07:30").

May import bot/conversation/dates.py, bot/answering/ and the shared modules; not the engine, which runs it.
"""
from .loading import load_flows, load_flows_text
from .model import Flow, FlowState, FlowTurn, Outcome
from .runner import advance, expired, start

__all__ = ["Flow", "FlowState", "FlowTurn", "Outcome", "advance", "expired", "load_flows", "load_flows_text",
           "start"]
