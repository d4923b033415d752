"""`coach broadcast send|list|show|cancel|follow-up`: officers' guidance updates from the terminal.

Sending only queues the messages; the worker (`coach worker`, a running server,
or an open `coach chat` for console members) delivers them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.console.render import render
from bot.errors import BadInput
from bot.services.broadcast_chat import recipient_line
from bot.services.broadcast_messages import format_time, parse_send_time
from bot.services.broadcasts import BroadcastService

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("broadcast", help="send guidance updates to members and see who has read them")
    s = p.add_subparsers(dest="broadcast_command", metavar="ACTION", required=True)
    send = s.add_parser(
        "send",
        help="preview, check and queue a broadcast",
        description="Shows the update exactly as members will see it and the draft checker's warnings, "
        "then asks before queueing it (unless --yes).",
    )
    send.add_argument("--title", required=True)
    send.add_argument("--body-file", required=True, metavar="FILE", help="the message ('-' for standard input)")
    add_delivery_options(send)
    send.set_defaults(func=_send)
    ls = s.add_parser("list", help="recent broadcasts")
    ls.add_argument("--limit", type=int, default=20)
    ls.set_defaults(func=_list)
    show = s.add_parser("show", help="delivery and acknowledgement report for one broadcast")
    show.add_argument("id")
    show.add_argument("--csv", metavar="FILE", help="also write per-recipient status as CSV ('-' for standard output)")
    show.set_defaults(func=_show)
    cancel = s.add_parser("cancel", help="stop the messages of a broadcast that have not gone yet")
    cancel.add_argument("id")
    cancel.set_defaults(func=_cancel)
    chase = s.add_parser("follow-up", help="remind members who have not pressed Got it")
    chase.add_argument("id")
    chase.set_defaults(func=_follow_up)


def add_delivery_options(parser: argparse.ArgumentParser) -> None:
    """Audience, timing and acknowledgement options, shared with `coach kb diff --broadcast`."""
    parser.add_argument("--audience", action="append", default=[], metavar="TAG",
                        help="members with this tag (repeatable; default: everyone)")
    parser.add_argument("--at", metavar="TIME", help="when to send, council time: 'tomorrow 9am', '2026-12-01 09:00'")
    parser.add_argument("--ack", action="store_true", help="ask members to press Got it")
    parser.add_argument("--follow-up-days", type=int, metavar="N",
                        help="remind those who have not pressed Got it after N days (needs --ack)")
    parser.add_argument("--urgent", action="store_true", help="deliver during members' quiet hours too")
    parser.add_argument("--yes", action="store_true", help="send without asking")


def actor() -> str:
    return f"cli:{getpass.getuser()}"


def service(coach: Any) -> BroadcastService:
    return coach.services["broadcasts"]  # type: ignore[no-any-return]


def audience_of(values: Sequence[str]) -> list[str]:
    return [tag.strip() for value in values for tag in value.split(",") if tag.strip()]


def preview_and_send(coach: Any, args: argparse.Namespace, title: str, body: str) -> int:
    """Print the preview, warnings and audience; ask; queue. Shared by `broadcast send` and `kb diff`."""
    svc = service(coach)
    tz = svc.council().tz
    now = coach.clock.now()
    send_at = parse_send_time(args.at, now, tz) if args.at else None
    tags = audience_of(args.audience)
    preview = svc.preview(title, body, requires_ack=args.ack)
    recipients = svc.audience(tags)
    unreachable = sum(1 for m in recipients if m.status == "unreachable")
    out = sys.stdout
    out.write("Members will see:\n" + "-" * 60 + "\n" + render(preview) + "\n" + "-" * 60 + "\n")
    who = "everyone" if not tags else "members tagged " + ", ".join(tags)
    out.write(f"To: {who} ({len(recipients)} members"
              + (f", {unreachable} cannot be reached" if unreachable else "") + ")\n")
    out.write(f"When: {format_time(send_at, tz) if send_at and send_at > now else 'now'}"
              + (" (urgent: quiet hours do not hold it)" if args.urgent else "") + "\n")
    warnings = svc.warnings(body, title=title)
    if warnings:
        out.write("The draft checker found things to look at:\n" + "".join(f"  - {w}\n" for w in warnings))
    else:
        out.write("The draft checker found nothing to worry about.\n")
    if not args.yes:
        if not sys.stdin.isatty():
            raise BadInput("nothing sent: add --yes to send without being asked")
        answer = input("Send it? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing sent")
            return 1
    broadcast = svc.create(actor(), title, body, tags, send_at, args.ack, args.follow_up_days, urgent=args.urgent)
    print(f"broadcast #{broadcast.id} queued for {broadcast.recipients} members; "
          f"see 'coach broadcast show {broadcast.id}'")
    return 0


def _send(args: argparse.Namespace) -> int:
    if args.body_file == "-":
        body = sys.stdin.read()
    else:
        path = Path(args.body_file)
        if not path.is_file():
            raise BadInput(f"{path} is not a file")
        body = path.read_text(encoding="utf-8")
    if args.body_file == "-" and not args.yes:
        raise BadInput("with the message on standard input, add --yes (there is no way to ask)")
    return preview_and_send(coach_from_env(), args, args.title, body)


def _list(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    svc = service(coach)
    tz = svc.council().tz
    items = svc.list(args.limit)
    if not items:
        print("no broadcasts yet")
        return 0
    for b in items:
        who = "everyone" if not b.audience else ",".join(b.audience)
        ack = f"  confirmed {b.acknowledged}/{b.recipients}" if b.requires_ack else ""
        state = "  CANCELLED" if b.is_cancelled else ""
        print(f"#{b.id}  {format_time(b.send_at, tz)}  to {who} ({b.recipients}){ack}{state}  {b.title}")
    return 0


def _show(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    svc = service(coach)
    tz = svc.council().tz
    report = svc.report(args.id)
    if args.csv == "-":
        report.write_csv(sys.stdout)
        return 0
    b, c = report.broadcast, report.counts
    print(f"Broadcast #{b.id}: {b.title}")
    print(f"  by {b.created_by}, {format_time(b.send_at, tz)}, to "
          f"{'everyone' if not b.audience else 'members tagged ' + ', '.join(b.audience)}"
          + ("; urgent" if b.is_urgent else "") + ("; CANCELLED " + format_time(b.cancelled_at, tz)
                                                     if b.is_cancelled else ""))
    print(f"  recipients {c['recipients']}: queued {c['queued']}, sent {c['sent']}, failed {c['failed']}, "
          f"unreachable {c['unreachable']}, cancelled {c['cancelled']}, acknowledged {c['acknowledged']}"
          + ("" if b.requires_ack else " (Got it not asked for)"))
    for r in report.recipients:
        print(f"  {r.ref:<28} {r.name:<24} {recipient_line(r, tz)}")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as out:
            rows = report.write_csv(out)
        print(f"wrote {rows} rows to {args.csv}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    result = service(coach_from_env()).cancel(actor(), args.id)
    print(f"broadcast #{result.broadcast.id} cancelled: {result.stopped} waiting messages stopped, "
          f"{result.already_sent} had already gone")
    return 0


def _follow_up(args: argparse.Namespace) -> int:
    r = service(coach_from_env()).follow_up(actor(), args.id)
    print(f"broadcast #{r.broadcast.id}: {r.queued} reminders queued; {r.already_chased} already reminded, "
          f"{r.not_yet_delivered} not yet delivered, {r.acknowledged} confirmed")
    return 0
