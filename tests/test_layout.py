"""The layout of bot/ (README, "How it is built"): dependencies point one way, and no circles.

    drivers (cli, console, demo) ─► matrix ─► helpdesk (one turn) ─► storage ─► desk ─► conversation
        ─► answering ─► shared (config, messages, texts, errors, yamlfile)

A module may import its own layer and any layer to its right, never one to its left; and no module
may reach itself again through its imports. Every import counts: type-only ones under TYPE_CHECKING
and those inside a function as much as the others, since a circle of types is still two modules that
cannot be read apart. Imports are read from the source with `ast`, nothing is imported.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAYERS: list[tuple[str, tuple[str, ...]]] = [  # highest first
    ("drivers", ("bot.cli", "bot.console", "bot.demo")),
    ("matrix", ("bot.matrix",)),
    ("reporting", ("bot.reporting",)),
    ("helpdesk", ("bot.helpdesk",)),
    ("storage", ("bot.storage",)),
    ("desk", ("bot.desk",)),
    ("conversation", ("bot.conversation",)),
    ("answering", ("bot.answering",)),
    ("shared", ("bot.config", "bot.messages", "bot.texts", "bot.errors", "bot.yamlfile", "bot.safetext", "bot.verbatim", "bot.metrics", "bot.logs")),
]


def modules(root: Path, package: str = "bot") -> dict[str, Path]:
    """Every module under root/package by dotted name; a package's __init__.py under the package's name."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(root: Path, package: str = "bot") -> dict[str, set[str]]:
    """module -> the modules of `package` it imports (`from .x import name` counts as importing x)."""
    found = modules(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in found.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = here.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:  # `from . import texts` imports the module bot.texts
                    targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in found else base)
        graph[name] = {t for t in targets if t in found and t != name}
    return graph


def layer(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def upward(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a layer to the left of its own, as a sentence."""
    wrong = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = layer(module), layer(target)
            if here is not None and there is not None and there < here:
                wrong.append(f"{module} imports {target}: {LAYERS[here][0]} may not import {LAYERS[there][0]}")
    return wrong


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per group of modules that import each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer():
    graph = import_graph(ROOT)
    assert [m for m in graph if m != "bot" and layer(m) is None] == [], "place the new module in LAYERS"


def test_dependencies_point_one_way():
    assert upward(import_graph(ROOT)) == []


def test_no_import_cycle():
    assert cycles(import_graph(ROOT)) == []


def test_type_only_relative_and_late_imports_are_seen(tmp_path: Path):
    """The checks themselves: a fake bot/ with an upward import and a circle hidden under TYPE_CHECKING."""
    files = {
        "bot/__init__.py": "",
        "bot/config.py": "",
        "bot/desk/__init__.py": "",
        "bot/desk/desk.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .room import Turn\n",
        "bot/desk/room.py": "from . import desk\nfrom ..config import x\n"
                            "def late():\n    from ..storage.store import Store\n",
        "bot/storage/__init__.py": "",
        "bot/storage/store.py": "import bot.config\nfrom bot.desk.room import Turn\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = import_graph(tmp_path)
    assert graph["bot.desk.room"] == {"bot.desk.desk", "bot.config", "bot.storage.store"}
    assert graph["bot.storage.store"] == {"bot.config", "bot.desk.room"}
    assert upward(graph) == ["bot.desk.room imports bot.storage.store: desk may not import storage"]
    assert cycles(graph) == [["bot.desk.desk", "bot.desk.room", "bot.storage.store"]]
