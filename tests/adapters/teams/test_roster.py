"""`coach teams sync-members`: the Teams roster API, paged, into the member directory."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from adapters.teams import inbound
from adapters.teams.roster import sync_members, team_tag
from bot.errors import BadInput, NotFound
from bot.ports import Delivery
from bot.replies import Paragraph, Reply
from tests.adapters.teams import activities as act
from tests.adapters.teams.conftest import TeamsEndpoint

NAMES = ["Alice Ward", "Bob Clerk", "Cara Cabinet", "Dev Deputy", "Eve Evans"]


def roster_entry(name: str) -> dict[str, str]:
    person = act.user(name)
    return {**person, "email": f"{name.split()[0].lower()}@anytown.gov.uk", "tenantId": act.TENANT, "userRole": "user"}


async def installed(teams: TeamsEndpoint, names: list[str]) -> None:
    await teams.post(act.installed_in_team(teams.connector.url))
    teams.connector.roster[act.TEAM["id"]] = [roster_entry(n) for n in names]
    teams.connector.calls.clear()


async def test_a_teams_members_are_imported_with_a_team_tag_page_by_page(teams: TeamsEndpoint) -> None:
    # Alice has already talked to the coach in personal chat: her address must survive the sync.
    await teams.post(act.personal_message(teams.connector.url, "help", name="Alice Ward"))
    alice = teams.coach.members.find("teams", act.user("Alice Ward")["id"])
    alice_address = teams.coach.refs.get(alice.id)
    await installed(teams, NAMES)

    result = await sync_members(teams.coach, teams.runtime.adapter, "", tags=["cabinet"])

    assert (result.total, result.added, result.left) == (5, 4, 0)
    assert result.tag == team_tag("Anytown Members") == "team:anytown-members"
    pages = [c for c in teams.connector.calls if c.path.endswith("/pagedmembers")]
    assert len(pages) == 3 and all(c.conversation_id == act.TEAM["id"] for c in pages)  # 2 + 2 + 1
    tagged = teams.coach.members.list(tags=["team:anytown-members"])
    assert sorted(m.display_name for m in tagged) == NAMES
    assert all({"cabinet", "team:anytown-members"} <= set(m.tags) for m in tagged)
    assert all(m.workspace == act.TENANT for m in tagged)
    assert teams.coach.refs.get(alice.id) == alice_address
    bob = teams.coach.members.find("teams", act.user("Bob Clerk")["id"])
    conversation_id, seed = teams.coach.refs.get(bob.id)
    assert conversation_id == "" and inbound.from_json(seed).user.id == bob.user_id
    assert teams.coach.audit.list(1)[0].action == "members.sync"


async def test_a_synced_member_can_be_reached_before_they_ever_write(teams: TeamsEndpoint) -> None:
    await installed(teams, ["Faye Fresh"])
    await sync_members(teams.coach, teams.runtime.adapter, "")
    faye = teams.coach.members.find("teams", act.user("Faye Fresh")["id"])
    _, route = teams.coach.refs.get(faye.id)
    teams.connector.calls.clear()

    reply = Reply("Guidance update", (Paragraph("The pre-election period starts on Thursday."),), kind="broadcast")
    outcome = await teams.runtime.sender.send(Delivery(1, "b1", "teams", faye.user_id, "", route, reply))

    assert outcome.status == "sent"
    assert teams.connector.calls[0].path == "/v3/conversations"  # a personal chat is opened first
    (message,) = teams.connector.sent()
    assert message.body["summary"] == "Guidance update"


async def test_members_who_left_lose_the_team_tag(teams: TeamsEndpoint) -> None:
    await installed(teams, NAMES)
    await sync_members(teams.coach, teams.runtime.adapter, "")
    teams.connector.roster[act.TEAM["id"]] = [roster_entry(n) for n in NAMES if n != "Dev Deputy"]

    result = await sync_members(teams.coach, teams.runtime.adapter, "")

    assert (result.total, result.added, result.left) == (4, 0, 1)
    dev = teams.coach.members.find("teams", act.user("Dev Deputy")["id"])
    assert dev is not None and "team:anytown-members" not in dev.tags  # still in the directory, not in the team


async def test_choosing_a_team_and_the_errors_people_meet(teams: TeamsEndpoint) -> None:
    with pytest.raises(NotFound, match="not installed in any team"):
        await sync_members(teams.coach, teams.runtime.adapter, "")
    await installed(teams, NAMES)
    other = act.installed_in_team(teams.connector.url)
    other["channelData"]["team"] = {"id": "19:planning@thread.tacv2", "name": "Planning Committee"}
    other["conversation"]["id"] = "19:planning@thread.tacv2"
    await teams.post(other)

    with pytest.raises(BadInput, match="several teams.*Anytown Members.*Planning Committee"):
        await sync_members(teams.coach, teams.runtime.adapter, "")
    with pytest.raises(NotFound, match="no team 'Nope'"):
        await sync_members(teams.coach, teams.runtime.adapter, "", team="Nope")

    teams.connector.fail(403, code="BotNotInConversationRoster")
    with pytest.raises(NotFound, match="no longer in 'Anytown Members'"):
        await sync_members(teams.coach, teams.runtime.adapter, "", team="anytown members")
    result = await sync_members(teams.coach, teams.runtime.adapter, "", team=act.TEAM["id"])
    assert result.total == 5


async def test_the_cli_syncs_a_team(teams: TeamsEndpoint) -> None:
    await installed(teams, NAMES[:3])
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "Microsoft"))}
    environ["COACH_DATA_DIR"] = str(teams.coach.settings.data_dir)
    environ["COACH_DATABASE_URL"] = teams.coach.settings.database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())",
        "teams", "sync-members", "--tag", "group:independent",
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)

    assert process.returncode == 0, stderr.decode()
    assert "Anytown Members: 3 members (3 new), tagged team:anytown-members" in stdout.decode()
    tagged = teams.coach.members.list(tags=["group:independent"])
    assert sorted(m.display_name for m in tagged) == NAMES[:3]


async def test_install_and_sync_on_each_database(make_coach, db_url: str, connector) -> None:  # type: ignore[no-untyped-def]
    import aiohttp

    from adapters.teams.server import RUNTIME_KEY
    from tests.adapters.teams.conftest import TeamsEndpoint, start_endpoint

    coach = make_coach(db_url)
    runner, url = await start_endpoint(coach, connector, {})
    try:
        async with aiohttp.ClientSession() as session:
            teams = TeamsEndpoint(url, coach, connector, runner.app[RUNTIME_KEY], session)
            await installed(teams, NAMES)
            await teams.post(act.personal_message(connector.url, "help", name="Alice Ward"))
            result = await sync_members(coach, teams.runtime.adapter, "")
    finally:
        await runner.cleanup()
        coach.engine.dispose()
    assert (result.total, result.added) == (5, 4)
