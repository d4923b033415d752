"""`coach privacy export|forget MEMBER`: subject access requests and erasure."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from bot.services.privacy import PrivacyService

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("privacy", help="export or erase what is held about a member (UK GDPR)")
    s = p.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    ex = s.add_parser("export", help="write everything held about a member as JSON")
    ex.add_argument("member", help="PLATFORM:USER_ID")
    ex.add_argument("--out", help="file to write (default: standard output)")
    ex.set_defaults(func=_export)
    fg = s.add_parser("forget", help="erase a member's records, keeping an anonymised audit line")
    fg.add_argument("member", help="PLATFORM:USER_ID")
    fg.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    fg.set_defaults(func=_forget)


def _service() -> tuple[Any, PrivacyService]:
    coach = coach_from_env()
    return coach, PrivacyService(coach.engine, coach.audit, coach.clock)


def _export(args: argparse.Namespace) -> int:
    coach, service = _service()
    member = coach.directory.resolve(args.member)
    text = json.dumps(service.export(member), indent=2, ensure_ascii=False, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text)
    coach.audit.record(f"cli:{getpass.getuser()}", "privacy.export", coach.clock.now(), member=args.member)
    return 0


def _forget(args: argparse.Namespace) -> int:
    coach, service = _service()
    member = coach.directory.resolve(args.member)
    if not args.yes:
        if not sys.stdin.isatty():
            print("coach: error: add --yes to erase without a prompt", file=sys.stderr)
            return 1
        answer = input(f"Erase everything held about {args.member}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing erased")
            return 1
    removed = service.forget(member, f"cli:{getpass.getuser()}")
    print(f"erased {args.member}: " + ", ".join(f"{k} {v}" for k, v in sorted(removed.items())))
    return 0
