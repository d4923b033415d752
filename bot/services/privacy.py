"""Subject access and erasure: everything held about a member, exported or forgotten.

Works from the schema rather than a hand-kept list: every table with a
`member_id` column is part of a member's record, so a new feature's table is
covered the day it is added.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, delete, select, update

from ..clock import Clock
from ..storage import tables as t
from ..storage.repositories import AuditRepository, Member

FORGOTTEN = "[forgotten member]"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def member_tables() -> list[Any]:
    return [table for table in t.metadata.sorted_tables if "member_id" in table.c and table is not t.members]


class PrivacyService:
    def __init__(self, engine: Engine, audit: AuditRepository, clock: Clock):
        self.engine = engine
        self.audit = audit
        self.clock = clock

    def export(self, member: Member) -> dict[str, Any]:
        """Everything held about one member, as JSON-ready data."""
        ref = f"{member.platform}:{member.user_id}"
        with self.engine.connect() as conn:
            record: dict[str, Any] = {
                "exported_at": self.clock.now().isoformat(),
                "member": {k: _jsonable(v) for k, v in conn.execute(
                    select(t.members).where(t.members.c.id == member.id)).one()._mapping.items()},
            }
            for table in member_tables():
                rows = conn.execute(select(table).where(table.c.member_id == member.id)).all()
                record[table.name] = [{k: _jsonable(v) for k, v in r._mapping.items()} for r in rows]
            record["broadcasts_sent"] = [
                {k: _jsonable(v) for k, v in r._mapping.items()}
                for r in conn.execute(select(t.broadcasts).where(t.broadcasts.c.created_by == ref))
            ]
            record["audit_log"] = [
                {k: _jsonable(v) for k, v in r._mapping.items()}
                for r in conn.execute(select(t.audit_log).order_by(t.audit_log.c.id))
                if r.actor == ref or ref in (r.detail or "")
            ]
        record["not_held"] = (
            "The text of drafts you checked and questions you asked is never stored; "
            "only the verdict and risk categories are counted, with no link to you."
        )
        return record

    def forget(self, member: Member, actor: str) -> dict[str, int]:
        """Erase a member's records; keep one anonymised audit line. Returns rows removed per table."""
        ref = f"{member.platform}:{member.user_id}"
        removed: dict[str, int] = {}
        with self.engine.begin() as conn:
            for table in reversed(member_tables()):
                count = conn.execute(delete(table).where(table.c.member_id == member.id)).rowcount
                if count:
                    removed[table.name] = int(count)
            conn.execute(update(t.broadcasts).where(t.broadcasts.c.created_by == ref).values(created_by=FORGOTTEN))
            for row in conn.execute(select(t.audit_log)).all():
                if row.actor == ref or ref in (row.detail or "") or (member.display_name and member.display_name in (row.detail or "")):
                    detail = (row.detail or "").replace(ref, FORGOTTEN)
                    if member.display_name:
                        detail = detail.replace(member.display_name, FORGOTTEN)
                    conn.execute(update(t.audit_log).where(t.audit_log.c.id == row.id).values(
                        actor=FORGOTTEN if row.actor == ref else row.actor, detail=detail))
            conn.execute(delete(t.members).where(t.members.c.id == member.id))
            removed["members"] = 1
        self.audit.record(actor, "privacy.forget", self.clock.now(), member=FORGOTTEN, tables=sorted(removed))
        return removed
