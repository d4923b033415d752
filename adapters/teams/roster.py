"""`coach teams sync-members`: a team's roster, read through the Teams roster API, into the directory.

Every member of the team is ensured in the member directory with a `team:<name>`
tag (plus any tags given), and members who have left lose that tag. A member the
coach has never talked to gets a "seed" address, from which the sender opens a
personal chat the first time a reminder or broadcast is due (Teams allows this
for members of a team the app is installed in).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from botbuilder.schema.teams import TeamsChannelAccount
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.coach import Coach
from bot.errors import BadInput, CoachError, ConfigError, NotFound

from . import inbound
from .bot import http_status
from .installations import Installation, TeamInstallations

PAGE_SIZE = 200  # the most the paged members API returns at once


@dataclass(frozen=True)
class SyncResult:
    team: str
    tag: str
    total: int
    added: int
    left: int


def team_tag(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"team:{slug or 'team'}"[:100]


def choose_installation(installations: TeamInstallations, team: str | None) -> Installation:
    """The team to sync: the one named (by id or name), or the only one there is."""
    known = installations.list()
    if not known:
        raise NotFound(
            "the coach is not installed in any team yet: add it to a team in Teams first "
            "(it records the team when it is added)"
        )
    if team:
        wanted = team.strip().lower()
        for item in known:
            if item.team_id.lower() == wanted or item.name.lower() == wanted:
                return item
        raise NotFound(f"no team '{team}'; the coach is installed in: {_names(known)}")
    if len(known) > 1:
        raise BadInput(f"the coach is in several teams; choose one with --team: {_names(known)}")
    return known[0]


async def fetch_members(adapter: CloudAdapter, app_id: str, installation: Installation) -> list[TeamsChannelAccount]:
    """Every member of the team, page by page, inside a proactive turn on the team's reference."""
    reference = inbound.from_json(installation.reference)
    members: list[TeamsChannelAccount] = []
    failures: list[BaseException] = []

    async def collect(turn_context: TurnContext) -> None:
        try:
            token: str | None = None
            while True:
                page = await TeamsInfo.get_paged_team_members(turn_context, installation.team_id, token, PAGE_SIZE)
                members.extend(page.members or [])
                token = page.continuation_token
                if not token:
                    return
        except Exception as exc:  # carried out of the turn so it is not swallowed by the turn-error hook
            failures.append(exc)

    await adapter.continue_conversation(reference, collect, bot_app_id=app_id)
    if failures:
        raise _friendly(failures[0], installation)
    return members


def import_members(
    coach: Coach, installation: Installation, members: Sequence[TeamsChannelAccount], tags: Sequence[str] = ()
) -> SyncResult:
    now = coach.clock.now()
    tag = team_tag(installation.name or installation.team_id)
    reference = inbound.from_json(installation.reference)
    seen: set[int] = set()
    added = 0
    for account in members:
        if not isinstance(account.id, str) or not account.id:
            continue
        is_new = coach.members.find(inbound.PLATFORM, account.id) is None
        member = coach.members.ensure(
            inbound.PLATFORM, account.id, now,
            display_name=account.name or "",
            workspace=account.tenant_id or installation.tenant_id,
            touch=False,
        )
        added += is_new
        seen.add(member.id)
        coach.members.add_tags(member.id, [tag, *tags])
        if coach.refs.get(member.id) is None:
            seed = ConversationReference(
                user=ChannelAccount(id=account.id, name=account.name, aad_object_id=account.aad_object_id),
                bot=reference.bot,
                conversation=ConversationAccount(
                    id="", conversation_type="personal", tenant_id=installation.tenant_id or None
                ),
                channel_id=reference.channel_id or "msteams",
                service_url=reference.service_url,
            )
            coach.refs.save(member.id, inbound.PLATFORM, "", inbound.to_json(seed), now)
    left = [m for m in coach.members.list(tags=[tag]) if m.platform == inbound.PLATFORM and m.id not in seen]
    for member in left:
        coach.members.remove_tags(member.id, [tag])
    coach.audit.record(
        "cli:teams sync-members", "members.sync", now,
        platform="teams", team=installation.name or installation.team_id, total=len(seen), added=added, left=len(left),
    )
    return SyncResult(installation.name or installation.team_id, tag, len(seen), added, len(left))


async def sync_members(
    coach: Coach, adapter: CloudAdapter, app_id: str, *, team: str | None = None, tags: Sequence[str] = ()
) -> SyncResult:
    installation = choose_installation(TeamInstallations(coach.engine), team)
    members = await fetch_members(adapter, app_id, installation)
    return await asyncio.to_thread(import_members, coach, installation, members, tags)


def _names(known: Sequence[Installation]) -> str:
    return ", ".join(f"{i.name or '(no name)'} [{i.team_id}]" for i in known)


def _friendly(error: BaseException, installation: Installation) -> CoachError:
    name = installation.name or installation.team_id
    if isinstance(error, HttpOperationError):
        status = http_status(error)
        if status in (403, 404):
            return NotFound(f"Teams says the coach is no longer in '{name}' ({status}); add it to the team again")
        if status == 401:
            return ConfigError("Teams refused our credentials (401): check MicrosoftAppId and MicrosoftAppPassword")
        if status == 429:
            return CoachError("Teams is rate limiting us (429); try again in a minute")
        return CoachError(f"Teams answered {status} to the roster request; try again later")
    if isinstance(error, (ClientRequestError, OSError)):
        return CoachError(f"could not reach Teams ({type(error).__name__}); check the network and try again")
    return CoachError(f"the roster request failed ({type(error).__name__})")
