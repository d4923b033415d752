"""Teams activity -> Incoming, and the conversation references that let us write back later.

Everything here reads activities defensively: a body that passed the
endpoint's checks can still carry odd shapes (no recipient, a mention entity
without `mentioned`, channel data that is a string), and none of that may
crash a turn.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationReference

from bot.messages import Incoming

PLATFORM = "teams"
MAX_ACTION_CHARS = 200
MAX_VALUE_CHARS = 2_000
_SPACES = re.compile(r"[ \t]+")
_AT_TAG = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


# -- where a message came from ----------------------------------------------------


def scope_of(activity: Activity) -> str:
    """'personal', 'groupChat' or 'channel' (the Bot Framework Emulator counts as personal)."""
    conversation = activity.conversation
    kind = (getattr(conversation, "conversation_type", None) or "").strip()
    if kind in ("personal", "groupChat", "channel"):
        return kind
    return "groupChat" if getattr(conversation, "is_group", False) else "personal"


def channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def tenant_of(activity: Activity) -> str:
    tenant = getattr(activity.conversation, "tenant_id", None)
    if isinstance(tenant, str) and tenant:
        return tenant
    raw = channel_data(activity).get("tenant")
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else ""


def team_of(activity: Activity) -> tuple[str, str] | None:
    """(team id, team name) when the activity comes from a team channel."""
    raw = channel_data(activity).get("team")
    if not isinstance(raw, dict):
        return None
    team_id, name = raw.get("id"), raw.get("name")
    if not isinstance(team_id, str) or not team_id:
        return None
    return team_id, name if isinstance(name, str) else ""


def has_sender(activity: Activity) -> bool:
    """Enough to answer: who sent it and in which conversation."""
    user, conversation = activity.from_property, activity.conversation
    return bool(
        user is not None and isinstance(user.id, str) and user.id
        and conversation is not None and isinstance(conversation.id, str) and conversation.id
    )


# -- text and pressed buttons -----------------------------------------------------


def mentions_bot(activity: Activity) -> bool:
    return bool(_bot_mention_texts(activity)) or _recipient_in_at_tags(activity)


def text_without_mentions(activity: Activity) -> str:
    """The message text with the bot's @mention removed and other mentions left as names."""
    text = activity.text if isinstance(activity.text, str) else ""
    for tag in _bot_mention_texts(activity):
        text = text.replace(tag, " ")
    bot_name = _recipient_name(activity)
    text = _AT_TAG.sub(lambda m: " " if bot_name and m.group(1).strip() == bot_name else m.group(1), text)
    if activity.channel_id == "msteams":
        # Teams sends channel and chat text with HTML entities (&amp;, &nbsp;).
        text = html.unescape(text)
    return _SPACES.sub(" ", text.replace("\xa0", " ")).strip()


def submitted_choice(value: object) -> tuple[str, str] | None:
    """(action, value) from a card submit, or None when the payload is not a button press.

    Action.Submit posts its `data` as the message `value`; Action.Execute (an
    `adaptiveCard/action` invoke) nests it under `action.data`. A payload that
    names an action of the wrong type yields an empty action, which the router
    answers as a stale button.
    """
    if not isinstance(value, dict):
        return None
    data: dict[str, Any] = value
    nested = value.get("action")
    if isinstance(nested, dict):
        inner = nested.get("data")
        data = inner if isinstance(inner, dict) else {}
        if "action" not in data and isinstance(nested.get("verb"), str):
            data = {**data, "action": nested["verb"]}
    if "action" not in data:
        return None
    action = data.get("action")
    raw_value = data.get("value", "")
    if not isinstance(action, str):
        return "", ""
    text_value = raw_value if isinstance(raw_value, str) else json.dumps(raw_value, default=str)
    return action.strip()[:MAX_ACTION_CHARS], text_value[:MAX_VALUE_CHARS]


# -- references -------------------------------------------------------------------


def reference_for(activity: Activity) -> ConversationReference:
    """The address of this conversation, without the activity id, so it stays stable turn to turn."""
    return ConversationReference(
        activity_id=None,
        user=_account(activity.from_property),
        bot=_account(activity.recipient),
        conversation=_conversation(activity.conversation),
        channel_id=activity.channel_id,
        locale=None,
        service_url=activity.service_url,
    )


def personal_seed_for(activity: Activity) -> ConversationReference:
    """Enough to open a one-to-one chat with the sender later (no conversation id yet).

    Teams lets a bot start a personal chat with anyone in a team it is installed
    in; the sender creates the conversation on first use.
    """
    return ConversationReference(
        user=_account(activity.from_property),
        bot=_account(activity.recipient),
        conversation=ConversationAccount(id="", conversation_type="personal", tenant_id=tenant_of(activity) or None),
        channel_id=activity.channel_id,
        service_url=activity.service_url,
    )


def team_reference_for(activity: Activity, team_id: str) -> ConversationReference:
    """The team's General channel (its id is the team id), with no user attached."""
    return ConversationReference(
        bot=_account(activity.recipient),
        conversation=ConversationAccount(
            id=team_id, is_group=True, conversation_type="channel", tenant_id=tenant_of(activity) or None
        ),
        channel_id=activity.channel_id,
        service_url=activity.service_url,
    )


def to_json(reference: ConversationReference) -> str:
    return json.dumps(reference.serialize(), sort_keys=True, separators=(",", ":"))


def from_json(route: str) -> ConversationReference:
    """Parse a stored route; ValueError when it is not a usable reference."""
    try:
        data = json.loads(route)
    except (TypeError, ValueError) as exc:
        raise ValueError("the stored reference is not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("the stored reference is not an object")
    try:
        reference = ConversationReference().deserialize(data)
    except Exception as exc:  # msrest raises its own DeserializationError family
        raise ValueError("the stored reference has the wrong shape") from exc
    if not reference.service_url or reference.conversation is None or reference.bot is None:
        raise ValueError("the stored reference lacks a service URL, conversation or bot")
    return reference


# -- the turn as the core sees it -------------------------------------------------------


def incoming_for(activity: Activity, *, text: str = "", action: str | None = None, value: str | None = None) -> Incoming:
    user = activity.from_property
    scope = scope_of(activity)
    extras = {"scope": scope}
    team = team_of(activity)
    if team:
        extras["team_id"] = team[0]
    return Incoming(
        platform=PLATFORM,
        user_id=user.id,
        display_name=(user.name or "")[:200] if isinstance(user.name, str) else "",
        workspace=tenant_of(activity),
        conversation_id=activity.conversation.id,
        text=text,
        action=action,
        value=value,
        route=to_json(reference_for(activity)),
        # Only a personal chat is the member's own address; a channel reply is seen by everyone.
        is_private=scope == "personal",
        extras=extras,
    )


def _bot_mention_texts(activity: Activity) -> list[str]:
    bot_id = getattr(activity.recipient, "id", None)
    found: list[str] = []
    for entity in activity.entities or []:
        if not isinstance(getattr(entity, "type", None), str) or entity.type.lower() != "mention":
            continue
        props = getattr(entity, "additional_properties", None) or {}
        mentioned = props.get("mentioned")
        if not isinstance(mentioned, dict) or not bot_id or mentioned.get("id") != bot_id:
            continue
        tag = props.get("text")
        found.append(tag if isinstance(tag, str) and tag else f"<at>{mentioned.get('name') or ''}</at>")
    return found


def _recipient_name(activity: Activity) -> str:
    name = getattr(activity.recipient, "name", None)
    return name.strip() if isinstance(name, str) else ""


def _recipient_in_at_tags(activity: Activity) -> bool:
    name = _recipient_name(activity)
    text = activity.text if isinstance(activity.text, str) else ""
    return bool(name) and any(m.group(1).strip() == name for m in _AT_TAG.finditer(text))


def _account(account: ChannelAccount | None) -> ChannelAccount | None:
    if account is None:
        return None
    return ChannelAccount(
        id=account.id,
        name=account.name,
        aad_object_id=getattr(account, "aad_object_id", None),
        role=getattr(account, "role", None),
    )


def _conversation(conversation: ConversationAccount | None) -> ConversationAccount | None:
    if conversation is None:
        return None
    return ConversationAccount(
        id=conversation.id,
        is_group=conversation.is_group,
        conversation_type=conversation.conversation_type,
        tenant_id=conversation.tenant_id,
        name=conversation.name,
    )
