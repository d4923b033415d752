"""`coach chat`: talk to the coach in the terminal (no account, no server)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import io
import sys
from typing import Any

from adapters.console.repl import ConsoleChat
from adapters.console.sender import ConsoleSender
from bot.background import DeliveryLoop

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("chat", help="chat with the coach in this terminal")
    p.add_argument("--user", default=None, help="who you are in this chat (default: your login name)")
    p.add_argument("--officer", action="store_true", help="chat as a council officer (records you as one)")
    p.add_argument("--interval", type=float, default=2.0, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # binary pasted in is shown as replacement characters
    coach = coach_from_env()
    user = (args.user or getpass.getuser() or "me").strip() or "me"
    if args.officer:
        coach.directory.add_officer(f"console:{user}", actor=f"console:{user} --officer")
    chat = ConsoleChat(coach, user)
    return asyncio.run(chat.run(background=[_deliver_to(coach, user, args.interval)]))


def _deliver_to(coach: Any, user: str, interval: float) -> Any:
    """While the chat is open, reminders and broadcasts for this person print into it."""

    async def job(chat: ConsoleChat) -> None:
        member = coach.members.ensure("console", user, coach.clock.now(), display_name=user, touch=False)
        loop = DeliveryLoop(coach, {"console": ConsoleSender(chat)}, member_id=member.id)
        await loop.run(asyncio.Event(), interval=interval)

    return job
