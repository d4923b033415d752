"""Broadcast delivery over HTTP to a local stand-in platform: 429s, a crash mid-send, and the bench."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot.clock import FixedClock
from bot.outbox import INTERRUPTED, Outbox
from bot.ports import Delivery, SendOutcome
from bot.storage.database import make_engine, upgrade
from bot.storage.repositories import MemberRepository
from bot.worker import DeliveryWorker
from adapters.bench_broadcast import HttpSender, StandInPlatform, add_members, broadcast_service, run_bench


async def test_the_platform_limit_is_honoured_through_429_and_retry_after(sqlite_url: str, clock: FixedClock) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    add_members(engine, 12, clock.now())
    gone = MemberRepository(engine).find("slack", "U000011")
    assert gone is not None
    platform = StandInPlatform(5, clock=lambda: clock.now().timestamp(), gone={f"D{gone.id}"})
    api = await platform.start()
    sender = HttpSender(api, rate=0)  # no pacing of its own: the platform's 429s must do it
    try:
        b = broadcast_service(engine, clock).create("officer", "T", "Body")
        worker = DeliveryWorker(engine, {"slack": sender}, clock)
        passes = 0
        while Outbox(engine).counts().get("pending"):
            await worker.run_once()
            clock.advance(seconds=1)  # Retry-After: 1, on the injected clock
            passes += 1
        assert passes == 3  # 5 a second: 5, 5, then the last one
        assert platform.rejected == 6 + 1
        assert Counter(platform.received.values()) == Counter({1: 11})  # each once, none twice
        rows = [r for r in Outbox(engine).list() if r.idempotency_key.startswith(f"broadcast:{b.id}:")]
        assert Counter(r.state for r in rows) == Counter({"sent": 11, "unreachable": 1})
        assert {r.attempts for r in rows if r.state == "sent"} == {1}  # waiting out a 429 is not a failed attempt
        report = broadcast_service(engine, clock).report(b.id)
        assert [(r.ref, r.detail) for r in report.recipients if r.status == "unreachable"] == [
            ("slack:U000011", "user_not_found")]
    finally:
        await sender.close()
        await platform.stop()
        engine.dispose()


class Stalling:
    """Sends a few, then hangs mid-send like a process about to be killed."""

    platform = "slack"

    def __init__(self, inner: HttpSender, before_stall: int):
        self.inner = inner
        self.left = before_stall
        self.stalled = asyncio.Event()

    async def send(self, delivery: Delivery) -> SendOutcome:
        if self.left <= 0:
            self.stalled.set()
            await asyncio.Event().wait()  # never returns: cancelled with the worker
        self.left -= 1
        return await self.inner.send(delivery)


async def test_a_crash_mid_broadcast_resumes_with_no_duplicates_and_no_gaps(sqlite_url: str, clock: FixedClock) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    add_members(engine, 30, clock.now())
    platform = StandInPlatform(1000)
    api = await platform.start()
    sender = HttpSender(api, rate=0)
    try:
        b = broadcast_service(engine, clock).create("officer", "T", "Body")
        stalling = Stalling(sender, before_stall=10)
        doomed = DeliveryWorker(engine, {"slack": stalling}, clock, batch=20, concurrency=4, worker_id="doomed")
        task = asyncio.create_task(doomed.drain())
        await stalling.stalled.wait()
        task.cancel()  # the crash: the worker stops mid-send, its rows left as they were
        await asyncio.gather(task, return_exceptions=True)
        outbox = Outbox(engine)
        held = outbox.counts()
        # Ten reached the platform; some of those were not yet marked sent when the worker died.
        assert platform.delivered == 10 and held["sent"] <= 10
        assert held.get("sending", 0) >= 1 and held.get("claimed", 0) >= 1
        survivor = DeliveryWorker(engine, {"slack": sender}, clock, lease=timedelta(minutes=5))
        await survivor.drain()  # the dead worker's lease has not run out: its rows wait
        clock.advance(minutes=6)
        await survivor.drain()  # claimed rows go back to pending; rows mid-send are failed, not sent again
        rows = [r for r in outbox.list(limit=100) if r.idempotency_key.startswith(f"broadcast:{b.id}:")]
        interrupted = [r for r in rows if r.state == "failed"]
        assert interrupted and all(r.last_error == INTERRUPTED for r in interrupted)
        assert {r.state for r in rows} == {"sent", "failed"}
        assert max(platform.received.values()) == 1
        # The operator checks the platform and re-sends only what never arrived.
        for row in interrupted:
            if not platform.received[row.idempotency_key]:
                assert outbox.retry(row.id, clock.now())
        await survivor.drain()
        assert sorted(platform.received) == sorted(r.idempotency_key for r in rows)
        assert set(platform.received.values()) == {1}
    finally:
        await sender.close()
        await platform.stop()
        engine.dispose()


async def test_the_bench_kills_a_worker_process_and_loses_and_repeats_nothing() -> None:
    result = await run_bench(recipients=40, rate=100, lease=1.0, timeout=120)
    assert (result.duplicates, result.losses, result.delivered) == (0, 0, 40)
    assert 20 <= result.killed_at < 40
    assert result.states.get("sent", 0) + result.interrupted_arrived == 40
    assert result.share > 0
