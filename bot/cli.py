"""The `helpdesk-bot` command: argument parsing and dispatch, nothing else."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import Config, load_config
from .errors import BotError, ConfigError, DataError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
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
    run = sub.add_parser("run", help="run the bot on Matrix (without a homeserver in the config: the local demo)")
    run.add_argument("--config", "-c", type=Path, default=Path("config.yaml"))
    run.add_argument("--check", action="store_true", help="validate config, FAQ and flows, then exit")
    run.set_defaults(handler=_run)
    demo = sub.add_parser("demo", help="throwaway local Synapse + bot + scripted conversation (needs the demo extra)")
    demo.add_argument("--config", "-c", type=Path, help="config for FAQ variables (default: config.example.yaml)")
    demo.set_defaults(handler=_demo)
    console = sub.add_parser("console", help="talk to the bot in this terminal, as an agent would")
    console.add_argument("--config", "-c", type=Path, help="config file (default: config.yaml, else config.example.yaml)")
    console.add_argument("--as", dest="name", default="agent", help="the agent's name (its conversation is kept)")
    console.set_defaults(handler=_console)
    return parser


def _logging() -> None:
    import logging
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("nio").setLevel(logging.WARNING)


def _run(args: argparse.Namespace) -> int:
    import asyncio
    config = load_config(args.config) if args.config.exists() else None
    if config is None or not config.has_homeserver:
        if args.check:
            raise ConfigError(f"{args.config}: « homeserver » manquant : rien à vérifier pour Matrix")
        print(f"Pas de homeserver configuré ({args.config}) : lancement de la démo locale.", file=sys.stderr)
        return _demo(argparse.Namespace(config=args.config if args.config.exists() else None))
    from .matrix.runner import check, run
    check(config)
    if args.check:
        print("OK : configuration, FAQ et parcours valides.")
        return 0
    _logging()
    try:
        asyncio.run(run(config))
    except KeyboardInterrupt:
        pass
    return 0


def _demo(args: argparse.Namespace) -> int:
    import asyncio
    from .demo import demo
    _logging()
    try:
        asyncio.run(demo(_config(args)))
    except KeyboardInterrupt:
        pass
    return 0


def _console(args: argparse.Namespace) -> int:
    import asyncio
    from .console import console
    return asyncio.run(console(_config(args), args.name)) or 0


def _config(args: argparse.Namespace) -> Config:
    path = getattr(args, "config", None)
    if path is None:
        path = next((p for p in (Path("config.yaml"), Path("config.example.yaml")) if p.exists()), None)
    return load_config(path)


def _faq_dir(args: argparse.Namespace, config: Config) -> Path:
    return args.faq or config.faq_dir


def _load_matcher(args: argparse.Namespace):
    """The matcher the bot would use: with the config's encoder (semantic.encoder), FAQ embedded."""
    from .answering.encoder import encoder_for
    from .knowledge import load_knowledge
    config = _config(args)
    knowledge, problems = load_knowledge(config, faq_dir=_faq_dir(args, config), encoder=encoder_for(config.semantic))
    for problem in problems:  # still usable for trying questions: warn, run `faq check` to fix
        print(f"attention : {problem}", file=sys.stderr)
    if not knowledge.faq.entries:
        raise DataError(problems)
    return knowledge


def _faq_check(args: argparse.Namespace) -> int:
    from .knowledge import load_knowledge
    config = _config(args)
    knowledge, problems = load_knowledge(config, faq_dir=_faq_dir(args, config))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problème(s) trouvé(s).", file=sys.stderr)
        return 1
    print(f"OK : {len(knowledge.faq.entries)} entrées, {len(knowledge.flows)} parcours.")
    return 0


def _faq_ask(args: argparse.Namespace) -> int:
    knowledge = _load_matcher(args)
    matcher = knowledge.matcher
    evidence = matcher.explain(args.question, _vectors(knowledge, [args.question])[0])
    print(f"décision : {evidence.decision.kind}")
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
    from .evaluation import evaluate, load_labelled, render
    knowledge = _load_matcher(args)
    pairs = load_labelled(args.file)
    vectors = _vectors(knowledge, [q for q, _ in pairs])
    print(render(evaluate(knowledge.matcher, pairs, vectors), verbose=args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
