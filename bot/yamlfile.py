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

import re
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
        line, message = explain(exc, text.splitlines())
        return None, [Problem(file=name, line=line, message=message)]
    except yaml.YAMLError as exc:
        return None, [Problem(file=name, line=1, message=f"fichier illisible : {exc}")]


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
# --- the parser's English, said in French to someone who edits a text file, with the fix

GENERIC = ("mise en forme illisible à partir d'ici : vérifiez le décalage (espaces), les « - » et les « : » "
           "de cette ligne et de la précédente")


def explain(exc: yaml.MarkedYAMLError, lines: list[str]) -> tuple[int, str]:
    """(line, French sentence); a case this module did not foresee still gets the plain general advice."""
    try:
        return _explain(exc, lines)
    except (IndexError, ValueError, AttributeError):
        mark = exc.problem_mark or exc.context_mark
        return (mark.line + 1 if mark else 1), GENERIC


def _explain(exc: yaml.MarkedYAMLError, lines: list[str]) -> tuple[int, str]:
    """(line, French sentence) for a syntax error: what is wrong on that line and how to mend it.

    The parser reports where it gave up, which is often one line after the mistake; each case
    below points at the line to edit instead, as an author would look for it.
    """
    problem = exc.problem or ""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    context_line = exc.context_mark.line + 1 if exc.context_mark else line
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in problem or "\t" in text:
        return line, ("tabulation dans le décalage : remplacez-la par des espaces "
                      "(2 espaces par niveau, comme les lignes voisines)")
    if "clé en double" in problem:
        return line, f"{problem} : gardez une seule fois cette clé dans l'entrée"
    if "mapping values are not allowed" in problem:
        return _colon(line, text, mark.column if mark else 0, lines)
    if "could not find expected ':'" in problem:
        return context_line, ("ligne sans « - » ni « : » : dans une liste, chaque élément commence par « - » "
                              f"(par exemple « - {_line(lines, context_line).strip()} »), "
                              "ailleurs écrivez « clé: valeur »")
    if "while scanning a quoted scalar" in (exc.context or ""):
        return context_line, ("guillemet ouvert et jamais refermé : ajoutez le guillemet fermant à la fin du "
                              "texte, ou retirez celui du début")
    if "cannot start any token" in problem or "undefined alias" in problem:
        char = _value(text)[:1] if "alias" in problem else problem.split("'")[1]
        return line, (f"un texte ne peut pas commencer par « {char} » : mettez tout le texte entre guillemets, "
                      f"par exemple « {_quoted(text)} »")
    if "flow sequence" in (exc.context or "") or "flow mapping" in (exc.context or ""):
        bracket = "[" if "sequence" in (exc.context or "") else "{"
        return context_line, (f"« {bracket} » ouvert et jamais refermé : si « {bracket} » fait partie du texte, "
                              f"mettez tout le texte entre guillemets, par exemple « {_quoted(_line(lines, context_line))} »")
    if "<block sequence start>" in problem:
        return line, _misaligned(line, lines, dash=True)
    if "<block mapping start>" in problem:
        return line, _misaligned(line, lines, dash=False)
    if "found '?'" in problem:
        return line, ("il manque un « - » : cette ligne est au niveau des « - » de la liste ; commencez-la par "
                      "« - » pour un nouvel élément, ou décalez-la comme les clés de l'élément au-dessus")
    if "found '<scalar>'" in problem and _value(text)[:1] in ("{", "[", '"', "'"):
        return line, (f"un texte qui commence par « {_value(text)[:1]} » doit être entièrement entre guillemets : "
                      f"écrivez « {_quoted(text)} »")
    if "end of stream" in problem:
        return context_line, "le fichier s'arrête au milieu d'un texte ou d'une liste : vérifiez la fin du fichier"
    return line, GENERIC


def _colon(line: int, text: str, column: int, lines: list[str]) -> tuple[int, str]:
    """A second « : » on a line is a text that needs quotes; a lone key pushed right is indentation."""
    before = text[:column]
    if ": " in before.lstrip().removeprefix("- "):
        return line, ("« : » au milieu d'un texte : mettez le texte entre guillemets, "
                      f"par exemple « {_quoted(text)} »")
    return line, _misaligned(line, lines, dash=False)


def _misaligned(line: int, lines: list[str], *, dash: bool) -> str:
    """Point at the nearest line above of the same kind (a « - » item, or a key), with its indentation."""
    here = _line(lines, line)
    for number in range(line - 1, 0, -1):
        above = _line(lines, number)
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        if above.lstrip().startswith("- ") == dash and len(_indent(above)) != len(_indent(here)):
            what = "le « - »" if dash else "la clé"
            return (f"décalage incorrect : {what} de cette ligne a {len(_indent(here))} espace(s) devant ; "
                    f"alignez-la sur la ligne {number} ({len(_indent(above))} espaces)")
    return "décalage incorrect : alignez cette ligne sur les lignes du même niveau (même nombre d'espaces)"


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _indent(text: str) -> str:
    return text[:len(text) - len(text.lstrip(" "))]


def _value(text: str) -> str:
    """The text of `key: text` or `- text`, as the author typed it."""
    item = text.strip().removeprefix("- ")
    key, colon, rest = item.partition(":")
    return rest.strip() if colon and re.fullmatch(r"[A-Za-z_]+", key) else item


def _quoted(text: str) -> str:
    """The line as it should be written: its text in double quotes (single if it holds double ones)."""
    value = _value(text)
    head = text.strip()[:len(text.strip()) - len(value)].rstrip()
    quote = "'" if '"' in value else '"'
    return f"{head} {quote}{value}{quote}".strip()
