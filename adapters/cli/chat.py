"""`coach chat`: talk to the coach in the terminal (no account, no server)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import io
import sys
from typing import Any

from adapters.console.repl import ConsoleChat

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("chat", help="chat with the coach in this terminal")
    p.add_argument("--user", default=None, help="who you are in this chat (default: your login name)")
    p.add_argument("--officer", action="store_true", help="chat as a council officer (records you as one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # binary pasted in is shown as replacement characters
    coach = coach_from_env()
    user = (args.user or getpass.getuser() or "me").strip() or "me"
    if args.officer:
        coach.directory.add_officer(f"console:{user}", actor=f"console:{user} --officer")
    chat = ConsoleChat(coach, user)
    return asyncio.run(chat.run(background=_background_jobs(coach)))


def _background_jobs(coach: Any) -> list[Any]:
    """Jobs that run while the chat is open (the outbox worker joins here)."""
    return []
