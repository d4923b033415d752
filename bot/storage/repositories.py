"""Small repositories, one per record kind, over SQLAlchemy Core."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import tables as t

ROLES = ("member", "officer")


@dataclass(frozen=True)
class Member:
    id: int
    platform: str
    user_id: str
    workspace: str
    display_name: str
    role: str
    timezone: str | None
    preferences: dict[str, Any]
    status: str
    tags: tuple[str, ...] = field(default=())
    last_seen_at: datetime | None = None
    status_reason: str | None = None

    @property
    def is_officer(self) -> bool:
        return self.role == "officer"

    @property
    def label(self) -> str:
        return self.display_name or self.user_id


class MemberRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def _row_to_member(self, row: Any, tags: Iterable[str] = ()) -> Member:
        return Member(
            id=row.id,
            platform=row.platform,
            user_id=row.user_id,
            workspace=row.workspace,
            display_name=row.display_name,
            role=row.role,
            timezone=row.timezone,
            preferences=json.loads(row.preferences or "{}"),
            status=row.status,
            tags=tuple(sorted(tags)),
            last_seen_at=row.last_seen_at,
            status_reason=row.status_reason,
        )

    def _tags(self, conn: Any, member_id: int) -> list[str]:
        rows = conn.execute(select(t.member_tags.c.tag).where(t.member_tags.c.member_id == member_id))
        return [r.tag for r in rows]

    def get(self, member_id: int) -> Member | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.members).where(t.members.c.id == member_id)).first()
            return None if row is None else self._row_to_member(row, self._tags(conn, row.id))

    def find(self, platform: str, user_id: str) -> Member | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.members).where(
                    t.members.c.platform == platform, t.members.c.user_id == user_id
                )
            ).first()
            return None if row is None else self._row_to_member(row, self._tags(conn, row.id))

    def ensure(
        self,
        platform: str,
        user_id: str,
        now: datetime,
        *,
        display_name: str = "",
        workspace: str = "",
        touch: bool = True,
    ) -> Member:
        """Find or create a member; refresh name, workspace and last-seen time."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(t.members).where(
                    t.members.c.platform == platform, t.members.c.user_id == user_id
                )
            ).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(t.members).values(
                                platform=platform,
                                user_id=user_id,
                                workspace=workspace,
                                display_name=display_name,
                                role="member",
                                preferences="{}",
                                status="active",
                                created_at=now,
                                last_seen_at=now if touch else None,
                            )
                        )
                except IntegrityError:
                    pass  # another worker created it first
            else:
                changes: dict[str, Any] = {}
                if touch:
                    changes["last_seen_at"] = now
                if display_name and display_name != row.display_name:
                    changes["display_name"] = display_name
                if workspace and workspace != row.workspace:
                    changes["workspace"] = workspace
                if touch and row.status != "active":
                    changes.update(status="active", status_reason=None)
                if changes:
                    conn.execute(update(t.members).where(t.members.c.id == row.id).values(**changes))
        member = self.find(platform, user_id)
        assert member is not None
        return member

    def set_role(self, member_id: int, role: str) -> None:
        if role not in ROLES:
            raise ValueError(role)
        with self.engine.begin() as conn:
            conn.execute(update(t.members).where(t.members.c.id == member_id).values(role=role))

    def officers(self) -> list[Member]:
        return self.list(role="officer")

    def list(self, *, role: str | None = None, tags: Iterable[str] = ()) -> list[Member]:
        """Members, optionally only those with a role or carrying any of `tags`."""
        wanted = [tg for tg in tags if tg]
        query = select(t.members).order_by(t.members.c.platform, t.members.c.display_name, t.members.c.id)
        if role:
            query = query.where(t.members.c.role == role)
        if wanted:
            query = query.where(
                t.members.c.id.in_(
                    select(t.member_tags.c.member_id).where(t.member_tags.c.tag.in_(wanted))
                )
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            all_tags: dict[int, list[str]] = {}
            for r in conn.execute(select(t.member_tags)):
                all_tags.setdefault(r.member_id, []).append(r.tag)
            return [self._row_to_member(r, all_tags.get(r.id, ())) for r in rows]

    def set_preferences(self, member_id: int, preferences: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.members)
                .where(t.members.c.id == member_id)
                .values(preferences=json.dumps(preferences, sort_keys=True))
            )

    def set_timezone(self, member_id: int, tz: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.members).where(t.members.c.id == member_id).values(timezone=tz))

    def set_status(self, member_id: int, status: str, reason: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.members)
                .where(t.members.c.id == member_id)
                .values(status=status, status_reason=reason)
            )

    def add_tags(self, member_id: int, tags: Iterable[str]) -> None:
        with self.engine.begin() as conn:
            existing = set(self._tags(conn, member_id))
            for tag in sorted(set(tags) - existing):
                conn.execute(insert(t.member_tags).values(member_id=member_id, tag=tag))

    def remove_tags(self, member_id: int, tags: Iterable[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(t.member_tags).where(
                    t.member_tags.c.member_id == member_id, t.member_tags.c.tag.in_(list(tags))
                )
            )

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.members)).scalar_one())


class ConversationRefRepository:
    """Where to reach a member later: the adapter-owned route of their last conversation."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def save(self, member_id: int, platform: str, conversation_id: str, reference: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(t.conversation_refs).where(t.conversation_refs.c.member_id == member_id)
            ).first()
            values = dict(platform=platform, conversation_id=conversation_id, reference=reference, updated_at=now)
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(t.conversation_refs).values(member_id=member_id, **values))
                    return
                except IntegrityError:
                    pass
            elif (row.conversation_id, row.reference) == (conversation_id, reference):
                return
            conn.execute(
                update(t.conversation_refs).where(t.conversation_refs.c.member_id == member_id).values(**values)
            )

    def get(self, member_id: int) -> tuple[str, str] | None:
        """(conversation_id, reference) or None when the member was never reached."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.conversation_refs).where(t.conversation_refs.c.member_id == member_id)
            ).first()
            return None if row is None else (row.conversation_id, row.reference)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class AuditRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record(self, actor: str, action: str, now: datetime, **detail: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.audit_log).values(
                    at=now, actor=actor, action=action, detail=json.dumps(detail, sort_keys=True, default=str)
                )
            )

    def list(self, limit: int = 100) -> list[AuditEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit))
            return [AuditEntry(r.id, r.at, r.actor, r.action, json.loads(r.detail)) for r in rows]


class StatsRepository:
    """Verdicts and categories only: never the text that was checked."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def record(self, platform: str, kind: str, verdict: str, categories: Iterable[str], now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.check_stats).values(
                    at=now, platform=platform, kind=kind, verdict=verdict, categories=",".join(sorted(categories))
                )
            )

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.check_stats.c.verdict, func.count()).group_by(t.check_stats.c.verdict)
            )
            return {r[0]: int(r[1]) for r in rows}

    def category_counts(self) -> dict[tuple[str, str], int]:
        """(kind, category) -> how many checks or questions carried it."""
        counts: dict[tuple[str, str], int] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(select(t.check_stats.c.kind, t.check_stats.c.categories)):
                for category in filter(None, (row.categories or "").split(",")):
                    counts[(row.kind, category)] = counts.get((row.kind, category), 0) + 1
        return counts

    def purge(self, before: datetime) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(delete(t.check_stats).where(t.check_stats.c.at < before)).rowcount)
