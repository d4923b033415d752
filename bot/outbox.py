"""The one outbox every proactive message leaves through.

A row per recipient per occurrence, with a unique idempotency key, so scheduling
the same thing twice is harmless. Rows move:

    pending -> claimed -> sending -> sent | pending (retry) | failed | unreachable
    pending -> cancelled | folded (summarised after downtime)

`claimed` means a worker holds the row but has not handed it to a platform yet:
if that worker dies the row safely returns to `pending`. `sending` means the
platform may have it: if the worker dies there, the row is marked `failed` with
the reason rather than sent again, because a duplicate is worse than a message
an operator can re-send with `coach outbox retry`. That is what makes delivery
at most once per key, with nothing lost silently.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .replies import Reply
from .storage import tables as t

STATES = ("pending", "claimed", "sending", "sent", "failed", "unreachable", "cancelled", "folded")
FINAL_STATES = ("sent", "failed", "unreachable", "cancelled", "folded")

INTERRUPTED = (
    "interrupted while sending: the platform may or may not have it, so it was not sent again "
    "(check, then 'coach outbox retry ID' to re-send)"
)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    member_id: int | None
    platform: str
    kind: str
    reply: Reply
    due_at: datetime
    idempotency_key: str
    attempts: int
    state: str
    last_error: str | None
    is_urgent: bool
    sent_at: datetime | None = None
    created_at: datetime | None = None


def _row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=r.id,
        member_id=r.member_id,
        platform=r.platform,
        kind=r.kind,
        reply=Reply.from_dict(json.loads(r.content)),
        due_at=r.due_at,
        idempotency_key=r.idempotency_key,
        attempts=r.attempts,
        state=r.state,
        last_error=r.last_error,
        is_urgent=r.is_urgent,
        sent_at=r.sent_at,
        created_at=r.created_at,
    )


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    max_attempts: int = 6

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """Exponential back-off with a little jitter so retries do not arrive together."""
        seconds = min(self.max_seconds, self.base_seconds * (2 ** max(0, attempts - 1)))
        jitter = (rng or random).uniform(0.0, 0.1) * seconds
        return timedelta(seconds=seconds + jitter)


class Outbox:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- writing ------------------------------------------------------------
    def enqueue(
        self,
        *,
        member_id: int | None,
        platform: str,
        kind: str,
        reply: Reply,
        due_at: datetime,
        key: str,
        now: datetime,
        urgent: bool = False,
    ) -> tuple[int, bool]:
        """Add a message unless its key is already queued. Returns (row id, created)."""
        values = dict(
            member_id=member_id,
            platform=platform,
            kind=kind,
            content=json.dumps(reply.to_dict(), ensure_ascii=False),
            due_at=due_at,
            idempotency_key=key,
            attempts=0,
            state="pending",
            created_at=now,
            is_urgent=urgent,
        )
        with self.engine.begin() as conn:
            existing = conn.execute(select(t.outbox.c.id).where(t.outbox.c.idempotency_key == key)).first()
            if existing is not None:
                return int(existing.id), False
            try:
                with conn.begin_nested():
                    new_id = conn.execute(insert(t.outbox).values(**values).returning(t.outbox.c.id)).scalar_one()
                return int(new_id), True
            except IntegrityError:
                pass
        with self.engine.connect() as conn:
            row = conn.execute(select(t.outbox.c.id).where(t.outbox.c.idempotency_key == key)).one()
            return int(row.id), False

    # -- claiming -----------------------------------------------------------
    def claim_due(
        self,
        worker: str,
        now: datetime,
        *,
        platforms: Iterable[str],
        limit: int = 50,
        member_id: int | None = None,
    ) -> list[OutboxRow]:
        """Claim up to `limit` due rows for this worker.

        On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers claim side by
        side without waiting on or taking each other's rows; on SQLite one worker runs.
        """
        platforms = list(platforms)
        if not platforms:
            return []
        due = (
            select(t.outbox.c.id)
            .where(t.outbox.c.state == "pending", t.outbox.c.due_at <= now, t.outbox.c.platform.in_(platforms))
            .order_by(t.outbox.c.due_at, t.outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if member_id is not None:
            due = due.where(t.outbox.c.member_id == member_id)
        with self.engine.begin() as conn:
            ids = [r.id for r in conn.execute(due)]
            if not ids:
                return []
            conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_(ids), t.outbox.c.state == "pending")
                .values(state="claimed", claimed_by=worker, claimed_at=now, attempts=t.outbox.c.attempts + 1)
            )
            rows = conn.execute(
                select(t.outbox).where(t.outbox.c.id.in_(ids), t.outbox.c.claimed_by == worker, t.outbox.c.state == "claimed")
                .order_by(t.outbox.c.due_at, t.outbox.c.id)
            ).all()
        return [_row(r) for r in rows]

    def begin_send(self, row_id: int, worker: str, now: datetime) -> bool:
        """Mark a claimed row as handed to the platform. False if it is no longer ours."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == row_id, t.outbox.c.state == "claimed", t.outbox.c.claimed_by == worker)
                .values(state="sending", claimed_at=now)
            )
            return result.rowcount == 1

    def recover_stale(self, now: datetime, lease: timedelta) -> tuple[int, int]:
        """Rows held by a worker that died: `claimed` go back to pending, `sending` fail with the reason."""
        cutoff = now - lease
        with self.engine.begin() as conn:
            released = conn.execute(
                update(t.outbox)
                .where(t.outbox.c.state == "claimed", t.outbox.c.claimed_at < cutoff)
                .values(state="pending", claimed_by=None, attempts=t.outbox.c.attempts - 1)
            ).rowcount
            failed = conn.execute(
                update(t.outbox)
                .where(t.outbox.c.state == "sending", t.outbox.c.claimed_at < cutoff)
                .values(state="failed", last_error=INTERRUPTED)
            ).rowcount
        return int(released), int(failed)

    # -- outcomes -----------------------------------------------------------
    def _finish(self, row_id: int, worker: str | None, **values: Any) -> bool:
        query = update(t.outbox).where(t.outbox.c.id == row_id, t.outbox.c.state.in_(("claimed", "sending")))
        if worker is not None:
            query = query.where(t.outbox.c.claimed_by == worker)
        with self.engine.begin() as conn:
            return conn.execute(query.values(**values)).rowcount == 1

    def mark_sent(self, row_id: int, worker: str, now: datetime) -> bool:
        return self._finish(row_id, worker, state="sent", sent_at=now, last_error=None)

    def mark_retry(self, row_id: int, worker: str, due_at: datetime, error: str, *, count_attempt: bool = True) -> bool:
        values: dict[str, Any] = dict(state="pending", due_at=due_at, last_error=error[:500], claimed_by=None)
        if not count_attempt:  # a rate limit is not a failure of the message
            values["attempts"] = t.outbox.c.attempts - 1
        return self._finish(row_id, worker, **values)

    def mark_failed(self, row_id: int, worker: str | None, error: str) -> bool:
        return self._finish(row_id, worker, state="failed", last_error=error[:500])

    def mark_unreachable(self, row_id: int, worker: str | None, error: str) -> bool:
        return self._finish(row_id, worker, state="unreachable", last_error=error[:500])

    def mark_folded(self, row_ids: list[int], worker: str, summary_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_(row_ids), t.outbox.c.claimed_by == worker, t.outbox.c.state == "claimed")
                .values(state="folded", last_error=f"folded into summary #{summary_id}")
            )

    def release(self, row_id: int, worker: str, due_at: datetime, reason: str) -> bool:
        """Give a claimed row back untouched (for example, delayed by quiet hours)."""
        return self._finish(
            row_id, worker, state="pending", due_at=due_at, claimed_by=None,
            attempts=t.outbox.c.attempts - 1, last_error=reason,
        )

    # -- operators ----------------------------------------------------------
    def retry(self, row_id: int, now: datetime) -> bool:
        """An operator's re-send of a failed or unreachable row."""
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    update(t.outbox)
                    .where(t.outbox.c.id == row_id, t.outbox.c.state.in_(("failed", "unreachable")))
                    .values(state="pending", due_at=now, attempts=0, claimed_by=None)
                ).rowcount
                == 1
            )

    def cancel(self, where: Any) -> int:
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    update(t.outbox).where(where, t.outbox.c.state == "pending").values(state="cancelled")
                ).rowcount
            )

    def get(self, row_id: int) -> OutboxRow | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.outbox).where(t.outbox.c.id == row_id)).first()
            return None if r is None else _row(r)

    def list(self, *, states: Iterable[str] = (), member_id: int | None = None, limit: int = 200) -> list[OutboxRow]:
        query = select(t.outbox).order_by(t.outbox.c.due_at, t.outbox.c.id).limit(limit)
        states = list(states)
        if states:
            query = query.where(t.outbox.c.state.in_(states))
        if member_id is not None:
            query = query.where(t.outbox.c.member_id == member_id)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.outbox.c.state, func.count()).group_by(t.outbox.c.state))
            return {r[0]: int(r[1]) for r in rows}

    def oldest_pending(self) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(t.outbox.c.due_at)).where(t.outbox.c.state == "pending")).scalar()

    def purge(self, before: datetime) -> int:
        """Retention: delete finished rows older than `before`."""
        from sqlalchemy import delete

        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    delete(t.outbox).where(
                        t.outbox.c.state.in_(FINAL_STATES),
                        or_(t.outbox.c.sent_at < before, and_(t.outbox.c.sent_at.is_(None), t.outbox.c.due_at < before)),
                        ~t.outbox.c.id.in_(select(t.receipts.c.outbox_id).where(t.receipts.c.outbox_id.is_not(None))),
                    )
                ).rowcount
            )
