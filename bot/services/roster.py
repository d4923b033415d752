"""The member directory from a roster file, and tags that pick broadcast audiences."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..errors import BadInput, NotFound
from ..storage.repositories import AuditRepository, Member, MemberRepository
from .broadcasts import normalise_tag
from .directory import PLATFORMS, parse_member_ref

REQUIRED = ("platform", "user_id")
NAME_COLUMNS = ("name", "display_name")
TAG_SEPARATORS = re.compile(r"[;,|]")


@dataclass(frozen=True)
class RosterRow:
    line: int
    platform: str
    user_id: str
    name: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    tags_added: int

    @property
    def total(self) -> int:
        return self.created + self.updated


def read_roster(text: str, source: str = "roster") -> list[RosterRow]:
    """Rows of a CSV roster (platform, user_id, name, tags). Every problem is reported, as source:line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise BadInput(f"{source}:1: the header needs columns platform, user_id, name and tags "
                       f"(missing: {', '.join(missing)})")
    name_col = next((columns[c] for c in NAME_COLUMNS if c in columns), None)
    tags_col = columns.get("tags")
    rows: list[RosterRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for record in reader:
        line = reader.line_num
        platform = (record.get(columns["platform"]) or "").strip().lower()
        user_id = (record.get(columns["user_id"]) or "").strip()
        if not platform and not user_id:
            continue  # a blank line
        if platform not in PLATFORMS:
            problems.append(f"{source}:{line}: platform must be one of {', '.join(PLATFORMS)} (got '{platform}')")
            continue
        if not user_id:
            problems.append(f"{source}:{line}: user_id is empty")
            continue
        if (platform, user_id) in seen:
            problems.append(f"{source}:{line}: {platform}:{user_id} is also on line {seen[(platform, user_id)]}")
            continue
        seen[(platform, user_id)] = line
        tags: list[str] = []
        for raw in TAG_SEPARATORS.split(record.get(tags_col) or "") if tags_col else []:
            if not raw.strip():
                continue
            try:
                tags.append(normalise_tag(raw))
            except BadInput as exc:
                problems.append(f"{source}:{line}: {exc}")
        name = " ".join((record.get(name_col) or "").split()) if name_col else ""
        rows.append(RosterRow(line, platform, user_id, name[:200], tuple(sorted(set(tags)))))
    if problems:
        raise BadInput(f"{source} was not imported ({len(problems)} problem(s)):\n" + "\n".join(problems))
    return rows


class Roster:
    """Imports and tags members; every change is written to the audit log."""

    def __init__(self, members: MemberRepository, audit: AuditRepository):
        self.members = members
        self.audit = audit

    def import_rows(self, rows: Iterable[RosterRow], actor: str, now: datetime) -> ImportResult:
        created = updated = tags_added = 0
        for row in rows:
            existing = self.members.find(row.platform, row.user_id)
            member = self.members.ensure(row.platform, row.user_id, now, display_name=row.name, touch=False)
            if existing is None:
                created += 1
            else:
                updated += 1
            new_tags = set(row.tags) - set(member.tags)
            if new_tags:
                self.members.add_tags(member.id, new_tags)
                tags_added += len(new_tags)
        result = ImportResult(created, updated, tags_added)
        self.audit.record(actor, "members.import", now, created=created, updated=updated, tags_added=tags_added)
        return result

    def tag(self, ref: str, tags: Iterable[str], actor: str, now: datetime) -> Member:
        member = self._resolve(ref)
        wanted = sorted({normalise_tag(tg) for tg in tags})
        self.members.add_tags(member.id, wanted)
        self.audit.record(actor, "members.tag", now, member=ref, tags=wanted)
        return self.members.get(member.id) or member

    def untag(self, ref: str, tags: Iterable[str], actor: str, now: datetime) -> Member:
        member = self._resolve(ref)
        unwanted = sorted({normalise_tag(tg) for tg in tags})
        self.members.remove_tags(member.id, unwanted)
        self.audit.record(actor, "members.untag", now, member=ref, tags=unwanted)
        return self.members.get(member.id) or member

    def _resolve(self, ref: str) -> Member:
        platform, user_id = parse_member_ref(ref)
        member = self.members.find(platform, user_id)
        if member is None:
            raise NotFound(f"no member {platform}:{user_id} is known yet (import them or ask them to say hello)")
        return member
