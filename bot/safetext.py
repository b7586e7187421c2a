"""Text made safe once, at the edge: what an agent typed, minus what no store or client can carry.

Lone surrogates (half an emoji, valid in a JSON body but not encodable in UTF-8) become U+FFFD;
NUL and the other C0/C1 controls are removed, except newline and tab.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile("[\ud800-\udfff]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """`text` with lone surrogates replaced and control characters (but \\n and \\t) removed."""
    return _UNSAFE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)
