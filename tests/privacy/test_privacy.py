"""Subject access and erasure across every table that holds a member's data."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from bot.coach import Coach
from bot.outbox import Outbox
from bot.replies import Reply
from bot.services.privacy import FORGOTTEN, PrivacyService, member_tables
from bot.storage import tables as t
from tests.support.chat import say


def seed(coach: Coach) -> None:
    say(coach, "accounts add x @cllr_alice", user="alice")
    say(coach, "remind me tomorrow at 5pm to call the housing team", user="alice")
    say(coach, "away 20/12 to 2/1", user="alice")
    say(coach, "help", user="bob")
    alice = coach.members.find("console", "alice")
    assert alice is not None
    coach.members.add_tags(alice.id, ["cabinet"])
    coach.refs.save(alice.id, "console", "c1", '{"who": "alice"}', coach.clock.now())
    Outbox(coach.engine).enqueue(member_id=alice.id, platform="console", kind="custom", reply=Reply("Hello Alice"),
                                 due_at=coach.clock.now() + timedelta(days=1), key="x1", now=coach.clock.now())
    coach.directory.add_officer("console:alice", actor="cli:test")


def test_export_holds_everything_about_the_member_and_nothing_about_others(coach: Coach) -> None:
    seed(coach)
    alice = coach.members.find("console", "alice")
    data = PrivacyService(coach.engine, coach.audit, coach.clock).export(alice)  # type: ignore[arg-type]
    text = json.dumps(data)
    assert data["member"]["user_id"] == "alice"
    assert data["member_tags"] == [{"member_id": alice.id, "tag": "cabinet"}]  # type: ignore[union-attr]
    assert {r["label"] for r in data["reminders"] if r["kind"] == "custom"} == {"call the housing team"}
    assert data["accounts"][0]["handle"] == "@cllr_alice"
    assert len(data["away_periods"]) == 1
    assert data["outbox"][0]["content"]["summary"] == "Hello Alice"
    assert data["conversation_refs"][0]["reference"] == {"who": "alice"}
    assert any(e["action"] == "officer.add" for e in data["audit_log"])
    assert "bob" not in text
    assert "never stored" in data["not_held"]


def test_forget_erases_every_member_table_and_keeps_an_anonymous_audit_line(coach: Coach) -> None:
    seed(coach)
    alice = coach.members.find("console", "alice")
    assert alice is not None
    removed = PrivacyService(coach.engine, coach.audit, coach.clock).forget(alice, "cli:dpo")
    assert removed["members"] == 1 and removed["reminders"] >= 3 and removed["outbox"] == 1
    with coach.engine.connect() as conn:
        for table in member_tables():
            left = conn.execute(select(func.count()).select_from(table).where(table.c.member_id == alice.id)).scalar()
            assert left == 0, table.name
        audit = conn.execute(select(t.audit_log)).all()
    assert coach.members.find("console", "alice") is None
    assert coach.members.find("console", "bob") is not None
    assert all("console:alice" not in (r.detail + r.actor) for r in audit)
    assert [r.action for r in audit][-1] == "privacy.forget"
    assert FORGOTTEN in audit[-1].detail


def test_retention_removes_old_outbox_rows_and_statistics(coach: Coach) -> None:
    import asyncio

    from bot.background import DeliveryLoop

    now = coach.clock.now()
    old = now - timedelta(days=400)
    alice = coach.members.ensure("console", "alice", now)
    outbox = Outbox(coach.engine)
    old_id, _ = outbox.enqueue(member_id=alice.id, platform="console", kind="custom", reply=Reply("old"),
                               due_at=old, key="old", now=old)
    outbox.claim_due("w", old, platforms=["console"])
    outbox.mark_sent(old_id, "w", old)
    recent_id, _ = outbox.enqueue(member_id=alice.id, platform="console", kind="custom", reply=Reply("new"),
                                  due_at=now + timedelta(days=1), key="new", now=now)
    coach.stats.record("console", "check", "ok", [], old)
    coach.stats.record("console", "check", "stop", ["defamation"], now)
    asyncio.run(DeliveryLoop(coach, {}).run_once())
    assert outbox.get(old_id) is None and outbox.get(recent_id) is not None
    assert coach.stats.counts() == {"stop": 1}
