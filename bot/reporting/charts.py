"""Plain inline SVG charts for the report: bars drawn by hand, no library.

Why not matplotlib: the report needs three kinds of bars (per day, per week in pairs, a ranked
list); matplotlib would add ~40 MB of dependencies, a font cache and a backend to draw them, and
its SVGs embed glyph paths (hundreds of KB for a page). Hand-written bars are a few hundred bytes
each, take the page's own font, scale with `viewBox` on a phone, and print cleanly.
Every chart has a <title> and each bar its own <title> (the value on hover / for screen readers).
"""
from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 640, 200
MARGIN = 28
COLOURS = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#c53030", "#718096")


def _svg(title: str, width: int, height: int, body: list[str], kind: str) -> str:
    return (f'<svg class="chart" data-kind="{kind}" role="img" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def columns(title: str, labels: list[str], series: list[tuple[str, list[int]]], *, every: int = 1) -> str:
    """Vertical bars, one group per label (a day, a week), one bar per series; a label every `every`."""
    top = max((v for _, values in series for v in values), default=0) or 1
    plot_h = HEIGHT - 2 * MARGIN
    slot = (WIDTH - 2 * MARGIN) / max(len(labels), 1)
    bar = max(slot * 0.8 / len(series), 1.0)
    body = [f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#999"/>',
            f'<text x="{MARGIN}" y="{MARGIN - 8}" font-size="11" fill="#555">max {top}</text>']
    for i, label in enumerate(labels):
        for s, (name, values) in enumerate(series):
            value = values[i]
            h = plot_h * value / top
            x = MARGIN + i * slot + slot * 0.1 + s * bar
            body.append(f'<rect class="bar" x="{x:.1f}" y="{HEIGHT - MARGIN - h:.1f}" width="{bar:.1f}" '
                        f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(label)} · '
                        f"{escape(name)} : {value}</title></rect>")
        if i % every == 0:
            body.append(f'<text x="{MARGIN + i * slot + slot / 2:.1f}" y="{HEIGHT - MARGIN + 14}" font-size="10" '
                        f'text-anchor="middle" fill="#555">{escape(label)}</text>')
    return _svg(title, WIDTH, HEIGHT, body, "columns")


def ranked(title: str, rows: list[tuple[str, int]]) -> str:
    """Horizontal bars, biggest first, each with its label and value."""
    line = 22
    height = max(len(rows), 1) * line + 10
    top = max((v for _, v in rows), default=0) or 1
    label_w = 230
    body = []
    for i, (label, value) in enumerate(rows):
        y = 5 + i * line
        w = (WIDTH - label_w - 60) * value / top
        body += [f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end" fill="#222">'
                 f"{escape(label)}</text>",
                 f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{line - 8}" '
                 f'fill="{COLOURS[0]}"><title>{escape(label)} : {value}</title></rect>',
                 f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#222">{value}</text>']
    return _svg(title, WIDTH, height, body, "ranked")
