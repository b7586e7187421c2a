"""kill -9 of the bot's process during a burst from three encrypted agents: every message answered once,
counted from the agents' side (the machinery is benchmarks/faults.py's, the bot in its own process)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("faults", Path(__file__).parents[2] / "benchmarks" / "faults.py")
faults = sys.modules.setdefault("faults", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(faults)


async def test_three_kill_9_during_a_burst_from_three_agents_lose_nothing_and_repeat_nothing(homeserver, tmp_path):
    server = homeserver.server
    account = server.register("faultsbot", "pw-faultsbot")
    bot = faults.BotProcess({"url": server.url, "data_dir": str(tmp_path / "bot"), "user": account["user_id"],
                             "password": "pw-faultsbot", "sync_ms": 1000})
    await bot.start()
    agents, listeners = [], []
    try:
        agents, listeners = await faults.open_agents(server, account["user_id"], tmp_path / "agents", 3)
        restarts = await faults.kills(bot, agents, 3, between=(0.8, 1.5))
        await faults.wait_all_answered(agents, 90)  # a bound, not a target: under load a restart can take longer
        sent, lost, duplicated = faults.tally(agents)
        assert sent > 20 and (lost, duplicated) == (0, 0)
        assert max(restarts) < 30  # answering again after each restart (the figures: benchmarks/faults.py)
    finally:
        await faults.close(bot, agents, listeners)
