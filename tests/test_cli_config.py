"""A config that cannot start the wrong thing: -c names THE file (missing or unreadable: exit 2),
`run` without -c reads ./config.yaml or starts the demo (never config.example.yaml), `run --check`
checks every path the config names, and the example's placeholders are refused with a homeserver."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from bot import cli
from bot.config import config_from_dict, load_config, path_problems
from bot.errors import ConfigError

ROOT = Path(__file__).parent.parent
CLI = ROOT / ".venv" / "bin" / "helpdesk-bot"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def real_config(tmp_path: Path, **changes) -> Path:
    """The example with a homeserver and a login, the repository's files, data in tmp_path."""
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))
    data.update({"homeserver": "http://127.0.0.1:1", "user_id": "@bot:localhost", "password": "pw-long-enough",
                 "data_dir": str(tmp_path / "data"), "faq_dir": str(ROOT / "faq"), "flows_dir": str(ROOT / "flows"),
                 "canned_replies": str(ROOT / "reponses.yaml"), **changes})
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_missing_config_file_exits_2_with_a_french_message_instead_of_the_demo(tmp_path):
    done = run("run", "-c", "/nonexistent.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "Erreur : /nonexistent.yaml : fichier de configuration introuvable"
    assert "démo" not in done.stderr + done.stdout
    assert run("run", "--check", "-c", str(tmp_path), cwd=tmp_path).returncode == 2  # a folder
    assert run("console", "-c", "/nonexistent.yaml", cwd=tmp_path).returncode == 2
    assert run("faq", "check", "-c", "/nonexistent.yaml", cwd=ROOT).returncode == 2


def test_an_unreadable_config_file_exits_2(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text("homeserver: http://x\n")
    real_open = Path.open

    def refuse(self, *args, **kwargs):  # root reads any file: make this one unreadable for real
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)
    monkeypatch.setattr(Path, "open", refuse)
    assert cli.main(["run", "-c", str(path)]) == 2


def test_run_without_c_starts_the_demo_when_there_is_no_config_yaml_even_beside_the_example(tmp_path, monkeypatch):
    (tmp_path / "config.example.yaml").write_text("homeserver: https://matrix.example.org\n")
    started = []
    monkeypatch.setattr(cli, "_demo", lambda args: started.append(args.config) or 0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run"]) == 0
    assert started == [None]  # the demo, with no config file: the example is never `run`'s config
    assert cli.main(["run", "--check"]) == 2


def test_run_without_c_reads_config_yaml_and_an_explicit_config_needs_a_homeserver(tmp_path, monkeypatch, capsys):
    (tmp_path / "config.yaml").write_text("variables: {a: b}\n")
    started = []
    monkeypatch.setattr(cli, "_demo", lambda args: started.append(args.config) or 0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run"]) == 0 and started == [Path("config.yaml")]  # no homeserver in it: the demo
    assert cli.main(["run", "-c", "config.yaml"]) == 1  # named with -c: it must be the real thing
    assert "« homeserver » manquant" in capsys.readouterr().err
    assert started == [Path("config.yaml")]


def test_run_check_names_every_missing_path_and_a_missing_canned_replies_file_is_an_error(tmp_path):
    assert run("run", "--check", "-c", str(real_config(tmp_path)), cwd=tmp_path).returncode == 0
    broken = real_config(tmp_path, canned_replies="nope.yaml", flows_dir="missing-flows")
    done = run("run", "--check", "-c", str(broken), cwd=tmp_path)
    assert done.returncode == 1
    assert "« canned_replies » : fichier introuvable" in done.stderr
    assert "« flows_dir » : dossier introuvable" in done.stderr
    assert path_problems(load_config(real_config(tmp_path, faq_dir="nowhere")))[0].startswith("« faq_dir »")


def test_the_example_runs_nothing_by_itself_and_its_ids_are_refused_with_a_homeserver():
    example = load_config(ROOT / "config.example.yaml")
    assert not example.has_homeserver and example.mediators_room is None and example.mediators == ()
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    assert "demo in the terminal" not in " ".join(text.split()).replace("# ", "")  # the old, wrong description
    assert "throwaway Synapse" in text and "is never read by\n# `run`" in text
    login = {"homeserver": "https://matrix.ville.fr", "user_id": "@bot:ville.fr", "password": "pw-long-enough"}
    for key, value in (("mediators", ["@claire.martin-ville.example.fr:agent.collectivites.tchap.gouv.fr"]),
                       ("allowed_domains", ["ville.example.fr"]),
                       ("user_id", "@assistance-ville.example.fr:agent.collectivites.tchap.gouv.fr")):
        with pytest.raises(ConfigError, match=f"« {key} » contient encore la valeur d'exemple"):
            config_from_dict({**login, key: value}, base=ROOT)
    assert config_from_dict(login, base=ROOT).homeserver == "https://matrix.ville.fr"


@pytest.mark.parametrize("data, message", [
    ({"metrics": {"port": 70000}}, "metrics.port"),
    ({"metrics": {"port": "9464"}}, "metrics.port"),
    ({"metrics": {"colour": 1}}, "metrics.colour"),
    ({"log_format": "xml"}, "log_format"),
    ({"log_level": "LOUD"}, "log_level"),
])
def test_bad_metrics_and_log_keys_are_named(data, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(data, base=ROOT)


def test_metrics_keys():
    config = config_from_dict({"metrics": {"port": 9464, "host": "0.0.0.0"}, "log_level": "debug"}, base=ROOT)
    assert (config.metrics.port, config.metrics.host, config.log_level) == (9464, "0.0.0.0", "DEBUG")
