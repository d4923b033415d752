"""TeamsSender: proactive messages through the real CloudAdapter to the stand-in Bot Connector."""

from __future__ import annotations

import asyncio
import json
import time

from adapters.teams import inbound
from adapters.teams.sender import TeamsSender
from adapters.teams.server import make_adapter
from adapters.teams.settings import TeamsSettings
from bot.coach import Coach
from bot.ports import Delivery
from bot.replies import Badge, Paragraph, Reply
from tests.adapters.teams import activities as act
from tests.adapters.teams.conftest import TeamsEndpoint
from tests.adapters.teams.connector import StandInConnector

REMINDER = Reply(
    "Reminder: check your accounts",
    (Badge("caution", "Weekend check"), Paragraph("Have a quick look at comments on your page before the weekend.")),
    kind="reminder",
)


async def stored_delivery(teams: TeamsEndpoint, name: str, *, key: str = "") -> Delivery:
    """A member who has talked to the coach in personal chat, and a delivery addressed as the worker would."""
    first = act.personal_message(teams.connector.url, "help", name=name)
    await teams.post(first)
    member = teams.coach.members.find("teams", first["from"]["id"])
    assert member is not None
    conversation_id, route = teams.coach.refs.get(member.id)
    teams.connector.calls.clear()
    return Delivery(1, key or f"reminder:{member.id}", "teams", member.user_id, conversation_id, route, REMINDER)


async def test_a_reminder_reaches_a_stored_reference_proactively(teams: TeamsEndpoint) -> None:
    delivery = await stored_delivery(teams, "Alice Ward")

    outcome = await teams.runtime.sender.send(delivery)

    assert outcome.status == "sent"
    (call,) = teams.connector.sent()
    assert call.conversation_id == delivery.conversation_id
    assert call.body["summary"] == "Reminder: check your accounts"
    assert call.body["recipient"]["id"] == delivery.user_id and call.body["from"]["id"] == act.BOT["id"]
    assert call.card["body"][0]["style"] == "warning"


async def test_a_403_marks_the_member_unreachable_with_the_reason(teams: TeamsEndpoint) -> None:
    delivery = await stored_delivery(teams, "Bea Blocked")
    teams.connector.fail(403, code="ConversationBlockedByUser")

    outcome = await teams.runtime.sender.send(delivery)

    assert outcome.status == "unreachable"
    assert "403 ConversationBlockedByUser" in outcome.detail and "uninstalled or blocked" in outcome.detail
    assert teams.connector.sent() == []


async def test_a_404_conversation_is_unreachable_too(teams: TeamsEndpoint) -> None:
    delivery = await stored_delivery(teams, "Gus Gone")
    teams.connector.fail(404, code="ConversationNotFound")
    outcome = await teams.runtime.sender.send(delivery)
    assert outcome.status == "unreachable" and "404" in outcome.detail


async def test_a_429_is_a_rate_limited_retry_after_the_given_time_and_pauses_sending(teams: TeamsEndpoint) -> None:
    delivery = await stored_delivery(teams, "Ray Limit")
    now = [1000.0]
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    sender = TeamsSender(teams.runtime.adapter, "", coach=teams.coach, monotonic=lambda: now[0], sleep=sleep, max_wait=3)
    teams.connector.fail(429, retry_after="7", code="TooManyRequests")

    first = await sender.send(delivery)
    assert (first.status, first.retry_after, first.is_rate_limited) == ("retry", 7.0, True)

    # A long pause: nothing is even attempted; the outbox is told when to come back.
    now[0] += 2
    paused = await sender.send(delivery)
    assert paused.status == "retry" and paused.is_rate_limited and paused.retry_after == 5.0
    assert len(teams.connector.calls) == 1 and waited == []

    # A short one is waited out in place, then the message goes.
    now[0] += 3
    assert (await sender.send(delivery)).status == "sent"
    assert waited == [2.0]
    assert len(teams.connector.sent()) == 1


async def test_server_errors_and_an_unreachable_service_are_retried(teams: TeamsEndpoint) -> None:
    delivery = await stored_delivery(teams, "Sam Server")
    teams.connector.fail(500)
    started = time.monotonic()
    outcome = await teams.runtime.sender.send(delivery)
    assert outcome.status == "retry" and "500" in outcome.detail
    assert time.monotonic() - started < 2  # the outbox retries, not the connector client

    reference = inbound.from_json(delivery.route)
    reference.service_url = "http://127.0.0.1:9/"  # discard port: nothing listens
    moved = Delivery(2, "k2", "teams", delivery.user_id, delivery.conversation_id, inbound.to_json(reference), REMINDER)
    outcome = await teams.runtime.sender.send(moved)
    assert outcome.status == "retry" and "could not reach Teams" in outcome.detail


async def test_no_address_or_a_broken_one_is_reported_not_raised(teams: TeamsEndpoint) -> None:
    sender = teams.runtime.sender
    none = await sender.send(Delivery(1, "k", "teams", "29:x", "", "", REMINDER))
    assert none.status == "unreachable" and "not talked to the coach" in none.detail
    broken = await sender.send(Delivery(2, "k2", "teams", "29:x", "", "{not json", REMINDER))
    assert broken.status == "failed"
    shapeless = await sender.send(Delivery(3, "k3", "teams", "29:x", "", json.dumps({"serviceUrl": 5}), REMINDER))
    assert shapeless.status == "failed"
    assert teams.connector.calls == []


async def test_a_member_met_in_a_channel_is_reached_in_a_new_personal_chat(teams: TeamsEndpoint) -> None:
    post = act.channel_mention(teams.connector.url, "help", name="Cara Channel")
    await teams.post(post)
    member = teams.coach.members.find("teams", post["from"]["id"])
    conversation_id, seed = teams.coach.refs.get(member.id)
    assert conversation_id == ""
    teams.connector.calls.clear()

    outcome = await teams.runtime.sender.send(Delivery(1, "k", "teams", member.user_id, "", seed, REMINDER))

    assert outcome.status == "sent"
    create, message = teams.connector.calls
    assert create.path == "/v3/conversations"
    assert create.body["members"] == [post["from"]]
    assert create.body["channelData"] == {"tenant": {"id": act.TENANT}} and create.body["isGroup"] is False
    assert message.conversation_id == f"a:personal-{post['from']['id']}"
    assert message.body["summary"] == "Reminder: check your accounts"
    # The new personal chat is now the member's address.
    assert teams.coach.refs.get(member.id)[0] == f"a:personal-{post['from']['id']}"


async def test_sends_to_one_conversation_are_paced(coach: Coach, connector: StandInConnector) -> None:
    adapter = make_adapter(TeamsSettings())
    sender = TeamsSender(adapter, "", conversation_limits=((2.0, 0.2),), global_per_second=1000)
    route = json.dumps({
        "bot": act.BOT, "user": act.user("Pat Paced"), "channelId": "msteams", "serviceUrl": connector.url,
        "conversation": act.personal_conversation("Pat Paced"),
    })
    deliveries = [Delivery(i, f"k{i}", "teams", "29:p", "a:1patpaced-chat", route, REMINDER) for i in range(8)]
    started = time.monotonic()
    outcomes = await asyncio.gather(*(sender.send(d) for d in deliveries))
    elapsed = time.monotonic() - started
    assert [o.status for o in outcomes] == ["sent"] * 8
    assert len(connector.sent()) == 8
    # A burst of 2, then 10 a second: the last of 8 cannot leave before ~0.6 s.
    assert elapsed >= 0.55


async def test_the_global_pace_spans_conversations(coach: Coach, connector: StandInConnector) -> None:
    adapter = make_adapter(TeamsSettings())
    sender = TeamsSender(adapter, "", global_per_second=20)
    deliveries = []
    for i in range(30):
        name = f"Member {i}"
        route = json.dumps({
            "bot": act.BOT, "user": act.user(name), "channelId": "msteams", "serviceUrl": connector.url,
            "conversation": act.personal_conversation(name),
        })
        deliveries.append(Delivery(i, f"k{i}", "teams", act.user(name)["id"], "", route, REMINDER))
    started = time.monotonic()
    outcomes = await asyncio.gather(*(sender.send(d) for d in deliveries))
    assert [o.status for o in outcomes] == ["sent"] * 30
    assert len({call.conversation_id for call in connector.sent()}) == 30
    assert time.monotonic() - started >= 0.45  # 20 at once, then 20 a second


def test_the_msrest_speedup_keeps_the_same_retry_policy() -> None:
    from msrest.universal_http import requests as msrest_requests

    from adapters.teams import speedups

    original = [i for i in range(500) if i != 408] + [501, 505]  # msrest's own definition
    expected = [i for i in range(999) if i not in original]
    speedups.apply()
    speedups.apply()  # idempotent
    started = time.perf_counter()
    policy = msrest_requests.ClientRetryPolicy()
    assert time.perf_counter() - started < 0.005  # was ~12 ms of event-loop time per connector client
    assert list(policy.policy.status_forcelist) == expected
    assert 429 not in expected and 500 in expected  # the outbox, not msrest, handles 429s
