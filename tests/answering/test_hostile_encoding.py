"""Hostile text through the encoder path exactly as the bot uses it: the Helpdesk hook encodes
(off the event loop), the engine decides with the vector. Nothing crashes, every vector is a unit
vector, and a message costs no more than its capped length allows."""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.answering.encoder import BundledEncoder, EncoderService
from bot.config import load_config
from bot.conversation.engine import Engine
from bot.conversation.knowledge import load_knowledge
from bot.messages import Incoming

ROOT = Path(__file__).parents[2]
HOSTILE = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec=None, categories=("Cc", "Cf", "Cs", "Zs", "So", "Mn")), max_size=400),
    st.builds(lambda s, n: s * n, st.sampled_from(["😀", "\u200b", "\x00", "\ud800", "中文", "ab ", "é\u0301"]),
              st.integers(0, 20_000)),
)


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    encoder = BundledEncoder(threads=1)
    config = replace(load_config(ROOT / "config.example.yaml"), data_dir=tmp_path_factory.mktemp("vectors"))
    knowledge, _ = load_knowledge(config, encoder=encoder)
    return Engine(config, knowledge), EncoderService(encoder)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=HOSTILE)
def test_hostile_text_never_breaks_the_encoder_path(bot, text):
    engine, service = bot
    incoming = Incoming(sender="@a:x", room="!r:x", text=text, event_id="$e", time=datetime.now(timezone.utc))
    started = time.perf_counter()
    understood = asyncio.run(service.understand(incoming, engine))
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0  # 192 tokens at most: ~0.3 s here; generous for a shared CI machine
    if understood.vector is not None:
        assert understood.vector.shape == (384,) and abs(float(np.linalg.norm(understood.vector)) - 1) < 1e-3
    state, actions = engine.handle(None, understood)
    assert actions and isinstance(state, dict)
