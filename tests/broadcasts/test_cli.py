"""`coach members`, `coach broadcast` and `coach audit` on the command line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from adapters.cli import main

ROSTER = (
    "platform,user_id,name,tags\n"
    "console,alice,Alice Ashby,planning-committee;cabinet\n"
    "console,bob,Bob Brown,Planning Committee\n"
    "slack,U0CAROL,Carol Cole,group:independent\n"
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.delenv("COACH_KNOWLEDGE_DIR", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_members_import_tag_untag_and_list(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    assert cli("members", "import", str(roster)) == (0, "imported 3 members: 3 new, 0 updated, 4 tags added\n", "")
    assert cli("members", "import", str(roster))[1] == "imported 3 members: 0 new, 3 updated, 0 tags added\n"
    code, out, _ = cli("members", "list", "--tag", "planning-committee")
    assert code == 0 and "console:alice  Alice Ashby  tags: cabinet, planning-committee" in out
    assert "console:bob  Bob Brown  tags: planning-committee" in out and "U0CAROL" not in out
    assert cli("members", "tag", "slack:U0CAROL", "cabinet")[1] == "slack:U0CAROL tags: cabinet, group:independent\n"
    assert cli("members", "untag", "console:alice", "cabinet")[1] == "console:alice tags: planning-committee\n"
    code, _, err = cli("members", "tag", "console:nobody", "cabinet")
    assert code == 1 and "no member console:nobody is known yet" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("platform,user_id,name,tags\nfax,1,X,\nconsole,,Y,\nteams,29:x,Z,bad tag!\nconsole,dup,A,\nconsole,dup,B,\n")
    code, _, err = cli("members", "import", str(bad))
    assert code == 1
    assert "bad.csv:2: platform must be one of console, slack, teams (got 'fax')" in err
    assert "bad.csv:3: user_id is empty" in err
    assert "bad.csv:4: 'bad tag!' is not a tag" in err
    assert "bad.csv:6: console:dup is also on line 5" in err
    assert "console:dup" not in cli("members", "list")[1]  # nothing from a bad file is imported
    code, out, _ = cli("audit", "list", "--action", "members")
    assert [line.split("  ")[2] for line in out.splitlines()] == ["members.untag", "members.tag", "members.import",
                                                                   "members.import"]


def test_broadcast_send_show_csv_follow_up_cancel(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    cli("members", "import", str(roster))
    body = tmp_path / "body.txt"
    body.write_text("The pre-election period starts on 25 March.\n\n- no council logos\n- no new announcements\n")
    code, _, err = cli("broadcast", "send", "--title", "Pre-election", "--body-file", str(body))
    assert code == 1 and "nothing sent: add --yes" in err  # no terminal to ask on
    code, out, _ = cli("broadcast", "send", "--title", "Pre-election", "--body-file", str(body),
                       "--audience", "planning-committee", "--ack", "--follow-up-days", "3", "--at",
                       "2099-01-01 09:00", "--yes")
    assert code == 1  # more than a year away
    code, out, err = cli("broadcast", "send", "--title", "Pre-election", "--body-file", str(body),
                         "--audience", "planning-committee", "--ack", "--follow-up-days", "3", "--yes")
    assert code == 0, err
    assert "PRE-ELECTION\n\nThe pre-election period starts on 25 March.\n  - no council logos" in out
    assert "To: members tagged planning-committee (2 members)" in out
    assert out.rstrip().endswith("broadcast #1 queued for 2 members; see 'coach broadcast show 1'")
    code, out, _ = cli("broadcast", "list")
    assert code == 0 and "#1" in out and "to planning-committee (2)  confirmed 0/2  Pre-election" in out
    report_csv = tmp_path / "report.csv"
    code, out, _ = cli("broadcast", "show", "1", "--csv", str(report_csv))
    assert "recipients 2: queued 2, sent 0, failed 0, unreachable 0, cancelled 0, acknowledged 0" in out
    assert f"wrote 2 rows to {report_csv}" in out
    rows = list(csv.DictReader(report_csv.read_text().splitlines()))
    assert [(r["member"], r["status"], r["follow_up"]) for r in rows] == [
        ("console:alice", "queued", "queued"), ("console:bob", "queued", "queued")]
    code, out, _ = cli("broadcast", "follow-up", "1")
    assert "0 reminders queued; 0 already reminded, 2 not yet delivered, 0 confirmed" in out
    code, out, _ = cli("broadcast", "cancel", "1")
    assert out == "broadcast #1 cancelled: 4 waiting messages stopped, 0 had already gone\n"
    code, _, err = cli("broadcast", "cancel", "1")
    assert code == 1 and err == "coach: error: Broadcast #1 was already cancelled.\n"
    assert cli("broadcast", "show", "7")[2] == "coach: error: There is no broadcast #7.\n"
    code, out, _ = cli("broadcast", "show", "1", "--csv", "-")
    assert out.splitlines()[1].startswith("1,console:alice,Alice Ashby,cancelled,")
    code, out, _ = cli("audit", "list", "--action", "broadcast")
    actions = [line.split("  ")[2] for line in out.splitlines()]
    assert actions == ["broadcast.cancel", "broadcast.follow_up", "broadcast.send"]
    assert '"audience": ["planning-committee"]' in out and "cli:" in out
