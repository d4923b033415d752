"""`coach kb diff OLD_DIR NEW_DIR [--broadcast ...]`: what changed in the guidance, in plain words.

With --broadcast the summary goes to members in one step, through the same
preview, checker warnings and confirmation as `coach broadcast send`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.errors import BadInput
from bot.guidance import load_knowledge
from bot.kb_diff import diff_knowledge

from .base import coach_from_env
from .broadcast import add_delivery_options, preview_and_send

DEFAULT_TITLE = "What's new in the guidance"


def register_diff(kb_actions: Any) -> None:
    """Add `diff` to the `coach kb` sub-commands."""
    d = kb_actions.add_parser(
        "diff",
        help="summarise what changed between two knowledge bases (and optionally broadcast it)",
        description="Loads both knowledge bases, validating each, and lists topics, questions and answers, "
        "quiz scenarios and checker rules added, removed or changed (and which parts), and changes to the "
        "council's settings.",
    )
    d.add_argument("old", help="the knowledge directory before")
    d.add_argument("new", help="the knowledge directory after")
    d.add_argument("--broadcast", action="store_true", help="send the summary to members as a broadcast")
    d.add_argument("--title", default=DEFAULT_TITLE, help=f"the broadcast's title (default: {DEFAULT_TITLE!r})")
    add_delivery_options(d)
    d.set_defaults(func=_diff)


def _diff(args: argparse.Namespace) -> int:
    for value in (args.old, args.new):
        if not Path(value).is_dir():
            raise BadInput(f"{value} is not a directory")
    diff = diff_knowledge(load_knowledge(Path(args.old)), load_knowledge(Path(args.new)))
    if not args.broadcast:
        print(diff.text())
        return 0
    if diff.is_empty:
        raise BadInput("nothing changed between the two knowledge bases, so there is nothing to broadcast")
    print(diff.text() + "\n")
    coach: Any = coach_from_env()
    return preview_and_send(coach, args, args.title, diff.broadcast_body())
