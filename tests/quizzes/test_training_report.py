"""`coach report training` on a seeded database: CSV rows, a real PNG, and a table."""

from __future__ import annotations

import csv
import io
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from matplotlib import image

from bot.clock import UTC, FixedClock
from bot.coach import Coach
from bot.services.quizzes import reschedule_at
from bot.storage.repositories import Member
from bot.training_report import streak_days
from bot.storage.quizzes import Attempt
from tests.quizzes.support import repo, service

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    environ["COACH_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())", *args],
        capture_output=True, text=True, env=environ, timeout=120, cwd=tmp_path,
    )


def seed(coach: Coach, clock: FixedClock, user: str, name: str, categories: list[str], *, right: bool, when: datetime) -> Member:
    """Answer two scenarios of each category, as if the member had taken quizzes at `when`."""
    clock.set(when)
    member = coach.members.ensure("slack", user, when, display_name=name)
    bank = service(coach).bank
    quizzes = repo(coach)
    for category in categories:
        ids = [s.id for s in bank.by_category(category)][:2]
        session = quizzes.create(member.id, category, ids, when)
        for position, sid in enumerate(ids):
            scenario = bank.scenarios[sid]
            choice = scenario.correct_indexes[0] if right else next(
                i for i, o in enumerate(scenario.options) if not o.is_correct
            )
            assert quizzes.record_answer(session, position, sid, category, choice, right, when, reschedule_at(when))
            fresh = quizzes.get(session.id)
            assert fresh is not None
            session = fresh
    return member


@pytest.fixture
def seeded(make_coach: Callable[..., Coach], clock: FixedClock, tmp_path: Path) -> Coach:
    coach = make_coach()
    course = service(coach).bank.course
    assert course is not None
    # The CLI reads the real clock, so activity is placed relative to today.
    today = datetime.now(UTC).replace(microsecond=0)
    seed(coach, clock, "U1", "Ann Able", list(course.categories), right=True, when=today - timedelta(days=2))
    seed(coach, clock, "U2", "Ben Baker", list(course.categories[:3]), right=True, when=today - timedelta(days=40))
    seed(coach, clock, "U2", "Ben Baker", ["security"], right=False, when=today - timedelta(days=40))
    coach.members.ensure("slack", "U3", today, display_name="Cat Cole")  # never took a quiz
    coach.members.ensure("slack", "U4", today, display_name="=HYPERLINK(1)")  # a hostile display name
    officer = coach.members.ensure("slack", "U9", today, display_name="Olu Officer")
    coach.members.set_role(officer.id, "officer")
    return coach


def test_the_cli_writes_a_csv_and_a_real_png_chart(seeded: Coach, tmp_path: Path) -> None:
    out_csv, out_png = tmp_path / "out" / "training.csv", tmp_path / "out" / "training.png"
    result = run_cli(["report", "training", "--csv", str(out_csv), "--chart", str(out_png)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote 4 member rows" in result.stdout and "Traceback" not in result.stderr

    with out_csv.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    by_name = {r["member"]: r for r in rows}
    assert set(by_name) == {"Ann Able", "Ben Baker", "Cat Cole", "'=HYPERLINK(1)"}  # officers without quizzes are left out
    ann, ben, cat = by_name["Ann Able"], by_name["Ben Baker"], by_name["Cat Cole"]
    assert (ann["course_completion_pct"], ann["course_categories_passed"], ann["course_categories_total"]) == ("100", "14", "14")
    assert (ann["overdue"], ann["still_to_pass"], ann["score_pct"], ann["questions_answered"]) == ("no", "", "100", "28")
    assert ann["score_defamation_pct"] == "100" and ann["score_disclaimers_pct"] == ""
    assert (ben["course_completion_pct"], ben["course_categories_passed"], ben["score_pct"]) == ("21", "3", "75")
    assert ben["score_security_pct"] == "0" and "Security" in ben["still_to_pass"]
    assert ben["overdue"] == "yes" and ben["overdue_reason"] == "course not complete; no quiz in 30 days"
    assert ben["last_activity"] == (datetime.now(UTC) - timedelta(days=40)).astimezone(_london()).date().isoformat()
    assert (cat["course_completion_pct"], cat["last_activity"], cat["overdue"]) == ("0", "", "yes")
    assert cat["overdue_reason"] == "course not complete; no quiz yet"
    assert (ann["platform"], ann["user_id"], ann["role"]) == ("slack", "U1", "member")

    data = out_png.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800 and height >= 600
    pixels = image.imread(str(out_png))
    assert pixels.shape[:2] == (height, width)
    assert pixels.std() > 0.05  # bars and text, not a blank canvas


def test_the_cli_prints_a_table_and_csv_to_standard_output(seeded: Coach, tmp_path: Path) -> None:
    table = run_cli(["report", "training"], tmp_path)
    assert table.returncode == 0, table.stderr
    assert "members 4, completed 1, in progress 1, not started 2, overdue 3" in table.stdout
    ann = next(line for line in table.stdout.splitlines() if line.startswith("Ann Able"))
    assert "slack:U1" in ann and "100%" in ann and "14/14" in ann
    stdout_csv = run_cli(["report", "training", "--csv", "-"], tmp_path)
    assert stdout_csv.stdout.startswith("member,platform,user_id,role,course_completion_pct")
    assert len(list(csv.reader(io.StringIO(stdout_csv.stdout)))) == 5
    wrong = run_cli(["report", "training", "--chart", "chart.jpg"], tmp_path)
    assert wrong.returncode == 1 and "ending in .png" in wrong.stderr and "Traceback" not in wrong.stderr


def test_members_see_only_their_own_records(seeded: Coach) -> None:
    from tests.support.chat import press, say
    from tests.quizzes.support import plain

    refused = say(seeded, "report training", user="U2", platform="slack")
    assert "for council officers only" in plain(*refused) and "Ann" not in plain(*refused)
    mine = plain(*press(seeded, "quiz.progress", "", user="U2", platform="slack"))
    assert "3 of 14 topics passed" in mine and "Ann" not in mine
    officer = plain(*say(seeded, "report training", user="U9", platform="slack"))
    assert "Ann Able" in officer and "Cat Cole" in officer and "Members: 4" in officer


def test_the_streak_counts_days_in_the_councils_timezone() -> None:
    tz = _london()

    def at(text: str) -> Attempt:
        return Attempt(1, 1, 0, "s", "c", 0, True, datetime.fromisoformat(text))

    # 23:30 UTC on 1 July is already 2 July in London (BST).
    attempts = [at("2026-07-01T23:30:00+00:00"), at("2026-07-03T08:00:00+00:00")]
    assert streak_days(attempts, datetime(2026, 7, 3).date(), tz) == 2
    assert streak_days(attempts, datetime(2026, 7, 4).date(), tz) == 2  # yesterday still counts
    assert streak_days(attempts, datetime(2026, 7, 5).date(), tz) == 0


def _london():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")


@pytest.mark.parametrize("members", [3, 120])
def test_the_chart_stays_pasteable_for_a_large_council(tmp_path: Path, members: int) -> None:
    from bot.training_report import CourseProgress, MemberTraining, TrainingReport, write_chart

    course = ("defamation", "copyright", "security")
    rows = tuple(
        MemberTraining(
            member=Member(i, "slack", f"U{i}", "", f"Cllr {i}", "member", None, {}, "active"),
            course=CourseProgress("Essentials", course, 2, {c: 2 for c in course[: i % 4]}),
            scores={}, answered=i % 4, correct=i % 4, mastered=0, due=0, last_activity=None, overdue_reasons=(),
        )
        for i in range(members)
    )
    report = TrainingReport(datetime(2026, 11, 18, tzinfo=UTC), _london(), "Essentials", course, course, rows)
    path = tmp_path / "chart.png"
    write_chart(report, path)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1080
    # Up to MAX_MEMBER_BARS members get a bar each; beyond that, completion bands keep it to a page.
    assert height < 1600
    assert report.share_passed("defamation") == round(100 * sum(1 for i in range(members) if i % 4 >= 1) / members)
