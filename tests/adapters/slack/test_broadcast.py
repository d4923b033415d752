"""A broadcast to 200 members through the real outbox, worker and SlackSender, with 429s injected."""

from __future__ import annotations

import json
import time
from collections import Counter

from adapters.slack.sender import SlackSender
from adapters.slack.settings import SlackSettings
from bot.clock import FixedClock
from bot.coach import Coach
from bot.outbox import Outbox
from bot.worker import DeliveryWorker

from .fake_api import TEAM_ID, ApiCall, FakeSlackApi

MEMBERS = 200
RATE = 100  # messages a second: SLACK_RATE_PER_SECOND for this test (the default is 1)


def every_nth_post_is_rate_limited(n: int) -> tuple[list[int], object]:
    limited: list[int] = []
    count = {"posts": 0}

    def script(call: ApiCall) -> tuple[int, dict[str, object], dict[str, str]] | None:
        if call.method != "chat.postMessage":
            return None
        count["posts"] += 1
        if count["posts"] % n == 0:
            limited.append(count["posts"])
            return (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        return None

    return limited, script


async def test_a_broadcast_reaches_200_members_paced_with_429s_none_lost_or_duplicated(
    coach: Coach, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    now = clock.now()
    channels = {}
    for i in range(MEMBERS):
        member = coach.members.ensure("slack", f"U{i:04d}", now, display_name=f"Cllr {i}", workspace=TEAM_ID)
        coach.members.add_tags(member.id, ["councillors"])
        if i % 4:  # most have written to the coach; a quarter only came from the roster
            channels[member.id] = f"D{i:04d}"
            coach.refs.save(member.id, "slack", f"D{i:04d}", json.dumps({"team": TEAM_ID, "channel": f"D{i:04d}"}), now)
    officer = coach.directory.add_officer("slack:U0OFFICER", "test")
    broadcast = coach.services["broadcasts"].create(
        officer, "Pre-election period starts Monday", "From Monday, please avoid announcing new council policy.",
        ["councillors"],
    )
    limited, script = every_nth_post_is_rate_limited(41)
    slack_api.scripts.append(script)  # type: ignore[arg-type]
    settings = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": slack_api.url, "SLACK_RATE_PER_SECOND": str(RATE)}
    )
    assert settings is not None
    worker = DeliveryWorker(coach.engine, {"slack": SlackSender(settings)}, clock)
    outbox = Outbox(coach.engine)

    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    for _ in range(50):
        stats = await worker.run_once()
        outcomes.update(stats.outcomes)
        counts = outbox.counts()
        if counts.get("pending", 0) == 0 and counts.get("claimed", 0) == 0:
            break
        clock.advance(seconds=2)  # rows put back by a 429 become due again
    elapsed = time.monotonic() - started

    posts = slack_api.calls_to("chat.postMessage")
    delivered = Counter(c.params["channel"] for c in posts if c.answer.get("ok"))
    assert len(delivered) == MEMBERS  # nobody lost
    assert set(delivered.values()) == {1}  # nobody got it twice
    assert outbox.counts().get("sent") == MEMBERS
    assert len(limited) >= 4 and outcomes["rate-limited"] == len(limited)  # every 429 was retried, not dropped
    # Roster-only members got a DM opened for them first.
    assert len(slack_api.calls_to("conversations.open")) == MEMBERS // 4
    # Paced: never more than the rate plus one burst in any second, so at least this long overall.
    stamps = sorted(c.at for c in posts)
    busiest = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    assert busiest <= 2 * RATE
    assert elapsed >= (MEMBERS - RATE) / RATE
    texts = {c.params["text"] for c in posts if c.answer.get("ok")}
    assert len(texts) == 1 and "Pre-election period starts Monday" in texts.pop()
    assert broadcast.id
