"""Slack payloads -> Incoming: direct messages, mentions, /coach, shortcuts, buttons.

Every function reads the payload defensively (Slack adds fields over time and a
hostile body may lack any of them) and returns None when there is nothing for
the coach to answer.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from bot.messages import Incoming

from .render import ACTION_SUFFIX

PLATFORM = "slack"

# Slack's own markup in message text: <@U123>, <#C123|name>, <!here>, <https://x|label>.
_MARKUP = re.compile(r"<([^<>]*)>")


def plain_text(text: object) -> str:
    """Slack's message markup as the plain text a person typed."""
    if not isinstance(text, str):
        return ""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return f"@{label or target[1:]}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            word = target[1:].split("^")[0]
            return f"@{label or word}"
        if target.startswith("mailto:"):
            return label or target[len("mailto:"):]
        return label if label and label != target else target

    return html.unescape(_MARKUP.sub(replace, text)) if "<" in text or "&" in text else text


def route_for(team_id: str, channel_id: str, enterprise_id: str = "") -> str:
    """The adapter-owned reference the core stores: enough to DM this person later."""
    data = {"team": team_id, "channel": channel_id}
    if enterprise_id:
        data["enterprise"] = enterprise_id
    return json.dumps(data, sort_keys=True)


def parse_route(route: str) -> dict[str, str]:
    try:
        data = json.loads(route) if route else {}
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def is_direct_channel(channel_id: str) -> bool:
    return channel_id.startswith("D")


def core_action(action_id: str) -> str:
    """'quiz.answer#2' -> 'quiz.answer' (render makes ids unique within a message)."""
    return action_id.rsplit(ACTION_SUFFIX, 1)[0] if ACTION_SUFFIX in action_id else action_id


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def team_of(body: dict[str, Any]) -> str:
    """The workspace id, wherever this kind of payload keeps it."""
    return (
        _str(body.get("team_id"))
        or _str(_dict(body.get("team")).get("id"))
        or _str(_dict(body.get("user")).get("team_id"))
        or _str(_dict(body.get("event")).get("team"))
    )


def enterprise_of(body: dict[str, Any]) -> str:
    return _str(body.get("enterprise_id")) or _str(_dict(body.get("enterprise")).get("id"))


def from_direct_message(body: dict[str, Any]) -> Incoming | None:
    """A message.im event: someone wrote to the coach in its Messages tab."""
    event = _dict(body.get("event"))
    user, channel = _str(event.get("user")), _str(event.get("channel"))
    # Edits, deletions, joins and bot posts arrive as subtypes; only people's new messages count.
    if event.get("subtype") or event.get("bot_id") or not user or not channel:
        return None
    if event.get("channel_type") not in (None, "im"):
        return None
    team = team_of(body)
    return Incoming(
        platform=PLATFORM,
        user_id=user,
        workspace=team,
        conversation_id=channel,
        text=plain_text(event.get("text")),
        route=route_for(team, channel, enterprise_of(body)),
        is_private=True,
        extras={"ts": _str(event.get("ts"))},
    )


def from_mention(body: dict[str, Any], bot_user_id: str | None) -> Incoming | None:
    """An app_mention in a channel: answered in a thread, so the channel stays tidy."""
    event = _dict(body.get("event"))
    user, channel = _str(event.get("user")), _str(event.get("channel"))
    if event.get("bot_id") or not user or not channel:
        return None
    raw = _str(event.get("text"))
    if bot_user_id:
        raw = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", raw)
    ts = _str(event.get("ts"))
    return Incoming(
        platform=PLATFORM,
        user_id=user,
        workspace=team_of(body),
        conversation_id=channel,
        text=" ".join(plain_text(raw).split()),
        is_private=is_direct_channel(channel),
        extras={"thread_ts": _str(event.get("thread_ts")) or ts, "ts": ts},
    )


def from_command(body: dict[str, Any]) -> Incoming | None:
    """A slash command: '/coach check ...' becomes the text 'check ...'; bare '/coach' is help."""
    user, channel = _str(body.get("user_id")), _str(body.get("channel_id"))
    if not user:
        return None
    text = plain_text(body.get("text")).strip() or "help"
    team = team_of(body)
    private = is_direct_channel(channel) or body.get("channel_name") == "directmessage"
    return Incoming(
        platform=PLATFORM,
        user_id=user,
        display_name=_str(body.get("user_name")),
        workspace=team,
        conversation_id=channel,
        text=text,
        is_private=private,
        # No route: a command typed in a DM between two people names their DM, not ours.
    )


def from_block_action(body: dict[str, Any]) -> Incoming | None:
    """A button press: the first action's id (without render's suffix) and value."""
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return None
    action = actions[0]
    action_id = _str(action.get("action_id"))
    user = _dict(body.get("user"))
    user_id = _str(user.get("id"))
    if not action_id or not user_id:
        return None
    value = action.get("value")
    if value is None:  # select menus carry their value in selected_option
        value = _dict(action.get("selected_option")).get("value")
    container = _dict(body.get("container"))
    channel = _str(container.get("channel_id")) or _str(_dict(body.get("channel")).get("id"))
    team = team_of(body)
    # Only a message the coach posted in its own DM names a channel it can write to later.
    private = is_direct_channel(channel) and not container.get("is_ephemeral")
    return Incoming(
        platform=PLATFORM,
        user_id=user_id,
        display_name=_str(user.get("name")) or _str(user.get("username")),
        workspace=team,
        conversation_id=channel,
        action=core_action(action_id),
        value=_str(value),
        is_private=private or container.get("type") == "view",
        route=route_for(team, channel, enterprise_of(body)) if private else "",
    )


def from_message_shortcut(body: dict[str, Any]) -> Incoming | None:
    """'Check with Coach' on any message: a check of that message's text."""
    user = _dict(body.get("user"))
    user_id = _str(user.get("id"))
    if not user_id:
        return None
    text = plain_text(_dict(body.get("message")).get("text")).strip()
    return Incoming(
        platform=PLATFORM,
        user_id=user_id,
        display_name=_str(user.get("name")) or _str(user.get("username")),
        workspace=team_of(body),
        conversation_id=_str(_dict(body.get("channel")).get("id")),
        text=f"check {text}" if text else "",
        is_private=False,
    )


def for_home(body: dict[str, Any]) -> Incoming | None:
    """app_home_opened on the Home tab: whose overview to build."""
    event = _dict(body.get("event"))
    user = _str(event.get("user"))
    if not user or event.get("tab", "home") != "home":
        return None
    return Incoming(platform=PLATFORM, user_id=user, workspace=team_of(body))


def is_well_formed(body: dict[str, Any]) -> bool:
    """The fields Bolt relies on are there, with the right types.

    Slack always sends them; a body without them is broken or forged, and is
    answered 400 instead of reaching Bolt (which would fail with a 500 that
    makes Slack retry).
    """
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        return isinstance(event, dict) and isinstance(event.get("type"), str)
    if kind == "block_actions":
        actions = body.get("actions")
        return (
            isinstance(body.get("user"), dict)
            and isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        )
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return (
            isinstance(body.get("user"), dict)
            and isinstance(view, dict)
            and isinstance(view.get("type"), str)
            and isinstance(view.get("state", {}), dict)
        )
    if kind in ("message_action", "shortcut"):
        return isinstance(body.get("user"), dict) and isinstance(body.get("callback_id"), str)
    return True
