"""Wall-clock schedules across clock changes, bank holidays and quiet hours."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.clock import UTC
from bot.schedule import (
    at_local,
    describe_days_off,
    in_window,
    next_daily_after,
    next_eve,
    next_weekly,
    window_end,
)

LONDON = ZoneInfo("Europe/London")


def test_a_weekly_reminder_keeps_its_wall_clock_time_across_the_march_change() -> None:
    # Monday 23 March 2026 09:00 GMT = 09:00 UTC; Monday 30 March 09:00 BST = 08:00 UTC.
    first = next_weekly(datetime(2026, 3, 22, 12, tzinfo=UTC), [0], time(9), LONDON)
    second = next_weekly(first, [0], time(9), LONDON)
    assert first == datetime(2026, 3, 23, 9, tzinfo=UTC)
    assert second == datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert second.astimezone(LONDON).hour == 9


def test_a_weekly_reminder_keeps_its_wall_clock_time_across_the_october_change() -> None:
    first = next_weekly(datetime(2026, 10, 20, tzinfo=UTC), [0], time(9), LONDON)
    second = next_weekly(first, [0], time(9), LONDON)
    assert first == datetime(2026, 10, 26, 9, tzinfo=UTC)  # 25 Oct is the change; Monday 26th is GMT
    assert (second - first).days == 7
    earlier = next_weekly(datetime(2026, 10, 12, tzinfo=UTC), [0], time(9), LONDON)
    assert earlier == datetime(2026, 10, 12, 8, tzinfo=UTC)  # still BST


def test_a_time_in_the_spring_gap_moves_forward_and_the_autumn_repeat_fires_once() -> None:
    gap = at_local(date(2026, 3, 29), time(1, 30), LONDON)
    assert gap.astimezone(LONDON).time() >= time(2, 0)
    repeat = at_local(date(2026, 10, 25), time(1, 30), LONDON)
    assert repeat == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 01:30 (BST)
    daily = next_daily_after(datetime(2026, 10, 24, 23, tzinfo=UTC), time(1, 30), LONDON)
    assert daily == repeat


def test_the_eve_of_a_weekend_is_friday_afternoon() -> None:
    moment, off = next_eve(datetime(2026, 11, 18, 10, tzinfo=UTC), time(15), LONDON)
    assert moment == datetime(2026, 11, 20, 15, tzinfo=UTC)
    assert off == [date(2026, 11, 21), date(2026, 11, 22)]
    assert describe_days_off(off) == ("the weekend", [])


def test_bank_holidays_come_from_the_holidays_library() -> None:
    # Easter 2027: Good Friday 26 March, Easter Monday 29 March. The eve is Thursday 25th.
    moment, off = next_eve(datetime(2027, 3, 24, 16, tzinfo=UTC), time(15), LONDON)
    assert moment.astimezone(LONDON).date() == date(2027, 3, 25)
    text, named = describe_days_off(off)
    assert named == ["Good Friday", "Easter Monday"]
    assert text == "the weekend, Good Friday and Easter Monday"
    # Scotland also has 2 January (a Saturday in 2027, so Monday 4th); England does not.
    _, off_sct = next_eve(datetime(2026, 12, 31, 10, tzinfo=UTC), time(15), LONDON, "scotland")
    _, off_eng = next_eve(datetime(2026, 12, 31, 10, tzinfo=UTC), time(15), LONDON, "england")
    assert off_eng == [date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)]
    assert off_sct == off_eng + [date(2027, 1, 4)]


def test_quiet_hours_wrap_midnight() -> None:
    late = datetime(2026, 11, 18, 22, 30, tzinfo=UTC)
    assert in_window(late, time(21), time(8), LONDON)
    assert window_end(late, time(21), time(8), LONDON) == datetime(2026, 11, 19, 8, tzinfo=UTC)
    assert window_end(datetime(2026, 11, 18, 12, tzinfo=UTC), time(21), time(8), LONDON) is None
    summer_night = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)  # 07:30 BST: still quiet
    assert window_end(summer_night, time(21), time(8), LONDON) == datetime(2026, 7, 1, 7, tzinfo=UTC)
