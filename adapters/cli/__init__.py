"""`coach`: the command line. Every error is one clear line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from bot import __version__
from bot.errors import CoachError, KnowledgeError

from . import base, chat, officers, privacy, worker, report
from . import ask, bench, check, kb
from . import eval as eval_cmd
from . import teams
from . import audit, broadcast, members
from . import serve
from . import slack

# Each module adds its sub-commands with `register(subparsers)`; add new ones here.
COMMAND_MODULES: list[ModuleType] = [chat, officers, base, worker, privacy, report, members, broadcast, audit, check, ask, kb, eval_cmd, bench, teams, serve, slack]


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
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
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
