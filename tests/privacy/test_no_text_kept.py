"""Draft and question text is never stored or logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.coach import Coach
from tests.support.chat import press, say

MARKERS = ["ZQXMARKER-alpha", "ZQXMARKER-bravo", "ZQXMARKER-charlie", "ZQXMARKER-delta", "ZQXMARKER-echo"]


def session(coach: Coach) -> None:
    say(coach, f"check Cllr {MARKERS[0]} is a crook who takes bribes, email me on x@example.com")
    say(coach, f"Lovely morning at {MARKERS[1]} park with the friends group")
    say(coach, f"ask can I share the {MARKERS[2]} report marked confidential?")
    say(coach, f"Should I block {MARKERS[3]} who keeps abusing me?")
    replies = say(coach, f"The planning application at {MARKERS[4]} Farm is a disgrace and I'll vote it down")
    for reply in replies:  # press every button a verdict card offers
        for choice in reply.choices:
            press(coach, choice.action, choice.value)


def test_no_draft_or_question_text_reaches_the_database_or_logs(
    coach: Coach, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session(coach)
    coach.engine.dispose()  # close connections so SQLite checkpoints its write-ahead log
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("coach.db*"))
    assert stored, "the database file must exist"
    for marker in MARKERS:
        assert marker.encode() not in stored, f"{marker} was written to the database"
        assert marker not in caplog.text, f"{marker} was logged"
    assert "ZQXMARKER" not in caplog.text
