"""Storage contract, run on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert, inspect, select

from bot.clock import UTC
from bot.storage import tables as t
from bot.storage.database import current_revision, downgrade, head_revision, make_engine, upgrade
from bot.storage.repositories import AuditRepository, ConversationRefRepository, MemberRepository

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def test_migration_round_trip_keeps_data(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    members = MemberRepository(engine)
    alice = members.ensure("slack", "U1", NOW, display_name="Alice")
    members.add_tags(alice.id, ["cabinet"])
    with engine.begin() as conn:
        conn.execute(
            insert(t.broadcasts).values(
                title="New protocol", body="Read it", audience="[]", requires_ack=True,
                send_at=NOW, created_by="slack:U9", state="scheduled", created_at=NOW, follow_up_days=3,
            )
        )
    downgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    assert "follow_up_days" not in {c["name"] for c in inspect(engine).get_columns("broadcasts")}
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    kept = members.find("slack", "U1")
    assert kept is not None and kept.display_name == "Alice" and kept.tags == ("cabinet",)
    with engine.connect() as conn:
        row = conn.execute(select(t.broadcasts)).one()
    assert row.title == "New protocol" and row.requires_ack is True and row.follow_up_days is None
    engine.dispose()


def test_upgrade_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()


def test_members_are_created_once_and_refreshed(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    repo = MemberRepository(engine)
    first = repo.ensure("teams", "29:abc", NOW, display_name="Bob")
    again = repo.ensure("teams", "29:abc", NOW.replace(hour=5), display_name="Robert", workspace="tenant-1")
    assert first.id == again.id
    assert again.display_name == "Robert" and again.workspace == "tenant-1"
    assert again.last_seen_at == NOW.replace(hour=5)
    assert repo.count() == 1
    engine.dispose()


def test_timestamps_come_back_aware_utc(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    repo = MemberRepository(engine)
    london_summer = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
    member = repo.ensure("console", "x", london_summer)
    assert member.last_seen_at == london_summer
    assert member.last_seen_at is not None and member.last_seen_at.tzinfo is not None
    engine.dispose()


def test_tags_and_audience_selection(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    repo = MemberRepository(engine)
    a = repo.ensure("slack", "A", NOW)
    b = repo.ensure("slack", "B", NOW)
    repo.ensure("slack", "C", NOW)
    repo.add_tags(a.id, ["planning-committee", "group:independent"])
    repo.add_tags(b.id, ["cabinet"])
    repo.add_tags(a.id, ["planning-committee"])  # again: no duplicate
    assert [m.user_id for m in repo.list(tags=["planning-committee"])] == ["A"]
    assert sorted(m.user_id for m in repo.list(tags=["cabinet", "group:independent"])) == ["A", "B"]
    repo.remove_tags(a.id, ["group:independent"])
    assert repo.get(a.id).tags == ("planning-committee",)  # type: ignore[union-attr]
    assert len(repo.list()) == 3
    engine.dispose()


def test_conversation_reference_is_stored_and_refreshed(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    member = MemberRepository(engine).ensure("teams", "29:u", NOW)
    refs = ConversationRefRepository(engine)
    assert refs.get(member.id) is None
    refs.save(member.id, "teams", "a:1", '{"serviceUrl": "http://x"}', NOW)
    refs.save(member.id, "teams", "a:2", '{"serviceUrl": "http://y"}', NOW)
    assert refs.get(member.id) == ("a:2", '{"serviceUrl": "http://y"}')
    engine.dispose()


def test_audit_log_records_officer_changes(db_url: str) -> None:
    from bot.clock import FixedClock
    from bot.services.directory import Directory

    engine = make_engine(db_url)
    upgrade(engine)
    audit = AuditRepository(engine)
    directory = Directory(MemberRepository(engine), audit, FixedClock(NOW))
    directory.add_officer("slack:U7", actor="cli:ops")
    directory.add_officer("slack:U7", actor="cli:ops")  # no change, no second line
    directory.remove_officer("slack:U7", actor="cli:ops")
    entries = audit.list()
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("cli:ops", "officer.remove", {"member": "slack:U7"}),
        ("cli:ops", "officer.add", {"member": "slack:U7"}),
    ]
    assert directory.officers() == []
    engine.dispose()
