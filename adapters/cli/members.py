"""`coach members import|tag|untag|list`: the member directory and the tags broadcasts pick audiences by."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from bot.errors import BadInput
from bot.services.broadcasts import normalise_tag
from bot.services.roster import Roster, read_roster

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("members", help="the member directory: import a roster, tag members, list them")
    s = p.add_subparsers(dest="members_command", metavar="ACTION", required=True)
    imp = s.add_parser(
        "import",
        help="add or update members from a CSV file (platform,user_id,name,tags)",
        description="The CSV has a header row with platform, user_id, name and tags; tags are separated by "
        "semicolons, e.g. 'planning-committee;group:independent'. Tags are added, never removed.",
    )
    imp.add_argument("file", help="the CSV file ('-' for standard input)")
    imp.set_defaults(func=_import)
    tag = s.add_parser("tag", help="add tags to a member, e.g. coach members tag slack:U0123 cabinet")
    tag.add_argument("member", help="PLATFORM:USER_ID")
    tag.add_argument("tags", nargs="+", metavar="TAG")
    tag.set_defaults(func=_tag)
    untag = s.add_parser("untag", help="remove tags from a member")
    untag.add_argument("member", help="PLATFORM:USER_ID")
    untag.add_argument("tags", nargs="+", metavar="TAG")
    untag.set_defaults(func=_untag)
    ls = s.add_parser("list", help="list members with their role, status and tags")
    ls.add_argument("--tag", action="append", default=[], metavar="TAG", help="only members with this tag (repeatable)")
    ls.set_defaults(func=_list)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _import(args: argparse.Namespace) -> int:
    if args.file == "-":
        import sys

        text, source = sys.stdin.read(), "stdin"
    else:
        path = Path(args.file)
        if not path.is_file():
            raise BadInput(f"{path} is not a file")
        text, source = path.read_text(encoding="utf-8-sig"), path.name
    rows = read_roster(text, source)
    coach = coach_from_env()
    result = Roster(coach.members, coach.audit).import_rows(rows, _actor(), coach.clock.now())
    print(f"imported {result.total} members: {result.created} new, {result.updated} updated, "
          f"{result.tags_added} tags added")
    return 0


def _tag(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    member = Roster(coach.members, coach.audit).tag(args.member, args.tags, _actor(), coach.clock.now())
    print(f"{member.platform}:{member.user_id} tags: {', '.join(member.tags) or '(none)'}")
    return 0


def _untag(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    member = Roster(coach.members, coach.audit).untag(args.member, args.tags, _actor(), coach.clock.now())
    print(f"{member.platform}:{member.user_id} tags: {', '.join(member.tags) or '(none)'}")
    return 0


def _list(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    tags = [normalise_tag(t) for t in args.tag]
    members = coach.members.list(tags=tags)
    if not members:
        print("no members" + (f" tagged {', '.join(tags)}" if tags else " yet: import a roster with "
                              "'coach members import FILE.csv'"))
        return 0
    for m in members:
        status = "" if m.status == "active" else f"  [{m.status}{': ' + m.status_reason if m.status_reason else ''}]"
        role = "  officer" if m.is_officer else ""
        print(f"{m.platform}:{m.user_id}  {m.display_name or '-'}{role}  tags: {', '.join(m.tags) or '-'}{status}")
    print(f"{len(members)} member(s)")
    return 0
