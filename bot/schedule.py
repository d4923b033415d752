"""Pure time arithmetic for reminders: wall-clock times in a timezone, DST-safe.

Schedules are kept as local wall-clock times ("09:00 on Mondays, Europe/London")
and turned into UTC only for the next occurrence, so a clock change never moves
a reminder by an hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from .clock import UTC

SUBDIVISIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT"}


def at_local(day: date, when: time, tz: ZoneInfo) -> datetime:
    """`day` at wall-clock `when` in `tz`, as UTC.

    A time that does not exist (the spring-forward gap) moves forward by the gap;
    an ambiguous one (the autumn repeat) is the first of the two.
    """
    naive = datetime.combine(day, when)
    aware = naive.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:  # inside the spring gap
        utc = (naive.replace(tzinfo=tz, fold=1)).astimezone(UTC)
        utc = max(utc, aware.astimezone(UTC))
    return utc


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def next_weekly(after: datetime, weekdays: Iterable[int], when: time, tz: ZoneInfo) -> datetime:
    """The first moment strictly after `after` on one of `weekdays` (0 = Monday) at `when`."""
    days = set(weekdays)
    if not days:
        raise ValueError("no weekdays")
    start = local(after, tz).date()
    for offset in range(0, 15):
        day = start + timedelta(days=offset)
        if day.weekday() in days:
            moment = at_local(day, when, tz)
            if moment > after:
                return moment
    raise AssertionError("unreachable: a weekday occurs within two weeks")


def next_daily_after(after: datetime, when: time, tz: ZoneInfo, *, days_later: int = 0) -> datetime:
    """`when` on the day `days_later` days after `after`'s local date (or the next one that is later)."""
    day = local(after, tz).date() + timedelta(days=days_later)
    moment = at_local(day, when, tz)
    while moment <= after:
        day += timedelta(days=1)
        moment = at_local(day, when, tz)
    return moment


@lru_cache(maxsize=16)
def _bank_holidays(nation: str, year: int) -> dict[date, str]:
    subdiv = SUBDIVISIONS.get(nation, "ENG")
    return dict(holidays.UK(subdiv=subdiv, years=[year]).items())


def bank_holiday(day: date, nation: str = "england") -> str | None:
    """The name of the UK bank holiday on `day` in `nation`, if it is one."""
    return _bank_holidays(nation, day.year).get(day)


def is_working_day(day: date, nation: str = "england") -> bool:
    return day.weekday() < 5 and bank_holiday(day, nation) is None


def days_off_after(day: date, nation: str = "england") -> list[date]:
    """The run of non-working days straight after `day`."""
    run: list[date] = []
    cursor = day + timedelta(days=1)
    while not is_working_day(cursor, nation):
        run.append(cursor)
        cursor += timedelta(days=1)
    return run


def next_eve(after: datetime, when: time, tz: ZoneInfo, nation: str = "england") -> tuple[datetime, list[date]]:
    """The next last-working-day-before-time-off at `when`, with the days off that follow."""
    day = local(after, tz).date()
    for _ in range(400):
        if is_working_day(day, nation):
            off = days_off_after(day, nation)
            if off:
                moment = at_local(day, when, tz)
                if moment > after:
                    return moment, off
        day += timedelta(days=1)
    raise AssertionError("no time off within a year")


def describe_days_off(off: list[date], nation: str = "england") -> tuple[str, list[str]]:
    """('the weekend and Easter Monday', ['Easter Monday']) for a run of days off."""
    named = [name for d in off if (name := bank_holiday(d, nation))]
    weekend = any(d.weekday() >= 5 for d in off)
    parts = (["the weekend"] if weekend else []) + named
    if not parts:
        return "your days off", []
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text, named


def in_window(moment: datetime, start: time, end: time, tz: ZoneInfo) -> bool:
    """Whether `moment` falls in a daily window that may wrap midnight (21:00-08:00)."""
    now = local(moment, tz).time()
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def window_end(moment: datetime, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """When a window that `moment` falls in ends; None if `moment` is outside it."""
    if not in_window(moment, start, end, tz):
        return None
    return next_daily_after(moment, end, tz)
