"""Training records: core-course progress per member, and the officers' report as rows, CSV and a chart.

The figures come only from quiz answers (which scenario, right or wrong, when);
nothing a member typed is involved.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from .quizbank import Course, QuizBank, category_label
from .storage.quizzes import Attempt, QuizRepository, ScheduleEntry
from .storage.repositories import Member, MemberRepository

OVERDUE_AFTER = timedelta(days=30)
MASTERED_BOX = 3


# -- one member ---------------------------------------------------------------
@dataclass(frozen=True)
class CategoryScore:
    category: str
    answered: int
    correct: int
    distinct_correct: int  # different scenarios answered right at least once

    @property
    def score_pct(self) -> int | None:
        return None if not self.answered else round(100 * self.correct / self.answered)


@dataclass(frozen=True)
class CourseProgress:
    title: str
    categories: tuple[str, ...]
    pass_correct: int
    distinct_correct: dict[str, int]

    @property
    def passed(self) -> tuple[str, ...]:
        return tuple(c for c in self.categories if self.distinct_correct.get(c, 0) >= self.pass_correct)

    @property
    def remaining(self) -> tuple[str, ...]:
        return tuple(c for c in self.categories if c not in self.passed)

    @property
    def completion_pct(self) -> int:
        return round(100 * len(self.passed) / len(self.categories)) if self.categories else 0

    @property
    def is_complete(self) -> bool:
        return bool(self.categories) and not self.remaining


def category_scores(attempts: Iterable[Attempt]) -> dict[str, CategoryScore]:
    answered: dict[str, int] = {}
    correct: dict[str, int] = {}
    right: dict[str, set[str]] = {}
    for a in attempts:
        answered[a.category] = answered.get(a.category, 0) + 1
        if a.is_correct:
            correct[a.category] = correct.get(a.category, 0) + 1
            right.setdefault(a.category, set()).add(a.scenario_id)
    return {
        c: CategoryScore(c, answered[c], correct.get(c, 0), len(right.get(c, ()))) for c in sorted(answered)
    }


def course_progress(course: Course | None, attempts: Iterable[Attempt]) -> CourseProgress:
    """Passed = `pass_correct` different scenarios of a category answered right."""
    if course is None:
        return CourseProgress("", (), 1, {})
    scores = category_scores(attempts)
    return CourseProgress(
        course.title,
        course.categories,
        course.pass_correct,
        {c: scores[c].distinct_correct for c in course.categories if c in scores},
    )


def streak_days(attempts: Iterable[Attempt], today: date, tz: ZoneInfo) -> int:
    """Consecutive days (in the council's timezone) with a quiz answer, up to today.

    A streak survives until the end of the day after the last answer, so a
    member who quizzed yesterday and not yet today still has it.
    """
    days = {a.answered_at.astimezone(tz).date() for a in attempts}
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


@dataclass(frozen=True)
class MemberTraining:
    member: Member
    course: CourseProgress
    scores: dict[str, CategoryScore]
    answered: int
    correct: int
    mastered: int
    due: int
    last_activity: datetime | None
    overdue_reasons: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.member.label

    @property
    def ref(self) -> str:
        return f"{self.member.platform}:{self.member.user_id}"

    @property
    def is_overdue(self) -> bool:
        return bool(self.overdue_reasons)

    @property
    def score_pct(self) -> int | None:
        return None if not self.answered else round(100 * self.correct / self.answered)


def member_training(
    member: Member,
    attempts: Sequence[Attempt],
    schedule: dict[str, ScheduleEntry],
    bank: QuizBank,
    now: datetime,
) -> MemberTraining:
    progress = course_progress(bank.course, attempts)
    last = max((a.answered_at for a in attempts), default=None)
    reasons: list[str] = []
    if progress.categories and not progress.is_complete:
        reasons.append("course not complete")
    if last is None or now - last > OVERDUE_AFTER:
        reasons.append(f"no quiz in {OVERDUE_AFTER.days} days" if last else "no quiz yet")
    live = {k: v for k, v in schedule.items() if k in bank.scenarios}
    return MemberTraining(
        member=member,
        course=progress,
        scores=category_scores(attempts),
        answered=len(attempts),
        correct=sum(1 for a in attempts if a.is_correct),
        mastered=sum(1 for e in live.values() if e.box >= MASTERED_BOX),
        due=sum(1 for e in live.values() if e.due_at <= now),
        last_activity=last,
        overdue_reasons=tuple(reasons),
    )


# -- the council ----------------------------------------------------------------
@dataclass(frozen=True)
class Totals:
    members: int
    complete: int
    in_progress: int
    not_started: int
    overdue: int
    average_completion: int


@dataclass(frozen=True)
class TrainingReport:
    generated_at: datetime
    tz: ZoneInfo
    course_title: str
    course_categories: tuple[str, ...]
    categories: tuple[str, ...]  # every category with scenarios: the score columns
    rows: tuple[MemberTraining, ...]

    @property
    def totals(self) -> Totals:
        rows = self.rows
        complete = sum(1 for r in rows if r.course.is_complete)
        started = sum(1 for r in rows if r.answered)
        return Totals(
            members=len(rows),
            complete=complete,
            in_progress=sum(1 for r in rows if r.answered and not r.course.is_complete),
            not_started=len(rows) - started,
            overdue=sum(1 for r in rows if r.is_overdue),
            average_completion=round(sum(r.course.completion_pct for r in rows) / len(rows)) if rows else 0,
        )

    def share_passed(self, category: str) -> int:
        """Percentage of members who have passed a course category."""
        if not self.rows:
            return 0
        return round(100 * sum(1 for r in self.rows if category in r.course.passed) / len(self.rows))

    def local_date(self, when: datetime | None) -> str:
        return "" if when is None else when.astimezone(self.tz).date().isoformat()


def build_training_report(
    quizzes: QuizRepository, members: MemberRepository, bank: QuizBank, now: datetime, tz: ZoneInfo
) -> TrainingReport:
    """Every member (and any officer who has taken a quiz), with their training record."""
    attempts: dict[int, list[Attempt]] = {}
    for attempt in quizzes.attempts():
        attempts.setdefault(attempt.member_id, []).append(attempt)
    schedules = quizzes.schedules()
    people = [m for m in members.list() if m.role == "member" or m.id in attempts]
    rows = sorted(
        (member_training(m, attempts.get(m.id, []), schedules.get(m.id, {}), bank, now) for m in people),
        key=lambda r: (r.name.lower(), r.ref),
    )
    course = bank.course
    return TrainingReport(
        generated_at=now,
        tz=tz,
        course_title=course.title if course else "",
        course_categories=course.categories if course else (),
        categories=tuple(sorted(bank.categories)),
        rows=tuple(rows),
    )


# -- CSV ------------------------------------------------------------------------
def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start like a formula; names come from chat platforms.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_header(report: TrainingReport) -> list[str]:
    return [
        "member",
        "platform",
        "user_id",
        "role",
        "course_completion_pct",
        "course_categories_passed",
        "course_categories_total",
        "still_to_pass",
        "questions_answered",
        "questions_right",
        "score_pct",
        "scenarios_mastered",
        "last_activity",
        "overdue",
        "overdue_reason",
        *(f"score_{c}_pct" for c in report.categories),
    ]


def csv_rows(report: TrainingReport) -> list[list[str]]:
    rows: list[list[str]] = []
    for r in report.rows:
        rows.append(
            [
                _cell(r.name),
                _cell(r.member.platform),
                _cell(r.member.user_id),
                _cell(r.member.role),
                str(r.course.completion_pct),
                str(len(r.course.passed)),
                str(len(r.course.categories)),
                _cell("; ".join(category_label(c) for c in r.course.remaining)),
                str(r.answered),
                str(r.correct),
                _cell(r.score_pct),
                str(r.mastered),
                report.local_date(r.last_activity),
                "yes" if r.is_overdue else "no",
                _cell("; ".join(r.overdue_reasons)),
                *(_cell(r.scores[c].score_pct if c in r.scores else None) for c in report.categories),
            ]
        )
    return rows


def write_csv(report: TrainingReport, stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(csv_header(report))
    writer.writerows(csv_rows(report))


# -- the chart ------------------------------------------------------------------
# Above this many members a bar per member no longer fits a page: show completion bands instead.
MAX_MEMBER_BARS = 50
BANDS = ((0, 0, "0%"), (1, 24, "1-24%"), (25, 49, "25-49%"), (50, 74, "50-74%"), (75, 99, "75-99%"), (100, 100, "100%"))


def write_chart(report: TrainingReport, path: Path) -> None:
    """A PNG for a committee paper: course completion per member, and share passed per course topic."""
    # The Agg canvas is used directly (no pyplot), so no display or global backend is touched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = sorted(report.rows, key=lambda r: (r.course.completion_pct, r.name.lower()))
    by_member = len(rows) <= MAX_MEMBER_BARS
    if by_member:
        names = [r.name for r in rows] or ["(no members yet)"]
        values = [r.course.completion_pct for r in rows] or [0]
    else:
        names = [label for _, _, label in BANDS]
        values = [sum(1 for r in rows if lo <= r.course.completion_pct <= hi) for lo, hi, _ in BANDS]
    categories = report.course_categories or report.categories
    member_height = max(2.5, 0.25 * len(names) + 1.2)
    category_height = max(2.5, 0.25 * len(categories) + 1.2)
    # Constrained layout keeps the overall title clear of the panels' titles.
    fig = Figure(figsize=(9, member_height + category_height + 1.0), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [member_height, category_height]})

    if by_member:
        colours = ["#2e7d32" if v >= 100 else "#f9a825" if v > 0 else "#c62828" for v in values]
        top.barh(names, values, color=colours)
        top.set_xlim(0, 100)
        top.set_xlabel("Core course completed (%)")
        top.set_title("Core course completion by member")
        for y, v in enumerate(values):
            top.text(min(v + 1, 92), y, f"{v}%", va="center", fontsize=8)
    else:
        top.barh(names, values, color=["#c62828", "#f9a825", "#f9a825", "#f9a825", "#f9a825", "#2e7d32"])
        top.invert_yaxis()
        top.set_xlim(0, max(values + [1]) * 1.15)
        top.set_xlabel("Members")
        top.set_ylabel("Core course completed")
        top.set_title(f"Members by core course completion ({len(rows)} members; see the CSV for each one)")
        for y, v in enumerate(values):
            top.text(v, y, f" {v}", va="center", fontsize=8)

    labels = [category_label(c) for c in categories] or ["(no course)"]
    shares = [report.share_passed(c) for c in categories] or [0]
    bottom.barh(labels, shares, color="#1565c0")
    bottom.invert_yaxis()
    bottom.set_xlim(0, 100)
    bottom.set_xlabel("Members who have passed (%)")
    bottom.set_title("Course topics: share of members passed")
    for y, v in enumerate(shares):
        bottom.text(min(v + 1, 92), y, f"{v}%", va="center", fontsize=8)

    totals = report.totals
    fig.suptitle(
        f"{report.course_title or 'Social media training'}: {totals.complete} of {totals.members} members "
        f"complete ({report.local_date(report.generated_at)})",
        fontsize=11,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
