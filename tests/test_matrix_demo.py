"""`helpdesk-bot demo` end to end: its own Synapse, the real engine, the scripted conversation, a clean stop."""
from __future__ import annotations

import re
from pathlib import Path

from bot.config import load_config
from bot.demo import demo

ROOT = Path(__file__).parent.parent


async def test_the_demo_plays_its_script_and_leaves_nothing_behind(capsys):
    await demo(load_config(ROOT / "config.example.yaml"), keep_running=False)
    out = capsys.readouterr().out
    assert "Mot de passe oublié" in out                      # a FAQ answer
    assert "Vous voulez parler de :" in out                  # a clarification
    assert "Quel jour avez-vous oublié de badger ?" in out   # a flow
    assert re.search(r"médiateurs › #1 · \S+ \(@agente\S+\) · badge", out)  # its ticket's card, in the mediators' room
    folder = Path(re.search(r"dossier (\S+) effacé", out)[1])
    assert not folder.exists()
