"""`coach kb validate|reload|train`: check, reload and train the knowledge base."""

from __future__ import annotations

import argparse
import logging
import os
import signal
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot.checker.model import MODEL_DIR, load_model, rules_digest
from bot.config import Settings
from bot.errors import KnowledgeError
from bot.guidance import Knowledge, load_knowledge

log = logging.getLogger(__name__)
PID_FILE = "coach.pid"


def register(sub: Any) -> None:
    p = sub.add_parser("kb", help="validate, reload or train the knowledge base")
    s = p.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    v = s.add_parser("validate", help="check the knowledge base; every problem as file:line: message")
    v.add_argument("dir", nargs="?", help="knowledge directory (default: COACH_KNOWLEDGE_DIR or the packaged one)")
    v.set_defaults(func=_validate)
    r = s.add_parser("reload", help="tell a running server to reload the knowledge base (SIGHUP)")
    r.set_defaults(func=_reload)
    t = s.add_parser("train", help="train the checker's and Q&A's model on training/*.yaml")
    t.add_argument("dir", nargs="?", help="knowledge directory (default: COACH_KNOWLEDGE_DIR or the packaged one)")
    t.set_defaults(func=_train)
    from .kbdiff import register_diff  # `coach kb diff`, owned by the broadcasts feature

    register_diff(s)


def _root(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    return Settings.from_env().knowledge_dir


def model_problems(knowledge: Knowledge) -> list[str]:
    """A model shipped in this knowledge base that no longer matches its training data."""
    own = knowledge.root / MODEL_DIR
    if not (own / "meta.json").is_file():
        return []
    model = load_model(own)
    where = f"{MODEL_DIR}/meta.json:1"
    if model is None:
        return [f"{where}: the model files are incomplete; run 'coach kb train'"]
    digest = knowledge.section("training").digest
    if model.is_stale(digest, rules_digest(knowledge.section("rules"))):
        return [f"{where}: the model is stale (the training data, rules or features changed since it was trained); run 'coach kb train'"]
    return []


def summary(knowledge: Knowledge) -> str:
    parts = []
    for name, label in (("topics", "topics"), ("faqs", "FAQs"), ("rules", "rules"), ("quizzes", "quiz scenarios")):
        if name in knowledge.sections:
            parts.append(f"{_count(knowledge.sections[name])} {label}")
    training = knowledge.sections.get("training")
    if training is not None:
        parts.append(f"{len(training.drafts)} training drafts, {len(training.questions)} training questions")
    return ", ".join(parts)


def _count(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return len(getattr(value, "scenarios", ()) or ())


def _validate(args: argparse.Namespace) -> int:
    root = _root(args.dir)
    knowledge = load_knowledge(root)  # KnowledgeError: the CLI prints every problem and exits 1
    # Training data is only parsed when needed (it is not used at run time), so check it here.
    problems = knowledge.section("training").problems
    if problems:
        raise KnowledgeError(problems)
    problems = model_problems(knowledge)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{root}: valid ({summary(knowledge)})")
    return 0


def _reload(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    knowledge = load_knowledge(settings.knowledge_dir)  # refuse to signal a server with a broken one
    pid_file = settings.data_dir / PID_FILE
    pid = _running_pid(pid_file)
    if pid is None:
        print(
            f"no running server found (no live pid in {pid_file}); the knowledge base is valid "
            f"({summary(knowledge)}) and will be used at the next start"
        )
        return 0
    os.kill(pid, signal.SIGHUP)
    print(f"asked the server (pid {pid}) to reload {settings.knowledge_dir}")
    return 0


def _running_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _train(args: argparse.Namespace) -> int:
    from bot.checker.model import save_model
    from bot.checker.training import train

    root = _root(args.dir)
    knowledge = load_knowledge(root)
    problems = knowledge.section("training").problems
    if problems:
        raise KnowledgeError(problems)
    model = train(knowledge, now=datetime.now(timezone.utc))
    target = root / MODEL_DIR
    save_model(target, model)
    cv = model.meta["cross_validation"]
    print(f"trained on {model.meta['drafts']} drafts and {model.meta['question_examples']} question examples; wrote {target}")
    print(
        "cross-validated (with the rules): stop-recall {stop_recall:.3f}, missed risk {missed_risk:.3f}, "
        "false alarms {false_alarm:.3f}, category macro-F1 {macro_f1:.3f}".format(**cv)
    )
    return 0


def install_sighup_reload(coach: Any) -> bool:
    """Reload the knowledge base on SIGHUP, keeping the last good one if the new one is broken.

    Call from the server's event loop. Returns False where SIGHUP does not exist.
    """
    if not hasattr(signal, "SIGHUP"):
        return False

    def reload() -> None:
        problems = coach.knowledge.reload()
        if problems:
            log.error("knowledge reload refused, still serving the last good one: %s problem(s)", len(problems))
            for problem in problems:
                log.error("knowledge problem: %s", problem)
        else:
            log.info("knowledge base reloaded from %s", coach.knowledge.root)

    try:
        import asyncio

        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
    except RuntimeError:
        signal.signal(signal.SIGHUP, lambda signum, frame: reload())
    return True
