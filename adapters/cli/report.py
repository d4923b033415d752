"""`coach report training [--csv FILE] [--chart FILE.png]`: members' training records for officers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.errors import BadInput
from bot.quizbank import QuizBank
from bot.storage.quizzes import QuizRepository
from bot.training_report import TrainingReport, build_training_report, write_chart, write_csv

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="reports for officers (training records)")
    s = p.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    training = s.add_parser(
        "training",
        help="each member's core-course completion, scores, last activity and who is overdue",
        description="Prints a table, or writes a CSV for spreadsheets and a PNG chart for committee papers.",
    )
    training.add_argument("--csv", metavar="FILE", help="write the report as CSV ('-' for standard output)")
    training.add_argument("--chart", metavar="FILE.png", help="write a bar chart of course completion as PNG")
    training.set_defaults(func=_training)


def _training(args: argparse.Namespace) -> int:
    chart = Path(args.chart) if args.chart else None
    if chart is not None and chart.suffix.lower() != ".png":
        raise BadInput(f"the chart is a PNG image: give a file name ending in .png, not {chart.name}")
    coach = coach_from_env()
    knowledge = coach.knowledge.current
    bank = knowledge.sections.get("quizzes")
    if not isinstance(bank, QuizBank):
        bank = QuizBank({})
    report = build_training_report(
        QuizRepository(coach.engine), coach.members, bank, coach.clock.now(), knowledge.council.tz
    )
    if args.csv == "-":
        write_csv(report, sys.stdout)
    elif args.csv:
        path = Path(args.csv)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as stream:  # the BOM makes Excel read UTF-8
            write_csv(report, stream)
        print(f"wrote {len(report.rows)} member rows to {path}")
    if chart is not None:
        write_chart(report, chart)
        print(f"wrote the chart to {chart}")
    if not args.csv and chart is None:
        print(format_table(report))
    return 0


def format_table(report: TrainingReport) -> str:
    """A plain-text table for the terminal: totals, then one line a member."""
    totals = report.totals
    lines = [
        f"{report.course_title or 'Training'} (as of {report.local_date(report.generated_at)})",
        f"members {totals.members}, completed {totals.complete}, in progress {totals.in_progress}, "
        f"not started {totals.not_started}, overdue {totals.overdue}, "
        f"average completion {totals.average_completion}%",
        "",
    ]
    header = ("member", "ref", "course", "passed", "score", "last quiz", "overdue")
    rows = [
        (
            r.name,
            r.ref,
            f"{r.course.completion_pct}%",
            f"{len(r.course.passed)}/{len(r.course.categories)}",
            "" if r.score_pct is None else f"{r.score_pct}%",
            report.local_date(r.last_activity) or "never",
            "; ".join(r.overdue_reasons) or "no",
        )
        for r in report.rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        lines.append("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())
    if not rows:
        lines.append("no members yet")
    return "\n".join(lines)
