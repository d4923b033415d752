"""Officers' broadcast modal: `/coach broadcast` opens a form; a submission queues the update."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack import modal
from bot.coach import Coach
from bot.outbox import Outbox

from . import payloads
from .conftest import SignedSlack
from .fake_api import TEAM_ID, FakeSlackApi

CLEAN = "From Monday the pre-election period starts: please do not announce new council policy."
PERSONAL = "Mrs Jane Jones of 12 High Street, phone 07700 900123, complained about her neighbour's benefits claim."


def people(coach: Coach) -> None:
    now = coach.clock.now()
    for i in range(6):
        member = coach.members.ensure("slack", f"U0M{i}", now, workspace=TEAM_ID)
        coach.members.add_tags(member.id, ["councillors"] + (["cabinet"] if i < 2 else []))
    coach.directory.add_officer("slack:U0OFFICER", "test")


def form(title: str, body: str, *, tags: tuple[str, ...] = (), when: str = "", ticks: tuple[str, ...] = ()) -> dict[str, Any]:
    """view.state.values as Slack sends them for the compose form."""
    return {
        "title": {"value": {"type": "plain_text_input", "value": title}},
        "body": {"value": {"type": "plain_text_input", "value": body}},
        "audience": {"value": {"type": "multi_static_select", "selected_options": [{"text": {"type": "plain_text", "text": t}, "value": t} for t in tags]}},
        "when": {"value": {"type": "plain_text_input", "value": when or None}},
        "options": {"value": {"type": "checkboxes", "selected_options": [{"value": t} for t in ticks]}},
    }


async def submit(slack: SignedSlack, values: dict[str, Any], user: str = "U0OFFICER") -> dict[str, Any]:
    answer = await slack.interact(payloads.view_submission(modal.CALLBACK_ID, values, user=user))
    assert answer.status == 200 and answer.seconds < 3.0
    return answer.json() if answer.text else {}


async def test_an_officer_opens_the_form_and_a_submission_queues_the_broadcast(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach
) -> None:
    people(coach)
    await slack.command("broadcast", user="U0OFFICER", channel="C0OFFICERS")
    await slack.settle()
    (opened,) = slack_api.calls_to("views.open")
    view = opened.params["view"] if isinstance(opened.params["view"], dict) else json.loads(opened.params["view"])
    assert view["callback_id"] == modal.CALLBACK_ID and opened.params["trigger_id"]
    audience = next(b for b in view["blocks"] if b.get("block_id") == "audience")
    assert [o["value"] for o in audience["element"]["options"]] == ["councillors", "cabinet"]
    assert "all 6 members" in audience["hint"]["text"]

    answer = await submit(slack, form("Pre-election period", CLEAN, tags=("cabinet",), ticks=(modal.ACK,)))
    assert answer["response_action"] == "update"
    assert "queued for 2 members" in json.dumps(answer["view"])
    rows = Outbox(coach.engine).list()
    assert len(rows) == 2 and all(r.kind == "broadcast" for r in rows)
    assert coach.audit.list(5)[0].action == "broadcast.send"
    assert slack_api.calls_to("response_url") == []  # the form replaced the chat answer


async def test_checker_concerns_hold_the_form_until_the_officer_confirms(
    slack: SignedSlack, coach: Coach
) -> None:
    people(coach)
    held = await submit(slack, form("Casework", PERSONAL))
    assert held["response_action"] == "errors" and "draft checker" in held["errors"]["body"]
    assert Outbox(coach.engine).list() == []
    sent = await submit(slack, form("Casework", PERSONAL, ticks=(modal.OVERRIDE,)))
    assert sent["response_action"] == "update"
    assert len(Outbox(coach.engine).list()) == 6


async def test_bad_times_and_empty_audiences_are_shown_on_the_form(slack: SignedSlack, coach: Coach) -> None:
    people(coach)
    when = await submit(slack, form("Update", CLEAN, when="the twelfth of never"))
    assert when["response_action"] == "errors" and "when" in when["errors"]
    nobody = await submit(slack, form("Update", CLEAN, tags=("planning-committee",)))
    assert nobody["response_action"] == "errors" and "no members tagged" in json.dumps(nobody["errors"]).lower()
    assert Outbox(coach.engine).list() == []


async def test_members_get_no_form_and_cannot_forge_a_submission(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach
) -> None:
    people(coach)
    await slack.command("broadcast", user="U0M3")
    await slack.settle()
    assert slack_api.calls_to("views.open") == []
    (refused,) = slack_api.calls_to("response_url")
    assert "officers only" in refused.params["text"] or "officers only" in json.dumps(refused.params["blocks"])
    forged = await submit(slack, form("Sneaky", CLEAN), user="U0M3")
    assert forged["response_action"] == "errors" and "officers" in forged["errors"]["title"]
    assert Outbox(coach.engine).list() == []
