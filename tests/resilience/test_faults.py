"""Faults: the database dropping out mid-run, and a platform failing, lose and duplicate nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import make_url

from bot.clock import UTC, FixedClock
from bot.outbox import INTERRUPTED, Outbox
from bot.ports import Delivery, SendOutcome
from bot.replies import Reply
from bot.storage.database import make_engine, upgrade
from bot.storage.repositories import MemberRepository
from bot.worker import DeliveryWorker, WorkerStats
from tests.support.databases import fresh_postgres, pg_admin_url
from tests.support.tcp_proxy import TcpProxy

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


class FlakyPlatform:
    """Accepts most messages, answers 500 or times out now and then."""

    platform = "slack"

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.calls = 0

    async def send(self, delivery: Delivery) -> SendOutcome:
        self.calls += 1
        if self.calls % 7 == 0:
            return SendOutcome.retry("HTTP 500 from the platform")
        if self.calls % 11 == 0:
            raise asyncio.TimeoutError()
        self.delivered[delivery.idempotency_key] += 1
        return SendOutcome.sent()


@pytest.mark.skipif(not pg_admin_url(), reason="needs COACH_TEST_DATABASE_URL (PostgreSQL)")
def test_database_outage_mid_run_loses_and_duplicates_nothing() -> None:
    total = 400
    with fresh_postgres() as url:
        direct = make_engine(url)
        upgrade(direct)
        people = [MemberRepository(direct).ensure("slack", f"U{i}", NOW) for i in range(40)]
        outbox = Outbox(direct)
        for i in range(total):
            outbox.enqueue(member_id=people[i % 40].id, platform="slack", kind="broadcast", reply=Reply(f"m{i}"),
                           due_at=NOW, key=f"k{i}", now=NOW)
        target = make_url(url)
        with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
            proxied = make_engine(target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
            clock = FixedClock(NOW)
            platform = FlakyPlatform()
            worker = DeliveryWorker(proxied, {"slack": platform}, clock, batch=25, lease=timedelta(minutes=5))
            errors = 0
            for step in range(400):
                if step == 4:
                    proxy.cut()  # the database goes away mid-run ...
                if step == 8:
                    proxy.restore()  # ... and comes back
                try:
                    stats = asyncio.run(worker.run_once())
                except Exception:  # the live loop logs and carries on; so do we
                    errors += 1
                    stats = WorkerStats(claimed=1)
                clock.advance(minutes=6)
                counts = outbox.counts()
                if stats.claimed == 0 and set(counts) <= {"sent", "failed"}:
                    break
            proxied.dispose()
        assert errors >= 1, "the outage must actually hit the worker"
        rows = outbox.list(limit=total)
        assert {r.state for r in rows} <= {"sent", "failed"}, outbox.counts()
        assert max(platform.delivered.values()) == 1
        for r in rows:
            if r.state == "sent":
                assert platform.delivered[r.idempotency_key] == 1
            else:
                assert r.last_error == INTERRUPTED or r.last_error.startswith("gave up"), r.last_error
        assert sum(r.state == "sent" for r in rows) >= total - 30
        direct.dispose()
