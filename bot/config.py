"""The bot's configuration: one YAML file parsed once into a frozen `Config`.

Every default lives in `DEFAULTS` below, and every key is commented in config.example.yaml.
Mistakes fail loudly at start with the key and the reason (ConfigError), before any network call.
Only the FAQ variables (`variables:`) are free-form: they are the employer's facts the FAQ quotes.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .yamlfile import load_file

DEFAULTS: dict[str, Any] = {
    "homeserver": None,
    "user_id": None,
    "password": None,
    "access_token": None,
    "email": None,
    "device_name": "helpdesk-bot",
    "data_dir": "data",
    "mediators_room": None,
    "report_room": None,
    "mediators": [],
    "mediators_from_room": False,
    "allowed_domains": [],
    "allowed_users": [],
    "faq_dir": "faq",
    "flows_dir": "flows",
    "canned_replies": "reponses.yaml",
    "variables": {},
    "matching": {"answer": 60.0, "clarify": 46.0, "margin": 8.0},
    # the semantic matcher (bot/answering/): encoder bundled | remote | off; thresholds per model id
    "semantic": {
        "encoder": "bundled",
        "threads": 1,
        "retry_after_seconds": 30,
        "remote": {"url": None, "model": None, "key_file": None, "key_env": None, "timeout_seconds": 2.0,
                   "prefix": ""},
        "thresholds": {
            "multilingual-e5-small-q4": {"weight": 0.4, "answer": 50.0, "clarify": 25.0, "margin": 15.0,
                                         "elsewhere": 3.0, "agreed_elsewhere": 10.0, "settled": 80.0},
        },
    },
    "conversation": {
        "retention_days": 90,
        "flow_timeout_minutes": 30,
        "welcome_again_after_days": 60,
    },
    "tickets": {
        "reopen_days": 7,
        "autoclose_days": 14,
        "reminder_after_minutes": 30,
        "reminder_every_minutes": 60,
    },
    "log_format": "text",
    "log_level": "INFO",
    "metrics": {"port": None, "host": "127.0.0.1", "stale_after_seconds": 90},
    "working_hours": {
        "days": ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
        "start": "08:30",
        "end": "17:30",
        "public_holidays": True,
    },
}

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
PLACEHOLDER = re.compile(r"CHANGE[-_ ]?ME|<[^>]+>", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Scores (0-100) that turn the matcher's ranking into answer / clarify / none."""

    answer: float
    clarify: float
    margin: float


@dataclass(frozen=True, kw_only=True)
class HybridThresholds:
    """One model's thresholds for combining lexical and semantic evidence (bot/answering/hybrid.py)."""

    weight: float     # share of the lexical score in the combined score (0-1)
    answer: float     # combined score (0-100) from which the best entry is answered...
    clarify: float    # ...below which the bot offers a mediator; in between it asks
    margin: float     # points the best must lead the second by to be answered
    elsewhere: float  # max "elsewhere" probability (%) for an answer resting on the meaning alone
    agreed_elsewhere: float  # the same, when the words and the meaning name the same entry
    settled: float    # lexical score (with matching.margin) from which the encoder is skipped


@dataclass(frozen=True, kw_only=True)
class Semantic:
    """Which encoder, and the thresholds of each model id; `encoder: off` is today's lexical bot."""

    encoder: str  # bundled | remote | off
    threads: int
    retry_after_seconds: float
    remote_url: str | None
    remote_model: str | None
    remote_key_file: str | None
    remote_key_env: str | None
    remote_timeout_seconds: float
    remote_prefix: str
    thresholds: dict[str, HybridThresholds]

    @property
    def model_id(self) -> str | None:
        if self.encoder == "remote":
            return self.remote_model
        return "multilingual-e5-small-q4" if self.encoder == "bundled" else None


@dataclass(frozen=True, kw_only=True)
class WorkingHours:
    """When mediators are there; outside, agents are told when they will get an answer."""

    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time
    public_holidays: bool


@dataclass(frozen=True, kw_only=True)
class Metrics:
    """The /metrics and /healthz server (bot/matrix/health.py); `port` None: not started."""

    port: int | None
    host: str
    stale_after_seconds: float  # /healthz says 503 when no sync succeeded for this long


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True, kw_only=True)
class Config:
    """Everything the bot needs to start; built only by `load_config` / `config_from_dict`."""

    homeserver: str | None
    user_id: str | None
    password: str | None
    access_token: str | None
    email: str | None
    device_name: str
    data_dir: Path
    mediators_room: str | None
    report_room: str | None  # where the weekly report goes (helpdesk-bot report, as an HTML file)
    mediators: tuple[str, ...]
    mediators_from_room: bool
    allowed_domains: tuple[str, ...]
    allowed_users: tuple[str, ...]
    faq_dir: Path
    flows_dir: Path
    canned_replies: Path
    variables: dict[str, str] = field(default_factory=dict)
    thresholds: Thresholds
    semantic: Semantic
    retention_days: int
    flow_timeout_minutes: int
    welcome_again_after_days: int
    reopen_days: int
    autoclose_days: int
    reminder_after_minutes: int
    reminder_every_minutes: int
    working_hours: WorkingHours
    log_format: str = "text"
    log_level: str = "INFO"
    metrics: Metrics = Metrics(port=None, host="127.0.0.1", stale_after_seconds=90)

    @property
    def has_homeserver(self) -> bool:
        return bool(self.homeserver)


def load_config(path: str | Path | None) -> Config:
    """Load the config file (or the defaults when `path` is None); relative dirs are taken from
    the file's folder so the bot runs the same from any working directory."""
    if path is None:
        return config_from_dict({}, base=Path.cwd())
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: fichier de configuration introuvable")
    data, problems = load_file(path)
    if problems:
        raise ConfigError(str(problems[0]))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: le fichier doit contenir des clés (clé: valeur)")
    return config_from_dict(data, base=path.parent, name=str(path))


def config_from_dict(data: dict[str, Any], *, base: Path, name: str = "config") -> Config:
    """Validate a parsed config; the error names the key so an admin knows what to fix."""
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"{name}: clé inconnue « {unknown[0]} » (clés possibles : {', '.join(DEFAULTS)})")
    merged = {key: _merge(key, DEFAULTS[key], data.get(key), name) for key in DEFAULTS}
    matching, conv, tickets, hours = (merged[k] for k in ("matching", "conversation", "tickets", "working_hours"))
    config = Config(
        homeserver=_opt_str(merged, "homeserver", name),
        user_id=_opt_str(merged, "user_id", name),
        password=_opt_str(merged, "password", name),
        access_token=_opt_str(merged, "access_token", name),
        email=_opt_str(merged, "email", name),
        device_name=_str(merged, "device_name", name),
        data_dir=base / _str(merged, "data_dir", name),
        mediators_room=_opt_str(merged, "mediators_room", name),
        report_room=_opt_str(merged, "report_room", name),
        mediators=_str_list(merged, "mediators", name),
        mediators_from_room=bool(merged["mediators_from_room"]),
        allowed_domains=tuple(d.lower() for d in _str_list(merged, "allowed_domains", name)),
        allowed_users=_str_list(merged, "allowed_users", name),
        faq_dir=base / _str(merged, "faq_dir", name),
        flows_dir=base / _str(merged, "flows_dir", name),
        canned_replies=base / _str(merged, "canned_replies", name),
        variables=_variables(merged["variables"], name),
        thresholds=Thresholds(**{k: _number(matching, k, f"matching.{k}", name) for k in ("answer", "clarify", "margin")}),
        semantic=_semantic(merged["semantic"], name),
        retention_days=int(_number(conv, "retention_days", "conversation.retention_days", name)),
        flow_timeout_minutes=int(_number(conv, "flow_timeout_minutes", "conversation.flow_timeout_minutes", name)),
        welcome_again_after_days=int(_number(conv, "welcome_again_after_days", "conversation.welcome_again_after_days", name)),
        reopen_days=int(_number(tickets, "reopen_days", "tickets.reopen_days", name)),
        autoclose_days=int(_number(tickets, "autoclose_days", "tickets.autoclose_days", name)),
        reminder_after_minutes=int(_number(tickets, "reminder_after_minutes", "tickets.reminder_after_minutes", name)),
        reminder_every_minutes=int(_number(tickets, "reminder_every_minutes", "tickets.reminder_every_minutes", name)),
        working_hours=_working_hours(hours, name),
        log_format=_choice(merged, "log_format", LOG_FORMATS, name),
        log_level=_choice(merged, "log_level", LOG_LEVELS, name),
        metrics=_metrics(merged["metrics"], name),
    )
    _check_login(config, name)
    return config


def _merge(key: str, default: Any, value: Any, name: str) -> Any:
    if value is None:
        return default
    if isinstance(default, dict) and key != "variables":
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: « {key} » doit contenir des sous-clés ({', '.join(default)})")
        unknown = sorted(set(value) - set(default))
        if unknown:
            raise ConfigError(f"{name}: clé inconnue « {key}.{unknown[0]} » (possibles : {', '.join(default)})")
        return {**default, **value}
    return value


def _opt_str(d: dict, key: str, name: str) -> str | None:
    value = d[key]
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int)):
        raise ConfigError(f"{name}: « {key} » doit être un texte")
    value = str(value)
    if PLACEHOLDER.search(value):
        raise ConfigError(f"{name}: « {key} » contient encore la valeur d'exemple « {value} » : remplacez-la")
    return value


def _str(d: dict, key: str, name: str) -> str:
    value = _opt_str(d, key, name)
    if value is None:
        raise ConfigError(f"{name}: « {key} » ne peut pas être vide")
    return value


def _str_list(d: dict, key: str, name: str) -> tuple[str, ...]:
    value = d[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{name}: « {key} » doit être une liste de textes")
    return tuple(value)


def _number(d: dict, key: str, label: str, name: str) -> float:
    value = d[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{name}: « {label} » doit être un nombre positif (reçu : {value!r})")
    return float(value)


def _variables(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{name}: « variables » doit contenir des paires nom: valeur")
    out = {}
    for key, val in value.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ConfigError(f"{name}: variable « {key} » : nom en minuscules, chiffres et _ uniquement")
        if val is None or isinstance(val, (dict, list)):
            raise ConfigError(f"{name}: variable « {key} » : valeur vide ou invalide")
        out[key] = str(val)
    return out


def _semantic(value: dict, name: str) -> Semantic:
    """semantic.remote merges over its defaults; semantic.thresholds adds (or overrides) models."""
    encoder = value["encoder"]
    if encoder is False:  # YAML reads a bare `off` as false
        encoder = "off"
    if encoder not in ("bundled", "remote", "off"):
        raise ConfigError(f"{name}: « semantic.encoder » : bundled, remote ou off (reçu : {encoder!r})")
    remote = _merge("semantic.remote", DEFAULTS["semantic"]["remote"], value.get("remote"), name)
    given = value.get("thresholds")
    if given is not None and not isinstance(given, dict):
        raise ConfigError(f"{name}: « semantic.thresholds » : un modèle par clé, ses seuils en sous-clés")
    models = {**DEFAULTS["semantic"]["thresholds"], **(given or {})}
    keys = ("weight", "answer", "clarify", "margin", "elsewhere", "agreed_elsewhere", "settled")
    thresholds = {}
    for model, numbers in models.items():
        numbers = _merge(f"semantic.thresholds.{model}", dict.fromkeys(keys, None), numbers, name)
        missing = [k for k in keys if numbers[k] is None]
        if missing:
            raise ConfigError(f"{name}: « semantic.thresholds.{model}.{missing[0]} » manquant")
        thresholds[str(model)] = HybridThresholds(
            **{k: _number(numbers, k, f"semantic.thresholds.{model}.{k}", name) for k in keys})
    semantic = Semantic(
        encoder=encoder, threads=int(_number(value, "threads", "semantic.threads", name)),
        retry_after_seconds=_number(value, "retry_after_seconds", "semantic.retry_after_seconds", name),
        remote_url=_opt_str(remote, "url", name), remote_model=_opt_str(remote, "model", name),
        remote_key_file=_opt_str(remote, "key_file", name), remote_key_env=_opt_str(remote, "key_env", name),
        remote_timeout_seconds=_number(remote, "timeout_seconds", "semantic.remote.timeout_seconds", name),
        remote_prefix=str(remote["prefix"] or ""), thresholds=thresholds)
    if encoder == "remote":
        if not semantic.remote_url or not semantic.remote_model:
            raise ConfigError(f"{name}: « semantic.remote.url » et « semantic.remote.model » sont obligatoires "
                              "avec « semantic.encoder: remote »")
    if semantic.model_id and semantic.model_id not in thresholds:
        raise ConfigError(f"{name}: pas de seuils pour le modèle « {semantic.model_id} » : ajoutez "
                          f"« semantic.thresholds.{semantic.model_id} » (weight, answer, clarify, margin, elsewhere, agreed_elsewhere, settled)")
    return semantic


def _parse_time(value: Any, label: str, name: str) -> time:
    match = re.fullmatch(r"(\d{1,2})[:h](\d{2})", str(value).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f"{name}: « {label} » doit être une heure comme 08:30 (reçu : {value!r})")
    return time(int(match[1]), int(match[2]))


def _choice(d: dict, key: str, choices: tuple[str, ...], name: str) -> str:
    """One of `choices`, whatever the case it was typed in."""
    value = str(d[key]).strip()
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name}: « {key} » doit valoir {' ou '.join(choices)} (reçu : {value!r})")


def _metrics(metrics: dict, name: str) -> Metrics:
    port = metrics["port"]
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise ConfigError(f"{name}: « metrics.port » doit être un numéro de port de 1 à 65535 (reçu : {port!r})")
    host = metrics["host"]
    if not isinstance(host, str) or not host.strip():
        raise ConfigError(f"{name}: « metrics.host » doit être une adresse, comme 127.0.0.1")
    stale = _number(metrics, "stale_after_seconds", "metrics.stale_after_seconds", name)
    return Metrics(port=port, host=host.strip(), stale_after_seconds=stale)


def _working_hours(hours: dict, name: str) -> WorkingHours:
    days = hours["days"]
    if not isinstance(days, list) or any(str(d).lower() not in WEEKDAYS for d in days):
        raise ConfigError(f"{name}: « working_hours.days » : jours parmi {', '.join(WEEKDAYS)}")
    start = _parse_time(hours["start"], "working_hours.start", name)
    end = _parse_time(hours["end"], "working_hours.end", name)
    if end <= start:
        raise ConfigError(f"{name}: « working_hours.end » doit être après « working_hours.start »")
    return WorkingHours(days=tuple(WEEKDAYS.index(str(d).lower()) for d in days),
                        start=start, end=end, public_holidays=bool(hours["public_holidays"]))


def path_problems(config: Config) -> list[str]:
    """Every file and folder the config names that is not there (`run --check`, and `run` before
    connecting): a bot started without its canned replies or on an empty FAQ folder is the wrong bot."""
    problems = []
    for key, path in (("faq_dir", config.faq_dir), ("flows_dir", config.flows_dir)):
        if not path.is_dir():
            problems.append(f"« {key} » : dossier introuvable : {path}")
    if not config.canned_replies.is_file():
        problems.append(f"« canned_replies » : fichier introuvable : {config.canned_replies} "
                        f"(créez-le, même vide, s'il n'y a pas encore de réponses toutes prêtes)")
    existing = next((p for p in (config.data_dir, *config.data_dir.parents) if p.exists()), None)
    if existing is not None and not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        problems.append(f"« data_dir » : {config.data_dir} ne peut pas être créé ni écrit ({existing})")
    return problems


EXAMPLE_DOMAIN = re.compile(r"(?:^|[.@:/-])example\.(?:fr|com|org|net)\b", re.IGNORECASE)
MATRIX_KEYS = ("homeserver", "user_id", "email", "mediators_room", "mediators", "allowed_users", "allowed_domains")


def _check_example_values(config: Config, name: str) -> None:
    """config.example.yaml's ids (…ville.example.fr) left in a real deployment would hand the bot's
    tickets to nobody, or let the wrong people in: refused at start."""
    for key in MATRIX_KEYS:
        value = getattr(config, key)
        for item in (value if isinstance(value, tuple) else (value,)):
            if item and EXAMPLE_DOMAIN.search(item if key != "allowed_domains" else f".{item}"):
                raise ConfigError(f"{name}: « {key} » contient encore la valeur d'exemple « {item} » : remplacez-la")


def _check_login(config: Config, name: str) -> None:
    """With a homeserver, the bot must be able to log in; without one, the local demo runs."""
    if not config.homeserver:
        return
    _check_example_values(config, name)
    if not re.match(r"https?://", config.homeserver):
        raise ConfigError(f"{name}: « homeserver » doit être une adresse http(s):// (reçu : {config.homeserver})")
    if config.user_id and not re.fullmatch(r"@[^:\s]+:\S+", config.user_id):
        raise ConfigError(f"{name}: « user_id » doit avoir la forme @nom:serveur (reçu : {config.user_id})")
    if not (config.access_token or (config.password and (config.user_id or config.email))):
        raise ConfigError(f"{name}: pour se connecter, donnez « access_token », ou « password » avec « user_id » ou « email »")
    if config.access_token and not config.user_id:
        raise ConfigError(f"{name}: « access_token » demande aussi « user_id »")
