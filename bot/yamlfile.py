"""YAML loading that remembers line numbers, so every data error can say `file:line`.

Mappings load as `Mapping` (a dict with `.line` and `.key_lines`), sequences as `Sequence`
(a list with `.line` and `.item_lines`). Scalars stay plain Python values.
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


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds Mapping/Sequence with line numbers."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    result = Mapping()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
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


def load_text(text: str, name: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text; a syntax error becomes a Problem at its line instead of an exception."""
    try:
        return yaml.load(text, Loader=_Loader), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or str(exc)
        return None, [Problem(file=name, line=line, message=f"YAML invalide : {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file=name, line=1, message=f"YAML invalide : {exc}")]


def load_file(path: Path) -> tuple[Any, list[Problem]]:
    """Read and parse one YAML file; unreadable or non-UTF-8 files are Problems too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file=str(path), line=1, message=f"fichier illisible : {exc}")]
    return load_text(text, str(path))
