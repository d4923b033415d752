"""The real Bolt app behind the real aiohttp server, driven with signed Slack requests.

Replies are read back from a stand-in Slack Web API on loopback (SLACK_API_URL).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from adapters.slack.render import BADGES, render_home, render_replies, verdict_of
from bot.coach import Coach
from bot.messages import Incoming
from bot.replies import Choice, Choices, Heading, Paragraph, Reply
from bot.router import Turn

from . import payloads
from .conftest import SignedSlack
from .fake_api import BOT_USER_ID, TEAM_ID, FakeSlackApi

DRAFT = "Councillor Smith is a liar and a crook, everyone knows he takes bribes from developers."


def slack_incoming(text: str = "", user: str = "U0ALICE", **kw: object) -> Incoming:
    return Incoming(platform="slack", user_id=user, workspace=TEAM_ID, text=text, **kw)  # type: ignore[arg-type]


# -- endpoint basics ----------------------------------------------------------------
async def test_url_verification_returns_the_challenge(slack: SignedSlack) -> None:
    answer = await slack.post(json.dumps(payloads.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")))
    assert answer.status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in answer.text


async def test_bad_stale_or_missing_signatures_are_refused(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    body = json.dumps(payloads.event_callback(payloads.direct_message("help")))
    wrong = await slack.post(body, secret="not-the-signing-secret")
    stale = await slack.post(body, timestamp=int(time.time()) - 10 * 60)
    unsigned = await slack.post(body, sign=False)
    assert (wrong.status, stale.status, unsigned.status) == (401, 401, 401)
    await slack.settle()
    assert slack_api.calls_to("chat.postMessage") == []


async def test_malformed_bodies_get_a_clear_answer_not_a_crash(slack: SignedSlack) -> None:
    assert (await slack.post("{not json", sign=False)).status == 401
    assert (await slack.post("{not json")).status == 400
    assert (await slack.post("[1, 2, 3]")).status == 400
    assert (await slack.post(b"\xff\xfe\x00garbage", sign=False)).status == 401
    assert (await slack.post("payload=%7Bbroken", "application/x-www-form-urlencoded")).status == 400
    # The server is still fine afterwards.
    assert (await slack.post(json.dumps(payloads.url_verification("ok")))).status == 200


# -- conversations ------------------------------------------------------------------
async def test_a_draft_in_a_dm_gets_a_verdict_card(slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach) -> None:
    answer = await slack.event(payloads.direct_message(DRAFT, channel="D0ALICE"))
    assert answer.status == 200
    calls = await slack_api.wait_for("chat.postMessage")
    await slack.settle()
    posted = slack_api.calls_to("chat.postMessage")
    expected = render_replies(coach.handle(slack_incoming(DRAFT)))
    assert [c.params["channel"] for c in posted] == ["D0ALICE"] * len(expected)
    assert [c.blocks() for c in posted] == [list(m.blocks) for m in expected]
    assert [c.params["text"] for c in posted] == [m.text for m in expected]
    assert calls[0].token == "xoxb-test-anytown"
    # The card carries the verdict badge (emoji and word) and the fallback text names it.
    verdict = verdict_of(coach.handle(slack_incoming(DRAFT))[0])
    assert verdict == "stop"
    emoji, word = BADGES[verdict]
    assert posted[0].params["text"].startswith(f"{word}:")
    sections = [b["text"]["text"] for b in posted[0].blocks() if b["type"] == "section" and "text" in b]
    assert any(text.startswith(f"{emoji} *{word}*") for text in sections)


async def test_first_contact_in_a_dm_saves_where_to_reach_the_person(slack: SignedSlack, coach: Coach) -> None:
    await slack.event(payloads.direct_message("help", user="U0DANA", channel="D0DANA"))
    await slack.settle()
    member = coach.members.find("slack", "U0DANA")
    assert member is not None and member.workspace == TEAM_ID
    saved = coach.refs.get(member.id)
    assert saved is not None and saved[0] == "D0DANA"
    assert json.loads(saved[1]) == {"team": TEAM_ID, "channel": "D0DANA"}


async def test_a_retried_event_is_answered_once(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    event = payloads.direct_message("help")
    first = await slack.event(event, event_id="Ev0RETRY1")
    again = await slack.event(event, event_id="Ev0RETRY1", retry=1)
    third = await slack.event(event, event_id="Ev0RETRY1", retry=2)
    assert (first.status, again.status, third.status) == (200, 200, 200)
    await slack.settle()
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_acknowledgement_stays_fast_while_the_coach_is_slow(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach
) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow_away(turn: Turn, args: str) -> list[Reply]:
        started.set()
        release.wait(timeout=20)  # slow until the test has seen the acknowledgement
        return [Reply("Noted", (Paragraph("Noted: you are away."),))]

    coach.router.command("away", slow_away)
    event_answer = await slack.event(payloads.direct_message("away 1 to 5 December"))
    command_answer = await slack.command("away 1 to 5 December")
    assert event_answer.status == 200 and command_answer.status == 200
    assert event_answer.seconds < 3.0 and command_answer.seconds < 3.0
    assert started.wait(timeout=10)  # the work really was still running
    assert slack_api.calls_to("chat.postMessage") == []
    release.set()
    await slack.settle()
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert len(slack_api.calls_to("response_url")) == 1


async def test_own_messages_edits_and_bot_posts_are_ignored(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    await slack.event(payloads.direct_message("help", user=BOT_USER_ID))
    await slack.event(payloads.direct_message("help", subtype="message_changed"))
    await slack.event(payloads.direct_message("help", bot_id="B0OTHER", subtype="bot_message"))
    await slack.settle()
    assert slack_api.calls_to("chat.postMessage") == []


async def test_a_mention_is_answered_in_a_thread(slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach) -> None:
    event = payloads.app_mention("help", channel="C0GENERAL")
    await slack.event(event)
    await slack.settle()
    posted = slack_api.calls_to("chat.postMessage")
    assert posted and all(c.params["thread_ts"] == event["ts"] for c in posted)
    assert all(c.params["channel"] == "C0GENERAL" for c in posted)
    # The @mention itself was stripped: the coach saw 'help'.
    expected = render_replies(coach.handle(slack_incoming("help")))
    assert [c.blocks() for c in posted] == [list(m.blocks) for m in expected]


async def test_slash_command_answers_privately_through_response_url(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach
) -> None:
    answer = await slack.command("help", channel="C0GENERAL")
    assert answer.status == 200 and answer.text == ""
    await slack.settle()
    responses = slack_api.calls_to("response_url")
    expected = render_replies(coach.handle(slack_incoming("help")))
    assert [r.params["response_type"] for r in responses] == ["ephemeral"] * len(expected)
    assert [r.params["blocks"] for r in responses] == [list(m.blocks) for m in expected]
    assert slack_api.calls_to("chat.postMessage") == []


async def test_bare_slash_command_shows_help(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    await slack.command("")
    await slack.settle()
    (response,) = slack_api.calls_to("response_url")
    assert "what I can do" in response.params["text"]


async def test_message_shortcut_checks_the_message_privately(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach
) -> None:
    answer = await slack.interact(payloads.message_action(DRAFT, response_url=slack.response_url(), channel="C0GENERAL"))
    assert answer.status == 200
    await slack.settle()
    posted = slack_api.calls_to("chat.postEphemeral")
    expected = render_replies(coach.handle(slack_incoming(f"check {DRAFT}")))
    assert [(c.params["channel"], c.params["user"]) for c in posted] == [("C0GENERAL", "U0ALICE")] * len(expected)
    assert [c.blocks() for c in posted] == [list(m.blocks) for m in expected]


async def test_message_shortcut_falls_back_to_response_url_outside_the_coachs_channels(
    slack: SignedSlack, slack_api: FakeSlackApi
) -> None:
    slack_api.fail("chat.postEphemeral", "channel_not_found", times=10)
    await slack.interact(payloads.message_action(DRAFT, response_url=slack.response_url(), channel="C0PRIVATE"))
    await slack.settle()
    assert slack_api.calls_to("chat.postEphemeral")
    responses = slack_api.calls_to("response_url")
    assert responses and all(r.params["response_type"] == "ephemeral" for r in responses)


async def test_message_shortcut_on_a_message_without_text(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    await slack.interact(payloads.message_action("", response_url=slack.response_url()))
    await slack.settle()
    (posted,) = slack_api.calls_to("chat.postEphemeral")
    assert "no text for me to check" in posted.params["text"]


async def test_app_home_shows_the_members_overview(slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach) -> None:
    await slack.event(payloads.app_home_opened(user="U0ALICE"))
    await slack.settle()
    (published,) = slack_api.calls_to("views.publish")
    assert published.params["user_id"] == "U0ALICE"
    view = published.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view == render_home(coach.home(slack_incoming()))
    assert view["type"] == "home" and len(view["blocks"]) <= 100


# -- buttons ------------------------------------------------------------------------
def register_colour_picker(coach: Coach, presses: list[tuple[str, str, str]]) -> None:
    def menu(turn: Turn, args: str) -> list[Reply]:
        choices = Choices((Choice("Red", "pick.colour", "r"), Choice("Blue", "pick.colour", "b", "primary")))
        return [Reply("Pick a colour", (Heading("Pick a colour"), choices), kind="quiz")]

    def picked(turn: Turn, action: str, value: str) -> list[Reply]:
        presses.append((turn.incoming.user_id, action, value))
        return [Reply(f"You chose {value}", (Paragraph(f"You chose {value}"),), replaces_prompt=True, kind="quiz")]

    coach.router.command("quiz", menu)
    coach.router.action("pick", picked)


async def test_buttons_route_to_router_actions_and_replace_the_prompt(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach
) -> None:
    presses: list[tuple[str, str, str]] = []
    register_colour_picker(coach, presses)
    await slack.event(payloads.direct_message("quiz", channel="D0ALICE"))
    (prompt,) = await slack_api.wait_for("chat.postMessage")
    buttons = [e for b in prompt.blocks() if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Red", "Blue"]
    assert len({b["action_id"] for b in buttons}) == 2  # unique within the message, as Slack requires
    blue = buttons[1]
    prompt_ts = "1700000000.000001"
    await slack.interact(
        payloads.block_actions(blue["action_id"], blue["value"], response_url=slack.response_url(), channel="D0ALICE", message_ts=prompt_ts)
    )
    await slack.settle()
    assert presses == [("U0ALICE", "pick.colour", "b")]
    (update,) = slack_api.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("D0ALICE", prompt_ts)
    assert "You chose b" in json.dumps(update.blocks())
    assert not any(b["type"] == "actions" for b in update.blocks())  # the old buttons are gone
    assert len(slack_api.calls_to("chat.postMessage")) == 1  # nothing new posted


async def test_buttons_on_a_private_answer_replace_it_through_response_url(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach
) -> None:
    presses: list[tuple[str, str, str]] = []
    register_colour_picker(coach, presses)
    await slack.interact(
        payloads.block_actions("pick.colour#0", "r", response_url=slack.response_url(), channel="C0GENERAL", is_ephemeral=True)
    )
    await slack.settle()
    assert presses == [("U0ALICE", "pick.colour", "r")]
    (response,) = slack_api.calls_to("response_url")
    assert response.params["replace_original"] is True
    assert slack_api.calls_to("chat.update") == []


async def test_a_stale_button_gets_a_kind_answer(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    await slack.interact(payloads.block_actions("retired.feature#0", "x", response_url=slack.response_url()))
    await slack.settle()
    (posted,) = slack_api.calls_to("chat.postMessage")
    assert "no longer in use" in posted.params["text"]


async def test_a_button_on_the_app_home_answers_in_the_dm_and_refreshes_home(
    slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach
) -> None:
    presses: list[tuple[str, str, str]] = []
    register_colour_picker(coach, presses)
    await slack.interact(payloads.block_actions("pick.colour#1", "b", response_url="", container_type="view"))
    await slack.settle()
    assert presses == [("U0ALICE", "pick.colour", "b")]
    (opened,) = slack_api.calls_to("conversations.open")
    assert opened.params["users"] == "U0ALICE"
    (posted,) = slack_api.calls_to("chat.postMessage")
    assert posted.params["channel"] == "D0ALICE"
    assert len(slack_api.calls_to("views.publish")) == 1


# -- limits -------------------------------------------------------------------------
async def test_long_replies_are_split_across_messages(slack: SignedSlack, slack_api: FakeSlackApi, coach: Coach) -> None:
    paragraphs = [f"Point {i}: " + "a careful sentence about social media. " * 30 for i in range(80)]

    def long_progress(turn: Turn, args: str) -> list[Reply]:
        return [Reply("Your progress", tuple(Paragraph(p) for p in paragraphs))]

    coach.router.command("progress", long_progress)
    await slack.event(payloads.direct_message("progress"))
    await slack.settle()
    posted = slack_api.calls_to("chat.postMessage")
    assert len(posted) > 1
    for call in posted:
        blocks = call.blocks()
        assert 0 < len(blocks) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
        assert call.params["text"].startswith("Your progress")
    shown = " ".join(b["text"]["text"] for c in posted for b in c.blocks())
    assert all(f"Point {i}:" in shown for i in range(80))
    assert shown.index("Point 10:") < shown.index("Point 70:")


async def test_a_slack_api_error_on_reply_does_not_stop_the_next_turn(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    slack_api.fail("chat.postMessage", "channel_not_found")
    await slack.event(payloads.direct_message("help"))
    await slack.settle()
    await slack.event(payloads.direct_message("help"))
    await slack.settle()
    assert len(slack_api.calls_to("chat.postMessage")) == 2


async def test_a_rate_limited_reply_waits_and_is_still_delivered(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    slack_api.rate_limit("chat.postMessage", retry_after=1)
    await slack.event(payloads.direct_message("help"))
    await slack.settle()
    posted = slack_api.calls_to("chat.postMessage")
    assert len(posted) == 2  # the 429, then the retry Slack asked for
    assert posted[1].at - posted[0].at >= 0.9


async def test_many_turns_at_once_are_all_acknowledged_and_answered(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    events = [payloads.direct_message("help", user=f"U{i:04d}", channel=f"D{i:04d}") for i in range(40)]
    answers = await asyncio.gather(*(slack.event(e) for e in events))
    assert all(a.status == 200 for a in answers)
    assert max(a.seconds for a in answers) < 3.0
    await slack.settle()
    assert sorted(c.params["channel"] for c in slack_api.calls_to("chat.postMessage")) == sorted(
        e["channel"] for e in events
    )


# -- hostile input ------------------------------------------------------------------
WRONG_VALUES: list[object] = [None, 5, "x", [], {}, [1], {"a": None}]


def mutations(body: dict[str, object]) -> list[dict[str, object]]:
    """The body with each field (and each field of its nested objects) dropped or of the wrong type."""
    out: list[dict[str, object]] = []
    for key in list(body):
        dropped = {k: v for k, v in body.items() if k != key}
        out.append(dropped)
        out += [{**body, key: wrong} for wrong in WRONG_VALUES]
        inner = body[key]
        if isinstance(inner, list) and inner and isinstance(inner[0], dict):
            inner = inner[0]
            out += [{**body, key: [m]} for m in mutations(inner)]  # type: ignore[arg-type]
        elif isinstance(inner, dict):
            out += [{**body, key: m} for m in mutations(inner)]  # type: ignore[arg-type]
    return out


async def test_fuzzed_payloads_never_crash_the_endpoint(slack: SignedSlack, slack_api: FakeSlackApi) -> None:
    url = slack.response_url()
    events = [payloads.event_callback(e) for e in (payloads.direct_message("help"), payloads.app_mention("help"), payloads.app_home_opened())]
    interactive = [
        payloads.block_actions("quiz.answer#0", "1:0:0", response_url=url),
        payloads.message_action("hello", response_url=url),
        payloads.view_submission("broadcast.compose", {"title": {"value": {"type": "plain_text_input", "value": "x"}}}),
    ]
    statuses: dict[int, int] = {}
    for i, body in enumerate(events):
        for n, mutated in enumerate(mutations(body)[:300]):
            if isinstance(mutated.get("event_id"), str):
                mutated["event_id"] = f"EvFuzz{i}.{n}"  # a fresh id, so the retry filter does not hide it
            status = (await slack.post(json.dumps(mutated))).status
            statuses[status] = statuses.get(status, 0) + 1
    for body in interactive:
        for mutated in mutations(body)[:300]:
            status = (await slack.interact(mutated)).status
            statuses[status] = statuses.get(status, 0) + 1
    await slack.settle()
    assert sum(statuses.values()) > 900
    assert set(statuses) <= {200, 400, 404}, statuses
    # And the coach still answers.
    before = len(slack_api.calls_to("chat.postMessage"))
    await slack.event(payloads.direct_message("help", channel="D0AFTER"))
    await slack.settle()
    assert slack_api.calls_to("chat.postMessage")[before:][-1].params["channel"] == "D0AFTER"


async def test_no_message_text_reaches_the_logs_even_at_debug(
    coach: Coach, slack_env: dict[str, str], slack_api: FakeSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    import aiohttp

    from adapters.server import build_app
    from adapters.slack.app import SLACK_ADAPTER_KEY

    from .conftest import serve

    caplog.set_level(logging.DEBUG)
    app, _ = build_app(coach, slack_env, only="slack")
    runner, base = await serve(app)
    marker = "Zanzibar-marker-7731 says the clerk is a fraud"
    try:
        async with aiohttp.ClientSession() as session:
            client = SignedSlack(base, session, app[SLACK_ADAPTER_KEY], slack_api)
            await client.event(payloads.direct_message(marker))
            await client.command(f"check {marker}")
            await client.interact(payloads.message_action(marker, response_url=client.response_url()))
            await client.settle()
    finally:
        await runner.cleanup()
    assert len(slack_api.calls) >= 3
    assert "Zanzibar" not in caplog.text
