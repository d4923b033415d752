"""Setting Slack up: the app manifest, and importing a channel's members."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from adapters.cli import main
from adapters.slack import app as slack_app
from adapters.slack.manifest import BOT_EVENTS, BOT_SCOPES, build_manifest
from adapters.slack.roster import channel_tag, sync_members
from adapters.slack.settings import DEFAULT_COMMAND
from bot.coach import Coach
from bot.errors import BadInput, NotFound
from slack_sdk.web.async_client import AsyncWebClient

from .fake_api import TEAM_ID, FakeSlackApi

ROOT = Path(__file__).resolve().parents[3]


def use_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "COACH_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


# -- manifest -----------------------------------------------------------------------
def test_manifest_for_http_mode(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use_env(monkeypatch)
    assert main(["slack", "manifest", "--url", "https://coach.anytown.gov.uk/"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    url = "https://coach.anytown.gov.uk/slack/events"
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings["socket_mode_enabled"] is False
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == DEFAULT_COMMAND and command["url"] == url
    (shortcut,) = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", slack_app.SHORTCUT_CALLBACK_ID)
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]
    assert set(settings["event_subscriptions"]["bot_events"]) == set(BOT_EVENTS)
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000


def test_manifest_scopes_cover_every_web_api_call_the_adapter_makes() -> None:
    needs = {
        "chat_postMessage": "chat:write", "chat_update": "chat:write", "chat_postEphemeral": "chat:write",
        "conversations_open": "im:write", "users_info": "users:read", "conversations_members": "channels:read",
        "conversations_list": "channels:read", "conversations_info": "channels:read",
    }
    source = "".join((ROOT / "adapters" / "slack" / f).read_text() for f in ("app.py", "sender.py", "roster.py"))
    called = set(re.findall(r"client\.(\w+)\(", source))
    assert called - {"views_publish", "views_open"} <= set(needs), called
    scopes = set(build_manifest("https://x.example")["oauth_config"]["scopes"]["bot"])
    assert {needs[c] for c in called if c in needs} <= scopes
    assert {"commands", "im:history", "app_mentions:read"} <= scopes == set(BOT_SCOPES)


def test_manifest_for_socket_mode_and_oauth(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use_env(monkeypatch)
    assert main(["slack", "manifest", "--socket", "--format", "yaml", "--command", "/cllr"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert manifest["features"]["slash_commands"][0] == {
        "command": "/cllr", "description": "Check a draft post, ask a question, take a quiz",
        "usage_hint": "check <draft> | ask <question> | quiz | progress | help", "should_escape": False,
    }
    oauth = build_manifest("https://coach.example.org", oauth=True)
    assert oauth["oauth_config"]["redirect_urls"] == ["https://coach.example.org/slack/oauth_redirect"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(oauth["settings"]["event_subscriptions"]["bot_events"])


def test_manifest_refuses_what_slack_would_refuse(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use_env(monkeypatch)
    with pytest.raises(BadInput):
        build_manifest("http://coach.example.org")
    with pytest.raises(BadInput):
        build_manifest(None)
    assert main(["slack", "manifest"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("coach: error:") and "--url" in err and err.count("\n") == 1


# -- sync-members -------------------------------------------------------------------
def workspace(api: FakeSlackApi, people: int = 45) -> list[str]:
    ids = [f"U{i:05d}" for i in range(people)]
    for i, uid in enumerate(ids):
        api.users[uid] = {
            "id": uid, "team_id": TEAM_ID, "name": f"user{i}", "deleted": False, "is_bot": False,
            "real_name": f"Councillor {i}", "profile": {"display_name": f"Cllr {i}" if i % 2 else "", "real_name": f"Councillor {i}"},
        }
    api.users["UBOTX"] = {"id": "UBOTX", "team_id": TEAM_ID, "name": "otterbot", "is_bot": True, "profile": {}}
    api.users["UGONE"] = {"id": "UGONE", "team_id": TEAM_ID, "name": "gone", "deleted": True, "profile": {}}
    api.members["C0MEMBERS"] = ids + ["UBOTX", "UGONE", "USLACKBOT"]
    api.channels = [{"id": "C0GENERAL", "name": "general"}, {"id": "C0MEMBERS", "name": "members"}]
    return ids


async def test_sync_members_imports_a_channel_page_by_page(coach: Coach, slack_api: FakeSlackApi) -> None:
    ids = workspace(slack_api)
    client = AsyncWebClient(token="xoxb-1", base_url=slack_api.url)
    result = await sync_members(coach, client, "#members", tags=("councillors",), page_size=20)
    assert (result.channel, result.total, result.added, result.left, result.skipped) == ("members", 45, 45, 0, 3)
    assert len(slack_api.calls_to("conversations.members")) == 3  # 48 ids, 20 a page
    one = coach.members.find("slack", "U00001")
    zero = coach.members.find("slack", "U00000")
    assert one is not None and zero is not None
    assert (one.display_name, zero.display_name, one.workspace) == ("Cllr 1", "Councillor 0", TEAM_ID)
    assert set(one.tags) == {"channel:members", "councillors"}
    assert coach.members.find("slack", "UBOTX") is None and coach.members.find("slack", "UGONE") is None
    seed = coach.refs.get(one.id)
    assert seed is not None and seed[0] == "" and json.loads(seed[1])["team"] == TEAM_ID
    assert len(coach.members.list(tags=["channel:members"])) == 45
    assert coach.audit.list(1)[0].action == "members.sync"

    # Someone leaves the channel: they keep their record but lose the channel's tag.
    slack_api.members["C0MEMBERS"] = ids[1:]
    again = await sync_members(coach, client, "C0MEMBERS")
    assert (again.total, again.added, again.left) == (44, 0, 1)
    leaver = coach.members.find("slack", "U00000")
    assert leaver is not None and "channel:members" not in leaver.tags and "councillors" in leaver.tags


async def test_sync_members_explains_an_unknown_channel(coach: Coach, slack_api: FakeSlackApi) -> None:
    workspace(slack_api, people=3)
    client = AsyncWebClient(token="xoxb-1", base_url=slack_api.url)
    with pytest.raises(NotFound, match="invite the coach"):
        await sync_members(coach, client, "#secret-cabal")
    assert channel_tag("Planning & Licensing!") == "channel:planning-licensing"


async def test_coach_slack_sync_members_command(
    tmp_path: Path, slack_api: FakeSlackApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    make_coach: Callable[..., Coach],
) -> None:
    workspace(slack_api, people=5)
    use_env(
        monkeypatch, COACH_DATA_DIR=str(tmp_path), COACH_DATABASE_URL=f"sqlite:///{tmp_path / 'coach.db'}",
        SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", SLACK_API_URL=slack_api.url,
    )
    # The command runs its own event loop, as it does from a shell; the stand-in API keeps serving on ours.
    code = await asyncio.to_thread(main, ["slack", "sync-members", "#members", "--tag", "Ward Councillors"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.strip() == "#members: 5 members (5 new); tagged channel:members and ward-councillors; skipped 3 bots or deactivated accounts"
    coach = make_coach(f"sqlite:///{tmp_path / 'coach.db'}")
    assert len(coach.members.list(tags=["ward-councillors"])) == 5
