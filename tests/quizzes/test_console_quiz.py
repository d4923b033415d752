"""A whole quiz in `coach chat`, by numbered choices through a pipe, as a person would type it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bot.coach import Coach
from bot.services import quizzes as q
from tests.quizzes.support import plain, repo
from tests.support.chat import press


def chat(tmp_path: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    environ["COACH_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())", "chat", *args],
        input=stdin, capture_output=True, text=True, env=environ, timeout=120, cwd=tmp_path,
    )


def test_a_scripted_chat_completes_a_quiz_and_a_stale_answer_changes_nothing(
    tmp_path: Path, make_coach: Callable[..., Coach]
) -> None:
    # "quiz", then for each of four questions: pick option 1, then "Next question" / "See your results".
    script = "quiz\n" + "1\n1\n" * 4 + "progress\nquit\n"
    result = chat(tmp_path, script, "--user", "alice")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in result.stderr
    for n in range(1, 5):
        assert f"QUESTION {n} OF 4" in out
    assert len(re.findall(r"^QUESTION \d OF 4: (RIGHT|NOT QUITE)$", out, re.M)) == 4
    assert "  1) Next question\n  2) Stop for now" in out and "  1) See your results" in out
    assert out.count("Score so far:") == 4
    finished = re.search(r"^QUIZ FINISHED: (\d) OUT OF 4$", out, re.M)
    assert finished is not None
    score = int(finished.group(1))
    assert ("Nothing to revisit this time." in out) == (score == 4)
    assert ("Guidance to read:" in out) == (score < 4)
    assert "https://www.example.gov.uk/members-social-media-protocol" in out
    assert "YOUR TRAINING PROGRESS" in out and "Answered: 4 questions" in out

    # The same database, opened in-process: the score stands as the chat showed it.
    coach = make_coach()
    alice = coach.members.find("console", "alice")
    assert alice is not None
    attempts = repo(coach).attempts(member_id=alice.id)
    assert [a.choice for a in attempts] == [0, 0, 0, 0]
    assert sum(a.is_correct for a in attempts) == score
    session = repo(coach).get(attempts[0].session_id or 0)
    assert session is not None and (session.state, session.score) == ("finished", score)

    # Pressing an old answer again (a stale message, another option) does not change the score.
    for position in range(4):
        for option in range(3):
            replies = press(coach, "quiz.answer", f"{session.id}:{position}:{option}", user="alice")
            assert plain(*replies) == q.ALREADY_ANSWERED
    again = repo(coach).get(session.id)
    assert again is not None and again.score == score
    assert len(repo(coach).attempts(member_id=alice.id)) == 4


def test_a_member_cannot_ask_for_the_training_report_in_chat(tmp_path: Path) -> None:
    member = chat(tmp_path, "report training\nquit\n", "--user", "mo")
    assert "for council officers only" in member.stdout and "TRAINING REPORT" not in member.stdout.upper()
    officer = chat(tmp_path, "report training\nquit\n", "--user", "olu", "--officer")
    assert "Training report" in officer.stdout or "TRAINING REPORT" in officer.stdout
    assert "Members: 1" in officer.stdout  # mo; the officer has taken no quiz
