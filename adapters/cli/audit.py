"""`coach audit list`: who broadcast, cancelled, chased, changed roles or tags, and when."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="the audit log of officers' actions")
    s = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    ls = s.add_parser("list", help="recent entries, newest first")
    ls.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")
    ls.add_argument("--action", default="", help="only actions starting with this, e.g. broadcast")
    ls.set_defaults(func=_list)


def _list(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    tz = coach.knowledge.current.council.tz
    # Filtering happens here, so fetch generously when a filter is given.
    entries = coach.audit.list(limit=max(args.limit, 1) * (20 if args.action else 1))
    if args.action:
        entries = [e for e in entries if e.action.startswith(args.action)]
    entries = entries[: max(args.limit, 1)]
    if not entries:
        print("the audit log is empty" if not args.action else f"no '{args.action}' entries")
        return 0
    for e in entries:
        when = e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        detail = json.dumps(e.detail, ensure_ascii=False, sort_keys=True)
        print(f"{when}  {e.actor}  {e.action}  {detail}")
    return 0
