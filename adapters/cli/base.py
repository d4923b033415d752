"""`coach db ...` and shared helpers for building the coach from the environment."""

from __future__ import annotations

import argparse
from typing import Any

from bot.coach import Coach, build_coach
from bot.config import Settings
from bot.storage import database


def coach_from_env() -> Coach:
    return build_coach(Settings.from_env())


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply schema migrations (also done at every start-up)")
    up.set_defaults(func=_upgrade)
    cur = db_sub.add_parser("current", help="show the schema revision")
    cur.set_defaults(func=_current)


def _upgrade(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    engine = database.make_engine(settings.database_url)
    database.upgrade(engine)
    print(f"database is at revision {database.current_revision(engine)} ({_where(settings)})")
    return 0


def _current(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    engine = database.make_engine(settings.database_url)
    print(f"current: {database.current_revision(engine)}  head: {database.head_revision(engine)}")
    return 0


def _where(settings: Settings) -> str:
    if settings.is_sqlite:
        return settings.database_url.split("///", 1)[-1]
    return settings.database_url.split("@")[-1]
