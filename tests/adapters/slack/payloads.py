"""Request bodies shaped like Slack's documented payloads, and signed like Slack signs them."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from .fake_api import BOT_USER_ID, TEAM_ID

APP_ID = "A0COACH"
_ids = itertools.count(1)


def next_ts() -> str:
    return f"1731920000.{next(_ids):06d}"


def signed_headers(secret: str, body: str, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def event_callback(event: dict[str, Any], *, event_id: str | None = None, team: str = TEAM_ID) -> dict[str, Any]:
    """The Events API envelope (https://api.slack.com/apis/events-api#callback-field)."""
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
    }


def direct_message(text: str, *, user: str = "U0ALICE", channel: str = "D0ALICE", **extra: Any) -> dict[str, Any]:
    """message.im (https://api.slack.com/events/message.im)."""
    ts = next_ts()
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        "team": TEAM_ID,
        "client_msg_id": f"c{next(_ids)}",
    }
    event.update(extra)
    return event


def app_mention(text: str, *, user: str = "U0ALICE", channel: str = "C0GENERAL", thread_ts: str | None = None) -> dict[str, Any]:
    """app_mention (https://api.slack.com/events/app_mention)."""
    ts = next_ts()
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def app_home_opened(user: str = "U0ALICE", channel: str = "D0ALICE") -> dict[str, Any]:
    """app_home_opened (https://api.slack.com/events/app_home_opened)."""
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": "home", "event_ts": next_ts()}


def url_verification(challenge: str) -> dict[str, Any]:
    return {"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"}


def slash_command(
    text: str, *, response_url: str, user: str = "U0ALICE", channel: str = "C0GENERAL", command: str = "/coach"
) -> dict[str, str]:
    """A slash command's form fields (https://api.slack.com/interactivity/slash-commands#app_command_handling)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "anytown",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "general",
        "user_id": user,
        "user_name": "alice",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{next(_ids)}.1234.abcdef",
    }


def block_actions(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user: str = "U0ALICE",
    channel: str = "D0ALICE",
    message_ts: str = "1700000000.000001",
    is_ephemeral: bool = False,
    container_type: str = "message",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """block_actions (https://api.slack.com/reference/interaction-payloads/block-actions)."""
    container: dict[str, Any] = {"type": container_type}
    if container_type == "message":
        container.update(message_ts=message_ts, channel_id=channel, is_ephemeral=is_ephemeral)
    else:
        container.update(view_id="V123")
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": container,
        "trigger_id": f"{next(_ids)}.1234.abcdef",
        "team": {"id": TEAM_ID, "domain": "anytown"},
        "enterprise": None,
        "is_enterprise_install": False,
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Answer", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": next_ts(),
            }
        ],
    }
    if container_type == "message":
        body["channel"] = {"id": channel, "name": "directmessage"}
        body["message"] = message or {"type": "message", "ts": message_ts, "user": BOT_USER_ID, "text": "prompt"}
    else:
        body["view"] = {"id": "V123", "type": "home", "blocks": []}
    return body


def message_action(
    text: str, *, response_url: str, user: str = "U0ALICE", channel: str = "C0GENERAL", callback_id: str = "check_with_coach"
) -> dict[str, Any]:
    """A message shortcut (https://api.slack.com/reference/interaction-payloads/shortcuts)."""
    ts = next_ts()
    return {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": next_ts(),
        "team": {"id": TEAM_ID, "domain": "anytown"},
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": TEAM_ID},
        "channel": {"id": channel, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": f"{next(_ids)}.1234.abcdef",
        "response_url": response_url,
        "message_ts": ts,
        "message": {"type": "message", "user": "U0BOB", "ts": ts, "text": text},
    }


def view_submission(callback_id: str, values: dict[str, dict[str, Any]], *, user: str = "U0ALICE", private_metadata: str = "") -> dict[str, Any]:
    """view_submission (https://api.slack.com/reference/interaction-payloads/views#view_submission)."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "anytown"},
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": f"{next(_ids)}.1234.abcdef",
        "view": {
            "id": "V0MODAL",
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": "156772938.1827394",
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


def form_body(fields: dict[str, str]) -> str:
    return urlencode(fields)


def interactive_body(payload: dict[str, Any]) -> str:
    """Interactivity payloads arrive as a form with one field, `payload`, holding JSON."""
    return urlencode({"payload": json.dumps(payload)})
