"""Whole journeys on Teams: a quiz through card presses, and the outbox worker delivering through TeamsSender."""

from __future__ import annotations

import itertools
import json
from collections import Counter

from adapters.teams.sender import TeamsSender
from bot.clock import FixedClock
from bot.coach import Coach
from bot.outbox import Outbox
from bot.ports import Delivery
from bot.replies import Paragraph, Reply
from bot.worker import DeliveryWorker
from tests.adapters.teams import activities as act
from tests.adapters.teams.conftest import TeamsEndpoint
from tests.adapters.teams.connector import Call
from tests.quizzes.support import repo, service


def buttons(call: Call) -> list[dict[str, str]]:
    return [a["data"] for card in call.cards for b in card["body"] if b["type"] == "ActionSet" for a in b["actions"]]


def correct_answer(coach: Coach, data: list[dict[str, str]]) -> str:
    answers = [d["value"] for d in data if d["action"] == "quiz.answer"]
    session_id, position, _ = map(int, answers[0].split(":"))
    session = repo(coach).get(session_id)
    scenario = service(coach).bank.scenarios[session.scenario_ids[position]]
    right = next(i for i, option in enumerate(scenario.options) if option.is_correct)
    return next(v for v in answers if int(v.split(":")[2]) == right)


def sender_on(teams: TeamsEndpoint, **options: float) -> TeamsSender:
    return TeamsSender(teams.runtime.adapter, "", coach=teams.coach, **options)  # type: ignore[arg-type]


def personal_route(connector_url: str, name: str) -> tuple[str, str]:
    reference = {
        "bot": act.BOT, "user": act.user(name), "channelId": "msteams", "serviceUrl": connector_url,
        "conversation": act.personal_conversation(name),
    }
    return reference["conversation"]["id"], json.dumps(reference)


async def test_a_quiz_runs_through_card_presses_with_each_card_updated_in_place(teams: TeamsEndpoint) -> None:
    user = act.user("Alice Ward")
    await teams.post(act.personal_message(teams.connector.url, "quiz"))
    question = teams.connector.sent()[-1]
    assert any(d["action"] == "quiz.answer" for d in buttons(question))

    answered = 0
    session_id = int(next(d for d in buttons(question) if d["action"] == "quiz.answer")["value"].split(":")[0])
    while True:
        answers = [d for d in buttons(question) if d["action"] == "quiz.answer"]
        if not answers:
            break
        before_updates = len(teams.connector.updates())
        await teams.post(act.card_submit(teams.connector.url, "quiz.answer", correct_answer(teams.coach, buttons(question)),
                                         card_activity_id=question.response_id))
        answered += 1
        # The question card itself now shows the feedback: its buttons are gone, so it cannot be answered twice.
        update = teams.connector.updates()[before_updates]
        assert update.activity_id == question.response_id
        assert not any(d["action"] == "quiz.answer" for d in buttons(update))
        next_press = next(d for d in buttons(update) if d["action"] == "quiz.next")
        # A second press on the old question's buttons changes nothing and updates nothing.
        stale = answers[0]
        await teams.post(act.card_submit(teams.connector.url, "quiz.answer", stale["value"], card_activity_id=question.response_id))
        assert len(teams.connector.updates()) == before_updates + 1
        assert "already" in json.dumps(teams.connector.sent()[-1].card).lower()

        posted = len(teams.connector.sent())
        await teams.post(act.card_submit(teams.connector.url, "quiz.next", next_press["value"], card_activity_id=question.response_id))
        fresh = teams.connector.sent()[posted:]
        question = fresh[-1] if fresh else teams.connector.updates()[-1]

    assert answered == 4
    assert "Quiz finished: 4 out of 4" in json.dumps(question.cards)
    finished = repo(teams.coach).get(session_id)
    assert finished is not None and finished.state == "finished" and finished.score == 4
    member = teams.coach.members.find("teams", user["id"])
    assert finished.member_id == member.id


async def test_a_reminder_in_the_outbox_reaches_the_member_through_the_worker(teams: TeamsEndpoint, clock: FixedClock) -> None:
    first = act.personal_message(teams.connector.url, "help", name="Rita Reminder")
    await teams.post(first)
    member = teams.coach.members.find("teams", first["from"]["id"])
    teams.connector.calls.clear()
    reminder = Reply("Reminder: weekend check", (Paragraph("Have a quick look at comments on your page."),), kind="reminder")
    Outbox(teams.coach.engine).enqueue(member_id=member.id, platform="teams", kind="reminder", reply=reminder,
                                       due_at=clock.now(), key=f"reminder:1:{member.id}:2026-11-20", now=clock.now())

    stats = await DeliveryWorker(teams.coach.engine, {"teams": sender_on(teams)}, clock).drain()

    assert stats.outcomes["sent"] == 1
    (call,) = teams.connector.sent()
    assert call.conversation_id == first["conversation"]["id"] and call.body["summary"] == "Reminder: weekend check"
    assert [r.state for r in Outbox(teams.coach.engine).list()] == ["sent"]


async def test_a_403_through_the_worker_marks_the_member_unreachable(teams: TeamsEndpoint, clock: FixedClock) -> None:
    first = act.personal_message(teams.connector.url, "help", name="Una Installed")
    await teams.post(first)
    member = teams.coach.members.find("teams", first["from"]["id"])
    teams.connector.fail(403, code="BotDisabledByAdmin")
    Outbox(teams.coach.engine).enqueue(member_id=member.id, platform="teams", kind="reminder",
                                       reply=Reply("Reminder"), due_at=clock.now(), key="r:403", now=clock.now())

    await DeliveryWorker(teams.coach.engine, {"teams": sender_on(teams)}, clock).drain()

    (row,) = Outbox(teams.coach.engine).list()
    assert row.state == "unreachable" and "BotDisabledByAdmin" in (row.last_error or "")
    gone = teams.coach.members.get(member.id)
    assert gone.status == "unreachable"
    clock.advance(hours=1)
    assert (await DeliveryWorker(teams.coach.engine, {"teams": sender_on(teams)}, clock).drain()).claimed == 0


async def test_a_broadcast_reaches_200_members_with_429s_none_lost_or_duplicated(teams: TeamsEndpoint, clock: FixedClock) -> None:
    coach = teams.coach
    expected: dict[str, str] = {}
    for i in range(200):
        name = f"Member {i:03d}"
        member = coach.members.ensure("teams", act.user(name)["id"], clock.now(), display_name=name, workspace=act.TENANT)
        conversation_id, route = personal_route(teams.connector.url, name)
        coach.refs.save(member.id, "teams", conversation_id, route, clock.now())
        expected[conversation_id] = member.user_id
    officer = coach.directory.add_officer("teams:29:officer", "test")
    counter = itertools.count()
    # Roughly one post in seven is refused with 429 (a short Retry-After keeps the test quick).
    teams.connector.fail(429, times=10_000, retry_after="0.05", code="TooManyRequests",
                         match=lambda call: call.method == "POST" and next(counter) % 7 == 3)

    broadcast = coach.services["broadcasts"].create(officer, "Pre-election period", "The pre-election period starts on 25 March.")
    assert broadcast.recipients == 200
    worker = DeliveryWorker(coach.engine, {"teams": sender_on(teams, global_per_second=200)}, clock,
                            batch=200, concurrency=16)
    rate_limited = 0
    for _ in range(200):
        stats = await worker.run_once()
        rate_limited += stats.outcomes["rate-limited"]
        if not any(r.state in ("pending", "claimed", "sending") for r in Outbox(coach.engine).list(limit=1000)):
            break
        clock.advance(seconds=2)

    rows = Outbox(coach.engine).list(limit=1000)
    assert Counter(r.state for r in rows) == {"sent": 200}
    delivered = Counter(c.conversation_id for c in teams.connector.sent())
    assert set(delivered) == set(expected) and set(delivered.values()) == {1}  # each member once, nobody missed
    refused = [c for c in teams.connector.calls if c.status == 429]
    assert len(refused) >= 20 and rate_limited >= len(refused)
    assert all(r.attempts <= 1 for r in rows)  # waiting out a 429 does not use up attempts
    report = coach.services["broadcasts"].report(broadcast.id, viewer=officer)
    assert report.counts["sent"] == 200 and report.counts["queued"] == 0


async def test_a_long_message_retried_after_a_429_does_not_repeat_its_first_parts(teams: TeamsEndpoint, clock: FixedClock) -> None:
    conversation_id, route = personal_route(teams.connector.url, "Lena Long")
    long = Reply("Guidance update", tuple(Paragraph(f"Section {i}. " + "word " * 400) for i in range(40)), kind="broadcast")
    sender = sender_on(teams)
    delivery = Delivery(1, "broadcast:9:lena", "teams", act.user("Lena Long")["id"], conversation_id, route, long)
    posts = itertools.count()
    teams.connector.fail(429, retry_after="0", match=lambda call: next(posts) == 1)

    first = await sender.send(delivery)
    assert first.status == "retry" and first.is_rate_limited
    clock.advance(seconds=1)
    second = await sender.send(delivery)

    assert second.status == "sent"
    parts = [c.card for c in teams.connector.sent()]
    assert len(parts) >= 3
    texts = [json.dumps(card["body"]) for card in parts]
    assert len(set(texts)) == len(texts)  # no part twice
    assert "Section 0." in texts[0] and "Section 39." in texts[-1]
