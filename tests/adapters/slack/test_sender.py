"""SlackSender: the real slack_sdk client against the stand-in Web API."""

from __future__ import annotations

import json
import time

import pytest

from adapters.slack.render import render_reply
from adapters.slack.sender import PERMANENT, UNREACHABLE, SlackSender, sender_from_env
from adapters.slack.settings import SlackSettings
from bot.ports import Delivery
from bot.replies import Paragraph, Reply

from .fake_api import TEAM_ID, FakeSlackApi

REMINDER = Reply("Time to check your accounts", (Paragraph("Have a quick look at your accounts today."),), kind="reminder")


def settings_for(api: FakeSlackApi, rate: float = 100) -> SlackSettings:
    settings = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-proactive", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": api.url, "SLACK_RATE_PER_SECOND": str(rate)}
    )
    assert settings is not None
    return settings


def delivery(user: str = "U0ALICE", conversation: str = "", reply: Reply = REMINDER, key: str | None = None) -> Delivery:
    route = json.dumps({"team": TEAM_ID, "channel": conversation}) if conversation else ""
    return Delivery(
        outbox_id=1, idempotency_key=key or f"reminder:{user}", platform="slack",
        user_id=user, conversation_id=conversation, route=route, reply=reply,
    )


async def test_a_known_dm_gets_the_rendered_reply(slack_api: FakeSlackApi) -> None:
    sender = SlackSender(settings_for(slack_api))
    outcome = await sender.send(delivery(conversation="D0ALICE"))
    assert outcome.status == "sent"
    (call,) = slack_api.calls
    assert call.method == "chat.postMessage" and call.token == "xoxb-proactive"
    (message,) = render_reply(REMINDER)
    assert call.params["channel"] == "D0ALICE" and call.blocks() == list(message.blocks)
    assert call.params["text"] == "Time to check your accounts"


async def test_someone_never_met_in_a_dm_gets_one_opened_once(slack_api: FakeSlackApi) -> None:
    sender = SlackSender(settings_for(slack_api))
    assert (await sender.send(delivery(user="U0BOB"))).status == "sent"
    assert (await sender.send(delivery(user="U0BOB", key="again"))).status == "sent"
    assert [c.method for c in slack_api.calls] == ["conversations.open", "chat.postMessage", "chat.postMessage"]
    assert slack_api.calls[0].params["users"] == "U0BOB"
    assert {c.params["channel"] for c in slack_api.calls_to("chat.postMessage")} == {"D0BOB"}


async def test_a_429_is_a_rate_limited_retry_with_retry_after(slack_api: FakeSlackApi) -> None:
    slack_api.rate_limit("chat.postMessage", retry_after=7)
    outcome = await SlackSender(settings_for(slack_api)).send(delivery(conversation="D0ALICE"))
    assert (outcome.status, outcome.retry_after, outcome.is_rate_limited) == ("retry", 7.0, True)


async def test_after_a_429_the_sender_waits_before_calling_again(slack_api: FakeSlackApi) -> None:
    slack_api.rate_limit("chat.postMessage", retry_after=1)
    sender = SlackSender(settings_for(slack_api))
    assert (await sender.send(delivery(conversation="D0ALICE"))).status == "retry"
    assert (await sender.send(delivery(user="U0BOB", conversation="D0BOB"))).status == "sent"
    first, second = slack_api.calls_to("chat.postMessage")
    assert second.at - first.at >= 0.9


@pytest.mark.parametrize("error", sorted(UNREACHABLE))
async def test_people_who_are_gone_are_unreachable(slack_api: FakeSlackApi, error: str) -> None:
    slack_api.fail("chat.postMessage", error)
    outcome = await SlackSender(settings_for(slack_api)).send(delivery(conversation="D0ALICE"))
    assert (outcome.status, outcome.detail) == ("unreachable", f"slack: {error}")


async def test_a_missing_scope_fails_the_row_but_does_not_write_the_person_off(slack_api: FakeSlackApi) -> None:
    slack_api.queue("conversations.open", (200, {"ok": False, "error": "missing_scope", "needed": "im:write"}, {}))
    outcome = await SlackSender(settings_for(slack_api)).send(delivery(user="U0CAROL"))
    assert outcome.status == "failed" and "im:write" in outcome.detail
    assert "missing_scope" in PERMANENT and "missing_scope" not in UNREACHABLE


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"ok": False, "error": "internal_error"}, {}),
        (200, {"ok": False, "error": "service_unavailable"}, {}),
        (503, {"ok": False, "error": "fatal_error"}, {}),
    ],
)
async def test_slack_trouble_is_retried(slack_api: FakeSlackApi, answer: tuple[int, dict[str, object], dict[str, str]]) -> None:
    slack_api.queue("chat.postMessage", answer)
    outcome = await SlackSender(settings_for(slack_api)).send(delivery(conversation="D0ALICE"))
    assert outcome.status == "retry" and not outcome.is_rate_limited


async def test_an_unreachable_api_is_a_retry_not_a_crash() -> None:
    settings = SlackSettings.from_env({"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:1/api/"})
    assert settings is not None
    outcome = await SlackSender(settings).send(delivery(conversation="D0ALICE"))
    assert outcome.status == "retry"


async def test_a_long_message_retried_after_a_429_does_not_repeat_its_first_part(slack_api: FakeSlackApi) -> None:
    long = Reply("Guidance update", tuple(Paragraph(f"Section {i}. " + "word " * 500) for i in range(60)), kind="broadcast")
    parts = render_reply(long)
    assert len(parts) >= 3
    slack_api.queue("chat.postMessage", (200, {"ok": True, "ts": "1.1"}, {}), (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}))
    sender = SlackSender(settings_for(slack_api), per_channel_rate=100)
    first = await sender.send(delivery(conversation="D0ALICE", reply=long, key="broadcast:7:alice"))
    assert first.status == "retry" and first.is_rate_limited
    second = await sender.send(delivery(conversation="D0ALICE", reply=long, key="broadcast:7:alice"))
    assert second.status == "sent"
    posted = slack_api.calls_to("chat.postMessage")
    ok_posts = [posted[0]] + posted[2:]  # the second call was the 429
    assert [c.blocks() for c in ok_posts] == [list(p.blocks) for p in parts]


async def test_sends_are_paced_per_channel_and_overall(slack_api: FakeSlackApi) -> None:
    sender = SlackSender(settings_for(slack_api, rate=10), per_channel_rate=4)
    started = time.monotonic()
    for i in range(3):  # one channel: 4 a second, burst of 4 -> quick
        assert (await sender.send(delivery(conversation="D0ALICE", key=f"a{i}"))).status == "sent"
    for i in range(20):  # overall: 10 a second after the first burst
        assert (await sender.send(delivery(user=f"U{i}", conversation=f"D{i}", key=f"b{i}"))).status == "sent"
    elapsed = time.monotonic() - started
    assert elapsed >= 1.2  # 23 sends at 10/s with a burst of 10 cannot finish sooner
    stamps = [c.at for c in slack_api.calls_to("chat.postMessage")]
    assert len(stamps) == 23
    # Never more than 10 + burst in any one-second window.
    assert max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps) <= 20


async def test_one_channel_gets_about_one_message_a_second(slack_api: FakeSlackApi) -> None:
    sender = SlackSender(settings_for(slack_api, rate=100))
    for i in range(3):
        assert (await sender.send(delivery(conversation="D0ALICE", key=f"c{i}"))).status == "sent"
    stamps = [c.at for c in slack_api.calls_to("chat.postMessage")]
    assert stamps[2] - stamps[0] >= 1.8


def test_sender_from_env() -> None:
    assert sender_from_env({}) is None
    sender = sender_from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_RATE_PER_SECOND": "2"})
    assert sender is not None and sender.platform == "slack" and sender.overall.max_rate == 2
