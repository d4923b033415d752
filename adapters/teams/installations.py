"""Teams the coach is installed in: the team-level address `coach teams sync-members` needs.

A member's own address lives in the core's conversation_refs table. A team's
address is Teams-only, so it lives in this adapter-owned table, created on first
use in the coach's database (as Bolt's installation store does for Slack) rather
than through the core's migrations. It holds no personal data: the stored
reference is the team's General channel with the installing user removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Engine, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.tables import UTCDateTime

metadata = MetaData()

teams_installations = Table(
    "teams_installations",
    metadata,
    Column("team_id", String(300), primary_key=True),
    Column("name", String(300), nullable=False, default=""),
    Column("tenant_id", String(200), nullable=False, default=""),
    Column("reference", Text, nullable=False),  # JSON ConversationReference of the General channel
    Column("installed_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)


@dataclass(frozen=True)
class Installation:
    team_id: str
    name: str
    tenant_id: str
    reference: str
    installed_at: datetime
    updated_at: datetime


class TeamInstallations:
    def __init__(self, engine: Engine):
        self.engine = engine
        metadata.create_all(engine, checkfirst=True)

    def save(self, team_id: str, name: str, tenant_id: str, reference: str, now: datetime) -> None:
        """Record or refresh an installation; a no-op when nothing changed."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(teams_installations).where(teams_installations.c.team_id == team_id)
            ).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(teams_installations).values(
                                team_id=team_id, name=name, tenant_id=tenant_id,
                                reference=reference, installed_at=now, updated_at=now,
                            )
                        )
                    return
                except IntegrityError:
                    pass  # another request recorded it first; refresh below
            elif (row.name, row.tenant_id, row.reference) == (name or row.name, tenant_id, reference):
                return
            conn.execute(
                update(teams_installations)
                .where(teams_installations.c.team_id == team_id)
                .values(name=name or (row.name if row else ""), tenant_id=tenant_id, reference=reference, updated_at=now)
            )

    def remove(self, team_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(delete(teams_installations).where(teams_installations.c.team_id == team_id))
            return bool(result.rowcount)

    def get(self, team_id: str) -> Installation | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(teams_installations).where(teams_installations.c.team_id == team_id)
            ).first()
            return None if row is None else _installation(row)

    def list(self) -> list[Installation]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(teams_installations).order_by(teams_installations.c.name))
            return [_installation(r) for r in rows]


def _installation(row: object) -> Installation:
    return Installation(
        team_id=row.team_id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        tenant_id=row.tenant_id,  # type: ignore[attr-defined]
        reference=row.reference,  # type: ignore[attr-defined]
        installed_at=row.installed_at,  # type: ignore[attr-defined]
        updated_at=row.updated_at,  # type: ignore[attr-defined]
    )
