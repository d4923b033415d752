"""Reminders end to end through the real coach, outbox and worker, with an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from bot.background import DeliveryLoop
from bot.clock import UTC, FixedClock
from bot.coach import Coach
from bot.outbox import Outbox
from tests.support.chat import all_text, press, say
from tests.support.senders import RecordingSender


@pytest.fixture
def loop(coach: Coach) -> tuple[DeliveryLoop, RecordingSender]:
    sender = RecordingSender("console")
    return DeliveryLoop(coach, {"console": sender}), sender


def run(loop: DeliveryLoop) -> None:
    import asyncio

    asyncio.run(_pass(loop))


async def _pass(loop: DeliveryLoop) -> None:
    for _ in range(5):
        stats = await loop.run_once()
        if stats.claimed == 0:
            break


def advance_to(clock: FixedClock, loop: DeliveryLoop, until: datetime, step: timedelta = timedelta(minutes=30)) -> None:
    """Walk the clock forward, running the loop at each step as a live worker would."""
    while clock.now() < until:
        clock.advance(seconds=step.total_seconds())
        run(loop)


def summaries(sender: RecordingSender) -> list[tuple[str, str]]:
    return [(d.reply.summary, d.user_id) for d in sender.delivered]


def test_account_check_ins_ask_then_escalate_gently(coach: Coach, clock: FixedClock, loop) -> None:  # type: ignore[no-untyped-def]
    worker, sender = loop
    say(coach, "accounts add x @cllr_jones")
    say(coach, "accounts add facebook Cllr Jones page")
    say(coach, "settings weekend off")
    say(coach, "settings quiz off")
    # Wednesday 10:00 -> first check-in Friday 09:30, then a second nudge, then the escalation.
    advance_to(clock, worker, datetime(2026, 11, 22, 12, tzinfo=UTC))
    titles = [d.reply.summary for d in sender.delivered]
    assert titles == ["Have you checked your accounts?", "A second nudge about your accounts", "Accounts left unattended"]
    first = sender.delivered[0]
    assert first.reply.kind == "reminder"
    assert "X @cllr_jones and Facebook Cllr Jones page" in all_text([first.reply])
    assert [c.label for c in first.reply.choices] == ["Checked", "Snooze 2h", "I'm away"]
    assert "members-social-media-protocol" in all_text([sender.delivered[2].reply])
    assert sender.delivered[0].idempotency_key != sender.delivered[1].idempotency_key


def test_checked_resets_the_cadence_and_a_second_press_is_harmless(coach: Coach, clock: FixedClock, loop) -> None:  # type: ignore[no-untyped-def]
    worker, sender = loop
    say(coach, "accounts add instagram @jones")
    say(coach, "settings weekend off")
    say(coach, "settings quiz off")
    advance_to(clock, worker, datetime(2026, 11, 20, 10, tzinfo=UTC))
    assert [d.reply.summary for d in sender.delivered] == ["Have you checked your accounts?"]
    value = sender.delivered[0].reply.choices[0].value
    done = press(coach, "checkin.done", value)
    assert done[0].replaces_prompt and "Next check-in: Sunday 22 November" in all_text(done)
    assert "Already noted" in all_text(press(coach, "checkin.done", value))
    assert "isn't one of yours" in all_text(press(coach, "checkin.done", value, user="mallory"))
    advance_to(clock, worker, datetime(2026, 11, 22, 9, tzinfo=UTC))
    alices = [d.reply.summary for d in sender.delivered if d.user_id == "alice"]
    assert alices == ["Have you checked your accounts?"]  # no second nudge once checked
    advance_to(clock, worker, datetime(2026, 11, 22, 10, tzinfo=UTC))
    alices = [d.reply.summary for d in sender.delivered if d.user_id == "alice"]
    assert alices == ["Have you checked your accounts?"] * 2


def test_snooze_asks_again_in_two_hours(coach: Coach, clock: FixedClock, loop) -> None:  # type: ignore[no-untyped-def]
    worker, sender = loop
    say(coach, "accounts add bluesky @jones.bsky.social")
    say(coach, "settings weekend off")
    advance_to(clock, worker, datetime(2026, 11, 20, 10, tzinfo=UTC))
    press(coach, "checkin.snooze", sender.delivered[-1].reply.choices[0].value)
    advance_to(clock, worker, datetime(2026, 11, 20, 11, 30, tzinfo=UTC))
    assert [d.reply.summary for d in sender.delivered].count("Have you checked your accounts?") == 1
    advance_to(clock, worker, datetime(2026, 11, 20, 12, 30, tzinfo=UTC))
    assert [d.reply.summary for d in sender.delivered].count("Have you checked your accounts?") == 2


def test_weekend_nudge_on_friday_afternoon_and_before_bank_holidays(make_coach: Callable[..., Coach], clock: FixedClock) -> None:
    clock.set(datetime(2027, 3, 22, 10, tzinfo=UTC))  # Monday before Easter 2027
    coach = make_coach()
    sender = RecordingSender()
    loop = DeliveryLoop(coach, {"console": sender})
    say(coach, "settings quiz off")
    advance_to(clock, loop, datetime(2027, 4, 3, 0, tzinfo=UTC), step=timedelta(hours=1))
    sent = [(d.reply.summary, d.reply) for d in sender.delivered]
    assert [s for s, _ in sent] == ["Setting expectations for the weekend, Good Friday and Easter Monday",
                                     "Setting expectations for the weekend"]
    assert "Good Friday and Easter Monday is coming up" in all_text([sent[0][1]])
    assert outbox_due_local(coach)[0].startswith("2027-03-25 15:00")  # Thursday before Good Friday, BST


def outbox_due_local(coach: Coach) -> list[str]:
    tz = coach.knowledge.current.council.tz
    return [r.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") for r in Outbox(coach.engine).list()]


def test_quiet_hours_delay_nudges_and_custom_reminders_keep_their_time(coach: Coach, clock: FixedClock, loop) -> None:  # type: ignore[no-untyped-def]
    worker, sender = loop
    say(coach, "settings weekend off")
    say(coach, "settings quiet 21:00-08:00")
    say(coach, "remind me tomorrow at 22:15 to reply to the Oak Lane thread")
    # Force the quiz nudge to fall due at 23:00 on Tuesday (inside quiet hours).
    advance_to(clock, worker, datetime(2026, 11, 19, 22, 30, tzinfo=UTC))
    assert [d.reply.summary for d in sender.delivered] == ["Reminder: reply to the Oak Lane thread"]
    late = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    with coach.engine.begin() as conn:
        from sqlalchemy import update

        from bot.storage import tables as t

        conn.execute(update(t.reminders).where(t.reminders.c.kind == "quiz_nudge").values(next_due_at=late))
    advance_to(clock, worker, datetime(2026, 11, 25, 7, 30, tzinfo=UTC))
    assert "Fancy a two-minute quiz?" not in [d.reply.summary for d in sender.delivered]
    advance_to(clock, worker, datetime(2026, 11, 25, 8, 30, tzinfo=UTC))
    assert [d.reply.summary for d in sender.delivered][-1] == "Fancy a two-minute quiz?"


def test_away_mode_reminds_before_pauses_and_welcomes_back(coach: Coach, clock: FixedClock, loop) -> None:  # type: ignore[no-untyped-def]
    worker, sender = loop
    say(coach, "accounts add x @jones")
    reply = all_text(say(coach, "away 20/12 to 2/1"))
    assert "Sunday 20 December to Saturday 02 January" in reply
    advance_to(clock, worker, datetime(2027, 1, 4, 12, tzinfo=UTC), step=timedelta(hours=4))
    during = [(d.reply.summary, d) for d in sender.delivered]
    names = [s for s, _ in during]
    assert "Before you go away" in names and "Welcome back" in names
    before_at = next(o for o in Outbox(coach.engine).list(limit=1000) if o.reply.summary == "Before you go away").due_at
    assert before_at == datetime(2026, 12, 19, 10, tzinfo=UTC)
    rows = Outbox(coach.engine).list(limit=1000)
    away_start, away_end = datetime(2026, 12, 20, tzinfo=UTC), datetime(2027, 1, 3, tzinfo=UTC)
    paused = [r for r in rows if r.kind in ("checkin", "weekend", "quiz_nudge") and away_start <= r.due_at < away_end]
    assert paused == []
    back = next(r for r in rows if r.reply.summary == "Welcome back")
    assert back.due_at == datetime(2027, 1, 3, 9, tzinfo=UTC)


def test_custom_reminders_every_weekday_and_cancel(coach: Coach, clock: FixedClock, loop) -> None:  # type: ignore[no-untyped-def]
    worker, sender = loop
    say(coach, "settings weekend off")
    say(coach, "settings quiz off")
    made = say(coach, "remind me every weekday at 18:00 to check messages")
    assert "every weekday at 18:00" in all_text(made)
    advance_to(clock, worker, datetime(2026, 11, 24, 0, tzinfo=UTC), step=timedelta(hours=1))
    # Wed, Thu, Fri, then Monday: no weekend reminders.
    days = [r.due_at.strftime("%a") for r in Outbox(coach.engine).list() if r.kind == "custom"]
    assert days == ["Wed", "Thu", "Fri", "Mon"]
    listing = say(coach, "reminders")
    assert "check messages" in all_text(listing)
    cancel = [c for c in listing[0].choices if c.action == "reminders.cancel"][0]
    assert "cancelled" in all_text(press(coach, cancel.action, cancel.value))
    assert "already cancelled" in all_text(press(coach, cancel.action, cancel.value))
    advance_to(clock, worker, datetime(2026, 11, 26, 0, tzinfo=UTC), step=timedelta(hours=1))
    assert len([r for r in Outbox(coach.engine).list() if r.kind == "custom"]) == 4


@pytest.mark.parametrize(
    "text, expected",
    [
        ("remind me tomorrow at 5pm to reply to the Oak Lane thread", "Thu 19 Nov at 17:00"),
        ("remind me on 3/2 at 9 to post the surgery dates", "Wed 03 Feb at 09:00"),
        ("remind me every Monday at 9am to review comments on my page", "Mon 23 Nov at 09:00"),
        ("remind me to chase the drainage team tomorrow at 10:30", "Thu 19 Nov at 10:30"),
        ("remind me every weekday at 18:00 to check messages", "Wed 18 Nov at 18:00"),
    ],
)
def test_british_times_are_understood(coach: Coach, text: str, expected: str) -> None:
    assert expected in all_text(say(coach, text))


@pytest.mark.parametrize("text", ["remind me whenever to x", "remind me", "remind me yesterday at 5pm to go"])
def test_unparseable_times_get_examples(coach: Coach, text: str) -> None:
    reply = all_text(say(coach, text))
    assert "remind me tomorrow at 5pm" in reply


def test_a_reminder_across_the_october_clock_change_keeps_9am(make_coach: Callable[..., Coach], clock: FixedClock) -> None:
    clock.set(datetime(2026, 10, 20, 12, tzinfo=UTC))
    coach = make_coach()
    sender = RecordingSender()
    loop = DeliveryLoop(coach, {"console": sender})
    say(coach, "settings weekend off")
    say(coach, "settings quiz off")
    say(coach, "remind me every Monday at 9am to review comments")
    advance_to(clock, loop, datetime(2026, 11, 3, tzinfo=UTC), step=timedelta(hours=1))
    tz = coach.knowledge.current.council.tz
    dues = [r.due_at for r in Outbox(coach.engine).list() if r.kind == "custom"]
    assert [d.astimezone(tz).strftime("%d %b %H:%M") for d in dues] == ["26 Oct 09:00", "02 Nov 09:00"]


def test_downtime_sends_recent_reminders_once_and_folds_old_ones(coach: Coach, clock: FixedClock) -> None:
    say(coach, "settings weekend off")
    say(coach, "settings quiz off")
    say(coach, "remind me every day at 9am to look at messages")
    clock.set(datetime(2026, 11, 23, 10, tzinfo=UTC))  # the coach was off for five days
    sender = RecordingSender()
    run(DeliveryLoop(coach, {"console": sender}))
    sent = [d.reply.summary for d in sender.delivered]
    assert sent.count("While I was away") == 1
    assert sent.count("Reminder: look at messages") == 1  # today's, within its grace
    assert Outbox(coach.engine).counts()["folded"] == 4


def test_preview_shows_what_would_be_sent(coach: Coach) -> None:
    say(coach, "accounts add x @jones")
    member = coach.members.find("console", "alice")
    assert member is not None
    items = coach.services["reminders"].preview(member, 7)
    kinds = [k for _, k, _ in items]
    assert kinds.count("checkin") == 3 and "weekend" in kinds and "quiz_nudge" in kinds
    assert Outbox(coach.engine).list() == []  # a preview queues nothing


def test_late_night_note(coach: Coach, clock: FixedClock) -> None:
    member = coach.members.ensure("console", "alice", clock.now())
    service = coach.services["reminders"]
    assert service.late_night_note(member, datetime(2026, 11, 18, 23, 30, tzinfo=UTC))
    assert service.late_night_note(member, datetime(2026, 11, 18, 14, 0, tzinfo=UTC)) is None


def test_a_draft_checked_late_at_night_gets_a_gentle_note(coach: Coach, clock: FixedClock) -> None:
    clock.set(datetime(2026, 11, 18, 23, 15, tzinfo=UTC))
    late = all_text(say(coach, "check Lovely evening at the Brackenford carol concert"))
    clock.set(datetime(2026, 11, 19, 10, 0, tzinfo=UTC))
    morning = all_text(say(coach, "check Lovely evening at the Brackenford carol concert"))
    assert "posting it in the morning" in late
    assert "posting it in the morning" not in morning
