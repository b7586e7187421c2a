"""Canned replies: the ready-made answers mediators send with `!rc 12 name` (file `canned_replies`).

A flat YAML mapping, name -> French text, filled once at start with the config's variables like
the FAQ. A missing file means no canned replies (the bot still runs); a broken one, or a text
quoting an unknown variable, stops the start with `file:line`, like every data file.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import DataError, Problem
from ..answering.faq import fill, unknown_variables
from ..yamlfile import Mapping, load_file

NAME = re.compile(r"[a-z0-9_-]+")


def load_canned(path: Path, variables: dict[str, str]) -> dict[str, str]:
    """name -> text, in file order; {} when the file does not exist."""
    if not path.exists():
        return {}
    data, problems = load_file(path)
    if problems:
        raise DataError(problems)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise DataError([Problem(file=str(path), line=1, message="le fichier doit contenir des paires nom: texte")])
    replies, problems = {}, []
    for name, text in data.items():
        line = data.line_of(name)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.append(Problem(file=str(path), line=line,
                                    message=f"nom « {name} » : minuscules sans accents, chiffres, - et _"))
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem(file=str(path), line=line, message=f"« {name} » : texte vide"))
        elif unknown := unknown_variables(text, variables):
            message = f"« {name} » : variable inconnue {{{unknown[0]}}} (à définir dans variables:)"
            problems.append(Problem(file=str(path), line=line, message=message))
        else:
            replies[name] = fill(text.strip(), variables)
    if problems:
        raise DataError(problems)
    return replies
