from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.server import build_app
from adapters.teams.server import RUNTIME_KEY, TeamsRuntime
from bot.coach import Coach
from tests.adapters.teams.connector import StandInConnector


@dataclass
class Response:
    status: int
    body: Any


@dataclass
class TeamsEndpoint:
    """The real aiohttp app with the real CloudAdapter, listening on 127.0.0.1."""

    url: str
    coach: Coach
    connector: StandInConnector
    runtime: TeamsRuntime
    session: aiohttp.ClientSession

    async def post(self, activity: Any, headers: Mapping[str, str] | None = None, *, raw: bytes | None = None) -> Response:
        send_headers = {"Content-Type": "application/json", **(headers or {})}
        data = raw if raw is not None else None
        kwargs: dict[str, Any] = {"data": data} if raw is not None else {"json": activity}
        async with self.session.post(self.url + "/api/messages", headers=send_headers, **kwargs) as response:
            text = await response.text()
            try:
                body = await response.json(content_type=None) if text else None
            except ValueError:
                body = text
            return Response(response.status, body)


async def start_endpoint(
    coach: Coach, connector: StandInConnector, env: Mapping[str, str], host: str = "127.0.0.1"
) -> tuple[web.AppRunner, str]:
    app, plan = build_app(coach, env, only="teams")
    assert any("Teams" in line for line in plan.mounted)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def connector() -> AsyncIterator[StandInConnector]:
    stand_in = StandInConnector()
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


@pytest.fixture
async def teams(coach: Coach, connector: StandInConnector) -> AsyncIterator[TeamsEndpoint]:
    runner, url = await start_endpoint(coach, connector, {})  # no MicrosoftAppId: authentication off
    runtime = runner.app[RUNTIME_KEY]
    async with aiohttp.ClientSession() as session:
        yield TeamsEndpoint(url, coach, connector, runtime, session)
    await runner.cleanup()
