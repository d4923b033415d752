"""Many workspaces: Bolt's OAuth flow, installations kept in the coach's own database."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import inspect

from adapters.server import build_app
from adapters.slack.app import SLACK_ADAPTER_KEY
from adapters.slack.sender import SlackSender, sender_from_env
from adapters.slack.settings import SlackSettings
from adapters.slack.tokens import DatabaseInstallations, InstalledTokens
from bot.coach import Coach
from bot.ports import Delivery
from bot.replies import Paragraph, Reply
from bot.storage.database import downgrade, upgrade

from . import payloads
from .conftest import SIGNING_SECRET, serve
from .fake_api import ApiCall, FakeSlackApi

# slack_sdk's oauth.v2.access still passes aiohttp.BasicAuth, which aiohttp 3.14 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

NEW_TEAM = "T0NEWTOWN"
INSTALLED_TOKEN = "xoxb-newtown-installed"


def oauth_access(call: ApiCall) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """oauth.v2.access as Slack answers it (https://api.slack.com/methods/oauth.v2.access)."""
    if call.method != "oauth.v2.access":
        return None
    if call.params.get("code") != "good-code":
        return (200, {"ok": False, "error": "invalid_code"}, {})
    return (
        200,
        {
            "ok": True, "app_id": payloads.APP_ID, "authed_user": {"id": "U0CLERK"},
            "scope": "chat:write,commands,im:history", "token_type": "bot", "access_token": INSTALLED_TOKEN,
            "bot_user_id": "UBOTNEW", "team": {"id": NEW_TEAM, "name": "Newtown Town Council"},
            "enterprise": None, "is_enterprise_install": False,
        },
        {},
    )


@dataclass
class OAuthServer:
    base: str
    session: aiohttp.ClientSession
    app: web.Application


@pytest.fixture
async def oauth_server(coach: Coach, slack_api: FakeSlackApi) -> AsyncIterator[OAuthServer]:
    slack_api.scripts.append(oauth_access)
    env = {
        "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_api.url,
    }
    app, plan = build_app(coach, env, only="slack")
    assert "many workspaces" in plan.mounted[0]
    runner, base = await serve(app)
    async with aiohttp.ClientSession() as session:
        yield OAuthServer(base, session, app)
        await app[SLACK_ADAPTER_KEY].tasks.drain(timeout=10)
    await runner.cleanup()


async def install(server: OAuthServer, code: str = "good-code") -> tuple[int, str]:
    async with server.session.get(f"{server.base}/slack/install", allow_redirects=False) as page:
        text = await page.text()
        assert page.status == 200, text
        # Bolt's state cookie is Secure (production is https); hand it back as the browser would.
        cookies = [c.split(";")[0] for c in page.headers.getall("Set-Cookie", [])]
        assert any(c.startswith("slack-app-oauth-state=") for c in cookies)
    link = re.search(r'https://slack\.com/oauth/v2/authorize\?[^"\']+', text)
    assert link is not None, text
    state = re.search(r"state=([^&\"']+)", link.group(0))
    assert state is not None and "client_id=111.222" in link.group(0)
    async with server.session.get(
        f"{server.base}/slack/oauth_redirect", params={"code": code, "state": state.group(1)},
        headers={"Cookie": "; ".join(cookies)}, allow_redirects=False,
    ) as done:
        return done.status, await done.text()


async def test_a_workspace_installs_and_is_then_answered_with_its_own_token(
    oauth_server: OAuthServer, slack_api: FakeSlackApi, coach: Coach
) -> None:
    status, _ = await install(oauth_server)
    assert status == 200
    (access,) = slack_api.calls_to("oauth.v2.access")
    assert access.params["code"] == "good-code"
    bots = DatabaseInstallations("111.222", coach.engine)
    bot = await bots.async_find_bot(enterprise_id=None, team_id=NEW_TEAM)
    assert bot is not None and bot.bot_token == INSTALLED_TOKEN

    async with aiohttp.ClientSession() as session:
        body = json.dumps(payloads.event_callback(payloads.direct_message("help", channel="D0NEW"), team=NEW_TEAM))
        headers = payloads.signed_headers(SIGNING_SECRET, body, content_type="application/json")
        async with session.post(f"{oauth_server.base}/slack/events", data=body, headers=headers) as answer:
            assert answer.status == 200
    (posted,) = await slack_api.wait_for("chat.postMessage")
    assert posted.token == INSTALLED_TOKEN and posted.params["channel"] == "D0NEW"

    # Proactive messages to that workspace use the same installation.
    sender = SlackSender(SlackSettings.from_env({"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "x", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": slack_api.url}) or SlackSettings(), InstalledTokens(bots))  # noqa: E501
    route = json.dumps({"team": NEW_TEAM, "channel": "D0NEW"})
    reply = Reply("Reminder", (Paragraph("Check your accounts"),))
    sent = await sender.send(Delivery(1, "k1", "slack", "U0ALICE", "D0NEW", route, reply))
    assert sent.status == "sent" and slack_api.calls_to("chat.postMessage")[-1].token == INSTALLED_TOKEN
    gone = await sender.send(Delivery(2, "k2", "slack", "U0BOB", "D0BOB", json.dumps({"team": "T0NOWHERE"}), reply))
    assert gone.status == "unreachable" and "T0NOWHERE" in gone.detail


async def test_a_bad_code_installs_nothing(oauth_server: OAuthServer, coach: Coach) -> None:
    status, _ = await install(oauth_server, code="stolen")
    assert status >= 400
    bot = await DatabaseInstallations("111.222", coach.engine).async_find_bot(enterprise_id=None, team_id=NEW_TEAM)
    assert bot is None


async def test_a_workspace_that_never_installed_gets_no_answer(oauth_server: OAuthServer, slack_api: FakeSlackApi) -> None:
    async with aiohttp.ClientSession() as session:
        body = json.dumps(payloads.event_callback(payloads.direct_message("help"), team="T0STRANGER"))
        headers = payloads.signed_headers(SIGNING_SECRET, body, content_type="application/json")
        async with session.post(f"{oauth_server.base}/slack/events", data=body, headers=headers) as answer:
            assert answer.status in (200, 401)
    await oauth_server.app[SLACK_ADAPTER_KEY].tasks.drain(timeout=10)
    assert slack_api.calls_to("chat.postMessage") == []


async def test_uninstalling_removes_the_installation(oauth_server: OAuthServer, coach: Coach) -> None:
    assert (await install(oauth_server))[0] == 200
    async with aiohttp.ClientSession() as session:
        body = json.dumps(payloads.event_callback({"type": "app_uninstalled", "event_ts": payloads.next_ts()}, team=NEW_TEAM))
        headers = payloads.signed_headers(SIGNING_SECRET, body, content_type="application/json")
        async with session.post(f"{oauth_server.base}/slack/events", data=body, headers=headers) as answer:
            assert answer.status == 200
    await oauth_server.app[SLACK_ADAPTER_KEY].tasks.drain(timeout=10)
    bots = DatabaseInstallations("111.222", coach.engine)
    assert await bots.async_find_bot(enterprise_id=None, team_id=NEW_TEAM) is None


def test_sender_from_env_for_many_workspaces(tmp_path: Any) -> None:
    sender = sender_from_env({
        "SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2", "SLACK_SIGNING_SECRET": "3",
        "COACH_DATA_DIR": str(tmp_path), "COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    })
    assert sender is not None and isinstance(sender.tokens, InstalledTokens)


def test_the_installation_tables_match_slack_sdks_and_migrate_down(db_url: str, make_coach: Any) -> None:
    coach = make_coach(db_url)
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    expected = SQLAlchemyInstallationStore("x", coach.engine).metadata.tables | SQLAlchemyOAuthStateStore(60, coach.engine).metadata.tables
    found = inspect(coach.engine)
    for name, table in expected.items():
        columns = {c["name"]: c for c in found.get_columns(name)}
        assert set(columns) == {c.name for c in table.columns}, name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, (name, column.name)
            reflected = columns[column.name]["type"]
            assert reflected._type_affinity is column.type._type_affinity, (name, column.name)
            assert getattr(reflected, "length", None) == getattr(column.type, "length", None), (name, column.name)
    downgrade(coach.engine, "0003")
    assert not set(expected) & set(inspect(coach.engine).get_table_names())
    upgrade(coach.engine)
    assert set(expected) <= set(inspect(coach.engine).get_table_names())
    coach.engine.dispose()
