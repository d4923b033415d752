"""A real `coach serve slack` app on loopback, a stand-in Slack Web API, and signed requests."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.server import build_app
from adapters.slack.app import SLACK_ADAPTER_KEY, SlackAdapter
from bot.coach import Coach

from . import payloads
from .fake_api import FakeSlackApi

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-anytown"


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.text)


class SignedSlack:
    """Sends requests to /slack/events as Slack would, signed with the app's secret."""

    def __init__(self, base: str, session: aiohttp.ClientSession, adapter: SlackAdapter, api: FakeSlackApi):
        self.base = base
        self.session = session
        self.adapter = adapter
        self.api = api
        self.secret = SIGNING_SECRET
        self._responses = 0

    async def post(
        self,
        body: str | bytes,
        content_type: str = "application/json",
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> Answer:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        sent_headers = (
            payloads.signed_headers(secret or self.secret, text, timestamp=timestamp, content_type=content_type)
            if sign
            else {"Content-Type": content_type}
        )
        sent_headers.update(headers or {})
        started = time.monotonic()
        async with self.session.post(f"{self.base}/slack/events", data=body, headers=sent_headers) as resp:
            answer = await resp.text()
            return Answer(resp.status, answer, time.monotonic() - started)

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> Answer:
        body = payloads.event_callback(event, event_id=event_id)
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(json.dumps(body), headers=headers)

    def response_url(self) -> str:
        self._responses += 1
        return self.api.response_url(f"r{self._responses}")

    async def command(self, text: str, **kwargs: Any) -> Answer:
        kwargs.setdefault("response_url", self.response_url())
        fields = payloads.slash_command(text, **kwargs)
        return await self.post(payloads.form_body(fields), "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> Answer:
        return await self.post(payloads.interactive_body(payload), "application/x-www-form-urlencoded")

    async def settle(self) -> None:
        """Wait until every reply started by the requests so far has been sent."""
        await self.adapter.tasks.drain(timeout=15)


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    api = FakeSlackApi()
    await api.start()
    yield api
    await api.close()


@pytest.fixture
def slack_env(slack_api: FakeSlackApi) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api.url,
    }


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def slack(coach: Coach, slack_env: dict[str, str], slack_api: FakeSlackApi) -> AsyncIterator[SignedSlack]:
    app, plan = build_app(coach, slack_env, only="slack")
    assert plan.mounted and plan.mounted[0].startswith("slack")
    runner, base = await serve(app)
    async with aiohttp.ClientSession() as session:
        client = SignedSlack(base, session, app[SLACK_ADAPTER_KEY], slack_api)
        yield client
        await client.settle()
    await runner.cleanup()
