"""What an admin's Prometheus reads about the running bot (`/metrics`, bot/matrix/health.py).

Two kinds of figures:
- events, counted where they happen by one-line hooks (module-level objects below, in the bot's
  own registry so a test process with several bots never registers a name twice):
      helpdesk_messages_received_total{room}   messages handed to a turn (room: agent | mediators)
      helpdesk_messages_answered_total         incoming messages whose first answer was sent
      helpdesk_decisions_total{kind}           actions the core decided, by type, once sent
      helpdesk_turn_seconds                    one turn: read, decide, write (histogram)
      helpdesk_encoder_seconds                 one encoder call (histogram; `observe_encoder`)
      helpdesk_send_retries_total              Matrix calls tried again (network error, 429)
- states, read when Prometheus asks (`Snapshot`, filled by the health server from the store
  and the sync loop), so they are never stale and cost nothing between scrapes:
      helpdesk_outbox_depth, helpdesk_events_failed_total, helpdesk_undecryptable_waiting,
      helpdesk_tickets_open{status}, helpdesk_oldest_untaken_ticket_age_seconds,
      helpdesk_homeserver_reachable, helpdesk_last_sync_age_seconds
prometheus-client does the text format and the histograms' buckets; nothing here does I/O.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, ProcessCollector,
                               disable_created_metrics, generate_latest)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # a `_created` timestamp beside every counter doubles the page for nothing a rate needs
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # memory, CPU, open files: the first things asked of a slow bot

# A turn takes milliseconds; a slow disk or a big ledger shows in the upper buckets.
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

MESSAGES_RECEIVED = Counter("helpdesk_messages_received", "Messages handed to a turn", ["room"], registry=REGISTRY)
MESSAGES_ANSWERED = Counter("helpdesk_messages_answered", "Incoming messages whose answer was sent",
                            registry=REGISTRY)
DECISIONS = Counter("helpdesk_decisions", "Actions the core decided, by type, once carried out", ["kind"],
                    registry=REGISTRY)
TURN_SECONDS = Histogram("helpdesk_turn_seconds", "One turn: read, decide, write", buckets=TURN_BUCKETS,
                         registry=REGISTRY)
ENCODER_SECONDS = Histogram("helpdesk_encoder_seconds", "One call of the sentence encoder", buckets=TURN_BUCKETS,
                            registry=REGISTRY)
SEND_RETRIES = Counter("helpdesk_send_retries", "Matrix calls tried again after a network error or a 429",
                       registry=REGISTRY)


@contextmanager
def timed_turn(room: str) -> Iterator[None]:
    """Count a received message and time its turn (the sync loop wraps each turn in it)."""
    MESSAGES_RECEIVED.labels(room=room).inc()
    start = time.perf_counter()
    try:
        yield
    finally:
        TURN_SECONDS.observe(time.perf_counter() - start)


def observe_encoder(seconds: float) -> None:
    """For the encoder (bot/answering/): how long one call took."""
    ENCODER_SECONDS.observe(seconds)


def sent(kind: str, answered_event: str | None, seen: set[str]) -> None:
    """One outbox item carried out. `seen` holds the events already counted as answered in this
    drain, so an incoming message with several actions counts once."""
    DECISIONS.labels(kind=kind).inc()
    if answered_event is not None and answered_event not in seen:
        seen.add(answered_event)
        MESSAGES_ANSWERED.inc()


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """The bot's state at one scrape; None where it is not known (yet)."""

    outbox_depth: int
    tickets_open: int
    tickets_taken: int
    oldest_untaken_age: float | None  # seconds
    failed_events: int
    undecryptable_waiting: int
    homeserver_reachable: bool | None
    last_sync_age: float | None  # seconds


class _Scrape:
    """The registry's figures plus one snapshot's, for `generate_latest` (it only calls collect)."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot

    def collect(self):
        yield from REGISTRY.collect()
        s = self.snapshot
        yield GaugeMetricFamily("helpdesk_outbox_depth", "Outbox items waiting to be sent", value=s.outbox_depth)
        yield CounterMetricFamily("helpdesk_events_failed", "Events whose handling raised an error",
                                  value=s.failed_events)
        yield GaugeMetricFamily("helpdesk_undecryptable_waiting", "Messages waiting for their decryption key",
                                value=s.undecryptable_waiting)
        tickets = GaugeMetricFamily("helpdesk_tickets_open", "Tickets not closed, by status", labels=["status"])
        tickets.add_metric(["open"], s.tickets_open)
        tickets.add_metric(["taken"], s.tickets_taken)
        yield tickets
        yield GaugeMetricFamily("helpdesk_oldest_untaken_ticket_age_seconds",
                                "How long the oldest ticket nobody took has waited (0: none)",
                                value=s.oldest_untaken_age or 0.0)
        if s.homeserver_reachable is not None:
            yield GaugeMetricFamily("helpdesk_homeserver_reachable", "1 when the last sync reached the homeserver",
                                    value=float(s.homeserver_reachable))
        if s.last_sync_age is not None:
            yield GaugeMetricFamily("helpdesk_last_sync_age_seconds", "Seconds since the last successful sync",
                                    value=s.last_sync_age)


def render(snapshot: Snapshot) -> bytes:
    """The Prometheus text format of every figure."""
    return generate_latest(_Scrape(snapshot))  # type: ignore[arg-type]
