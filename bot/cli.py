"""The `helpdesk-bot` command: argument parsing and dispatch, nothing else."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .config import Config, load_config
from .logs import setup_logging

DEFAULT_CONFIG = "config.yaml"
from .errors import BotError, ConfigError, ConfigFileError, DataError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except ConfigFileError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"Erreur de configuration : {exc}", file=sys.stderr)
        return 1
    except BotError as exc:
        print(str(exc), file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk-bot", description="Assistance line for field staff on Matrix (Tchap).")
    sub = parser.add_subparsers()
    faq = sub.add_parser("faq", help="check and try the FAQ").add_subparsers()
    for name, handler, help_text in (("check", _faq_check, "validate faq/ and flows/ (file:line: message)"),
                                     ("ask", _faq_ask, "what the bot would do with one message"),
                                     ("match", _faq_match, "JSON lines in, JSON lines out"),
                                     ("eval", _faq_eval, "score a labelled set")):
        p = faq.add_parser(name, help=help_text)
        p.add_argument("--faq", type=Path, help="FAQ folder (default: faq_dir of the config)")
        p.add_argument("--config", "-c", type=Path, help="config file (default: config.yaml, else config.example.yaml)")
        p.set_defaults(handler=handler)
        if name == "ask":
            p.add_argument("question")
        if name == "match":
            p.add_argument("--jsonl", action="store_true", required=True)
        if name == "eval":
            p.add_argument("file", type=Path)
            p.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    gaps = faq.add_parser("gaps", help="what the bot could not answer, grouped by meaning")
    gaps.add_argument("--since", type=int, default=30, metavar="DAYS", help="the last DAYS days (default 30)")
    gaps.add_argument("--format", choices=("md", "csv"), default="md")
    gaps.add_argument("--config", "-c", type=Path, help="config file (default: config.yaml, else config.example.yaml)")
    gaps.set_defaults(handler=_faq_gaps, faq=None)
    run = sub.add_parser("run", help="run the bot on Matrix (without -c nor ./config.yaml: the local demo)")
    run.add_argument("--config", "-c", type=Path,
                     help="config file (default: ./config.yaml; without it, or without homeserver in it, the demo)")
    run.add_argument("--check", action="store_true", help="validate config, FAQ and flows, then exit")
    run.set_defaults(handler=_run)
    demo = sub.add_parser("demo", help="throwaway local Synapse + bot + scripted conversation (needs the demo extra)")
    demo.add_argument("--config", "-c", type=Path, help="config for FAQ variables (default: config.example.yaml)")
    demo.set_defaults(handler=_demo)
    report = sub.add_parser("report", help="the head of the service's page: one self-contained HTML file")
    report.add_argument("--since", type=int, default=30, metavar="DAYS", help="the last DAYS days (default 30)")
    report.add_argument("--html", type=Path, required=True, metavar="FILE")
    report.add_argument("--config", "-c", type=Path, help="config file (default: config.yaml, else config.example.yaml)")
    report.set_defaults(handler=_report)
    console = sub.add_parser("console", help="talk to the bot in this terminal, as an agent would")
    console.add_argument("--config", "-c", type=Path, help="config file (default: config.yaml, else config.example.yaml)")
    console.add_argument("--as", dest="name", default="agent", help="the agent's name (its conversation is kept)")
    console.set_defaults(handler=_console)
    forget = sub.add_parser("forget", help="erase one agent's data (and redact the bot's messages carrying it)")
    forget.add_argument("user", help="the agent's Matrix id, @name:server")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    backup = sub.add_parser("backup", help="copy data_dir (store, crypto store, session, keys) while the bot runs")
    restore = sub.add_parser("restore", help="put a backup back into data_dir (bot stopped)")
    restore.add_argument("--force", action="store_true", help="replace the content of a non-empty data_dir")
    for p, handler in ((forget, _forget), (backup, _backup), (restore, _restore)):
        if p is not forget:
            p.add_argument("folder", type=Path)
        p.add_argument("--config", "-c", type=Path, help="config file (default: config.yaml, else config.example.yaml)")
        p.set_defaults(handler=handler)
    return parser


def _private_files() -> None:
    """Everything the bot writes (database, crypto store, session) readable by its own user only,
    from the moment it is created: files 0600, folders 0700."""
    os.umask(0o077)


def _run(args: argparse.Namespace) -> int:
    """-c names THE config: missing, unreadable or without a homeserver, it is an error. Without
    -c, ./config.yaml if it exists (without a homeserver: the demo with its variables), else the demo."""
    import asyncio
    _private_files()
    path = args.config if args.config is not None else Path(DEFAULT_CONFIG)
    if args.config is None and not path.exists():
        if args.check:
            raise ConfigFileError(f"pas de {DEFAULT_CONFIG} ici : donnez le fichier à vérifier avec -c")
        print(f"Pas de {DEFAULT_CONFIG} ici : lancement de la démo locale.", file=sys.stderr)
        return _demo(argparse.Namespace(config=None))
    config = _load(path)
    if not config.has_homeserver:
        if args.config is not None or args.check:
            raise ConfigError(f"{path}: « homeserver » manquant : le bot ne saurait pas à quel serveur Matrix se "
                              f"connecter (pour la démo locale : helpdesk-bot demo)")
        print(f"Pas de homeserver dans {path} : lancement de la démo locale.", file=sys.stderr)
        return _demo(argparse.Namespace(config=path))
    from .matrix.runner import check, run
    check(config)
    if args.check:
        print("OK : configuration, fichiers, FAQ et parcours valides.")
        return 0
    setup_logging(config)
    try:
        asyncio.run(run(config))
    except KeyboardInterrupt:
        pass
    return 0


def _demo(args: argparse.Namespace) -> int:
    import asyncio
    from .demo import demo
    _private_files()
    config = _config(args)
    setup_logging(config)
    try:
        asyncio.run(demo(config))
    except KeyboardInterrupt:
        pass
    return 0


def _console(args: argparse.Namespace) -> int:
    import asyncio
    from .console import console
    _private_files()
    return asyncio.run(console(_config(args), args.name)) or 0


def _forget(args: argparse.Namespace) -> int:
    """The admin's « effacer mes données » for one agent; the running bot sends the redactions."""
    import asyncio
    import getpass
    import re
    from datetime import datetime, timezone
    from .storage.store import FILE_NAME, Store
    from .texts import say
    if not re.fullmatch(r"@[^:\s]+:\S+", args.user):
        raise ConfigError(f"« {args.user} » n'est pas un identifiant Matrix (@nom:serveur)")
    if not args.yes and input(say("privacy.cli_forget_ask", agent=args.user)).strip().lower() not in ("oui", "o", "yes", "y"):
        print(say("privacy.cli_forget_cancelled"))
        return 1

    data_dir = _config(args).data_dir
    if not (data_dir / FILE_NAME).exists():
        raise BotError(f"{data_dir / FILE_NAME} introuvable : rien à effacer (vérifiez data_dir et -c)")

    async def forget() -> None:
        store = await Store.open(data_dir)
        try:
            erased = await store.forget(args.user, datetime.now(timezone.utc), f"admin:{getpass.getuser()}")
        finally:
            await store.close()
        print(say("privacy.cli_forget_done", agent=args.user, rows=erased.total, events=erased.events,
                  closed=erased.closed))
        for table, count in erased.rows.items():
            if count:
                print(f"  {table} : {count}")

    asyncio.run(forget())
    return 0


def _backup(args: argparse.Namespace) -> int:
    from .storage.backup import backup
    from .texts import say
    written = backup(_config(args).data_dir, args.folder)
    print(say("privacy.cli_backup_done", folder=args.folder, files=len(written)))
    return 0


def _restore(args: argparse.Namespace) -> int:
    from .storage.backup import restore
    from .texts import say
    config = _config(args)
    written = restore(args.folder, config.data_dir, force=args.force)
    print(say("privacy.cli_restore_done", folder=config.data_dir, files=len(written)))
    return 0


def _config(args: argparse.Namespace) -> Config:
    """The -c file, else ./config.yaml, else the example's FAQ variables (the demo, the console, faq)."""
    path = getattr(args, "config", None)
    if path is None:
        path = next((p for p in (Path(DEFAULT_CONFIG), Path("config.example.yaml")) if p.exists()), None)
    return _load(path) if path is not None else load_config(None)


def _load(path: Path) -> Config:
    """The config at `path`; a file that is not there or cannot be read stops the command (exit 2)."""
    if not path.is_file():
        raise ConfigFileError(f"{path} : fichier de configuration introuvable"
                              + (" (c'est un dossier)" if path.is_dir() else ""))
    try:
        path.open("rb").close()
    except OSError as exc:
        raise ConfigFileError(f"{path} : fichier de configuration illisible ({exc.strerror})") from exc
    return load_config(path)


def _faq_dir(args: argparse.Namespace, config: Config) -> Path:
    return args.faq or config.faq_dir


def _load_matcher(args: argparse.Namespace):
    """The matcher the bot would use: with the config's encoder (semantic.encoder), FAQ embedded."""
    from .answering.encoder import encoder_for
    from .conversation.knowledge import load_knowledge
    config = _config(args)
    knowledge, problems = load_knowledge(config, faq_dir=_faq_dir(args, config), encoder=encoder_for(config.semantic))
    for problem in problems:  # still usable for trying questions: warn, run `faq check` to fix
        print(f"attention : {problem}", file=sys.stderr)
    if not knowledge.faq.entries:
        raise DataError(problems)
    return knowledge


def _faq_check(args: argparse.Namespace) -> int:
    from .conversation.knowledge import load_knowledge
    config = _config(args)
    knowledge, problems = load_knowledge(config, faq_dir=_faq_dir(args, config))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problème(s) trouvé(s).", file=sys.stderr)
        return 1
    from .answering.checkcases import load_cases
    from .answering.faq import CASES_FILE
    cases, _ = load_cases(_faq_dir(args, config) / CASES_FILE, {e.id for e in knowledge.faq.entries})
    print(f"OK : {len(knowledge.faq.entries)} entrées, {len(knowledge.flows)} parcours, {len(cases)} exemples vérifiés.")
    return 0


def _faq_gaps(args: argparse.Namespace) -> int:
    import asyncio
    from .reporting.cli import gaps
    print(asyncio.run(gaps(_config(args), days=args.since, form=args.format)), end="")
    return 0


def _report(args: argparse.Namespace) -> int:
    import asyncio
    from .reporting.cli import report
    page = asyncio.run(report(_config(args), days=args.since))
    args.html.write_text(page, encoding="utf-8")
    print(f"Rapport écrit : {args.html} ({len(page.encode()) // 1024} Ko)")
    return 0


def _faq_ask(args: argparse.Namespace) -> int:
    from .texts import say
    knowledge = _load_matcher(args)
    matcher = knowledge.matcher
    evidence = matcher.explain(args.question, _vectors(knowledge, [args.question])[0])
    kind = evidence.decision.kind
    print(f"décision : {say(f'authors.kind_{kind}')} ({kind})")
    for candidate in evidence.decision.candidates:
        print(f"  {candidate.score:5.1f}  {candidate.id}")
    print(f"pourquoi : {evidence.reason}")
    print("lexical (mots) :")
    for candidate in evidence.lexical:
        print(f"  {candidate.score:5.1f}  {candidate.id}")
    if evidence.semantic:
        print("sens (probabilités) :")
        for topic, p in sorted(evidence.semantic.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  {100 * p:5.1f}  {topic}")
    terms = matcher.weights(args.question)
    print("termes : " + ", ".join(f"{t} ({w:.2f})" for t, w in terms.items()))
    return 0


def _vectors(knowledge, questions: list[str]) -> list:
    """Each question's vector when the matcher can use one (None when semantic is off or settled)."""
    needed = [q for q in questions if knowledge.matcher.needs_vector(q)]
    if not needed:
        return [None] * len(questions)
    encoded = dict(zip(needed, knowledge.encoder.encode(needed)))
    return [encoded.get(q) for q in questions]


def _faq_match(args: argparse.Namespace) -> int:
    knowledge = _load_matcher(args)
    matcher = knowledge.matcher
    for line in sys.stdin:
        question = line.rstrip("\r\n")
        decision = matcher.decide(question, _vectors(knowledge, [question])[0])
        top = decision.top
        print(json.dumps({
            "question": question,
            "decision": decision.kind,
            "id": top.id if top and decision.kind != "none" else None,
            "score": top.score if top else 0.0,
            "candidates": [{"id": c.id, "score": c.score} for c in decision.candidates[:3]],
        }, ensure_ascii=False), flush=True)
    return 0


def _faq_eval(args: argparse.Namespace) -> int:
    from .answering.evaluation import evaluate, load_labelled, render
    knowledge = _load_matcher(args)
    pairs = load_labelled(args.file)
    vectors = _vectors(knowledge, [q for q, _ in pairs])
    print(render(evaluate(knowledge.matcher, pairs, vectors), verbose=args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
