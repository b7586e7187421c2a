"""Everything the bot knows, loaded together: FAQ, lexicon, flows, and the matcher built on them.

Loading never raises: it returns the problems, so `faq check` can list them all and a running
bot can keep serving the last good version when an admin's edit breaks something.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..answering import checkcases
from ..config import Config
from ..errors import Problem
from ..answering.faq import LEXICON_FILE, Faq, load_faq
from .flows import Flow, load_flows
from ..answering.lexicon import Lexicon, load_lexicon
from ..answering.matching import Matcher
from ..texts import say


@dataclass(frozen=True)
class Knowledge:
    faq: Faq
    flows: dict[str, Flow]
    matcher: Matcher


def load_knowledge(config: Config, faq_dir: Path | None = None, flows_dir: Path | None = None) -> tuple[Knowledge, list[Problem]]:
    faq_dir = faq_dir or config.faq_dir
    flows_dir = flows_dir or config.flows_dir
    faq, problems = load_faq(faq_dir, config.variables)
    lexicon_path = faq_dir / LEXICON_FILE
    if lexicon_path.exists():
        lexicon, lexicon_problems = load_lexicon(lexicon_path)
        problems += lexicon_problems
    else:
        lexicon = Lexicon()
        problems.append(Problem(file=str(lexicon_path), line=1, message="lexique introuvable"))
    flows, flow_problems = load_flows(flows_dir, config.variables)
    problems += flow_problems
    unread = {Path(p.file).stem for p in flow_problems}  # a flow with a problem is not also "introuvable"
    problems += _check_flow_links(faq, flows, unread)
    matcher = Matcher(faq, lexicon, config.thresholds)
    if not problems:  # the authors' cases, once the files themselves are right (faq/exemples-a-verifier.yaml)
        problems += checkcases.check(faq_dir, {e.id for e in faq.entries}, matcher.decide)
    return Knowledge(faq=faq, flows=flows, matcher=matcher), problems


def _check_flow_links(faq: Faq, flows: dict[str, Flow], unread: set[str]) -> list[Problem]:
    return [Problem(file=e.file, line=e.line, message=f"parcours « {e.flow} » introuvable dans flows/")
            for e in faq.entries if e.kind == "flow" and e.flow not in flows and e.flow not in unread]


def signature(config: Config) -> tuple[tuple[str, int, int], ...]:
    """What the FAQ and flow files look like on disk now (name, mtime, size): cheap to compare."""
    files = sorted([*Path(config.faq_dir).glob("*.yaml"), *Path(config.flows_dir).glob("*.yaml")])
    out = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def reload(config: Config, current: Knowledge, log) -> Knowledge:
    return reload_checked(config, current, log)[0]


def reload_checked(config: Config, current: Knowledge, log) -> tuple[Knowledge, list[Problem]]:
    """Load the edited files; on any problem keep serving `current` and say where (log, and the
    problems for the mediators' room: see `rejection_notice`).

    An admin's typo in faq/, or an edit that breaks one of the authors' cases, must never take
    the assistance line down: the previous version stays in service.
    """
    fresh, problems = load_knowledge(config)
    if problems or not fresh.faq.entries:
        for problem in problems:
            log.error("FAQ/flows: %s", problem)
        log.error("FAQ/flows edit rejected (%d problem(s)): the bot keeps the last good version", len(problems))
        return current, problems or [Problem(file=str(config.faq_dir), line=1, message="aucune entrée")]
    log.info("FAQ/flows reloaded: %d entries, %d flows", len(fresh.faq.entries), len(fresh.flows))
    return fresh, []


def rejection_notice(problems: list[Problem], shown: int = 5) -> str:
    """What the mediators' room reads when an edit is refused: the first problems, file:line."""
    lines = [say("authors.reload_rejected", count=len(problems))]
    lines += [say("authors.reload_problem", problem=p) for p in problems[:shown]]
    if len(problems) > shown:
        lines.append(say("authors.reload_more", count=len(problems) - shown))
    return "\n".join(lines)
