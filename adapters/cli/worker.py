"""`coach worker`, `coach outbox ...` and `coach reminders preview`: for operators."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

from bot.background import DeliveryLoop
from bot.errors import BadInput, ConfigError, NotFound
from bot.outbox import STATES, Outbox
from bot.schedule import local

from ..senders import configured_senders
from .base import coach_from_env


def register(sub: Any) -> None:
    w = sub.add_parser("worker", help="deliver reminders and broadcasts (scale-out: run several on PostgreSQL)")
    w.add_argument("--once", action="store_true", help="one pass, then exit")
    w.add_argument("--interval", type=float, default=2.0, help="seconds between passes when idle (default 2)")
    w.set_defaults(func=_worker)

    o = sub.add_parser("outbox", help="inspect and re-send proactive messages")
    os_ = o.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    ls = os_.add_parser("list", help="list outbox rows")
    ls.add_argument("--state", action="append", choices=STATES, help="only rows in this state (repeatable)")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=_outbox_list)
    rt = os_.add_parser("retry", help="re-send a failed or unreachable row")
    rt.add_argument("id", type=int)
    rt.set_defaults(func=_outbox_retry)

    r = sub.add_parser("reminders", help="reminder tools")
    rs = r.add_subparsers(dest="reminders_command", metavar="ACTION", required=True)
    pv = rs.add_parser("preview", help="what would be sent to a member, and when")
    pv.add_argument("--member", required=True, help="PLATFORM:USER_ID")
    pv.add_argument("--days", type=int, default=14)
    pv.set_defaults(func=_preview)


def _worker(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    senders = configured_senders(os.environ)
    if not senders:
        raise ConfigError(
            "no platform is configured to deliver to: set SLACK_BOT_TOKEN (Slack) or MicrosoftAppId/"
            "MicrosoftAppPassword (Teams); console messages are delivered inside 'coach chat'"
        )
    loop = DeliveryLoop(coach, senders)
    if args.once:
        stats = asyncio.run(loop.run_once())
        print(f"claimed {stats.claimed}: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.outcomes.items())))
        return 0

    async def forever() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        print(f"worker {loop.worker.worker_id} delivering to: {', '.join(sorted(senders))}", flush=True)
        await loop.run(stop, interval=args.interval)

    asyncio.run(forever())
    return 0


def _outbox_list(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    rows = Outbox(coach.engine).list(states=args.state or (), limit=args.limit)
    tz = coach.knowledge.current.council.tz
    if not rows:
        print("the outbox is empty" if not args.state else "no rows in that state")
    for r in rows:
        when = local(r.due_at, tz).strftime("%Y-%m-%d %H:%M")
        error = f"  ({r.last_error})" if r.last_error else ""
        print(f"{r.id:>6}  {r.state:<11} {when}  {r.platform:<7} {r.kind:<12} member {r.member_id}  "
              f"tries {r.attempts}{error}")
    counts = Outbox(coach.engine).counts()
    print("totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else "")
    return 0


def _outbox_retry(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    outbox = Outbox(coach.engine)
    row = outbox.get(args.id)
    if row is None:
        raise NotFound(f"no outbox row {args.id}")
    if not outbox.retry(args.id, coach.clock.now()):
        raise BadInput(f"row {args.id} is {row.state}; only failed or unreachable rows can be re-sent")
    if row.member_id is not None:
        coach.members.set_status(row.member_id, "active")
    coach.audit.record(f"cli:{os.environ.get('USER', 'operator')}", "outbox.retry", coach.clock.now(), row=args.id)
    print(f"row {args.id} will be sent on the next worker pass")
    return 0


def _preview(args: argparse.Namespace) -> int:
    coach = coach_from_env()
    member = coach.directory.resolve(args.member)
    service = coach.services["reminders"]
    tz = service.tz(member)
    items = service.preview(member, args.days)
    if not items:
        print(f"nothing would be sent to {args.member} in the next {args.days} days")
    for when, kind, summary in items:
        print(f"{local(when, tz).strftime('%a %d %b %Y %H:%M %Z')}  {kind:<12} {summary}")
    return 0
