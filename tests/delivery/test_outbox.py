"""The outbox and its worker: nothing lost, nothing sent twice, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import UTC, FixedClock
from bot.outbox import INTERRUPTED, Outbox, OutboxRow, RetryPolicy
from bot.ports import SendOutcome
from bot.replies import Paragraph, Reply
from bot.storage.database import make_engine, upgrade
from bot.storage.repositories import ConversationRefRepository, Member, MemberRepository
from bot.worker import DeliveryWorker
from tests.support.databases import fresh_postgres, pg_admin_url
from tests.support.senders import RecordingSender

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def message(text: str) -> Reply:
    return Reply(text, (Paragraph(text),), kind="reminder")


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def member(engine, user: str = "U1", platform: str = "console") -> Member:  # type: ignore[no-untyped-def]
    m = MemberRepository(engine).ensure(platform, user, NOW, display_name=user)
    ConversationRefRepository(engine).save(m.id, platform, f"D-{user}", '{"ref": 1}', NOW)
    return m


async def test_a_due_message_is_sent_once_with_its_route(engine) -> None:  # type: ignore[no-untyped-def]
    alice = member(engine)
    outbox = Outbox(engine)
    clock = FixedClock(NOW)
    row_id, created = outbox.enqueue(member_id=alice.id, platform="console", kind="reminder",
                                     reply=message("Check your accounts"), due_at=NOW, key="k1", now=NOW)
    again, created_again = outbox.enqueue(member_id=alice.id, platform="console", kind="reminder",
                                          reply=message("Check your accounts"), due_at=NOW, key="k1", now=NOW)
    assert created and not created_again and again == row_id
    sender = RecordingSender()
    worker = DeliveryWorker(engine, {"console": sender}, clock)
    stats = await worker.run_once()
    assert stats.outcomes == Counter({"sent": 1})
    assert [(d.user_id, d.conversation_id, d.route) for d in sender.delivered] == [("U1", "D-U1", '{"ref": 1}')]
    assert sender.delivered[0].reply == message("Check your accounts")
    assert (await worker.run_once()).claimed == 0
    assert outbox.get(row_id).state == "sent"  # type: ignore[union-attr]


async def test_future_messages_wait_for_their_time(engine) -> None:  # type: ignore[no-untyped-def]
    alice = member(engine)
    clock = FixedClock(NOW)
    Outbox(engine).enqueue(member_id=alice.id, platform="console", kind="reminder", reply=message("later"),
                           due_at=NOW + timedelta(hours=2), key="later", now=NOW)
    sender = RecordingSender()
    worker = DeliveryWorker(engine, {"console": sender}, clock)
    assert (await worker.run_once()).claimed == 0
    clock.advance(hours=2)
    assert (await worker.run_once()).outcomes["sent"] == 1


async def test_failures_back_off_then_fail_with_the_reason(engine) -> None:  # type: ignore[no-untyped-def]
    alice = member(engine)
    clock = FixedClock(NOW)
    outbox = Outbox(engine)
    row_id, _ = outbox.enqueue(member_id=alice.id, platform="console", kind="reminder", reply=message("x"),
                               due_at=NOW, key="flaky", now=NOW)
    sender = RecordingSender()
    sender.script["flaky"] = [SendOutcome.retry("HTTP 500")] * 10
    policy = RetryPolicy(base_seconds=30, max_seconds=3600, max_attempts=4)
    worker = DeliveryWorker(engine, {"console": sender}, clock, retry=policy)
    waits = []
    for _ in range(4):
        await worker.run_once()
        row = outbox.get(row_id)
        assert row is not None
        if row.state == "failed":
            break
        waits.append((row.due_at - clock.now()).total_seconds())
        clock.set(row.due_at)
    row = outbox.get(row_id)
    assert row is not None and row.state == "failed"
    assert "gave up after 4 attempts: HTTP 500" == row.last_error
    assert len(waits) == 3 and 30 <= waits[0] <= 33 and 60 <= waits[1] <= 66 and 120 <= waits[2] <= 132
    assert sender.delivered == []


async def test_rate_limits_honour_retry_after_and_do_not_use_up_attempts(engine) -> None:  # type: ignore[no-untyped-def]
    alice = member(engine)
    clock = FixedClock(NOW)
    outbox = Outbox(engine)
    row_id, _ = outbox.enqueue(member_id=alice.id, platform="console", kind="broadcast", reply=message("x"),
                               due_at=NOW, key="busy", now=NOW)
    sender = RecordingSender()
    sender.script["busy"] = [SendOutcome.retry("429", retry_after=7, rate_limited=True)] * 10 + [SendOutcome.sent()]
    worker = DeliveryWorker(engine, {"console": sender}, clock, retry=RetryPolicy(max_attempts=2))
    for _ in range(10):
        await worker.run_once()
        row = outbox.get(row_id)
        assert row is not None and row.state == "pending" and row.attempts == 0
        assert row.due_at == clock.now() + timedelta(seconds=7)
        clock.advance(seconds=7)
    await worker.run_once()
    assert outbox.get(row_id).state == "sent"  # type: ignore[union-attr]
    assert sender.keys() == Counter({"busy": 1})


async def test_unreachable_members_are_recorded_not_retried(engine) -> None:  # type: ignore[no-untyped-def]
    gone = member(engine, "GONE")
    clock = FixedClock(NOW)
    outbox = Outbox(engine)
    first, _ = outbox.enqueue(member_id=gone.id, platform="console", kind="broadcast", reply=message("a"),
                              due_at=NOW, key="a", now=NOW)
    second, _ = outbox.enqueue(member_id=gone.id, platform="console", kind="broadcast", reply=message("b"),
                               due_at=NOW + timedelta(minutes=1), key="b", now=NOW)
    sender = RecordingSender()
    sender.script["a"] = [SendOutcome.unreachable("user_not_found")]
    worker = DeliveryWorker(engine, {"console": sender}, clock)
    await worker.run_once()
    clock.advance(minutes=1)
    await worker.run_once()
    assert outbox.get(first).state == "unreachable" and outbox.get(first).last_error == "user_not_found"  # type: ignore[union-attr]
    assert outbox.get(second).state == "unreachable"  # type: ignore[union-attr]
    assert MemberRepository(engine).get(gone.id).status == "unreachable"  # type: ignore[union-attr]
    assert sender.delivered == []
    # Talking to the coach again makes them reachable.
    assert MemberRepository(engine).ensure("console", "GONE", NOW).status == "active"


async def test_a_worker_that_dies_before_sending_loses_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    alice = member(engine)
    clock = FixedClock(NOW)
    outbox = Outbox(engine)
    ids = [outbox.enqueue(member_id=alice.id, platform="console", kind="reminder", reply=message(str(i)),
                          due_at=NOW, key=f"d{i}", now=NOW)[0] for i in range(3)]
    # Worker A claims and dies before handing anything to the platform; then one row
    # is handed over ('sending') when it dies.
    claimed = outbox.claim_due("dead-worker", NOW, platforms=["console"])
    assert [r.id for r in claimed] == ids
    assert outbox.begin_send(ids[0], "dead-worker", NOW)
    sender = RecordingSender()
    survivor = DeliveryWorker(engine, {"console": sender}, clock, lease=timedelta(minutes=5))
    assert (await survivor.run_once()).claimed == 0  # the lease has not run out
    clock.advance(minutes=6)
    await survivor.run_once()
    assert outbox.get(ids[0]).state == "failed" and outbox.get(ids[0]).last_error == INTERRUPTED  # type: ignore[union-attr]
    assert [outbox.get(i).state for i in ids[1:]] == ["sent", "sent"]  # type: ignore[union-attr]
    assert sender.keys() == Counter({"d1": 1, "d2": 1})
    # The dead worker's late outcome is ignored: the rows are not its own any more.
    assert not outbox.mark_sent(ids[1], "dead-worker", NOW)
    # An operator checks and re-sends the interrupted one.
    assert outbox.retry(ids[0], clock.now())
    await survivor.run_once()
    assert sender.keys() == Counter({"d0": 1, "d1": 1, "d2": 1})


class HoldAndFold:
    def __init__(self, hold: datetime | None = None):
        self.hold = hold

    def hold_until(self, row: OutboxRow, member: Member, now: datetime) -> datetime | None:
        return self.hold

    def grace(self, kind: str) -> timedelta | None:
        return timedelta(hours=6) if kind == "checkin" else None

    def summary(self, member: Member, rows: list[OutboxRow], now: datetime) -> Reply:
        return message(f"While I was away: {len(rows)} reminders")


async def test_overdue_reminders_fold_into_one_summary_after_downtime(engine) -> None:  # type: ignore[no-untyped-def]
    alice = member(engine)
    clock = FixedClock(NOW)
    outbox = Outbox(engine)
    for day in range(3):
        outbox.enqueue(member_id=alice.id, platform="console", kind="checkin", reply=message(f"check {day}"),
                       due_at=NOW + timedelta(days=day), key=f"c{day}", now=NOW)
    outbox.enqueue(member_id=alice.id, platform="console", kind="broadcast", reply=message("update"),
                   due_at=NOW, key="b", now=NOW)
    outbox.enqueue(member_id=alice.id, platform="console", kind="checkin", reply=message("recent"),
                   due_at=NOW + timedelta(days=3, hours=22), key="recent", now=NOW)
    clock.set(NOW + timedelta(days=4))  # the coach was down for four days
    sender = RecordingSender()
    worker = DeliveryWorker(engine, {"console": sender}, clock, policy=HoldAndFold())
    await worker.drain()
    texts = sorted(d.reply.summary for d in sender.delivered)
    assert texts == ["While I was away: 3 reminders", "recent", "update"]
    assert outbox.counts() == {"folded": 3, "sent": 3}


async def test_quiet_hours_hold_non_urgent_messages(engine) -> None:  # type: ignore[no-untyped-def]
    alice = member(engine)
    clock = FixedClock(NOW)
    outbox = Outbox(engine)
    nudge, _ = outbox.enqueue(member_id=alice.id, platform="console", kind="quiz_nudge", reply=message("quiz"),
                              due_at=NOW, key="n", now=NOW)
    urgent, _ = outbox.enqueue(member_id=alice.id, platform="console", kind="broadcast", reply=message("urgent"),
                               due_at=NOW, key="u", now=NOW, urgent=True)
    sender = RecordingSender()
    worker = DeliveryWorker(engine, {"console": sender}, clock, policy=HoldAndFold(hold=NOW + timedelta(hours=8)))
    await worker.run_once()
    assert [d.idempotency_key for d in sender.delivered] == ["u"]
    held = outbox.get(nudge)
    assert held is not None and held.state == "pending" and held.due_at == NOW + timedelta(hours=8) and held.attempts == 0


async def test_a_sender_that_raises_is_retried_not_fatal(engine) -> None:  # type: ignore[no-untyped-def]
    alice = member(engine)
    outbox = Outbox(engine)
    row_id, _ = outbox.enqueue(member_id=alice.id, platform="console", kind="reminder", reply=message("x"),
                               due_at=NOW, key="boom", now=NOW)

    class Broken:
        platform = "console"

        async def send(self, delivery):  # type: ignore[no-untyped-def]
            raise ConnectionResetError("peer went away")

    await DeliveryWorker(engine, {"console": Broken()}, FixedClock(NOW)).run_once()
    row = outbox.get(row_id)
    assert row is not None and row.state == "pending" and "ConnectionResetError" in (row.last_error or "")


@pytest.mark.skipif(not pg_admin_url(), reason="needs COACH_TEST_DATABASE_URL (PostgreSQL)")
def test_several_worker_processes_with_crashes_deliver_each_message_at_most_once(tmp_path: Path) -> None:
    """Thousands of messages, four worker processes killed at random mid-run, random platform errors."""
    total = 3000
    with fresh_postgres() as url:
        engine = make_engine(url)
        upgrade(engine)
        repo = MemberRepository(engine)
        people = [repo.ensure("slack", f"U{i:04d}", NOW) for i in range(100)]
        outbox = Outbox(engine)
        start = datetime.now(UTC) - timedelta(seconds=1)
        for i in range(total):
            outbox.enqueue(member_id=people[i % 100].id, platform="slack", kind="broadcast",
                           reply=message(f"m{i}"), due_at=start, key=f"msg-{i}", now=start)
        record = tmp_path / "delivered.txt"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        rng = random.Random(7)

        def spawn(seed: int) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "tests.support.outbox_worker", url, str(record), str(seed)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )

        workers = [spawn(s) for s in range(4)]
        kills = 0
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline:
                counts = outbox.counts()
                if counts.get("pending", 0) + counts.get("claimed", 0) == 0 or kills >= 12:
                    break
                time.sleep(rng.uniform(0.3, 0.8))  # real processes at work, not a schedule
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                kills += 1
                workers[victim] = spawn(100 + kills)
        finally:
            for w in workers:
                w.send_signal(signal.SIGKILL)
                w.wait()
        assert kills >= 3, "the test must kill workers mid-run"
        # Finish in-process with a clock that moves on: stale claims recover, retries come due.
        clock = FixedClock(datetime.now(UTC))
        from tests.support.senders import FlakyFileSender

        finisher = DeliveryWorker(engine, {"slack": FlakyFileSender(str(record), seed=99)}, clock,
                                  lease=timedelta(minutes=5), batch=500)
        for _ in range(200):
            clock.advance(hours=1)
            asyncio.run(finisher.run_once())
            counts = outbox.counts()
            if set(counts) <= {"sent", "failed"}:
                break
        delivered = Counter(record.read_text().split())
        rows = outbox.list(limit=total + 10)
        assert len(rows) == total
        assert {r.state for r in rows} <= {"sent", "failed"}, outbox.counts()
        assert max(delivered.values()) == 1, "a message was delivered twice"
        for r in rows:
            if r.state == "sent":
                assert delivered[r.idempotency_key] == 1, r
            else:
                assert r.last_error, r
                if delivered[r.idempotency_key]:
                    assert r.last_error == INTERRUPTED, r
        sent = sum(1 for r in rows if r.state == "sent")
        assert sent > total * 0.9
        engine.dispose()
