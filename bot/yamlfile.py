"""YAML loading that remembers line numbers, so every data error can say `file:line`.

Mappings load as `Mapping` (a dict with `.line` and `.key_lines`), sequences as `Sequence`
(a list with `.line` and `.item_lines`). Scalars stay plain Python values.

What an author could write but no data file of the bot needs is refused with its own `file:line`
problem, so that a mistake (or a hostile file) never reaches a traceback or hangs the start:
a file over `MAX_BYTES`, nesting deeper than `MAX_DEPTH` (the composer recurses), anchors and
aliases (`&a` / `*a`: an alias bomb expands to billions of nodes), keys that are not text
(`? [a, b]`, `1:`, `no:` read as false, an empty key), and values Python cannot hold (an
integer of 5,000 digits).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import Problem


class Mapping(dict):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class Sequence(list):
    """A YAML sequence that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


MAX_BYTES = 1_000_000  # per file: the whole FAQ is about 60 KB
MAX_DEPTH = 40         # lists and mappings inside each other: the flows use 5


class Refused(Exception):
    """Something the loader refuses to build, at a mark of the file (becomes a Problem)."""

    def __init__(self, mark: yaml.Mark | None, message: str):
        super().__init__(message)
        self.line = mark.line + 1 if mark else 1
        self.message = message


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds Mapping/Sequence with line numbers, and refuses what is listed above."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise Refused(event.start_mark, f"alias « *{event.anchor} » refusé : recopiez le texte au lieu de "
                                            "le renvoyer à une ancre (& et * ne sont pas permis)")
        if getattr(event, "anchor", None):
            raise Refused(event.start_mark, f"ancre « &{event.anchor} » refusée : enlevez-la "
                                            "(& et * ne sont pas permis)")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise Refused(event.start_mark, f"trop d'imbrications (plus de {MAX_DEPTH} niveaux) : "
                                                "vérifiez l'indentation et les crochets")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:  # e.g. an integer of 5,000 digits
            raise Refused(node.start_mark, "valeur illisible (nombre trop long ?) : mettez-la entre guillemets") from exc


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    result = Mapping()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or not key.strip():
            raise Refused(key_node.start_mark, _bad_key(key_node, key))
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"clé en double « {key} »", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> Sequence:
    result = Sequence(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _bad_key(node: yaml.Node, key: Any) -> str:
    if not isinstance(node, yaml.ScalarNode):
        return "clé invalide : une liste ou un groupe de clés ne peut pas servir de clé (« ? » ou « [ ] » avant « : »)"
    if key is None or not str(key).strip():
        return "clé vide : écrivez un nom avant « : »"
    return (f"clé « {node.value} » lue comme {type(key).__name__} et non comme du texte : "
            f"mettez-la entre guillemets (\"{node.value}\":)")


def load_text(text: str, name: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text; a syntax error becomes a Problem at its line instead of an exception."""
    if len(text) > MAX_BYTES:
        return None, [_too_big(name, len(text.encode("utf-8", "surrogatepass")))]
    try:
        return yaml.load(text, Loader=_Loader), []
    except Refused as exc:
        return None, [Problem(file=name, line=exc.line, message=exc.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or str(exc)
        return None, [Problem(file=name, line=line, message=f"YAML invalide : {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file=name, line=1, message=f"YAML invalide : {exc}")]


def load_file(path: Path) -> tuple[Any, list[Problem]]:
    """Read and parse one YAML file; unreadable, non-UTF-8 or too big files are Problems too."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [_too_big(str(path), size)]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file=str(path), line=1, message=f"fichier illisible : {exc}")]
    return load_text(text, str(path))


def _too_big(name: str, size: int) -> Problem:
    megabytes = f"{size / 1e6:.1f}".replace(".", ",")
    return Problem(file=name, line=1, message=f"fichier trop gros ({megabytes} Mo, au plus {MAX_BYTES // 1_000_000} Mo) : "
                                              "découpez-le en plusieurs fichiers")
