"""`broadcast` in chat: the step-by-step conversation, kept in the database, and the Got it button."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import datetime

import pytest

from bot.clock import UTC
from bot.coach import Coach
from bot.replies import Badge, Reply
from tests.broadcasts.conftest import Council
from tests.support.chat import all_text, press, say


def choice(replies: list[Reply], label: str) -> tuple[str, str]:
    for reply in replies:
        for c in reply.choices:
            if c.label == label or c.label.startswith(label + " ("):
                return c.action, c.value
    raise AssertionError(f"no choice {label!r} in {[c.label for r in replies for c in r.choices]}")


def officer_says(council: Council, text: str) -> list[Reply]:
    return say(council.coach, text, user="olivia")


def officer_presses(council: Council, replies: list[Reply], label: str) -> list[Reply]:
    action, value = choice(replies, label)
    return press(council.coach, action, value, user="olivia")


async def test_an_officer_composes_and_sends_a_broadcast_to_tagged_members(council: Council) -> None:
    replies = officer_says(council, "broadcast")
    assert "What is the title?" in all_text(replies)
    replies = officer_says(council, "Planning committee: new site visit rules")
    assert "message itself" in all_text(replies)
    replies = officer_says(council, "From January, site visits are by appointment only.\n\n- book with the clerk\n- no photos")
    assert [c.label for c in replies[0].choices] == [
        "Everyone (4)", "planning-committee (2)", "cabinet (1)", "group:independent (1)", "Cancel",
    ]
    replies = officer_presses(council, replies, "planning-committee")
    replies = officer_presses(council, replies, "Send now")
    replies = officer_presses(council, replies, "Yes")
    preview, card = replies
    assert preview == council.service.preview(
        "Planning committee: new site visit rules",
        "From January, site visits are by appointment only.\n\n- book with the clerk\n- no photos",
        requires_ack=True,
    )
    text = all_text([card])
    assert "To: members tagged planning-committee (2 members)" in text
    assert "When: as soon as you confirm" in text
    if importlib.util.find_spec("bot.checker") is not None:
        assert Badge("ok", "The draft checker found nothing to worry about.") in card.parts
    done = officer_presses(council, replies, "Confirm")
    assert done[0].replaces_prompt and done[0].summary == "Broadcast #1 queued for 2 members"
    await council.worker().drain()
    assert sorted(d.user_id for d in council.sender.delivered) == ["alice", "bob"]
    # A second press on the old Confirm button sends nothing more.
    again = officer_presses(council, replies, "Confirm")
    assert "finished or was discarded" in all_text(again)
    assert len(council.service.list()) == 1


def test_checker_warnings_are_shown_before_confirming(council: Council) -> None:
    pytest.importorskip("bot.checker", reason="the draft checker has not landed")
    for line in ("broadcast", "Resident complaint update",
                 "Mrs Jones of 14 Oak Lane has complained about her housing benefit again.", "everyone", "now", "no"):
        replies = officer_says(council, line)
    card = replies[-1]
    assert Badge("caution", "The draft checker found things to look at before you send:") in card.parts
    assert "Personal data:" in all_text([card])
    assert [c.label for c in card.choices] == ["Confirm", "Cancel"]


def test_typed_answers_times_and_mistakes(council: Council) -> None:
    officer_says(council, "broadcast")
    officer_says(council, "Pre-election period")
    officer_says(council, "The pre-election period starts on 25 March.")
    unknown = officer_says(council, "no-such-tag")
    assert "No members are tagged no-such-tag" in all_text(unknown)
    officer_says(council, "cabinet, group:independent")
    late = officer_says(council, "17/11/2026 09:00")
    assert "already passed" in all_text(late)
    officer_says(council, "tomorrow 9am")
    unclear = officer_says(council, "perhaps")
    assert "yes or no" in all_text(unclear)
    card = officer_says(council, "yes, remind me")[-1]
    text = all_text([card])
    assert "To: members tagged cabinet, group:independent (2 members)" in text
    assert "When: 19 Nov 2026 09:00" in text
    assert "a reminder after 3 days" in text
    officer_says(council, "confirm")
    b = council.service.list()[0]
    assert (b.send_at, b.follow_up_days, b.requires_ack) == (datetime(2026, 11, 19, 9, 0, tzinfo=UTC), 3, True)


def test_the_draft_survives_a_restart(council: Council, make_coach: Callable[..., Coach]) -> None:
    officer_says(council, "broadcast")
    officer_says(council, "Title kept in the database")
    restarted = make_coach()  # a new process on the same database
    replies = say(restarted, "Body after the restart", user="olivia")
    assert "Who should get it?" in all_text(replies)


def test_cancel_and_stale_buttons(council: Council) -> None:
    first = officer_says(council, "broadcast")
    officer_says(council, "A title")
    discarded = officer_presses(council, first, "Cancel")  # Cancel from an earlier step of the same draft
    assert "Broadcast discarded" in all_text(discarded)
    # With no draft open, typed text is a draft to check again, not a title.
    assert "message itself" not in all_text(officer_says(council, "Lovely day at the summer fair"))
    officer_says(council, "broadcast")
    officer_says(council, "Another title")
    audience = officer_says(council, "Body text")
    officer_presses(council, audience, "Everyone")
    stale = officer_presses(council, audience, "cabinet")
    assert "already answered" in all_text(stale) and "When should it go?" in all_text(stale)
    old_draft = officer_presses(council, first, "Cancel")  # a button of the discarded draft
    assert "finished or was discarded" in all_text(old_draft)
    assert "When should it go?" in all_text(officer_says(council, "soon-ish perhaps"))  # still open
    assert "Broadcast discarded" in all_text(officer_says(council, "cancel"))
    assert council.service.list() == []
    assert council.service.repo.engine is council.coach.engine


def test_a_forgotten_draft_expires(council: Council) -> None:
    officer_says(council, "broadcast")
    council.clock.advance(hours=3)
    replies = officer_says(council, "Is it ok to share a photo from the fair?")
    assert "message itself" not in all_text(replies)


async def test_members_press_got_it_once(council: Council) -> None:
    b = council.service.create(council.officer, "Read me", "Important.", ["planning-committee"], requires_ack=True)
    await council.worker().drain()
    first = press(council.coach, "broadcast.ack", str(b.id), user="alice")
    assert first[0].replaces_prompt and first[0].choices == ()
    assert "Thank you: recorded that you read this on 18 Nov 2026 10:00." in all_text(first)
    council.clock.advance(minutes=1)
    again = press(council.coach, "broadcast.ack", str(b.id), user="alice")
    assert "You already confirmed this on 18 Nov 2026 10:00." in all_text(again)
    stray = press(council.coach, "broadcast.ack", str(b.id), user="carol")
    assert "was not sent to you" in all_text(stray)
    assert "no longer available" in all_text(press(council.coach, "broadcast.ack", "42", user="alice"))
    assert "preview" in all_text(press(council.coach, "broadcast.ack", "preview", user="olivia"))
    assert council.service.report(b.id).counts["acknowledged"] == 1


def test_members_cannot_broadcast_or_see_a_report(council: Council) -> None:
    b = council.service.create(council.officer, "Officers only", "Body")
    for text in ("broadcast", f"broadcast show {b.id}", "broadcast list", f"broadcast cancel {b.id}"):
        replies = say(council.coach, text, user="alice")
        assert replies[0].summary == "Not allowed", text
    for action, value in (("broadcast.report", str(b.id)), ("broadcast.chase", str(b.id)),
                          ("broadcast.draft", "1:title:cancel")):
        replies = press(council.coach, action, value, user="alice")
        assert replies[0].summary == "Not allowed", action
    assert "Officers also have: broadcast" in all_text(say(council.coach, "help", user="alice"))
    assert not council.service.get(b.id).is_cancelled


async def test_officers_see_the_report_list_and_chase_in_chat(council: Council) -> None:
    b = council.service.create(council.officer, "Read me", "Important.", ["planning-committee"], requires_ack=True)
    await council.worker().drain()
    press(council.coach, "broadcast.ack", str(b.id), user="bob")
    report = officer_says(council, f"broadcast show {b.id}")
    text = all_text(report)
    assert "Delivery: 0 queued, 2 sent, 0 failed, 0 unreachable" in text
    assert "Confirmed: 1 of 2" in text
    assert "Bob (console:bob): sent 18 Nov 2026 10:00; confirmed 18 Nov 2026 10:00" in text
    assert "#1 Read me" in all_text(officer_says(council, "broadcast list"))
    chased = officer_presses(council, report, "Remind those who have not confirmed")
    assert "1 reminder on the way" in all_text(chased)
    council.clock.advance(minutes=1)
    await council.worker().drain()
    assert [d.user_id for d in council.sender.delivered if "follow-up" in d.idempotency_key] == ["alice"]
    assert "cancelled" in all_text(officer_says(council, f"broadcast cancel {b.id}"))


def test_report_broadcast_hands_on_to_the_broadcast_report(coach) -> None:  # type: ignore[no-untyped-def]
    from tests.support.chat import all_text, say

    coach.directory.add_officer("console:olive", actor="test")
    listing = all_text(say(coach, "report broadcasts", user="olive"))
    assert "for council officers only" not in listing
    assert all_text(say(coach, "broadcast list", user="olive")) == listing
    assert "for council officers only" in all_text(say(coach, "report broadcast 1", user="bob"))
