"""DeliveryWorker.run_once(): claim due outbox rows and hand them to platform senders.

The only async part of the core, because it awaits senders. Tests call
`run_once()` with a fixed clock; the surrounding loop only sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, select

from .clock import Clock
from .outbox import Outbox, OutboxRow, RetryPolicy
from .ports import Delivery, Sender, SendOutcome
from .replies import Reply
from .storage import tables as t
from .storage.repositories import Member, MemberRepository

log = logging.getLogger(__name__)


class DeliveryPolicy(Protocol):
    """When and how to deliver: quiet hours, away periods and catch-up after downtime."""

    def hold_until(self, row: OutboxRow, member: Member, now: datetime) -> datetime | None:
        """A later time to deliver this row, or None to deliver now."""
        ...

    def grace(self, kind: str) -> timedelta | None:
        """How late a row of this kind may still go out on its own (None: always)."""
        ...

    def summary(self, member: Member, rows: list[OutboxRow], now: datetime) -> Reply:
        """One 'while I was away' message in place of overdue rows."""
        ...


class SendEverythingNow:
    """The policy when no feature sets one: no holds, no folding."""

    def hold_until(self, row: OutboxRow, member: Member, now: datetime) -> datetime | None:
        return None

    def grace(self, kind: str) -> timedelta | None:
        return None

    def summary(self, member: Member, rows: list[OutboxRow], now: datetime) -> Reply:  # pragma: no cover
        raise NotImplementedError


@dataclass
class WorkerStats:
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def __iadd__(self, other: WorkerStats) -> WorkerStats:
        self.claimed += other.claimed
        self.outcomes.update(other.outcomes)
        return self


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        clock: Clock,
        *,
        worker_id: str | None = None,
        policy: DeliveryPolicy | None = None,
        retry: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 50,
        concurrency: int = 8,
        member_id: int | None = None,
    ):
        self.outbox = Outbox(engine)
        self.members = MemberRepository(engine)
        self.engine = engine
        self.senders = dict(senders)
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.policy: DeliveryPolicy = policy or SendEverythingNow()
        self.retry = retry or RetryPolicy()
        self.lease = lease
        self.batch = batch
        self.concurrency = concurrency
        self.member_id = member_id

    async def run_once(self) -> WorkerStats:
        """One pass: recover stale claims, then claim and deliver what is due.

        Database work runs in threads so a busy outbox never stalls the event
        loop that also answers Slack and Teams requests.
        """
        stats = WorkerStats()
        rows, members = await asyncio.to_thread(self._claim, stats)
        if not rows:
            return stats
        gate = asyncio.Semaphore(self.concurrency)

        async def deliver(row: OutboxRow) -> None:
            async with gate:
                stats.outcomes[await self._deliver(row, members.get(row.member_id or -1))] += 1

        await asyncio.gather(*(deliver(r) for r in rows))
        return stats

    def _claim(self, stats: WorkerStats) -> tuple[list[OutboxRow], dict[int, Member]]:
        now = self.clock.now()
        released, interrupted = self.outbox.recover_stale(now, self.lease)
        if released or interrupted:
            log.warning("recovered stale rows: released=%s interrupted=%s", released, interrupted)
        rows = self.outbox.claim_due(
            self.worker_id, now, platforms=self.senders, limit=self.batch, member_id=self.member_id
        )
        stats.claimed = len(rows)
        if not rows:
            return [], {}
        members = {m.id: m for m in self._members({r.member_id for r in rows if r.member_id})}
        return self._fold_overdue(rows, members, now, stats), members

    async def drain(self, max_passes: int = 1000) -> WorkerStats:
        """Run passes until nothing due is left (tests and `coach worker --once`)."""
        total = WorkerStats()
        for _ in range(max_passes):
            stats = await self.run_once()
            total += stats
            if stats.claimed == 0:
                break
        return total

    # -- internals ----------------------------------------------------------
    def _members(self, ids: set[int]) -> list[Member]:
        return [m for m in (self.members.get(i) for i in ids) if m is not None]

    def _route(self, member_id: int) -> tuple[str, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.conversation_refs.c.conversation_id, t.conversation_refs.c.reference).where(
                    t.conversation_refs.c.member_id == member_id
                )
            ).first()
        return ("", "") if row is None else (row.conversation_id, row.reference)

    def _fold_overdue(
        self, rows: list[OutboxRow], members: dict[int, Member], now: datetime, stats: WorkerStats
    ) -> list[OutboxRow]:
        """Rows overdue past their kind's grace become one summary per member."""
        keep: list[OutboxRow] = []
        stale: dict[int, list[OutboxRow]] = {}
        for row in rows:
            grace = self.policy.grace(row.kind)
            if grace is not None and row.member_id in members and now - row.due_at > grace:
                stale.setdefault(row.member_id, []).append(row)  # type: ignore[arg-type]
            else:
                keep.append(row)
        for member_id, overdue in stale.items():
            member = members[member_id]
            summary = self.policy.summary(member, overdue, now)
            key = "summary:" + ",".join(str(r.id) for r in overdue)
            summary_id, _ = self.outbox.enqueue(
                member_id=member_id, platform=member.platform, kind="summary", reply=summary,
                due_at=now, key=key, now=now,
            )
            self.outbox.mark_folded([r.id for r in overdue], self.worker_id, summary_id)
            stats.outcomes["folded"] += len(overdue)
        return keep

    async def _deliver(self, row: OutboxRow, member: Member | None) -> str:
        prepared = await asyncio.to_thread(self._prepare, row, member)
        if isinstance(prepared, str):
            return prepared
        try:
            outcome = await self.senders[row.platform].send(prepared)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a sender bug must not stop the worker: treat as a retry
            log.warning("sender raised %s for outbox row %s", type(exc).__name__, row.id)
            outcome = SendOutcome.retry(f"{type(exc).__name__}: {str(exc)[:200]}")
        assert member is not None
        return await asyncio.to_thread(self._record, row, member, outcome)

    def _prepare(self, row: OutboxRow, member: Member | None) -> Delivery | str:
        """Checks before sending; an outcome string when the row is settled without sending."""
        now = self.clock.now()
        if member is None:
            self.outbox.mark_failed(row.id, self.worker_id, "the member no longer exists")
            return "failed"
        if member.status == "unreachable":
            self.outbox.mark_unreachable(row.id, self.worker_id, f"member unreachable: {member.status_reason or 'unknown'}")
            return "unreachable"
        hold = None if row.is_urgent else self.policy.hold_until(row, member, now)
        if hold is not None and hold > now:
            self.outbox.release(row.id, self.worker_id, hold, "held for quiet hours or away time")
            return "held"
        conversation_id, route = self._route(member.id)
        if not self.outbox.begin_send(row.id, self.worker_id, now):
            return "lost-claim"
        return Delivery(
            outbox_id=row.id, idempotency_key=row.idempotency_key, platform=row.platform,
            user_id=member.user_id, conversation_id=conversation_id, route=route, reply=row.reply,
        )

    def _record(self, row: OutboxRow, member: Member, outcome: SendOutcome) -> str:
        now = self.clock.now()
        if outcome.status == "sent":
            self.outbox.mark_sent(row.id, self.worker_id, now)
        elif outcome.status == "unreachable":
            self.outbox.mark_unreachable(row.id, self.worker_id, outcome.detail)
            self.members.set_status(member.id, "unreachable", outcome.detail[:200])
        elif outcome.status == "failed":
            self.outbox.mark_failed(row.id, self.worker_id, outcome.detail)
        elif outcome.is_rate_limited:
            wait = timedelta(seconds=outcome.retry_after if outcome.retry_after is not None else 1.0)
            self.outbox.mark_retry(row.id, self.worker_id, now + wait, outcome.detail or "rate limited", count_attempt=False)
            return "rate-limited"
        elif row.attempts >= self.retry.max_attempts:
            self.outbox.mark_failed(row.id, self.worker_id, f"gave up after {row.attempts} attempts: {outcome.detail}")
            return "failed"
        else:
            wait = self.retry.delay(row.attempts)
            if outcome.retry_after is not None:
                wait = max(wait, timedelta(seconds=outcome.retry_after))
            self.outbox.mark_retry(row.id, self.worker_id, now + wait, outcome.detail)
            return "retry"
        return outcome.status
