"""Bot Framework activities shaped as Microsoft Teams sends them."""

from __future__ import annotations

import itertools
from typing import Any

TENANT = "72f988bf-0000-4000-8000-2d7cd011db47"
BOT = {"id": "28:9f3c5a1e-coach-bot", "name": "Councillor Coach"}
TEAM = {"id": "19:members-team@thread.tacv2", "name": "Anytown Members"}
CHANNEL_ID = "19:general-channel@thread.tacv2"

_ids = itertools.count(1_763_460_000_000)


def user(name: str) -> dict[str, str]:
    slug = name.lower().replace(" ", "")
    return {"id": f"29:1{slug}-teams-id", "name": name, "aadObjectId": f"aad-{slug}"}


def personal_conversation(name: str) -> dict[str, Any]:
    return {"conversationType": "personal", "tenantId": TENANT, "id": f"a:1{name.lower().replace(' ', '')}-chat"}


def _base(kind: str, service_url: str, sender: dict[str, str], conversation: dict[str, Any], **extra: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": kind,
        "id": str(next(_ids)),
        "timestamp": "2026-11-18T10:00:00.000Z",
        "localTimestamp": "2026-11-18T10:00:00.000+00:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender,
        "conversation": conversation,
        "recipient": dict(BOT),
        "locale": "en-GB",
        "channelData": {"tenant": {"id": TENANT}},
    }
    activity.update(extra)
    return activity


def personal_message(service_url: str, text: str, name: str = "Alice Ward") -> dict[str, Any]:
    return _base(
        "message", service_url, user(name), personal_conversation(name),
        text=text, textFormat="plain",
        entities=[{"type": "clientInfo", "locale": "en-GB", "country": "GB", "platform": "Web", "timezone": "Europe/London"}],
    )


def channel_mention(service_url: str, text: str, name: str = "Bob Clerk", *, mention: bool = True) -> dict[str, Any]:
    """A new post in a team channel that @mentions the coach (the mention leads the text)."""
    at = f"<at>{BOT['name']}</at>"
    activity = _base(
        "message", service_url, user(name),
        {"isGroup": True, "conversationType": "channel", "tenantId": TENANT,
         "id": f"{CHANNEL_ID};messageid={next(_ids)}"},
        text=f"{at} {text}" if mention else text,
        textFormat="plain",
        channelData={
            "teamsChannelId": CHANNEL_ID, "teamsTeamId": TEAM["id"],
            "channel": {"id": CHANNEL_ID}, "team": dict(TEAM), "tenant": {"id": TENANT},
        },
    )
    activity["entities"] = [{"type": "clientInfo", "locale": "en-GB", "country": "GB", "platform": "Windows"}]
    if mention:
        activity["entities"].insert(0, {"type": "mention", "text": at, "mentioned": dict(BOT)})
    return activity


def card_submit(service_url: str, action: str, value: str, card_activity_id: str, name: str = "Alice Ward") -> dict[str, Any]:
    """What Teams posts when someone presses an Action.Submit button on one of our cards."""
    return _base(
        "message", service_url, user(name), personal_conversation(name),
        replyToId=card_activity_id,
        value={"action": action, "value": value},
    )


def invoke_submit(service_url: str, action: str, value: str, card_activity_id: str, name: str = "Alice Ward") -> dict[str, Any]:
    """The invoke form of a card action (an `msteams` invoke button): no name, data as value."""
    return _base(
        "invoke", service_url, user(name), personal_conversation(name),
        replyToId=card_activity_id,
        value={"action": action, "value": value},
    )


def installed_personal(service_url: str, name: str = "Alice Ward") -> dict[str, Any]:
    return _base(
        "conversationUpdate", service_url, user(name), personal_conversation(name),
        membersAdded=[{"id": BOT["id"]}],
    )


def installed_in_team(service_url: str, name: str = "Olu Officer") -> dict[str, Any]:
    return _base(
        "conversationUpdate", service_url, user(name),
        {"isGroup": True, "conversationType": "channel", "tenantId": TENANT, "id": TEAM["id"]},
        membersAdded=[{"id": BOT["id"]}],
        channelData={"team": dict(TEAM), "eventType": "teamMemberAdded", "tenant": {"id": TENANT}},
    )
