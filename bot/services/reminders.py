"""Reminders: account check-ins, 24/7 expectations, away mode, custom reminders, quiz nudges.

Schedules live in the `reminders` table as wall-clock rules; `scheduler_pass`
turns what is due into outbox rows (one per occurrence, keyed so a rerun or a
second worker is harmless) and moves each reminder on to its next occurrence.
Wording comes from knowledge/reminders.yaml.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dateparser
from sqlalchemy import and_, delete, insert, select, update

from ..errors import BadInput, NotFound
from ..outbox import Outbox, OutboxRow
from ..reminders_kb import WEEKDAYS, Kind, ReminderBook, parse_clock
from ..replies import Choice, Choices, Fact, Facts, Heading, Paragraph, Reply, text_reply
from ..router import Replies, Turn
from ..schedule import (
    at_local,
    describe_days_off,
    days_off_after,
    in_window,
    local,
    next_daily_after,
    next_eve,
    next_weekly,
    window_end,
)
from ..storage import tables as t
from ..storage.repositories import Member

# Nudges the coach sends on its own: quiet hours and away time hold them.
AUTOMATIC = ("checkin", "weekend", "quiz_nudge")
HELD_BY_QUIET = AUTOMATIC + ("broadcast",)
DEFAULT_KINDS = ("weekend", "quiz_nudge")  # every member gets these unless they opt out
TOGGLES = {"checkins": "checkin", "checkin": "checkin", "weekend": "weekend", "weekends": "weekend",
           "quiz": "quiz_nudge", "quizzes": "quiz_nudge", "nudges": "quiz_nudge"}
TOGGLE_LABELS = {"checkin": "Account check-ins", "weekend": "Weekend and bank holiday nudges",
                 "quiz_nudge": "Weekly quiz nudge"}
NETWORKS = {
    "x": "X", "twitter": "X", "facebook": "Facebook", "fb": "Facebook", "instagram": "Instagram",
    "insta": "Instagram", "bluesky": "Bluesky", "whatsapp": "WhatsApp", "tiktok": "TikTok",
    "threads": "Threads", "linkedin": "LinkedIn", "nextdoor": "Nextdoor", "youtube": "YouTube",
    "mastodon": "Mastodon",
}
TIME_EXAMPLES = (
    "Try for example: 'remind me tomorrow at 5pm to reply to the Oak Lane thread', "
    "'remind me every Monday at 9am to review comments on my page', "
    "'remind me every weekday at 18:00 to check messages' or 'remind me on 3/2 at 9 to post the surgery dates'."
)
_TIME_TOKEN = re.compile(r"\b(\d{1,2})(?::|\.)(\d{2})\b|\b(\d{1,2})\s*(am|pm)\b|\bnoon\b|\bmidday\b|\bmidnight\b", re.I)
_BARE_AT = re.compile(r"\bat\s+(\d{1,2})\b(?!\s*(?::|\.|am|pm|\d))", re.I)


@dataclass(frozen=True)
class Rule:
    """A custom reminder's schedule: once at a moment, or weekly on days at a time."""

    kind: str  # "once" | "weekly"
    at: datetime | None = None
    days: tuple[int, ...] = ()
    clock: time | None = None

    def to_json(self) -> dict[str, Any]:
        if self.kind == "once":
            return {"type": "once", "at": self.at.isoformat() if self.at else None}
        return {"type": "weekly", "days": list(self.days), "time": self.clock.strftime("%H:%M") if self.clock else "09:00"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        if data.get("type") == "once":
            return cls("once", at=datetime.fromisoformat(data["at"]))
        return cls("weekly", days=tuple(data.get("days") or ()), clock=parse_clock(data.get("time") or "09:00"))

    def describe(self, tz: ZoneInfo) -> str:
        if self.kind == "once" and self.at:
            return local(self.at, tz).strftime("%a %d %b %Y at %H:%M")
        names = [WEEKDAYS[d].title() for d in self.days]
        when = self.clock.strftime("%H:%M") if self.clock else "09:00"
        if set(self.days) == set(range(7)):
            return f"every day at {when}"
        if set(self.days) == set(range(5)):
            return f"every weekday at {when}"
        return f"every {', '.join(names)} at {when}"


def parse_clock_words(text: str) -> time | None:
    """'9am', '5.30pm', '18:00', 'noon' -> a time."""
    m = re.search(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?\b", text, re.I)
    if re.search(r"\b(noon|midday)\b", text, re.I):
        return time(12)
    if re.search(r"\bmidnight\b", text, re.I):
        return time(0)
    if not m:
        return None
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
    if half == "pm" and hour < 12:
        hour += 12
    if half == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_days(text: str) -> tuple[int, ...]:
    words = re.findall(r"[a-z]+", text.lower())
    days: set[int] = set()
    for word in words:
        if word in ("day", "days", "daily"):
            days.update(range(7))
        elif word in ("weekday", "weekdays"):
            days.update(range(5))
        elif word in ("weekend", "weekends"):
            days.update((5, 6))
        else:
            for index, name in enumerate(WEEKDAYS):
                if len(word) >= 3 and name.startswith(word.rstrip("s")):
                    days.add(index)
    return tuple(sorted(days))


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> Rule:
    """British natural-language times: 'tomorrow at 5pm', 'every weekday at 18:00', 'on 3/2 at 9'."""
    phrase = text.strip().lower()
    recurring = re.match(r"^(?:every|each)\s+(.+)$", phrase)
    if recurring:
        body = recurring.group(1)
        days_part, _, time_part = body.partition(" at ")
        days = parse_days(days_part)
        clock = parse_clock_words(time_part) if time_part else time(9)
        if not days or clock is None:
            raise BadInput(f"I couldn't understand '{text}'. {TIME_EXAMPLES}")
        return Rule("weekly", days=days, clock=clock)
    cleaned = re.sub(r"^on\s+", "", phrase)
    cleaned = _BARE_AT.sub(lambda m: f"at {m.group(1)}:00", cleaned)
    base = local(now, tz).replace(tzinfo=None)
    parsed = dateparser.parse(
        cleaned,
        languages=["en"],
        settings={"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future", "RELATIVE_BASE": base,
                  "RETURN_AS_TIMEZONE_AWARE": False},
    )
    if parsed is None:
        raise BadInput(f"I couldn't understand '{text}'. {TIME_EXAMPLES}")
    if not _TIME_TOKEN.search(cleaned) and not re.search(r"\bin\s+\d+\s+(minute|hour)", cleaned):
        parsed = datetime.combine(parsed.date(), time(9))
    moment = at_local(parsed.date(), parsed.time(), tz)
    if moment <= now:
        raise BadInput(f"'{text}' is in the past. {TIME_EXAMPLES}")
    return Rule("once", at=moment)


def parse_date(text: str, now: datetime, tz: ZoneInfo) -> date:
    parsed = dateparser.parse(
        text.strip(), languages=["en"],
        settings={"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future",
                  "RELATIVE_BASE": local(now, tz).replace(tzinfo=None)},
    )
    if parsed is None:
        raise BadInput(f"I couldn't read '{text}' as a date. Try 'away 20/12 to 2/1' or 'away 2026-12-20 to 2027-01-02'.")
    return parsed.date()


@dataclass(frozen=True)
class Reminder:
    id: int
    member_id: int
    kind: str
    spec: dict[str, Any]
    label: str
    next_due_at: datetime | None
    is_active: bool


def _reminder(row: Any) -> Reminder:
    return Reminder(row.id, row.member_id, row.kind, json.loads(row.spec or "{}"), row.label,
                    row.next_due_at, row.is_active)


class ReminderService:
    def __init__(self, coach: Any):
        self.coach = coach
        self.engine = coach.engine
        self.clock = coach.clock
        self.outbox = Outbox(coach.engine)

    # -- context ------------------------------------------------------------
    @property
    def book(self) -> ReminderBook:
        return self.coach.knowledge.current.section("reminders")  # type: ignore[no-any-return]

    @property
    def council(self) -> Any:
        return self.coach.knowledge.current.council

    def tz(self, member: Member) -> ZoneInfo:
        try:
            return ZoneInfo(member.timezone or self.council.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.council.timezone)

    def quiet_hours(self, member: Member) -> tuple[time, time]:
        raw = member.preferences.get("quiet_hours")
        if isinstance(raw, list) and len(raw) == 2:
            start, end = parse_clock(str(raw[0])), parse_clock(str(raw[1]))
            if start and end:
                return start, end
        return self.book.quiet_start, self.book.quiet_end

    def checkin_every(self, member: Member) -> int:
        value = member.preferences.get("checkin_every_days")
        return value if isinstance(value, int) and value > 0 else self.book.checkin_every_days

    def is_off(self, member: Member, kind: str) -> bool:
        return kind in (member.preferences.get("off") or [])

    def away_until(self, member_id: int, moment: datetime) -> datetime | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.away_periods.c.ends_at).where(
                    t.away_periods.c.member_id == member_id,
                    t.away_periods.c.starts_at <= moment,
                    t.away_periods.c.ends_at > moment,
                ).order_by(t.away_periods.c.ends_at.desc())
            ).first()
        return None if row is None else row.ends_at

    # -- storage ------------------------------------------------------------
    def list(self, member_id: int, *, active_only: bool = True) -> list[Reminder]:
        query = select(t.reminders).where(t.reminders.c.member_id == member_id).order_by(t.reminders.c.id)
        if active_only:
            query = query.where(t.reminders.c.is_active.is_(True))
        with self.engine.connect() as conn:
            return [_reminder(r) for r in conn.execute(query)]

    def _create(self, member_id: int, kind: str, due: datetime | None, now: datetime, *,
                spec: dict[str, Any] | None = None, label: str = "") -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(
                insert(t.reminders).values(
                    member_id=member_id, kind=kind, spec=json.dumps(spec or {}), label=label[:300],
                    next_due_at=due, is_active=due is not None, created_at=now,
                ).returning(t.reminders.c.id)
            ).scalar_one())

    def _advance(self, reminder: Reminder, due: datetime, nxt: datetime | None, spec: dict[str, Any]) -> bool:
        """Move a reminder on, only if nobody else already did (several workers may run)."""
        with self.engine.begin() as conn:
            return conn.execute(
                update(t.reminders)
                .where(t.reminders.c.id == reminder.id, t.reminders.c.next_due_at == due)
                .values(next_due_at=nxt, is_active=nxt is not None, spec=json.dumps(spec))
            ).rowcount == 1

    def _member(self, member_id: int) -> Member:
        member = self.coach.members.get(member_id)
        if member is None:
            raise NotFound("no such member")
        return member  # type: ignore[no-any-return]

    # -- next occurrences -----------------------------------------------------
    def next_after(self, reminder: Reminder, member: Member, after: datetime) -> datetime | None:
        tz, book = self.tz(member), self.book
        if reminder.kind == "weekend":
            kind = book.kind("weekend")
            return next_eve(after, kind.send_at or time(15), tz, self.council.nation)[0]
        if reminder.kind == "quiz_nudge":
            kind = book.kind("quiz_nudge")
            return next_weekly(after, [kind.send_on if kind.send_on is not None else 1], kind.send_at or time(10), tz)
        if reminder.kind == "checkin":
            return next_daily_after(after, book.checkin_time, tz, days_later=self.checkin_every(member))
        if reminder.kind == "custom":
            rule = Rule.from_json(reminder.spec.get("rule") or {})
            if rule.kind == "once":
                return None
            return next_weekly(after, rule.days, rule.clock or time(9), tz)
        return None  # away_before / away_back happen once

    def first_due(self, kind: str, member: Member, now: datetime) -> datetime | None:
        probe = Reminder(0, member.id, kind, {}, "", None, True)
        return self.next_after(probe, member, now)

    # -- defaults -------------------------------------------------------------
    def ensure_defaults(self, now: datetime, member_id: int | None = None) -> int:
        """Give every member (or one) the default nudges once; an opt-out keeps the row inactive."""
        created = 0
        members_q = select(t.members.c.id).where(t.members.c.status == "active")
        have_q = select(t.reminders.c.member_id, t.reminders.c.kind).where(t.reminders.c.kind.in_(DEFAULT_KINDS))
        if member_id is not None:
            members_q = members_q.where(t.members.c.id == member_id)
            have_q = have_q.where(t.reminders.c.member_id == member_id)
        with self.engine.connect() as conn:
            have = {(r.member_id, r.kind) for r in conn.execute(have_q)}
            member_ids = [r.id for r in conn.execute(members_q)]
        for mid in member_ids:
            missing = [k for k in DEFAULT_KINDS if (mid, k) not in have]
            if not missing:
                continue
            member = self._member(mid)
            for kind in missing:
                due = None if self.is_off(member, kind) else self.first_due(kind, member, now)
                self._create(mid, kind, due, now)
                created += 1
        return created

    # -- the scheduler ----------------------------------------------------------
    def scheduler_pass(self, now: datetime | None = None) -> int:
        """Turn due reminders into outbox rows. Returns how many rows were queued."""
        now = now or self.clock.now()
        self.ensure_defaults(now)
        with self.engine.connect() as conn:
            due = [_reminder(r) for r in conn.execute(
                select(t.reminders).where(t.reminders.c.is_active.is_(True), t.reminders.c.next_due_at <= now)
                .order_by(t.reminders.c.next_due_at).limit(1000))]
        queued = 0
        for reminder in due:
            member = self.coach.members.get(reminder.member_id)
            # Catch up every missed occurrence now, so the worker can fold them into one summary.
            for _ in range(100):
                if member is None or reminder.next_due_at is None or reminder.next_due_at > now:
                    break
                queued += self._fire(reminder, member, now)
                reminder = self._get(reminder.id) or reminder
        return queued

    def _get(self, reminder_id: int) -> Reminder | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.reminders).where(t.reminders.c.id == reminder_id)).first()
            return None if row is None else _reminder(row)

    def _fire(self, reminder: Reminder, member: Member, now: datetime) -> int:
        due = reminder.next_due_at
        assert due is not None
        spec = dict(reminder.spec)
        if reminder.kind in AUTOMATIC:
            back = self.away_until(member.id, due)
            if back is not None:  # paused while away: pick up after the return, no burst
                self._advance(reminder, due, self.next_after(reminder, member, back), spec)
                return 0
        reply, nxt = self._occurrence(reminder, member, due, spec)
        if not self._advance(reminder, due, nxt, spec):
            return 0  # another worker fired it
        _, created = self.outbox.enqueue(
            member_id=member.id, platform=member.platform, kind=reminder.kind, reply=reply, due_at=due,
            key=f"reminder:{reminder.id}:{due.isoformat()}", now=now,
        )
        return int(created)

    def _occurrence(self, reminder: Reminder, member: Member, due: datetime, spec: dict[str, Any]) -> tuple[Reply, datetime | None]:
        """The message for this occurrence and when the next one falls (spec may be updated)."""
        book, tz = self.book, self.tz(member)
        kind = book.kind(reminder.kind)
        if reminder.kind == "checkin":
            stage = int(spec.get("stage", 0))
            stage_name = ("first", "second", "escalation")[min(stage, 2)]
            spec["sent_stage"] = stage
            if stage >= 2:
                spec["stage"] = 0
                nxt = next_daily_after(due, book.checkin_time, tz, days_later=self.checkin_every(member))
            else:
                spec["stage"] = stage + 1
                nxt = due + timedelta(days=1)
            return self._checkin_reply(reminder.id, member, kind, stage_name), nxt
        if reminder.kind == "weekend":
            off = days_off_after(local(due, tz).date(), self.council.nation)
            days_text, named = describe_days_off(off, self.council.nation)
            text = kind.text.format(days=days_text)
            if named and kind.extra and kind.extra.get("holiday_text"):
                text = kind.extra["holiday_text"].format(holiday=" and ".join(named)) + " " + text
            reply = Reply(kind.title.format(days=days_text), (Heading(kind.title.format(days=days_text)), Paragraph(text)), kind="reminder")
            return reply, self.next_after(reminder, member, due)
        if reminder.kind == "quiz_nudge":
            label = (kind.extra or {}).get("button", "Start a quiz")
            reply = Reply(kind.title, (Heading(kind.title), Paragraph(kind.text),
                                       Choices((Choice(label, "quiz.start", "nudge", "primary"),))), kind="reminder")
            return reply, self.next_after(reminder, member, due)
        if reminder.kind in ("away_before", "away_back"):
            text = kind.text.format(start=spec.get("start_text", ""), end=spec.get("end_text", ""))
            return Reply(kind.title, (Heading(kind.title), Paragraph(text)), kind="reminder"), None
        # custom
        text = kind.text.format(label=reminder.label)
        reply = Reply(f"{kind.title}: {reminder.label}"[:150], (Heading(kind.title), Paragraph(text),
                      Choices((Choice("Stop this reminder", "reminders.cancel", str(reminder.id)),))), kind="reminder")
        return reply, self.next_after(reminder, member, due)

    def _accounts_text(self, member_id: int) -> str:
        names = [f"{net} {handle}".strip() for net, handle in self.accounts(member_id)]
        if not names:
            return "your accounts"
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    def _checkin_reply(self, reminder_id: int, member: Member, kind: Kind, stage: str) -> Reply:
        assert kind.messages is not None
        message = kind.messages[stage]
        parts: list[Any] = [Heading(message.title), Paragraph(message.text.format(accounts=self._accounts_text(member.id)))]
        topics = self.coach.knowledge.current.sections.get("topics")
        if stage == "escalation" and isinstance(topics, dict) and kind.topic in topics:
            topic = topics[kind.topic]
            parts.append(Paragraph(f"Guidance: {getattr(topic, 'title', kind.topic)}. {getattr(topic, 'summary', '')}".strip()))
        if self.council.protocol_url and stage == "escalation":
            from ..replies import Link

            parts.append(Link("Your council's social media protocol", self.council.protocol_url))
        value = str(reminder_id)
        parts.append(Choices((Choice("Checked", "checkin.done", value, "primary"),
                              Choice("Snooze 2h", "checkin.snooze", value),
                              Choice("I'm away", "checkin.away", value))))
        return Reply(message.title, tuple(parts), kind="reminder")

    # -- delivery policy (used by the worker) -----------------------------------
    def hold_until(self, row: OutboxRow, member: Member, now: datetime) -> datetime | None:
        if row.kind not in HELD_BY_QUIET:
            return None
        if row.kind in AUTOMATIC:
            back = self.away_until(member.id, now)
            if back is not None:
                return back
        start, end = self.quiet_hours(member)
        return window_end(now, start, end, self.tz(member))

    def grace(self, kind: str) -> timedelta | None:
        found = self.book.kinds.get(kind)
        return None if found is None else found.grace

    def summary(self, member: Member, rows: list[OutboxRow], now: datetime) -> Reply:
        kind = self.book.kind("summary")
        tz = self.tz(member)
        facts = tuple(Fact(local(r.due_at, tz).strftime("%a %d %b %H:%M"), r.reply.summary) for r in rows)
        return Reply(kind.title, (Heading(kind.title), Paragraph(kind.text), Facts(facts)), kind="summary")

    # -- chat: check-in buttons ---------------------------------------------------
    def _own_reminder(self, turn: Turn, value: str, kind: str | None = None) -> Reminder | None:
        try:
            reminder_id = int(value)
        except ValueError:
            return None
        for r in self.list(turn.member.id, active_only=False):
            if r.id == reminder_id and (kind is None or r.kind == kind):
                return r
        return None

    def on_checkin(self, turn: Turn, action: str, value: str) -> Replies:
        reminder = self._own_reminder(turn, value, "checkin")
        if reminder is None:
            return [text_reply("That check-in button isn't one of yours, so I've ignored it.")]
        spec = dict(reminder.spec)
        now = turn.now
        if action == "checkin.done":
            if spec.get("stage", 0) == 0 and spec.get("last_checked_at"):
                return [text_reply("Already noted, thanks. I'll check in again next time.", kind="reminder")]
            spec.update(stage=0, last_checked_at=now.isoformat())
            nxt = next_daily_after(now, self.book.checkin_time, self.tz(turn.member), days_later=self.checkin_every(turn.member))
            self._set(reminder.id, nxt, spec)
            when = local(nxt, self.tz(turn.member)).strftime("%A %d %B")
            return [Reply("Thanks for checking", (Paragraph(f"Thanks for checking. Next check-in: {when}."),), replaces_prompt=True, kind="reminder")]
        if action == "checkin.snooze":
            spec["stage"] = int(spec.get("sent_stage", 0))
            nxt = now + timedelta(hours=2)
            self._set(reminder.id, nxt, spec)
            return [Reply("Snoozed", (Paragraph("Snoozed: I'll ask again in two hours."),), replaces_prompt=True, kind="reminder")]
        return [text_reply(
            "Tell me your dates and I'll pause check-ins while you're away, for example "
            "'away 20/12 to 2/1'. I'll also remind you to post an away notice and arrange cover.",
            kind="reminder")]

    def _set(self, reminder_id: int, nxt: datetime | None, spec: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.reminders).where(t.reminders.c.id == reminder_id).values(
                next_due_at=nxt, is_active=nxt is not None, spec=json.dumps(spec)))

    # -- chat: remind / reminders ---------------------------------------------------
    def on_remind(self, turn: Turn, args: str) -> Replies:
        text = args.strip()
        if not text:
            return [text_reply(f"What should I remind you about, and when? {TIME_EXAMPLES}")]
        when, what = self._split_remind(text)
        rule = parse_when(when, turn.now, self.tz(turn.member))
        spec = {"rule": rule.to_json()}
        probe = Reminder(0, turn.member.id, "custom", spec, what, None, True)
        due = rule.at if rule.kind == "once" else self.next_after(probe, turn.member, turn.now)
        reminder_id = self._create(turn.member.id, "custom", due, turn.now, spec=spec, label=what)
        tz = self.tz(turn.member)
        first = local(due, tz).strftime("%a %d %b at %H:%M") if due else ""
        return [Reply("Reminder set", (
            Heading("Reminder set"),
            Facts((Fact("What", what), Fact("When", rule.describe(tz)), Fact("Next", first))),
            Choices((Choice("Cancel it", "reminders.cancel", str(reminder_id)),)),
        ), kind="reminder")]

    @staticmethod
    def _split_remind(text: str) -> tuple[str, str]:
        body = re.sub(r"^(me|us)\s+", "", text.strip(), flags=re.I)
        m = re.match(r"^to\s+(?P<what>.+?)\s+(?P<when>(?:every|each|on|at|tomorrow|today|tonight|next|in)\b.+)$", body, re.I)
        if m:
            return m.group("when"), m.group("what")
        m = re.match(r"^(?P<when>.+?)\s+to\s+(?P<what>.+)$", body, re.I)
        if m:
            return m.group("when"), m.group("what")
        raise BadInput(f"Tell me when and what. {TIME_EXAMPLES}")

    def on_reminders(self, turn: Turn, args: str) -> Replies:
        self.ensure_defaults(turn.now, turn.member.id)
        reminders = [r for r in self.list(turn.member.id) if r.next_due_at is not None]
        tz = self.tz(turn.member)
        if not reminders:
            return [text_reply("You have no reminders. " + TIME_EXAMPLES, heading="Your reminders")]
        names = {"checkin": "Account check-in", "weekend": "Weekend and bank holiday nudge",
                 "quiz_nudge": "Weekly quiz nudge", "away_before": "Before you go away",
                 "away_back": "Welcome back", "custom": "Reminder"}
        facts, choices = [], []
        for number, r in enumerate(reminders, 1):
            label = r.label if r.kind == "custom" else names.get(r.kind, r.kind)
            when = local(r.next_due_at, tz).strftime("%a %d %b %H:%M") if r.next_due_at else ""
            facts.append(Fact(f"{number}. {when}", label))
            choices.append(Choice(f"Cancel {number}", "reminders.cancel", str(r.id)))
        return [Reply("Your reminders", (Heading("Your reminders"), Facts(tuple(facts)), Choices(tuple(choices))), kind="reminder")]

    def on_cancel(self, turn: Turn, action: str, value: str) -> Replies:
        reminder = self._own_reminder(turn, value)
        if reminder is None:
            return [text_reply("That reminder isn't one of yours, so nothing changed.")]
        if not reminder.is_active:
            return [text_reply("That reminder was already cancelled.")]
        off = list(turn.member.preferences.get("off") or [])
        if reminder.kind in TOGGLE_LABELS and reminder.kind not in off:
            self.coach.members.set_preferences(turn.member.id, {**turn.member.preferences, "off": off + [reminder.kind]})
        self._set(reminder.id, None, reminder.spec)
        self.outbox.cancel(and_(t.outbox.c.idempotency_key.like(f"reminder:{reminder.id}:%")))
        return [Reply("Reminder cancelled", (Paragraph("Done: that reminder is cancelled."),), replaces_prompt=True, kind="reminder")]

    # -- chat: accounts ----------------------------------------------------------------
    def accounts(self, member_id: int) -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.accounts.c.network, t.accounts.c.handle)
                                .where(t.accounts.c.member_id == member_id).order_by(t.accounts.c.id))
            return [(r.network, r.handle) for r in rows]

    def on_accounts(self, turn: Turn, args: str) -> Replies:
        words = args.split()
        verb = words[0].lower() if words else ""
        if verb in ("add", "remove", "rm", "delete"):
            if len(words) < 2:
                raise BadInput("Say which account, for example 'accounts add x @cllr_jones' or 'accounts add facebook Cllr Jones page'.")
            network = NETWORKS.get(words[1].lower(), words[1][:40])
            handle = " ".join(words[2:])[:200]
            if verb == "add":
                self._add_account(turn, network, handle)
            else:
                with self.engine.begin() as conn:
                    gone = conn.execute(delete(t.accounts).where(
                        t.accounts.c.member_id == turn.member.id, t.accounts.c.network == network,
                        *( [t.accounts.c.handle == handle] if handle else [] ))).rowcount
                if not gone:
                    raise NotFound(f"You have no {network} account {handle} listed.")
        listed = self.accounts(turn.member.id)
        if not listed:
            return [text_reply("You haven't listed any accounts. Add one with 'accounts add x @your_handle' "
                               "(or facebook, instagram, bluesky, whatsapp ...). I'll check in every "
                               f"{self.checkin_every(turn.member)} days.", heading="Your accounts")]
        checkin = next((r for r in self.list(turn.member.id) if r.kind == "checkin"), None)
        tz = self.tz(turn.member)
        facts = [Fact(net, handle or "-") for net, handle in listed]
        next_text = local(checkin.next_due_at, tz).strftime("%a %d %b %H:%M") if checkin and checkin.next_due_at else "off"
        return [Reply("Your accounts", (Heading("Your accounts"), Facts(tuple(facts)),
                                        Paragraph(f"Next check-in: {next_text} (every {self.checkin_every(turn.member)} days)."),),
                      kind="reminder")]

    def _add_account(self, turn: Turn, network: str, handle: str) -> None:
        with self.engine.begin() as conn:
            exists = conn.execute(select(t.accounts.c.id).where(
                t.accounts.c.member_id == turn.member.id, t.accounts.c.network == network,
                t.accounts.c.handle == handle)).first()
            if exists is None:
                conn.execute(insert(t.accounts).values(member_id=turn.member.id, network=network, handle=handle, created_at=turn.now))
        if not any(r.kind == "checkin" for r in self.list(turn.member.id, active_only=False)):
            due = None if self.is_off(turn.member, "checkin") else self.first_due("checkin", turn.member, turn.now)
            self._create(turn.member.id, "checkin", due, turn.now, spec={"stage": 0})

    # -- chat: away ------------------------------------------------------------------
    def on_away(self, turn: Turn, args: str) -> Replies:
        text = args.strip()
        tz = self.tz(turn.member)
        if text.lower() in ("", "list"):
            return [self._away_list(turn)]
        if text.lower() in ("cancel", "off", "back", "clear"):
            with self.engine.begin() as conn:
                removed = conn.execute(delete(t.away_periods).where(
                    t.away_periods.c.member_id == turn.member.id, t.away_periods.c.ends_at > turn.now)).rowcount
                conn.execute(update(t.reminders).where(
                    t.reminders.c.member_id == turn.member.id, t.reminders.c.kind.in_(("away_before", "away_back")),
                    t.reminders.c.is_active.is_(True)).values(is_active=False, next_due_at=None))
            return [text_reply(f"Cleared {removed} away period(s). Nudges carry on as normal.")]
        m = re.match(r"^(?:from\s+)?(?P<a>.+?)\s+(?:to|until|till|-|–)\s+(?P<b>.+)$", text, re.I)
        if not m:
            raise BadInput("Tell me your dates, for example 'away 20/12 to 2/1' or 'away 2026-12-20 to 2027-01-02'.")
        start, end = parse_date(m.group("a"), turn.now, tz), parse_date(m.group("b"), turn.now, tz)
        if end < start and end.year == start.year:
            end = end.replace(year=end.year + 1)  # '20/12 to 2/1' crosses the new year
        today = local(turn.now, tz).date()
        if end < today:
            raise BadInput("Those dates are in the past.")
        if end < start:
            raise BadInput("The end date is before the start date.")
        starts_at, ends_at = at_local(start, time(0), tz), at_local(end + timedelta(days=1), time(0), tz)
        with self.engine.begin() as conn:
            away_id = conn.execute(insert(t.away_periods).values(
                member_id=turn.member.id, starts_at=starts_at, ends_at=ends_at, created_at=turn.now
            ).returning(t.away_periods.c.id)).scalar_one()
        spec = {"away_id": away_id, "start_text": start.strftime("%A %d %B"), "end_text": end.strftime("%A %d %B")}
        before_kind, back_kind = self.book.kind("away_before"), self.book.kind("away_back")
        before = at_local(start - timedelta(days=1), before_kind.send_at or time(10), tz)
        self._create(turn.member.id, "away_before", max(before, turn.now), turn.now, spec=spec)
        self._create(turn.member.id, "away_back", at_local(end + timedelta(days=1), back_kind.send_at or time(9), tz),
                     turn.now, spec=spec)
        return [Reply("Away noted", (
            Heading("Away noted"),
            Facts((Fact("Away", f"{spec['start_text']} to {spec['end_text']}"),
                   Fact("While away", "check-ins and nudges pause"),
                   Fact("Before you go", "a reminder to post an away notice and arrange cover"),
                   Fact("When you're back", "a welcome-back note"))),
        ), kind="reminder")]

    def _away_list(self, turn: Turn) -> Reply:
        tz = self.tz(turn.member)
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.away_periods).where(
                t.away_periods.c.member_id == turn.member.id, t.away_periods.c.ends_at > turn.now)
                .order_by(t.away_periods.c.starts_at)).all()
        if not rows:
            return text_reply("You have no away periods planned. Tell me with 'away 20/12 to 2/1'.", heading="Away")
        facts = tuple(Fact(local(r.starts_at, tz).strftime("%a %d %b"),
                           "to " + local(r.ends_at - timedelta(seconds=1), tz).strftime("%a %d %b")) for r in rows)
        return Reply("Away", (Heading("Away"), Facts(facts), Paragraph("'away cancel' clears these.")), kind="reminder")

    # -- chat: settings --------------------------------------------------------------
    def on_settings(self, turn: Turn, args: str) -> Replies:
        words = args.strip()
        self.ensure_defaults(turn.now, turn.member.id)
        member = turn.member
        prefs = dict(member.preferences)
        if words:
            self._change_setting(turn, words, prefs)
            member = self._member(member.id)
        return [self._settings_card(member)]

    def _change_setting(self, turn: Turn, words: str, prefs: dict[str, Any]) -> None:
        low = words.lower()
        m = re.match(r"^quiet(?:\s+hours)?\s+(\S+)\s*(?:-|to|–)\s*(\S+)$", low)
        if m:
            start, end = parse_clock_words(m.group(1)), parse_clock_words(m.group(2))
            if start is None or end is None:
                raise BadInput("Give quiet hours like 'settings quiet 21:00-08:00'.")
            prefs["quiet_hours"] = [start.strftime("%H:%M"), end.strftime("%H:%M")]
        elif low.startswith("timezone") or low.startswith("time zone"):
            name = words.split()[-1]
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise BadInput(f"I don't know the timezone '{name}'. Try 'settings timezone Europe/London'.") from None
            self.coach.members.set_timezone(turn.member.id, name)
            return
        elif (m := re.match(r"^check-?ins?\s+every\s+(\d+)\s+days?$", low)):
            days = int(m.group(1))
            if not 1 <= days <= 30:
                raise BadInput("Check-ins can be every 1 to 30 days.")
            prefs["checkin_every_days"] = days
        elif (m := re.match(r"^(\S+)\s+(on|off)$", low)) and m.group(1) in TOGGLES:
            self._toggle(turn.member, TOGGLES[m.group(1)], m.group(2) == "on", turn.now)
            return
        else:
            raise BadInput("I can change: 'settings quiet 21:00-08:00', 'settings timezone Europe/London', "
                           "'settings checkins every 3 days', 'settings weekend off', 'settings quiz on'.")
        self.coach.members.set_preferences(turn.member.id, prefs)

    def _toggle(self, member: Member, kind: str, on: bool, now: datetime) -> None:
        off = [k for k in (member.preferences.get("off") or []) if k != kind] + ([] if on else [kind])
        self.coach.members.set_preferences(member.id, {**member.preferences, "off": off})
        member = self._member(member.id)
        for r in self.list(member.id, active_only=False):
            if r.kind == kind:
                self._set(r.id, self.first_due(kind, member, now) if on else None, {**r.spec, "stage": 0})
        if not on:
            self.outbox.cancel(and_(t.outbox.c.member_id == member.id, t.outbox.c.kind == kind))

    def on_toggle(self, turn: Turn, action: str, value: str) -> Replies:
        if value not in TOGGLE_LABELS:
            return [text_reply("That setting button is out of date. Type 'settings' to see the current ones.")]
        self._toggle(turn.member, value, self.is_off(turn.member, value), turn.now)
        card = self._settings_card(self._member(turn.member.id))
        return [Reply(card.summary, card.parts, replaces_prompt=True, kind="settings")]

    def _settings_card(self, member: Member) -> Reply:
        start, end = self.quiet_hours(member)
        facts = [
            Fact("Timezone", member.timezone or f"{self.council.timezone} (the council's)"),
            Fact("Quiet hours", f"{start:%H:%M} to {end:%H:%M} (automatic nudges wait until they end)"),
            Fact("Check-ins", f"every {self.checkin_every(member)} days at {self.book.checkin_time:%H:%M}"),
        ]
        facts += [Fact(label, "off" if self.is_off(member, kind) else "on") for kind, label in TOGGLE_LABELS.items()]
        choices = tuple(Choice(f"Turn {'on' if self.is_off(member, k) else 'off'}: {label}", "settings.toggle", k)
                        for k, label in TOGGLE_LABELS.items())
        return Reply("Your settings", (
            Heading("Your settings"), Facts(tuple(facts)),
            Paragraph("Change with 'settings quiet 22:00-07:00', 'settings timezone Europe/London' or "
                      "'settings checkins every 3 days'."),
            Choices(choices)), kind="settings")

    # -- preview and the late-night note ---------------------------------------------------
    def preview(self, member: Member, days: int, now: datetime | None = None) -> list[tuple[datetime, str, str]]:
        """What would be sent when over the next `days`, assuming check-ins are answered."""
        now = now or self.clock.now()
        end = now + timedelta(days=days)
        self.ensure_defaults(now, member.id)
        out: list[tuple[datetime, str, str]] = []
        for r in self.list(member.id):
            due = r.next_due_at
            spec = dict(r.spec)
            for _ in range(500):
                if due is None or due > end:
                    break
                when = due
                if r.kind in AUTOMATIC:
                    back = self.away_until(member.id, due)
                    if back is not None:
                        due = self.next_after(r, member, back)
                        continue
                    start, stop = self.quiet_hours(member)
                    when = window_end(due, start, stop, self.tz(member)) or due
                reply, _ = self._occurrence(r, member, due, dict(spec))
                out.append((when, r.kind, reply.summary))
                due = self.next_after(r, member, due)
        return sorted(out)

    def late_night_note(self, member: Member, now: datetime) -> str | None:
        book = self.book
        if book.late_night_note and in_window(now, book.late_start, book.late_end, self.tz(member)):
            return book.late_night_note
        return None


def install(coach: Any) -> None:
    service = ReminderService(coach)
    coach.services["reminders"] = service
    router = coach.router
    router.command("remind", service.on_remind)
    router.command("reminders", service.on_reminders)
    router.command("accounts", service.on_accounts)
    router.command("away", service.on_away)
    router.command("settings", service.on_settings)
    router.action("checkin", service.on_checkin)
    router.action("reminders.cancel", service.on_cancel)
    router.action("settings.toggle", service.on_toggle)
