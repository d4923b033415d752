"""A ready Slack app manifest: a council creates the app with one paste.

The scopes, events, slash command and shortcut here are exactly the ones the
adapter uses; a test checks the two agree.
"""

from __future__ import annotations

from typing import Any

from bot.errors import BadInput

from .app import EVENTS_PATH, SHORTCUT_CALLBACK_ID
from .settings import DEFAULT_COMMAND

APP_NAME = "Councillor Coach"
BOT_NAME = "Coach"

# Each scope, and the calls that need it.
BOT_SCOPES: dict[str, str] = {
    "app_mentions:read": "app_mention events (@Coach in a channel)",
    "chat:write": "chat.postMessage, chat.update, chat.postEphemeral",
    "commands": "the slash command",
    "im:history": "message.im events (people writing to the coach)",
    "im:read": "direct-message details",
    "im:write": "conversations.open (reminders and broadcasts to people not yet in a DM)",
    "users:read": "users.info (names for the member directory)",
    "channels:read": "conversations.list and conversations.members for public channels (sync-members)",
    "groups:read": "conversations.members for private channels the coach was invited to (sync-members)",
}

BOT_EVENTS = ("app_home_opened", "app_mention", "message.im")
OAUTH_EVENTS = ("app_uninstalled", "tokens_revoked")

OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
INSTALL_PATH = "/slack/install"


def events_url(url: str) -> str:
    """The request URL from a base URL ('https://coach.example.gov.uk') or the full one."""
    url = url.strip().rstrip("/")
    if not url.startswith("https://"):
        raise BadInput(f"'{url}' is not an https:// address; Slack only sends requests to https URLs")
    return url if url.endswith(EVENTS_PATH) else url + EVENTS_PATH


def build_manifest(
    url: str | None,
    *,
    socket_mode: bool = False,
    oauth: bool = False,
    name: str = APP_NAME,
    command: str = DEFAULT_COMMAND,
) -> dict[str, Any]:
    """The manifest as a dict (print it as JSON or YAML)."""
    if not socket_mode and not url:
        raise BadInput("give the coach's public address with --url https://..., or use --socket")
    if oauth and socket_mode:
        raise BadInput("--oauth needs HTTP mode (Slack's OAuth redirect comes to your public URL)")
    if not command.startswith("/") or " " in command:
        raise BadInput("the command must be one word starting with /, for example /coach")
    request_url = None if socket_mode else events_url(url or "")
    slash: dict[str, Any] = {
        "command": command,
        "description": "Check a draft post, ask a question, take a quiz",
        "usage_hint": "check <draft> | ask <question> | quiz | progress | help",
        "should_escape": False,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": sorted(BOT_EVENTS + (OAUTH_EVENTS if oauth else ()))}
    if request_url:
        slash["url"] = request_url
        interactivity["request_url"] = request_url
        events["request_url"] = request_url
    oauth_config: dict[str, Any] = {"scopes": {"bot": sorted(BOT_SCOPES)}}
    if oauth and request_url:
        oauth_config["redirect_urls"] = [request_url[: -len(EVENTS_PATH)] + OAUTH_REDIRECT_PATH]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name[:35],
            "description": "Helps councillors use social media well and safely",
            "long_description": (
                "Councillor Coach checks draft social-media posts before they go out (ok, caution or stop, "
                "with a safer way to say it), answers questions about the rules from your council's own "
                "guidance, runs two-minute scenario quizzes and sends gentle reminders. It never stores "
                "the text of your drafts or questions. Message it directly, use "
                f"{command}, or pick 'Check with Coach' on any message."
            ),
            "background_color": "#1d4f91",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": BOT_NAME, "always_online": True},
            "slash_commands": [slash],
            "shortcuts": [
                {
                    "name": "Check with Coach",
                    "type": "message",
                    "callback_id": SHORTCUT_CALLBACK_ID,
                    "description": "Check this message as a draft, privately",
                }
            ],
        },
        "oauth_config": oauth_config,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
