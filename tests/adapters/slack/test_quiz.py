"""A full quiz in Slack, pressing the buttons Slack shows, as a person would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.slack.inbound import core_action
from bot.coach import Coach
from bot.storage.quizzes import QuizRepository

from . import payloads
from .conftest import SignedSlack
from .fake_api import FakeSlackApi


@dataclass
class Screen:
    """What the person sees: the message holding the latest buttons."""

    blocks: list[dict[str, Any]]
    ts: str = ""
    updates: int = 0
    presses: list[tuple[str, str]] = field(default_factory=list)

    def buttons(self) -> list[dict[str, Any]]:
        return [e for b in self.blocks if b["type"] == "actions" for e in b["elements"]]

    def text(self) -> str:
        return json.dumps(self.blocks)


async def drive(slack: SignedSlack, api: FakeSlackApi, surface: str) -> Screen:
    """Start a quiz, then press an answer (or 'Next question') until the summary shows."""
    if surface == "slash":
        await slack.command("quiz", channel="C0GENERAL")
        await slack.settle()
        shown = api.calls_to("response_url")
        screen = Screen(blocks=shown[-1].params["blocks"])
    else:
        await slack.event(payloads.direct_message("quiz", channel="D0ALICE"))
        await slack.settle()
        shown = api.calls_to("chat.postMessage")
        screen = Screen(blocks=shown[-1].blocks(), ts=shown[-1].answer["ts"])
    for _ in range(20):
        if "Quiz finished" in screen.text():
            return screen
        buttons = {core_action(b["action_id"]): b for b in screen.buttons()}
        button = buttons.get("quiz.answer") or buttons.get("quiz.next")
        assert button is not None, screen.text()
        screen.presses.append((core_action(button["action_id"]), button["value"]))
        before = len(api.calls)
        await slack.interact(
            payloads.block_actions(
                button["action_id"], button["value"], response_url=slack.response_url(),
                channel="C0GENERAL" if surface == "slash" else "D0ALICE",
                message_ts=screen.ts or "1700000000.000001", is_ephemeral=surface == "slash",
            )
        )
        await slack.settle()
        for call in api.calls[before:]:
            if call.method == "chat.update" or (call.method == "response_url" and call.params.get("replace_original")):
                assert call.method != "chat.update" or call.params["ts"] == screen.ts
                screen.blocks, screen.updates = (call.blocks() if call.method == "chat.update" else call.params["blocks"]), screen.updates + 1
            elif call.method in ("chat.postMessage", "response_url"):
                blocks = call.blocks() if call.method == "chat.postMessage" else call.params["blocks"]
                if any(b["type"] == "actions" for b in blocks) or "Quiz finished" in json.dumps(blocks):
                    screen.blocks, screen.ts = blocks, call.answer.get("ts", "")
    raise AssertionError("the quiz never finished")


@pytest.mark.parametrize("surface", ["slash", "dm"])
async def test_coach_quiz_runs_a_full_quiz_through_button_presses(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach, surface: str
) -> None:
    screen = await drive(slack, slack_api, surface)
    answers = [value for action, value in screen.presses if action == "quiz.answer"]
    assert len(answers) == 4
    member = coach.members.find("slack", "U0ALICE")
    assert member is not None
    sessions = QuizRepository(coach.engine)
    attempts = sessions.attempts(member_id=member.id)
    assert len(attempts) == 4
    session = sessions.get(int(answers[0].split(":")[0]))
    assert session is not None and session.state == "finished"
    assert f"Quiz finished: {session.score} out of 4" in screen.text()
    # Every answer replaced the question it answered, so no old buttons were left to press.
    assert screen.updates >= 4
    if surface == "dm":
        assert not slack_api.calls_to("response_url")
    else:
        assert not slack_api.calls_to("chat.update") and not slack_api.calls_to("chat.postMessage")

    # Pressing an old answer again (a stale message on another device) does not count twice.
    action_id = "quiz.answer#0"
    await slack.interact(
        payloads.block_actions(action_id, answers[0], response_url=slack.response_url(), channel="D0ALICE", message_ts="1700000000.000099")
    )
    await slack.settle()
    assert len(sessions.attempts(member_id=member.id)) == 4
    again = sessions.get(session.id)
    assert again is not None and again.score == session.score
