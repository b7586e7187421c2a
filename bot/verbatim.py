"""Agents' words inside the bot's own markdown messages: marked where composed, escaped where rendered.

The desk composes a relay or a card as the bot's markdown (`#12 · **{name}** : {text}`) with an
agent's words in it. Those words must reach the mediators as typed, never as markup (a live link, an
inline image, a fake quote, a forged card line). So where they are put in they are wrapped once with
`verbatim()` (two private-use characters around them), and the Matrix sender renders the message:
markdown for the bot's own parts, HTML-escaped text for the verbatim parts (`to_html`), and the plain
body with the markers removed (`plain`). Both renderings also
- start every line of agent text after its first with "│ ", so no line of it can pass for one of
  the bot's own (`#99 · Directeur ...`);
- defuse `@room` with a word joiner, so it pings nobody, even on clients that only read the body.
Any other reader of action texts (console, demo, tests) shows `plain(text)`.
"""
from __future__ import annotations

import html
import re
from typing import Callable

OPEN, CLOSE = "\ue000", "\ue001"
_TOKEN_OPEN, _TOKEN_CLOSE = "\ue002", "\ue003"
_MARKERS = re.compile("[\ue000-\ue003]")
_PART = re.compile(f"{OPEN}([^{OPEN}{CLOSE}]*){CLOSE}")
_TOKEN = re.compile(f"{_TOKEN_OPEN}(\\d+){_TOKEN_CLOSE}")
_ROOM_PING = re.compile("@(room)", re.IGNORECASE)
CONTINUED = "│ "


def verbatim(text: str) -> str:
    """`text` marked as someone's words: shown as typed, never read as markdown or HTML."""
    return OPEN + _MARKERS.sub("", text) + CLOSE


def _shown(words: str) -> str:
    """Someone's words as they are displayed: @room defused, their later lines set apart."""
    words = _ROOM_PING.sub("@\u2060\\1", words)
    return words.replace("\n", "\n" + CONTINUED)


def plain(text: str) -> str:
    """The plain body: markers gone, the bot's markdown as is, the words as typed."""
    return _MARKERS.sub("", _PART.sub(lambda m: _shown(m[1]), text))


def to_html(text: str, render: Callable[[str], str]) -> str:
    """`render` (markdown to HTML) applied to the bot's parts only; the words come out escaped."""
    words: list[str] = []

    def hold(match: re.Match) -> str:
        words.append(match[1])
        return f"{_TOKEN_OPEN}{len(words) - 1}{_TOKEN_CLOSE}"

    rendered = render(_PART.sub(hold, _MARKERS.sub(lambda m: m[0] if m[0] in (OPEN, CLOSE) else "", text)))
    escaped = [html.escape(_shown(w), quote=False).replace("\n", "<br />\n") for w in words]
    return _MARKERS.sub("", _TOKEN.sub(lambda m: escaped[int(m[1])], rendered))


def cut(text: str, at: int) -> tuple[str, str]:
    """`text` cut in two near `at`, at a line end when one is close before; markers stay paired."""
    newline = text.rfind("\n", at * 3 // 4, at)
    at = newline + 1 if newline > 0 else at
    head, tail = text[:at], text[at:]
    if head.rfind(OPEN) > head.rfind(CLOSE):  # cut inside someone's words: close them, reopen after
        head, tail = head + CLOSE, OPEN + tail
    return head, tail
