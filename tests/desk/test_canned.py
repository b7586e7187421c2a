"""Canned replies: the project's reponses.yaml against the example config, and loud failures."""
from pathlib import Path

import pytest

from bot.desk.canned import load_canned
from bot.config import load_config
from bot.errors import DataError

ROOT = Path(__file__).parents[2]


def test_the_example_replies_load_with_the_example_variables():
    config = load_config(ROOT / "config.example.yaml")
    replies = load_canned(config.canned_replies, config.variables)
    assert 3 <= len(replies) <= 6
    assert "{" not in "".join(replies.values())


def test_a_missing_file_is_no_replies(tmp_path):
    assert load_canned(tmp_path / "absent.yaml", {}) == {}


@pytest.mark.parametrize("text, problem", [
    ("badge: Voir {inconnue}", ":1: « badge » : variable inconnue {inconnue}"),
    ("Badge Perdu: texte", ":1: nom « Badge Perdu »"),
    ("badge: ''", ":1: « badge » : texte vide"),
    ("- a\n- b", ":1: le fichier doit contenir"),
])
def test_a_broken_file_stops_the_start_with_file_and_line(tmp_path, text, problem):
    path = tmp_path / "reponses.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as error:
        load_canned(path, {})
    assert problem in str(error.value)
