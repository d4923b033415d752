"""BroadcastService on real storage: audience, preview, warnings, delivery, acknowledgement, report."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import UTC
from bot.errors import BadInput, NotAllowed, NotFound
from bot.outbox import Outbox
from bot.ports import SendOutcome
from bot.replies import Choices, Fact, Facts, Heading, Link, Paragraph
from bot.services.broadcast_messages import body_parts, parse_send_time
from tests.broadcasts.conftest import Council

LONDON = ZoneInfo("Europe/London")


def refs(members) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(m.user_id for m in members)


def test_audience_is_councillors_with_any_of_the_tags(council: Council) -> None:
    svc = council.service
    assert refs(svc.audience()) == ["alice", "bob", "carol", "dan"]  # not the officer
    assert refs(svc.audience(["planning-committee"])) == ["alice", "bob"]
    assert refs(svc.audience(["cabinet", "group:independent"])) == ["alice", "carol"]
    assert refs(svc.audience(["Planning Committee"])) == ["alice", "bob"]  # tags are normalised
    assert svc.audience(["nobody-has-this"]) == []
    with pytest.raises(BadInput):
        svc.audience(["no spaces!"])


def test_a_broadcast_queues_one_outbox_row_per_recipient(council_on: Council) -> None:
    council = council_on
    svc = council.service
    b = svc.create(council.officer, "Planning training", "Training is on Monday.", ["planning-committee"])
    assert (b.recipients, b.title, b.audience, b.state) == (2, "Planning training", ("planning-committee",), "scheduled")
    rows = Outbox(council.coach.engine).list()
    assert sorted(r.idempotency_key for r in rows) == sorted(
        f"broadcast:{b.id}:{council.people[n].id}" for n in ("alice", "bob")
    )
    assert {(r.kind, r.state, r.is_urgent, r.due_at) for r in rows} == {("broadcast", "pending", False, council.clock.now())}
    with pytest.raises(BadInput, match="no members tagged nobody"):
        svc.create(council.officer, "T", "B", ["nobody"])
    entry = council.coach.audit.list()[0]
    assert (entry.actor, entry.action) == ("console:olivia", "broadcast.send")
    assert entry.detail["audience"] == ["planning-committee"] and entry.detail["recipients"] == 2
    assert "body" not in entry.detail


async def test_preview_is_exactly_what_members_receive(council: Council) -> None:
    svc = council.service
    body = "The pre-election period starts on 25 March.\n\n- no council logos\n- no new announcements\n\nhttps://example.gov.uk/pe"
    preview = svc.preview("Pre-election period", body, requires_ack=True)
    b = svc.create(council.officer, "Pre-election period", body, requires_ack=True)
    await council.worker().drain()
    delivered = [d.reply for d in council.sender.delivered]
    assert len(delivered) == 4
    # Identical apart from what the Got it button points at.
    got_it = delivered[0].choices[0]
    assert (got_it.label, got_it.action, got_it.value) == ("Got it", "broadcast.ack", str(b.id))
    assert preview.choices[0].value == "preview"
    strip = lambda r: tuple(p for p in r.parts if not isinstance(p, Choices))  # noqa: E731
    assert strip(preview) == strip(delivered[0]) and preview.summary == delivered[0].summary
    assert all(r == delivered[0] for r in delivered)
    assert preview.kind == "broadcast" and preview.summary == "Guidance update: Pre-election period"


def test_bodies_become_neutral_parts() -> None:
    parts = body_parts(
        "## What changes\nFrom **Monday** the rules change.\nSee [the protocol](https://example.gov.uk/p).\n\n"
        "- first\n* second\n1. third\n\n[Read it](https://example.gov.uk/x)\n"
    )
    assert parts == (
        Heading("What changes"),
        Paragraph("From Monday the rules change.\nSee the protocol (https://example.gov.uk/p)."),
        Facts(tuple(Fact("", t) for t in ("first", "second", "third"))),
        Link("Read it", "https://example.gov.uk/x"),
    )


def test_checker_warnings_flag_personal_data_in_an_update(council: Council) -> None:
    pytest.importorskip("bot.checker", reason="the draft checker has not landed")
    svc = council.service
    leaky = svc.warnings("Mrs Jones of 14 Oak Lane complained about her housing benefit; call her on 07700 900123.")
    assert leaky, "an update that names a resident's address and phone must be flagged"
    assert any(w.startswith("Personal data:") for w in leaky)
    assert svc.warnings("The planning committee meets on Tuesday at 7pm in the council chamber.") == []


def test_without_a_checker_the_officer_is_told_it_was_not_checked(council: Council) -> None:
    svc = council.service
    svc.checker = None
    assert svc.warnings("anything") == ["The draft checker is not available, so this update has not been checked."]

    def broken(text: str) -> object:
        raise RuntimeError("checker fault")

    svc.checker = broken
    assert svc.warnings("anything") == ["The draft checker is not available, so this update has not been checked."]


def test_members_cannot_broadcast_or_see_a_report(council: Council) -> None:
    svc = council.service
    b = svc.create(council.officer, "T", "Body")
    alice = council.people["alice"]
    with pytest.raises(NotAllowed):
        svc.create(alice, "T", "Body")
    with pytest.raises(NotAllowed):
        svc.report(b.id, viewer=alice)
    with pytest.raises(NotAllowed):
        svc.cancel(alice, b.id)
    with pytest.raises(NotAllowed):
        svc.follow_up(alice, b.id)
    assert svc.report(b.id, viewer=council.officer).counts["recipients"] == 4


async def test_429s_are_waited_out_without_using_up_attempts(council: Council) -> None:
    svc = council.service
    b = svc.create(council.officer, "T", "Body", ["planning-committee"])
    alice = council.people["alice"]
    key = f"broadcast:{b.id}:{alice.id}"
    council.sender.script[key] = [SendOutcome.retry("HTTP 429", retry_after=30, rate_limited=True)] * 3
    worker = council.worker()
    await worker.run_once()
    report = svc.report(b.id)
    assert report.counts == {"queued": 1, "sent": 1, "failed": 0, "unreachable": 0, "cancelled": 0,
                             "acknowledged": 0, "recipients": 2}
    for _ in range(3):
        council.clock.advance(seconds=30)
        await worker.run_once()
    assert council.sender.keys()[key] == 1
    row = next(r for r in Outbox(council.coach.engine).list() if r.idempotency_key == key)
    assert row.state == "sent" and row.attempts == 1


async def test_unreachable_recipients_are_recorded_with_the_reason(council: Council) -> None:
    svc = council.service
    carol, dan = council.people["carol"], council.people["dan"]
    council.coach.members.set_status(dan.id, "unreachable", "account_inactive")
    b = svc.create(council.officer, "T", "Body", ["group:independent"])
    council.sender.script[f"broadcast:{b.id}:{carol.id}"] = [SendOutcome.unreachable("user_not_found")]
    await council.worker().drain()
    carol_line = next(r for r in svc.report(b.id).recipients if r.ref == "console:carol")
    assert (carol_line.status, carol_line.detail) == ("unreachable", "user_not_found")
    assert council.coach.members.get(carol.id).status == "unreachable"  # type: ignore[union-attr]
    # Members known to be unreachable are recorded as such when the next broadcast is queued.
    everyone = svc.create(council.officer, "T2", "Body 2")
    lines = {r.ref: (r.status, r.detail) for r in svc.report(everyone.id).recipients}
    assert lines["console:dan"] == ("unreachable", "member unreachable: account_inactive")
    assert lines["console:carol"] == ("unreachable", "member unreachable: user_not_found")
    await council.worker().drain()
    counts = svc.report(everyone.id).counts
    assert (counts["sent"], counts["unreachable"], counts["queued"]) == (2, 2, 0)
    council.clock.advance(hours=6)
    assert (await council.worker().drain()).claimed == 0  # never retried
    assert sorted(d.user_id for d in council.sender.delivered) == ["alice", "bob"]


async def test_acknowledgements_are_recorded_once(council_on: Council) -> None:
    council = council_on
    svc = council.service
    b = svc.create(council.officer, "T", "Body", ["planning-committee"], requires_ack=True)
    await council.worker().drain()
    alice, carol = council.people["alice"], council.people["carol"]
    first = svc.acknowledge(alice, b.id)
    assert first.outcome == "recorded" and first.at == council.clock.now()
    council.clock.advance(minutes=5)
    again = svc.acknowledge(alice, str(b.id))
    assert again.outcome == "already" and again.at == first.at  # the first press stands
    assert svc.acknowledge(carol, b.id).outcome == "not-received"
    assert svc.acknowledge(alice, "preview").outcome == "preview"
    assert svc.acknowledge(alice, "999").outcome == "unknown"
    assert svc.acknowledge(alice, "not-a-number").outcome == "unknown"
    report = svc.report(b.id)
    assert report.counts["acknowledged"] == 1
    assert [r.acknowledged_at for r in report.recipients if r.ref == "console:alice"] == [first.at]


async def test_scheduled_follow_ups_go_only_to_those_who_have_not_confirmed(council_on: Council) -> None:
    council = council_on
    svc = council.service
    send_at = council.clock.now() + timedelta(hours=1)
    b = svc.create(council.officer, "T", "Body", ["planning-committee"], send_at=send_at, requires_ack=True,
                   follow_up_days=3)
    worker = council.worker()
    assert (await worker.run_once()).claimed == 0  # not yet
    council.clock.set(send_at)
    await worker.drain()
    svc.acknowledge(council.people["alice"], b.id)
    council.clock.set(send_at + timedelta(days=3))
    await worker.drain()
    chased = [d for d in council.sender.delivered if d.idempotency_key.startswith("broadcast-follow-up:")]
    assert [d.user_id for d in chased] == ["bob"]
    assert chased[0].reply.summary == "Reminder: please read and confirm: T"
    assert chased[0].reply.choices[0].value == str(b.id)  # Got it works from the reminder too
    lines = {r.ref: r for r in svc.report(b.id).recipients}
    assert lines["console:alice"].follow_up == "cancelled" and lines["console:bob"].follow_up == "sent"
    # A manual follow-up now chases nobody twice.
    result = svc.follow_up(council.officer, b.id)
    assert (result.queued, result.already_chased, result.acknowledged) == (0, 1, 1)


async def test_manual_follow_up_and_its_audit(council: Council) -> None:
    svc = council.service
    b = svc.create(council.officer, "T", "Body", requires_ack=True, follow_up_days=5)
    worker = council.worker()
    await worker.run_once()  # everyone has it; reminders wait five days
    svc.acknowledge(council.people["dan"], b.id)
    council.clock.advance(days=1)
    result = svc.follow_up(council.officer, b.id)
    assert (result.queued, result.acknowledged, result.not_yet_delivered) == (3, 1, 0)
    await worker.drain()  # brought forward: they go now, not in four days
    chased = Counter(d.user_id for d in council.sender.delivered if d.idempotency_key.startswith("broadcast-follow-up"))
    assert chased == Counter({"alice": 1, "bob": 1, "carol": 1})
    assert council.coach.audit.list()[0].action == "broadcast.follow_up"
    plain = svc.create(council.officer, "No ack", "Body")
    with pytest.raises(BadInput):
        svc.follow_up(council.officer, plain.id)
    with pytest.raises(BadInput):
        svc.create(council.officer, "T", "Body", follow_up_days=3)  # a follow-up needs Got it


async def test_cancel_stops_what_has_not_gone(council_on: Council) -> None:
    council = council_on
    svc = council.service
    b = svc.create(council.officer, "T", "Body", ["planning-committee"])
    later = svc.create(council.officer, "Later", "Body", send_at=council.clock.now() + timedelta(days=1))
    await council.worker().drain()
    result = svc.cancel(council.officer, later.id)
    assert (result.stopped, result.already_sent) == (4, 0)
    assert svc.cancel(council.officer, b.id).already_sent == 2
    with pytest.raises(BadInput):
        svc.cancel(council.officer, later.id)
    council.clock.advance(days=2)
    assert (await council.worker().drain()).claimed == 0
    assert svc.report(later.id).counts["cancelled"] == 4 and svc.get(later.id).is_cancelled
    actions = [e.action for e in council.coach.audit.list()]
    assert actions[:2] == ["broadcast.cancel", "broadcast.cancel"]
    with pytest.raises(NotFound):
        svc.cancel(council.officer, 999)


async def test_report_counts_and_csv(council_on: Council) -> None:
    council = council_on
    svc = council.service
    b = svc.create(council.officer, "T", "Body", requires_ack=True)
    council.sender.script[f"broadcast:{b.id}:{council.people['carol'].id}"] = [SendOutcome.failed("invalid_blocks")]
    await council.worker().drain()
    svc.acknowledge(council.people["bob"], b.id)
    report = svc.report(f"#{b.id}")
    assert report.counts == {"queued": 0, "sent": 3, "failed": 1, "unreachable": 0, "cancelled": 0,
                             "acknowledged": 1, "recipients": 4}
    out = io.StringIO()
    assert report.write_csv(out) == 4
    lines = out.getvalue().splitlines()
    assert lines[0] == "broadcast,member,name,status,detail,due_at,sent_at,acknowledged_at,follow_up,followed_up_at"
    bob = next(line for line in lines if ",console:bob," in line)
    assert bob.startswith(f"{b.id},console:bob,Bob,sent,,2026-11-18T10:00:00+00:00,2026-11-18T10:00:00+00:00,"
                          "2026-11-18T10:00:00+00:00")
    assert ",console:carol,Carol,failed,invalid_blocks," in out.getvalue()


def test_send_times_are_read_day_first_in_council_time() -> None:
    now = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday
    assert parse_send_time("tomorrow 9am", now, LONDON) == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert parse_send_time("01/12/2026 09:00", now, LONDON) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_send_time("2026-12-01 09:00", now, LONDON) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_send_time("now", now, LONDON) == now
    # British Summer Time: 9am in London is 8am UTC.
    assert parse_send_time("1 June 2027 9am", now, LONDON) == datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(BadInput, match="already passed"):
        parse_send_time("17/11/2026 09:00", now, LONDON)
    with pytest.raises(BadInput, match="could not read"):
        parse_send_time("when the cows come home", now, LONDON)
