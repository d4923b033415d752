"""Broadcasts, their receipts and officers' half-written drafts, over SQLAlchemy Core."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..replies import Reply
from . import tables as t
from .repositories import Member


def broadcast_key(broadcast_id: int, member_id: int) -> str:
    return f"broadcast:{broadcast_id}:{member_id}"


def follow_up_key(broadcast_id: int, member_id: int) -> str:
    return f"broadcast-follow-up:{broadcast_id}:{member_id}"


def _keys_of(prefix: str, broadcast_id: int) -> Any:
    # The trailing colon keeps broadcast 1 from matching broadcast 10.
    return t.outbox.c.idempotency_key.like(f"{prefix}:{broadcast_id}:%")


def broadcast_rows(broadcast_id: int) -> Any:
    """Outbox rows of a broadcast: the message itself and any follow-ups."""
    return _keys_of("broadcast", broadcast_id) | _keys_of("broadcast-follow-up", broadcast_id)


@dataclass(frozen=True)
class Broadcast:
    id: int
    title: str
    body: str
    audience: tuple[str, ...]  # tags; () means everyone
    requires_ack: bool
    send_at: datetime
    created_by: str
    state: str  # scheduled | cancelled
    created_at: datetime
    cancelled_at: datetime | None
    follow_up_days: int | None
    is_urgent: bool
    recipients: int = 0
    acknowledged: int = 0

    @property
    def is_cancelled(self) -> bool:
        return self.state == "cancelled"


@dataclass(frozen=True)
class RecipientRow:
    """One recipient of a broadcast: the member, their message's outbox row and their receipt."""

    member_id: int
    platform: str
    user_id: str
    display_name: str
    outbox_id: int | None
    state: str  # the outbox row's state ("" if the row is gone)
    last_error: str | None
    due_at: datetime | None
    sent_at: datetime | None
    acknowledged_at: datetime | None
    followed_up_at: datetime | None
    follow_up_state: str  # "" when no follow-up was queued
    follow_up_sent_at: datetime | None

    @property
    def ref(self) -> str:
        return f"{self.platform}:{self.user_id}"

    @property
    def label(self) -> str:
        return self.display_name or self.user_id


@dataclass(frozen=True)
class Draft:
    id: int
    member_id: int
    step: str
    title: str
    body: str
    audience: tuple[str, ...]
    send_at: datetime | None
    requires_ack: bool
    follow_up_days: int | None
    is_urgent: bool
    updated_at: datetime


def _broadcast(r: Any, recipients: int = 0, acknowledged: int = 0) -> Broadcast:
    return Broadcast(
        id=r.id,
        title=r.title,
        body=r.body,
        audience=tuple(json.loads(r.audience or "[]")),
        requires_ack=bool(r.requires_ack),
        send_at=r.send_at,
        created_by=r.created_by,
        state=r.state,
        created_at=r.created_at,
        cancelled_at=r.cancelled_at,
        follow_up_days=r.follow_up_days,
        is_urgent=bool(r.is_urgent),
        recipients=recipients,
        acknowledged=acknowledged,
    )


def _outbox_values(member: Member, kind: str, reply: Reply, due_at: datetime, key: str, now: datetime,
                   urgent: bool) -> dict[str, Any]:
    """The same row `Outbox.enqueue` writes, for a bulk insert in one transaction."""
    return dict(
        member_id=member.id,
        platform=member.platform,
        kind=kind,
        content=json.dumps(reply.to_dict(), ensure_ascii=False),
        due_at=due_at,
        idempotency_key=key,
        attempts=0,
        state="pending",
        last_error=None,  # every row of a bulk insert must name the same columns
        created_at=now,
        is_urgent=urgent,
    )


class BroadcastRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(
        self,
        *,
        title: str,
        body: str,
        audience: Sequence[str],
        requires_ack: bool,
        send_at: datetime,
        created_by: str,
        now: datetime,
        follow_up_at: datetime | None,
        follow_up_days: int | None,
        urgent: bool,
        recipients: Sequence[Member],
        message: Callable[[int], Reply],
        follow_up: Callable[[int], Reply],
    ) -> int:
        """Write the broadcast, one outbox row and receipt per recipient, and any scheduled follow-ups.

        All in one transaction: a crash leaves the whole broadcast or none of it,
        never a broadcast that reached half its audience with no record of the rest.
        Members already known to be unreachable get a row recorded as such, with the reason.
        """
        with self.engine.begin() as conn:
            broadcast_id = int(
                conn.execute(
                    insert(t.broadcasts)
                    .values(
                        title=title,
                        body=body,
                        audience=json.dumps(list(audience)),
                        requires_ack=requires_ack,
                        send_at=send_at,
                        created_by=created_by,
                        state="scheduled",
                        created_at=now,
                        follow_up_days=follow_up_days,
                        is_urgent=urgent,
                    )
                    .returning(t.broadcasts.c.id)
                ).scalar_one()
            )
            reply = message(broadcast_id)
            rows = []
            for member in recipients:
                values = _outbox_values(member, "broadcast", reply, send_at, broadcast_key(broadcast_id, member.id),
                                        now, urgent)
                if member.status == "unreachable":
                    values.update(state="unreachable",
                                  last_error=f"member unreachable: {member.status_reason or 'reason not known'}"[:500])
                rows.append(values)
            if follow_up_at is not None:
                chase = follow_up(broadcast_id)
                rows += [
                    _outbox_values(m, "broadcast", chase, follow_up_at, follow_up_key(broadcast_id, m.id), now, urgent)
                    for m in recipients
                    if m.status != "unreachable"
                ]
            if rows:
                conn.execute(insert(t.outbox), rows)
            ids = {
                r.idempotency_key: r.id
                for r in conn.execute(
                    select(t.outbox.c.id, t.outbox.c.idempotency_key).where(_keys_of("broadcast", broadcast_id))
                )
            }
            if recipients:
                conn.execute(
                    insert(t.receipts),
                    [
                        dict(
                            broadcast_id=broadcast_id,
                            member_id=m.id,
                            outbox_id=ids[broadcast_key(broadcast_id, m.id)],
                            followed_up_at=follow_up_at if m.status != "unreachable" else None,
                        )
                        for m in recipients
                    ],
                )
        return broadcast_id

    def get(self, broadcast_id: int) -> Broadcast | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.broadcasts).where(t.broadcasts.c.id == broadcast_id)).first()
            if row is None:
                return None
            total, acked = self._counts(conn, [broadcast_id]).get(broadcast_id, (0, 0))
            return _broadcast(row, total, acked)

    def list(self, limit: int = 50) -> list[Broadcast]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.broadcasts).order_by(t.broadcasts.c.id.desc()).limit(limit)).all()
            counts = self._counts(conn, [r.id for r in rows])
            return [_broadcast(r, *counts.get(r.id, (0, 0))) for r in rows]

    def _counts(self, conn: Any, ids: list[int]) -> dict[int, tuple[int, int]]:
        if not ids:
            return {}
        rows = conn.execute(
            select(t.receipts.c.broadcast_id, func.count(), func.count(t.receipts.c.acknowledged_at))
            .where(t.receipts.c.broadcast_id.in_(ids))
            .group_by(t.receipts.c.broadcast_id)
        )
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def recipients(self, broadcast_id: int) -> list[RecipientRow]:
        original = t.outbox.alias("original")
        query = (
            select(
                t.members.c.id.label("member_id"),
                t.members.c.platform,
                t.members.c.user_id,
                t.members.c.display_name,
                t.receipts.c.outbox_id,
                original.c.state,
                original.c.last_error,
                original.c.due_at,
                original.c.sent_at,
                t.receipts.c.acknowledged_at,
                t.receipts.c.followed_up_at,
            )
            .select_from(
                t.receipts.join(t.members, t.members.c.id == t.receipts.c.member_id)
                .outerjoin(original, original.c.id == t.receipts.c.outbox_id)
            )
            .where(t.receipts.c.broadcast_id == broadcast_id)
            .order_by(t.members.c.platform, t.members.c.display_name, t.members.c.id)
        )
        with self.engine.connect() as conn:
            chases = {
                r.idempotency_key: (r.state, r.sent_at)
                for r in conn.execute(
                    select(t.outbox.c.idempotency_key, t.outbox.c.state, t.outbox.c.sent_at).where(
                        _keys_of("broadcast-follow-up", broadcast_id)
                    )
                )
            }
            result = []
            for r in conn.execute(query):
                chase_state, chase_sent = chases.get(follow_up_key(broadcast_id, r.member_id), ("", None))
                result.append(
                    RecipientRow(
                        member_id=r.member_id,
                        platform=r.platform,
                        user_id=r.user_id,
                        display_name=r.display_name,
                        outbox_id=r.outbox_id,
                        state=r.state or "",
                        last_error=r.last_error,
                        due_at=r.due_at,
                        sent_at=r.sent_at,
                        acknowledged_at=r.acknowledged_at,
                        followed_up_at=r.followed_up_at,
                        follow_up_state=chase_state,
                        follow_up_sent_at=chase_sent,
                    )
                )
            return result

    def mark_cancelled(self, broadcast_id: int, now: datetime) -> bool:
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    update(t.broadcasts)
                    .where(t.broadcasts.c.id == broadcast_id, t.broadcasts.c.state != "cancelled")
                    .values(state="cancelled", cancelled_at=now)
                ).rowcount
                == 1
            )

    def receipt(self, broadcast_id: int, member_id: int) -> tuple[bool, datetime | None]:
        """(received, acknowledged_at): was the member among the recipients, and when did they confirm."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.receipts.c.acknowledged_at).where(
                    t.receipts.c.broadcast_id == broadcast_id, t.receipts.c.member_id == member_id
                )
            ).first()
        return (False, None) if row is None else (True, row.acknowledged_at)

    def acknowledge(self, broadcast_id: int, member_id: int, now: datetime) -> bool:
        """Record the first press only. True when this press was the one recorded."""
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    update(t.receipts)
                    .where(
                        t.receipts.c.broadcast_id == broadcast_id,
                        t.receipts.c.member_id == member_id,
                        t.receipts.c.acknowledged_at.is_(None),
                    )
                    .values(acknowledged_at=now)
                ).rowcount
                == 1
            )

    def set_followed_up(self, broadcast_id: int, member_ids: Sequence[int], when: datetime) -> None:
        if not member_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(t.receipts)
                .where(t.receipts.c.broadcast_id == broadcast_id, t.receipts.c.member_id.in_(list(member_ids)))
                .values(followed_up_at=when)
            )

    def bring_forward(self, keys: Sequence[str], now: datetime) -> int:
        """Make waiting (not yet due) outbox rows due now: a manual follow-up overtakes a scheduled one."""
        if not keys:
            return 0
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    update(t.outbox)
                    .where(t.outbox.c.idempotency_key.in_(list(keys)), t.outbox.c.state == "pending",
                           t.outbox.c.due_at > now)
                    .values(due_at=now)
                ).rowcount
            )


def _draft(r: Any) -> Draft:
    return Draft(
        id=r.id,
        member_id=r.member_id,
        step=r.step,
        title=r.title,
        body=r.body,
        audience=tuple(json.loads(r.audience or "[]")),
        send_at=r.send_at,
        requires_ack=bool(r.requires_ack),
        follow_up_days=r.follow_up_days,
        is_urgent=bool(r.is_urgent),
        updated_at=r.updated_at,
    )


class DraftRepository:
    """One draft per officer: starting again replaces it."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, member_id: int) -> Draft | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.broadcast_drafts).where(t.broadcast_drafts.c.member_id == member_id)
            ).first()
            return None if row is None else _draft(row)

    def start(self, member_id: int, step: str, now: datetime) -> Draft:
        values = dict(step=step, title="", body="", audience="[]", send_at=None, requires_ack=False,
                      follow_up_days=None, is_urgent=False, updated_at=now)
        with self.engine.begin() as conn:
            conn.execute(delete(t.broadcast_drafts).where(t.broadcast_drafts.c.member_id == member_id))
            try:
                with conn.begin_nested():
                    conn.execute(insert(t.broadcast_drafts).values(member_id=member_id, **values))
            except IntegrityError:  # a double click started it twice: the other one stands
                pass
        draft = self.get(member_id)
        assert draft is not None
        return draft

    def advance(self, draft: Draft, step: str, now: datetime, **values: Any) -> Draft | None:
        """Move a draft on from the step it was at. None if another turn moved it first."""
        if "audience" in values:
            values["audience"] = json.dumps(list(values["audience"]))
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(t.broadcast_drafts)
                .where(t.broadcast_drafts.c.id == draft.id, t.broadcast_drafts.c.step == draft.step)
                .values(step=step, updated_at=now, **values)
            ).rowcount
        return self.get(draft.member_id) if moved == 1 else None

    def delete(self, draft_id: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(t.broadcast_drafts).where(t.broadcast_drafts.c.id == draft_id)).rowcount == 1
