"""Talk to a real coach in tests as a given person."""

from __future__ import annotations

from bot.coach import Coach
from bot.messages import Incoming
from bot.replies import Reply


def say(coach: Coach, text: str, user: str = "alice", platform: str = "console") -> list[Reply]:
    return coach.handle(Incoming(platform=platform, user_id=user, display_name=user.title(), text=text))


def press(coach: Coach, action: str, value: str = "", user: str = "alice", platform: str = "console") -> list[Reply]:
    return coach.handle(
        Incoming(platform=platform, user_id=user, display_name=user.title(), action=action, value=value)
    )


def all_text(replies: list[Reply]) -> str:
    """Every visible word of the replies, for assertions."""
    from adapters.console.render import render

    return "\n".join(render(r) for r in replies)
