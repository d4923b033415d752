"""The shared web server: health, readiness and Prometheus metrics."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer

from adapters.server import build_app
from bot.coach import Coach
from bot.outbox import Outbox
from bot.replies import Reply


async def test_health_ready_and_metrics(coach: Coach) -> None:
    now = coach.clock.now()
    alice = coach.members.ensure("console", "alice", now)
    outbox = Outbox(coach.engine)
    outbox.enqueue(member_id=alice.id, platform="console", kind="custom", reply=Reply("x"),
                   due_at=now - timedelta(minutes=10), key="late", now=now)
    failed, _ = outbox.enqueue(member_id=alice.id, platform="console", kind="custom", reply=Reply("y"),
                               due_at=now - timedelta(minutes=20), key="bad", now=now)
    assert [r.id for r in outbox.claim_due("w", now, platforms=["console"], limit=1)] == [failed]
    outbox.mark_failed(failed, "w", "invalid_blocks")
    coach.stats.record("slack", "check", "stop", ["defamation", "personal_data"], now)
    coach.stats.record("slack", "check", "ok", [], now)
    app, _ = build_app(coach, {}, only="none")
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200 and (await ready.json())["status"] == "ready"
        assert (await client.get("/nope")).status == 404
        text = await (await client.get("/metrics")).text()
    assert 'coach_http_requests_total{route="/healthz",status="200"} 1' in text
    assert 'coach_verdicts_total{verdict="stop"} 1' in text
    assert 'coach_categories_total{category="defamation",kind="check"} 1' in text
    assert "coach_outbox_depth 1" in text
    assert "coach_outbox_oldest_pending_seconds 600" in text
    assert 'coach_delivery_failures{state="failed"} 1' in text


async def test_readyz_reports_a_database_that_is_down(coach: Coach) -> None:
    from sqlalchemy import create_engine

    coach.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app, _ = build_app(coach, {}, only="none")
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["status"] == "unavailable"
