"""`coach officers add|remove|list`: who may broadcast and see reports."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("officers", help="manage council officers (who may broadcast and see reports)")
    s = p.add_subparsers(dest="officers_command", metavar="ACTION", required=True)
    add = s.add_parser("add", help="make a platform user an officer, e.g. slack:U0123ABCD")
    add.add_argument("member", help="PLATFORM:USER_ID")
    add.set_defaults(func=_add)
    rm = s.add_parser("remove", help="take officer powers away")
    rm.add_argument("member", help="PLATFORM:USER_ID")
    rm.set_defaults(func=_remove)
    ls = s.add_parser("list", help="list officers")
    ls.set_defaults(func=_list)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _add(args: argparse.Namespace) -> int:
    member = coach_from_env().directory.add_officer(args.member, _actor())
    print(f"{member.platform}:{member.user_id} is an officer")
    return 0


def _remove(args: argparse.Namespace) -> int:
    member = coach_from_env().directory.remove_officer(args.member, _actor())
    print(f"{member.platform}:{member.user_id} is no longer an officer")
    return 0


def _list(args: argparse.Namespace) -> int:
    officers = coach_from_env().directory.officers()
    if not officers:
        print("no officers yet: add one with 'coach officers add PLATFORM:USER_ID'")
    for m in officers:
        name = f"  {m.display_name}" if m.display_name else ""
        print(f"{m.platform}:{m.user_id}{name}")
    return 0
