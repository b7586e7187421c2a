"""Text made safe once, at the edge, before anything else sees it.

Whatever arrives from outside (a Matrix event body, a display name, a console line) can hold
code points that are valid in a Python string but break something further on: a lone surrogate
(half an emoji, legal in JSON) cannot be encoded to UTF-8, so SQLite refuses it; NUL cuts C
strings; other control characters move a terminal's cursor or hide text in a log; U+FFFE and the
other non-characters are not meant to be exchanged at all. `safe_text` removes the controls
(keeping new lines and tabs; a carriage return becomes a new line) and replaces lone surrogates
and non-characters with U+FFFD (the "?" in a diamond), so a reader sees that something was
there. Everything else stays as typed: emoji, accents, zero-width joiners, right-to-left text.
"""
from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"

_CONTROLS = [c for c in range(0x20) if chr(c) not in "\n\t"] + [0x7F] + list(range(0x80, 0xA0))
_NONCHARACTERS = [*range(0xFDD0, 0xFDF0), *(plane + end for plane in range(0, 0x110000, 0x10000)
                                          for end in (0xFFFE, 0xFFFF))]
_TABLE: dict[int, str | None] = {**{c: None for c in _CONTROLS}, **{c: REPLACEMENT for c in _NONCHARACTERS}}
_TABLE[ord("\r")] = "\n"


def safe_text(text: str) -> str:
    """`text` without lone surrogates, controls (but \\n and \\t) and non-characters."""
    if not isinstance(text, str):
        text = str(text)
    text = text.replace("\r\n", "\n")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # surrogates: join the pairs, mark the lone halves
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.translate(_TABLE)


def safe_value(value: Any) -> Any:
    """`safe_text` applied to every string inside a JSON-like value (dict keys included)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_value(k): safe_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(safe_value(v) for v in value)
    return value
