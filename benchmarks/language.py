"""How often the language detection (bot/language.py) gets the language of a message right.

    python benchmarks/language.py [FILE.yaml ...]

Each message of the labelled sets (../shared/eval/dev.yaml, dev2.yaml, benchmarks/eval/own.yaml by
default) is read on its own, as an agent's first message would be (the conversation starts in
French). The truth is the set's `style`: `english` is English; everything else, `mixed` (franglais)
included, is French, since a French agent who writes "le wifi" or "forget mon password" must get
French. Prints, per file and in total: English messages detected as English, French messages
detected as English (the figure that must stay at 0), and the English messages missed.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.conversation.language import follow  # noqa: E402

DEFAULT_SETS = [ROOT / "../shared/eval/dev.yaml", ROOT / "../shared/eval/dev2.yaml", ROOT / "benchmarks/eval/own.yaml"]


def measure(path: Path) -> tuple[int, int, int, int, list[str], list[str]]:
    """(English total, English detected, French total, French detected as English, misses, false)."""
    questions = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    en_total = en_found = fr_total = fr_wrong = 0
    missed, wrong = [], []
    for item in questions:
        text, english = str(item["q"]), item.get("style") == "english"
        detected = follow("fr", text) == "en"
        if english:
            en_total += 1
            en_found += detected
            if not detected:
                missed.append(text)
        else:
            fr_total += 1
            fr_wrong += detected
            if detected:
                wrong.append(text)
    return en_total, en_found, fr_total, fr_wrong, missed, wrong


def main(paths: list[Path]) -> int:
    totals = [0, 0, 0, 0]
    for path in paths:
        en_total, en_found, fr_total, fr_wrong, missed, wrong = measure(path)
        totals = [a + b for a, b in zip(totals, (en_total, en_found, fr_total, fr_wrong))]
        print(f"{path.name:10} English detected as English {en_found}/{en_total}   "
              f"French detected as English {fr_wrong}/{fr_total}")
        for text in missed:
            print(f"    English missed (kept French): {text}")
        for text in wrong:
            print(f"    FRENCH READ AS ENGLISH: {text}")
    print(f"{'total':10} English detected as English {totals[1]}/{totals[0]}   "
          f"French detected as English {totals[3]}/{totals[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main([Path(p) for p in sys.argv[1:]] or DEFAULT_SETS))
