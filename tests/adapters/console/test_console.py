"""The console chat, driven as a person would: through `coach chat` with a pipe."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

from bot.coach import Coach
from bot.replies import Choice, Choices, Paragraph, Reply
from adapters.console.repl import ConsoleChat


def run_cli(args: list[str], stdin: str = "", tmp_path: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    if tmp_path is not None:
        environ["COACH_DATA_DIR"] = str(tmp_path)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())", *args],
        input=stdin, capture_output=True, text=True, env=environ, timeout=120,
    )


def test_scripted_session_prints_help_and_a_reply(tmp_path: Path) -> None:
    result = run_cli(["chat"], "help\ncheck hello everyone\nquit\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WHAT I CAN DO" in result.stdout
    assert "check <draft>" in result.stdout
    assert result.stdout.count("\n") > 15
    assert "Traceback" not in result.stderr


def test_eof_ends_the_chat_cleanly(tmp_path: Path) -> None:
    result = run_cli(["chat", "--user", "dana"], "help\n", tmp_path)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr


def test_binary_and_control_characters_do_not_break_the_chat(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    environ["COACH_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())", "chat"],
        input=b"\x00\x01\x1b[31m\xef\xbb\xbf\xff\xfe oops\nhelp\n", capture_output=True, env=environ, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert b"WHAT I CAN DO" in result.stdout


def test_officer_flag_lets_a_person_try_the_officer_role(tmp_path: Path) -> None:
    member = run_cli(["chat", "--user", "mo"], "report\n", tmp_path)
    assert "for council officers only" in member.stdout
    officer = run_cli(["chat", "--user", "olu", "--officer"], "report\n", tmp_path)
    assert "for council officers only" not in officer.stdout
    listed = run_cli(["officers", "list"], "", tmp_path)
    assert "console:olu" in listed.stdout and "console:mo" not in listed.stdout


def test_choices_are_picked_by_number_or_label(coach: Coach) -> None:
    presses: list[tuple[str, str]] = []

    def menu(turn, args):  # type: ignore[no-untyped-def]
        return [Reply("pick", (Paragraph("Pick one"), Choices((Choice("Red", "pick.colour", "r"), Choice("Blue", "pick.colour", "b")))))]

    def picked(turn, action, value):  # type: ignore[no-untyped-def]
        presses.append((action, value))
        return [Reply("thanks", (Paragraph(f"You chose {value}"),))]

    coach.router.command("quiz", menu)
    coach.router.action("pick", picked)
    out = io.StringIO()
    chat = ConsoleChat(coach, "alice", stdin=io.StringIO("quiz\n2\nquiz\nred\n7\n"), stdout=out)
    assert asyncio.run(chat.run()) == 0
    assert presses == [("pick.colour", "b"), ("pick.colour", "r")]
    text = out.getvalue()
    assert "1) Red" in text and "2) Blue" in text and "You chose b" in text
    # '7' names no choice on screen, so it is read as text (a draft), not a press.
    assert len(presses) == 2


def test_proactive_messages_print_while_the_chat_is_open(coach: Coach) -> None:
    out = io.StringIO()

    async def announce(chat: ConsoleChat) -> None:
        await chat.show([Reply("Reminder", (Paragraph("Have you checked your accounts?"),))], proactive=True)

    class SlowStdin(io.StringIO):
        def readline(self, *args: object) -> str:  # type: ignore[override]
            import time
            time.sleep(0.2)  # a person typing: lets the background job run first
            return super().readline()

    chat = ConsoleChat(coach, "alice", stdin=SlowStdin("help\n"), stdout=out)
    asyncio.run(chat.run(background=[announce]))
    assert "[message from the coach]" in out.getvalue()
    assert "Have you checked your accounts?" in out.getvalue()


def test_cli_version_and_help(tmp_path: Path) -> None:
    assert run_cli(["--version"], tmp_path=tmp_path).stdout.startswith("coach ")
    helped = run_cli(["--help"], tmp_path=tmp_path)
    assert helped.returncode == 0 and "chat" in helped.stdout and "officers" in helped.stdout


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    bad_ref = run_cli(["officers", "add", "nonsense"], tmp_path=tmp_path)
    assert bad_ref.returncode == 1
    assert bad_ref.stderr.strip().count("\n") == 0 and bad_ref.stderr.startswith("coach: error:")
    bad_db = run_cli(["officers", "list"], tmp_path=tmp_path, COACH_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert bad_db.returncode == 1
    assert "Traceback" not in bad_db.stderr and bad_db.stderr.startswith("coach: error:")
    missing_kb = run_cli(["officers", "list"], tmp_path=tmp_path, COACH_KNOWLEDGE_DIR=str(tmp_path / "nope"))
    assert missing_kb.returncode == 1 and "COACH_KNOWLEDGE_DIR" in missing_kb.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    result = run_cli(["db", "upgrade"], tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "database is at revision" in result.stdout
    assert (tmp_path / "coach.db").exists()
