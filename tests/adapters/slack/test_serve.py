"""`coach serve`: the real command, a real port, signed requests, delivery; and Socket Mode."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from adapters.server import build_app
from adapters.slack.settings import SlackSettings
from bot.coach import Coach
from bot.config import Settings
from bot.errors import ConfigError
from bot.outbox import Outbox
from bot.replies import Paragraph, Reply
from bot.storage.database import open_database

from . import payloads
from .conftest import BOT_TOKEN, SIGNING_SECRET, serve
from .fake_api import TEAM_ID, FakeSlackApi


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "SLACK_", "Microsoft", "MICROSOFT"))}
    env["COACH_DATA_DIR"] = str(tmp_path)
    env.update(extra)
    return env


async def start_cli(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )


async def read_until(process: asyncio.subprocess.Process, marker: str, timeout: float = 60) -> list[str]:
    lines: list[str] = []
    assert process.stdout is not None
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), timeout)
        if not raw:
            assert process.stderr is not None
            raise AssertionError(f"exited early: {lines} {(await process.stderr.read()).decode()}")
        lines.append(raw.decode().strip())
        if marker in lines[-1]:
            return lines


async def test_coach_serve_slack_answers_signed_requests_and_delivers_the_outbox(
    tmp_path: Path, slack_api: FakeSlackApi
) -> None:
    env = clean_env(
        tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack_api.url,
        SLACK_RATE_PER_SECOND="50",
    )
    # A reminder already waiting in the outbox for someone met before.
    settings = Settings.from_env({"COACH_DATA_DIR": str(tmp_path)})
    engine = open_database(settings.database_url)
    from bot.clock import SystemClock
    from bot.storage.repositories import ConversationRefRepository, MemberRepository

    now = SystemClock().now()
    member = MemberRepository(engine).ensure("slack", "U0ZED", now, workspace=TEAM_ID)
    ConversationRefRepository(engine).save(member.id, "slack", "D0ZED", json.dumps({"team": TEAM_ID, "channel": "D0ZED"}), now)
    Outbox(engine).enqueue(
        member_id=member.id, platform="slack", kind="reminder", reply=Reply("Check your accounts", (Paragraph("A gentle nudge."),)),
        due_at=now - timedelta(minutes=1), key="reminder:zed:1", now=now,
    )
    engine.dispose()

    process = await start_cli(["serve", "slack", "--host", "127.0.0.1", "--port", "0"], env)
    try:
        lines = await read_until(process, "listening on")
        assert any(line.startswith("slack:") for line in lines)
        assert any("delivering reminders and broadcasts to: slack" in line for line in lines)
        base = lines[-1].split()[2]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as health:
                assert health.status == 200
            body = json.dumps(payloads.event_callback(payloads.direct_message("help", user="U0YAN", channel="D0YAN")))
            headers = payloads.signed_headers(SIGNING_SECRET, body, content_type="application/json")
            async with session.post(f"{base}/slack/events", data=body, headers=headers) as answer:
                assert answer.status == 200
        posts = await slack_api.wait_for("chat.postMessage", count=2, timeout=30)
        assert {p.params["channel"] for p in posts} == {"D0YAN", "D0ZED"}
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0
    assert process.stderr is not None
    assert "Traceback" not in (await process.stderr.read()).decode()
    engine = open_database(settings.database_url)
    assert Outbox(engine).counts().get("sent") == 1
    engine.dispose()


def run_main(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> int:
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from adapters.cli import main

    return main(args)


def test_coach_serve_slack_without_slack_settings_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(["serve", "slack", "--port", "0"], clean_env(tmp_path), monkeypatch) == 1
    # Long-running commands also log (JSON lines); the error itself is one plain line.
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("coach: error:")]
    assert len(errors) == 1
    assert errors[0].startswith("coach: error: Slack is not configured") and "SLACK_BOT_TOKEN" in errors[0]


def test_half_configured_slack_names_every_missing_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(["serve", "slack", "--port", "0"], clean_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1"), monkeypatch) == 1
    assert "SLACK_SIGNING_SECRET" in capsys.readouterr().err
    assert run_main(["serve", "--socket"], clean_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1"), monkeypatch) == 1
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err
    assert run_main(["serve", "teams", "--socket"], clean_env(tmp_path), monkeypatch) == 1
    assert "--socket is Slack's Socket Mode" in capsys.readouterr().err


def test_settings_validation() -> None:
    assert SlackSettings.from_env({}) is None
    with pytest.raises(ConfigError) as problems:
        SlackSettings.from_env({"SLACK_CLIENT_ID": "1", "SLACK_RATE_PER_SECOND": "fast", "SLACK_API_URL": "ftp://x"})
    text = str(problems.value)
    for name in ("SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET", "SLACK_RATE_PER_SECOND", "SLACK_API_URL"):
        assert name in text
    ok = SlackSettings.from_env({"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert ok is not None and ok.api_url == "http://127.0.0.1:9/api/"  # slack_sdk needs the slash


async def test_socket_mode_takes_events_over_the_socket(coach: Coach, slack_api: FakeSlackApi) -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-test", "SLACK_SOCKET_MODE": "1",
        "SLACK_API_URL": slack_api.url,
    }
    app, plan = build_app(coach, env, only="slack")
    assert plan.mounted == ["slack: Socket Mode (connected out to Slack; no public URL needed)"]
    runner, base = await serve(app)
    try:
        await slack_api.wait_for_socket()
        (opened,) = slack_api.calls_to("apps.connections.open")
        assert opened.token == "xapp-1-test"
        envelope = {
            "envelope_id": "e-1", "type": "events_api", "accepts_response_payload": False,
            "retry_attempt": 0, "retry_reason": "",
            "payload": payloads.event_callback(payloads.direct_message("help", channel="D0SOCK")),
        }
        await slack_api.push(envelope)
        assert (await slack_api.wait_for_socket_reply("e-1"))["envelope_id"] == "e-1"
        (posted,) = await slack_api.wait_for("chat.postMessage")
        assert posted.params["channel"] == "D0SOCK"
        # A retry of the same event over the socket is acknowledged but not answered again.
        await slack_api.push({**envelope, "envelope_id": "e-2", "retry_attempt": 1, "retry_reason": "timeout"})
        await slack_api.wait_for_socket_reply("e-2")
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/slack/events", data="{}") as no_http:
                assert no_http.status in (404, 405)  # no public endpoint in Socket Mode
    finally:
        await runner.cleanup()
    assert len(slack_api.calls_to("chat.postMessage")) == 1
