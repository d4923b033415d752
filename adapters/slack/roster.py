"""`coach slack sync-members CHANNEL`: a channel's members (e.g. #members) into the directory.

Every person in the channel is ensured in the member directory with a
`channel:<name>` tag (plus any tags given); people who have left the channel
lose that tag. Bots and deactivated accounts are skipped. Someone the coach has
never talked to gets a seed address naming their workspace, from which the
sender opens a DM the first time a reminder or broadcast is due.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.coach import Coach
from bot.errors import BadInput, ConfigError, NotFound

from .inbound import PLATFORM, route_for

PAGE_SIZE = 200  # Slack's recommended page size for conversations.members / .list
LOOKUPS_AT_ONCE = 4  # users.info is Tier 4; a few at a time stays well inside it
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    team_id: str


@dataclass(frozen=True)
class SyncResult:
    channel: str
    tag: str
    total: int
    added: int
    left: int
    skipped: int


def channel_tag(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"channel:{slug or 'channel'}"[:100]


async def resolve_channel(client: AsyncWebClient, channel: str) -> tuple[str, str]:
    """(id, name) for '#members', 'members' or 'C0123ABCD'."""
    wanted = channel.strip().lstrip("#")
    if not wanted:
        raise BadInput("name a channel, for example #members or its id C0123ABCD")
    if CHANNEL_ID.match(wanted):
        try:
            info = await client.conversations_info(channel=wanted)
            return wanted, str((info.get("channel") or {}).get("name") or wanted)
        except SlackApiError:
            return wanted, wanted
    cursor: str | None = None
    while True:
        page = await client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=PAGE_SIZE, cursor=cursor
        )
        for item in page.get("channels") or []:
            if str(item.get("name", "")).lower() == wanted.lower():
                return str(item["id"]), str(item["name"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            raise NotFound(
                f"no channel #{wanted} that the coach can see: for a private channel, invite the coach "
                "to it first (/invite @Coach), or give the channel id"
            )


async def channel_members(client: AsyncWebClient, channel_id: str, page_size: int = PAGE_SIZE) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = await client.conversations_members(channel=channel_id, limit=page_size, cursor=cursor)
        ids += [str(m) for m in page.get("members") or []]
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return ids


async def people(client: AsyncWebClient, user_ids: Sequence[str]) -> tuple[list[Person], int]:
    """The real people among these ids, and how many were skipped (bots, deactivated, gone)."""
    gate = asyncio.Semaphore(LOOKUPS_AT_ONCE)

    async def look_up(user_id: str) -> Person | None:
        async with gate:
            try:
                info = await client.users_info(user=user_id)
            except SlackApiError as exc:
                if _field(exc, "error") in ("user_not_found", "users_not_found"):
                    return None
                raise
        user: dict[str, Any] = info.get("user") or {}
        if user.get("is_bot") or user.get("deleted") or user_id == "USLACKBOT" or user.get("is_app_user"):
            return None
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or ""
        return Person(user_id, " ".join(str(name).split())[:200], str(user.get("team_id") or ""))

    found = await asyncio.gather(*(look_up(u) for u in dict.fromkeys(user_ids)))
    kept = [p for p in found if p is not None]
    return kept, len(found) - len(kept)


def import_people(
    coach: Coach, channel_name: str, found: Sequence[Person], skipped: int, tags: Sequence[str] = (), *, team_id: str = ""
) -> SyncResult:
    now = coach.clock.now()
    tag = channel_tag(channel_name)
    seen: set[int] = set()
    added = 0
    for person in found:
        is_new = coach.members.find(PLATFORM, person.user_id) is None
        member = coach.members.ensure(
            PLATFORM, person.user_id, now, display_name=person.name, workspace=person.team_id or team_id, touch=False
        )
        added += is_new
        seen.add(member.id)
        coach.members.add_tags(member.id, [tag, *tags])
        if coach.refs.get(member.id) is None:
            coach.refs.save(member.id, PLATFORM, "", route_for(person.team_id or team_id, ""), now)
    left = [m for m in coach.members.list(tags=[tag]) if m.platform == PLATFORM and m.id not in seen]
    for member in left:
        coach.members.remove_tags(member.id, [tag])
    coach.audit.record(
        "cli:slack sync-members", "members.sync", now,
        platform="slack", channel=channel_name, total=len(seen), added=added, left=len(left), skipped=skipped,
    )
    return SyncResult(channel_name, tag, len(seen), added, len(left), skipped)


async def sync_members(
    coach: Coach,
    client: AsyncWebClient,
    channel: str,
    *,
    tags: Sequence[str] = (),
    team_id: str = "",
    page_size: int = PAGE_SIZE,
) -> SyncResult:
    try:
        channel_id, name = await resolve_channel(client, channel)
        ids = await channel_members(client, channel_id, page_size)
        found, skipped = await people(client, ids)
    except SlackApiError as exc:
        raise _friendly(exc, channel) from None
    return await asyncio.to_thread(import_people, coach, name, found, skipped, tags, team_id=team_id)


def _friendly(exc: SlackApiError, channel: str) -> Exception:
    error = str(_field(exc, "error") or f"HTTP {getattr(exc.response, 'status_code', '?')}")
    if error == "missing_scope":
        return ConfigError(f"the Slack app lacks the {_field(exc, 'needed') or '?'} scope: add it and reinstall")
    if error in ("not_in_channel", "channel_not_found"):
        return NotFound(f"the coach cannot see {channel}: invite it to the channel (/invite @Coach) and try again")
    if error in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
        return ConfigError(f"Slack refused the bot token ({error}): check SLACK_BOT_TOKEN")
    return ConfigError(f"Slack answered {error} while reading {channel}")


def _field(exc: SlackApiError, key: str) -> Any:
    data = getattr(exc.response, "data", None)
    return data.get(key) if isinstance(data, dict) else None
