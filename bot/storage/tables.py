"""Every table and column name lives here and nowhere else.

Timestamps are stored in UTC (`UTCDateTime` hands back aware datetimes on every
backend), so a clock change never shifts a reminder. No table has a column for
draft or question text: the coach never stores what people ask it to check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

from ..clock import UTC, as_utc

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def _ts(name: str, nullable: bool = True) -> Column[Any]:
    return Column(name, UTCDateTime(), nullable=nullable)


members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("workspace", String(200), nullable=False, default=""),
    Column("display_name", String(200), nullable=False, default=""),
    Column("role", String(20), nullable=False, default="member"),  # member | officer
    Column("timezone", String(64)),  # None: the council's timezone
    Column("preferences", Text, nullable=False, default="{}"),  # JSON
    Column("status", String(20), nullable=False, default="active"),  # active | unreachable
    Column("status_reason", String(200)),
    _ts("created_at", nullable=False),
    _ts("last_seen_at"),
    UniqueConstraint("platform", "user_id", name="uq_members_platform_user"),
)

member_tags = Table(
    "member_tags",
    metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(100), primary_key=True),
)

conversation_refs = Table(
    "conversation_refs",
    metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("conversation_id", String(300), nullable=False, default=""),
    Column("reference", Text, nullable=False, default=""),  # adapter-owned JSON
    _ts("updated_at", nullable=False),
)

quiz_sessions = Table(
    "quiz_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("category", String(40)),  # None: a mixed quiz
    Column("scenario_ids", Text, nullable=False),  # JSON list
    Column("position", Integer, nullable=False, default=0),
    Column("score", Integer, nullable=False, default=0),
    Column("state", String(20), nullable=False, default="open"),  # open | finished | abandoned
    _ts("started_at", nullable=False),
    _ts("updated_at", nullable=False),
    Index("ix_quiz_sessions_member_state", "member_id", "state"),
)

quiz_attempts = Table(
    "quiz_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", ForeignKey("quiz_sessions.id", ondelete="CASCADE")),
    Column("position", Integer, nullable=False, default=0),
    Column("scenario_id", String(100), nullable=False),
    Column("category", String(40), nullable=False),
    Column("choice", Integer, nullable=False),
    Column("is_correct", Boolean, nullable=False),
    _ts("answered_at", nullable=False),
    # One answer per question of a session: a double click cannot count twice.
    UniqueConstraint("session_id", "position", name="uq_quiz_attempts_session_position"),
    Index("ix_quiz_attempts_member", "member_id"),
)

scenario_schedule = Table(
    "scenario_schedule",
    metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("scenario_id", String(100), primary_key=True),
    Column("box", Integer, nullable=False, default=0),
    _ts("due_at", nullable=False),
    _ts("last_seen_at"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("network", String(40), nullable=False),
    Column("handle", String(200), nullable=False, default=""),
    _ts("created_at", nullable=False),
    UniqueConstraint("member_id", "network", "handle", name="uq_accounts_member_network_handle"),
)

reminders = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),  # checkin | weekend | away | custom | quiz_nudge ...
    Column("spec", Text, nullable=False, default="{}"),  # JSON: schedule and wording keys
    Column("label", String(300), nullable=False, default=""),  # what the member asked to be reminded of
    _ts("next_due_at"),
    Column("is_active", Boolean, nullable=False, default=True),
    _ts("created_at", nullable=False),
    Index("ix_reminders_due", "is_active", "next_due_at"),
)

away_periods = Table(
    "away_periods",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    _ts("starts_at", nullable=False),
    _ts("ends_at", nullable=False),
    _ts("created_at", nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="SET NULL")),
    Column("platform", String(20), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("content", Text, nullable=False),  # JSON of a Reply
    _ts("due_at", nullable=False),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("attempts", Integer, nullable=False, default=0),
    # pending | sending | sent | failed | unreachable | cancelled | folded
    Column("state", String(20), nullable=False, default="pending"),
    Column("last_error", String(500)),
    Column("claimed_by", String(100)),
    _ts("claimed_at"),
    _ts("sent_at"),
    _ts("created_at", nullable=False),
    Column("is_urgent", Boolean, nullable=False, default=False),
    Index("ix_outbox_state_due", "state", "due_at"),
)

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),  # an officer's published update, not a draft
    Column("audience", Text, nullable=False, default="[]"),  # JSON list of tags; [] = everyone
    Column("requires_ack", Boolean, nullable=False, default=False),
    _ts("send_at", nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("state", String(20), nullable=False, default="scheduled"),  # scheduled | cancelled
    _ts("created_at", nullable=False),
    _ts("cancelled_at"),
    Column("follow_up_days", Integer),  # chase unacknowledged members after N days
    # Urgent broadcasts go out during members' quiet hours; others wait for the morning.
    Column("is_urgent", Boolean, nullable=False, default=False),
)

broadcast_drafts = Table(
    # An officer's broadcast being written in chat, one step per turn, so the
    # conversation survives a restart. An officer's update, not a councillor's draft.
    "broadcast_drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("step", String(20), nullable=False),  # title | body | audience | when | ack | confirm | sending
    Column("title", String(300), nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("audience", Text, nullable=False, default="[]"),  # JSON list of tags; [] = everyone
    _ts("send_at"),  # None: as soon as it is confirmed
    Column("requires_ack", Boolean, nullable=False, default=False),
    Column("follow_up_days", Integer),
    Column("is_urgent", Boolean, nullable=False, default=False),
    _ts("updated_at", nullable=False),
    sqlite_autoincrement=True,  # never reuse an id: old buttons carry it
)

receipts = Table(
    "receipts",
    metadata,
    Column("broadcast_id", ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("outbox_id", ForeignKey("outbox.id", ondelete="SET NULL")),
    _ts("acknowledged_at"),
    _ts("followed_up_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    _ts("at", nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("detail", Text, nullable=False, default="{}"),  # JSON; never message text
)

check_stats = Table(
    "check_stats",
    metadata,
    Column("id", Integer, primary_key=True),
    _ts("at", nullable=False),
    Column("platform", String(20), nullable=False),
    Column("kind", String(10), nullable=False),  # check | ask
    Column("verdict", String(10), nullable=False, default=""),  # or the answer topic for ask
    Column("categories", String(300), nullable=False, default=""),  # comma-separated
)
