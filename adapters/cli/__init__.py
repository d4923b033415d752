"""`coach`: the command line. Every error is one clear line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from bot import __version__
from bot.errors import CoachError, KnowledgeError
from bot.logs import configure_logging

from . import base, chat, officers, worker, report, privacy
from . import ask, bench, check, kb
from . import eval as eval_cmd
from . import serve
from . import slack
from . import teams
from . import audit, broadcast, members

# Each module adds its sub-commands with `register(subparsers)`; add new ones here.
COMMAND_MODULES: list[ModuleType] = [chat, officers, base, worker, report, members, broadcast, audit, check, ask, kb, eval_cmd, bench, serve, privacy, teams, slack]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach",
        description="Councillor Coach: helps councillors use social media well and safely.",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    long_running = args.command in ("serve", "worker")
    level = os.environ.get("COACH_LOG_LEVEL", "INFO").upper()
    level = level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO"
    configure_logging(
        "DEBUG" if args.debug else (level if long_running else "WARNING"),
        os.environ.get("COACH_LOG_FORMAT", "json" if long_running else "text"),
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"coach: error: {exc}", file=sys.stderr)
        return 1
    except CoachError as exc:
        if args.debug:
            raise
        print(f"coach: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the entry point is the one place that turns any failure into a line
        if args.debug:
            raise
        print(f"coach: error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
              " (run with --debug for details)", file=sys.stderr)
        return 1
