"""The whole journey in real processes: an officer broadcasts in `coach chat --officer`, a member
acknowledges it in their own `coach chat`, and `coach broadcast show` reports it."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

COACH = str(Path(sys.executable).parent / "coach")
TIMEOUT = 60.0


def run(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run([COACH, *args], input=stdin, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    return done.stdout


class LiveChat:
    """A `coach chat` process we talk to line by line, reading what it prints as it prints it."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen([COACH, *args], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def say(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def wait_for(self, text: str) -> str:
        """Read output until a line contains `text` (the chat answers as fast as it can; no fixed sleeps)."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"never saw {text!r}; output so far:\n" + "\n".join(self.seen))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.say("quit")
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def test_officer_broadcasts_member_acknowledges_report_shows_it(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COACH_DATA_DIR": str(tmp_path),
        "COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'coach.db'}",
    }
    env.pop("COACH_KNOWLEDGE_DIR", None)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "platform,user_id,name,tags\n"
        "console,alice,Alice Ashby,planning-committee\n"
        "console,bob,Bob Brown,planning-committee;cabinet\n"
        "console,carol,Carol Cole,group:independent\n"
    )
    assert "3 new" in run(["members", "import", str(roster)], env)

    officer = LiveChat(["chat", "--officer", "--user", "olivia", "--interval", "0.2"], env)
    try:
        officer.say("broadcast")
        officer.wait_for("What is the title?")
        officer.say("Site visits: new rules")
        officer.wait_for("Now the message itself")
        officer.say("From January, planning site visits are by appointment with the clerk only.")
        officer.wait_for("Who should get it?")
        officer.say("planning-committee")
        officer.wait_for("When should it go?")
        officer.say("Send now, urgent")  # picks the choice by its label; urgent so quiet hours never hold it
        officer.wait_for("Should members press Got it")
        officer.say("Yes")
        officer.wait_for("To: members tagged planning-committee (2 members)")
        officer.say("Confirm")
        officer.wait_for("BROADCAST #1 IS ON ITS WAY")
    finally:
        officer.close()
    assert officer.proc.returncode == 0

    member = LiveChat(["chat", "--user", "alice", "--interval", "0.2"], env)
    try:
        member.wait_for("[message from the coach]")
        member.wait_for("SITE VISITS: NEW RULES")
        member.wait_for("Got it")
        member.say("Got it")
        member.wait_for("Thank you: recorded that you read this")
        member.say("broadcast show 1")  # members cannot see the report
        member.wait_for("for council officers only")
    finally:
        member.close()
    assert member.proc.returncode == 0

    shown = run(["broadcast", "show", "1"], env)
    assert "Broadcast #1: Site visits: new rules" in shown
    assert "recipients 2: queued 1, sent 1, failed 0, unreachable 0, cancelled 0, acknowledged 1" in shown
    alice = next(line for line in shown.splitlines() if "console:alice" in line)
    assert "sent" in alice and "confirmed" in alice
    bob = next(line for line in shown.splitlines() if "console:bob" in line)
    assert "queued" in bob  # Bob has not opened his chat, so his copy waits for him
    assert "console:carol" not in shown
    audit = run(["audit", "list", "--action", "broadcast"], env)
    assert "console:olivia  broadcast.send" in audit
