"""Access: officer-only commands are refused to members on every platform, and allowed to officers.

The commands come from bot.router.COMMANDS (whatever is marked officer_only,
with each optional argument in its usage), so a new officer command is covered
without touching this file. Every platform is driven through its real entry
point: coach.handle for the console, signed requests to the real Bolt app for
Slack (a slash command and a DM), and the real CloudAdapter endpoint for Teams.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.messages import Incoming
from bot.replies import Reply
from bot.router import COMMANDS
from tests.adapters.slack import payloads
from tests.adapters.slack.conftest import SignedSlack, slack, slack_api, slack_env  # noqa: F401 (fixtures)
from tests.adapters.slack.fake_api import FakeSlackApi
from tests.adapters.teams import activities
from tests.adapters.teams.conftest import TeamsEndpoint, connector, teams  # noqa: F401 (fixtures)
from tests.quizzes.support import take_quiz
from tests.support.chat import press, say

REFUSED = "Not allowed"


def officer_forms() -> list[str]:
    """Every officer-only command as typed: 'report', and each option in its usage, 'report training'."""
    forms: list[str] = []
    for command in COMMANDS:
        if not command.officer_only:
            continue
        forms.append(command.name)
        for optional in re.findall(r"\[([^\]<>]+)\]", command.usage):
            forms += [f"{command.name} {word.strip()}" for word in optional.split("|") if word.strip()]
    return forms


OFFICER_FORMS = officer_forms()


def test_the_officer_commands_are_derived_from_the_router() -> None:
    names = {c.name for c in COMMANDS if c.officer_only}
    assert {"broadcast", "report"} <= names
    assert "report training" in OFFICER_FORMS
    assert {form.split()[0] for form in OFFICER_FORMS} == names


def summaries(replies: list[Reply]) -> list[str]:
    return [r.summary for r in replies]


# -- console (coach.handle) -------------------------------------------------------------------
@pytest.mark.parametrize("form", OFFICER_FORMS)
def test_console_member_is_refused_and_officer_is_not(coach: Coach, form: str) -> None:
    coach.directory.add_officer("console:olive", actor="test")
    assert summaries(say(coach, form, user="bob")) == [REFUSED]
    assert REFUSED not in summaries(say(coach, form, user="olive"))


@pytest.mark.parametrize("action", ["broadcast.draft", "broadcast.chase", "broadcast.report"])
def test_console_member_cannot_press_officer_buttons(coach: Coach, action: str) -> None:
    officer = coach.directory.add_officer("console:olive", actor="test")
    say(coach, "broadcast", user="olive")  # an officer's draft exists; its buttons must not work for others
    replies = press(coach, action, "1:title:cancel", user="bob")
    assert summaries(replies) == [REFUSED], summaries(replies)
    assert coach.members.get(officer.id) is not None


# -- Slack: signed slash commands and DMs through the real Bolt app ---------------------------
SLACK_MEMBER, SLACK_OFFICER = "U0MEMBER", "U0OFFICER"


@pytest.mark.parametrize("form", OFFICER_FORMS)
async def test_slack_slash_command_member_refused_officer_allowed(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach, form: str  # noqa: F811
) -> None:
    coach.directory.add_officer(f"slack:{SLACK_OFFICER}", actor="test")
    member_url, officer_url = slack.response_url(), slack.response_url()
    assert (await slack.command(form, user=SLACK_MEMBER, response_url=member_url)).status == 200
    assert (await slack.command(form, user=SLACK_OFFICER, response_url=officer_url)).status == 200
    await slack.settle()
    answers = slack_api.calls_to("response_url")
    member = [c.params for c in answers if c.params["key"] == member_url.rsplit("/", 1)[1]]
    officer = [c.params for c in answers if c.params["key"] == officer_url.rsplit("/", 1)[1]]
    assert [p["text"] for p in member] == [REFUSED]
    assert member[0]["response_type"] == "ephemeral"  # only the member sees the refusal
    # An officer gets the answer, or (for a form-based command such as broadcast) the form.
    opened = [c for c in slack_api.calls if c.method in ("views.open", "views.push")]
    assert (officer and REFUSED not in [p["text"] for p in officer]) or opened
    assert len(opened) <= 1  # the officer's form at most: never one for the member


@pytest.mark.parametrize("form", OFFICER_FORMS)
async def test_slack_dm_member_refused_officer_allowed(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach, form: str  # noqa: F811
) -> None:
    coach.directory.add_officer(f"slack:{SLACK_OFFICER}", actor="test")
    assert (await slack.event(payloads.direct_message(form, user=SLACK_MEMBER, channel="D0MEMBER"))).status == 200
    assert (await slack.event(payloads.direct_message(form, user=SLACK_OFFICER, channel="D0OFFICER"))).status == 200
    await slack.settle()
    posted = slack_api.calls_to("chat.postMessage")
    member = [c.params["text"] for c in posted if c.params["channel"] == "D0MEMBER"]
    officer = [c.params["text"] for c in posted if c.params["channel"] == "D0OFFICER"]
    assert member == [REFUSED]
    assert officer and REFUSED not in officer


async def test_slack_member_cannot_press_an_officer_button(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach  # noqa: F811
) -> None:
    coach.directory.add_officer(f"slack:{SLACK_OFFICER}", actor="test")
    coach.handle(Incoming(platform="slack", user_id=SLACK_OFFICER, text="broadcast"))
    url = slack.response_url()
    body = payloads.block_actions("broadcast.chase", "1", response_url=url, user=SLACK_MEMBER, channel="D0MEMBER")
    assert (await slack.interact(body)).status == 200
    await slack.settle()
    texts = [c.params["text"] for c in slack_api.calls if c.method in ("chat.postMessage", "response_url")]
    assert texts == [REFUSED]


# -- Teams: personal messages through the real CloudAdapter endpoint --------------------------
TEAMS_MEMBER, TEAMS_OFFICER = "Mo Member", "Olu Officer"


def teams_summaries(teams: TeamsEndpoint, name: str) -> list[str]:  # noqa: F811
    conversation = activities.personal_conversation(name)["id"]
    return [str((c.body or {}).get("summary") or (c.body or {}).get("text")) for c in teams.connector.sent_to(conversation)]


@pytest.mark.parametrize("form", OFFICER_FORMS)
async def test_teams_member_refused_officer_allowed(teams: TeamsEndpoint, coach: Coach, form: str) -> None:  # noqa: F811
    coach.directory.add_officer(f"teams:{activities.user(TEAMS_OFFICER)['id']}", actor="test")
    for name in (TEAMS_MEMBER, TEAMS_OFFICER):
        answer = await teams.post(activities.personal_message(teams.connector.url, form, name=name))
        assert answer.status in (200, 201)
    assert teams_summaries(teams, TEAMS_MEMBER) == [REFUSED]
    officer = teams_summaries(teams, TEAMS_OFFICER)
    assert officer and REFUSED not in officer


# -- a member sees only their own records -----------------------------------------------------
def progress_facts(replies: list[Reply]) -> dict[str, str]:
    from bot.replies import Facts

    (reply,) = replies
    facts = [f for part in reply.parts if isinstance(part, Facts) for f in part.items]
    return {f.label: f.value for f in facts}


def test_progress_shows_only_the_members_own_records(coach: Coach) -> None:
    take_quiz(coach, user="bob", right=True)
    take_quiz(coach, user="bob", right=True)
    take_quiz(coach, user="alice", right=False)
    alice = progress_facts(say(coach, "progress", user="alice"))
    bob = progress_facts(say(coach, "progress", user="bob"))
    carol = progress_facts(say(coach, "progress", user="carol"))
    assert alice["Answered"].endswith(", 0 right")
    assert bob["Answered"].startswith("8 questions") and bob["Answered"].endswith("8 right")
    assert carol["Answered"] == "none yet"
    # Naming someone else changes nothing: progress is always the asker's own.
    assert progress_facts(say(coach, "progress bob", user="alice")) == alice
    assert progress_facts(say(coach, "progress console:bob", user="carol")) == carol
    text = json.dumps([r.to_dict() for r in say(coach, "progress", user="alice")])
    assert "Bob" not in text and "bob" not in text


async def test_slack_progress_is_the_senders_own(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach  # noqa: F811
) -> None:
    take_quiz(coach, user=SLACK_OFFICER, right=True)  # someone else's records on the console ...
    await slack.event(payloads.direct_message("progress", user=SLACK_MEMBER, channel="D0MEMBER"))
    await slack.settle()
    (posted,) = [c for c in slack_api.calls_to("chat.postMessage") if c.params["channel"] == "D0MEMBER"]
    blocks = json.dumps(posted.blocks())
    assert "none yet" in blocks and "4 questions" not in blocks


# -- officer role changes are audited ----------------------------------------------------------
def run_cli(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    for name in list(os.environ):
        if name.startswith(("COACH_", "SLACK_", "Microsoft")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    from adapters.cli import main

    return main(args)


def test_officer_changes_are_audited_and_take_effect_at_once(
    coach: Coach, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = f"slack:{SLACK_MEMBER}"
    slack_turn = Incoming(platform="slack", user_id=SLACK_MEMBER, text="report training")
    assert summaries(coach.handle(slack_turn)) == [REFUSED]

    assert run_cli(["officers", "add", ref], tmp_path, monkeypatch) == 0
    assert REFUSED not in summaries(coach.handle(slack_turn))
    assert run_cli(["officers", "add", ref], tmp_path, monkeypatch) == 0  # no change: no second line
    assert run_cli(["officers", "remove", ref], tmp_path, monkeypatch) == 0
    assert summaries(coach.handle(slack_turn)) == [REFUSED]

    changes = [e for e in coach.audit.list() if e.action.startswith("officer.")]
    assert [(e.action, e.detail.get("member")) for e in changes] == [("officer.remove", ref), ("officer.add", ref)]
    assert all(e.actor.startswith("cli:") and e.at for e in changes)
    capsys.readouterr()
    assert run_cli(["audit", "list", "--action", "officer"], tmp_path, monkeypatch) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and "officer.remove" in listed[0] and "officer.add" in listed[1]
    assert all(SLACK_MEMBER in line for line in listed)
