"""`check` and questions in chat: verdict and answer cards, buttons, and what is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.clock import UTC, FixedClock
from bot.coach import Coach
from bot.replies import Badge, Facts
from bot.storage import tables as t
from tests.support.chat import all_text, press, say


def stats_rows(coach: Coach) -> list[tuple[str, str, str]]:
    with coach.engine.connect() as conn:
        return [(r.kind, r.verdict, r.categories) for r in conn.execute(select(t.check_stats))]


def test_check_gives_a_verdict_card_with_evidence_and_buttons(coach: Coach) -> None:
    replies = say(coach, "check Everyone knows the Dunsmere clerk has been fiddling the books")
    card = replies[0]
    assert card.kind == "verdict"
    badge = next(p for p in card.parts if isinstance(p, Badge))
    assert badge.verdict == "stop"
    facts = [f for p in card.parts if isinstance(p, Facts) for f in p.items]
    assert any(f.label == "In your draft" and "fiddling the books" in f.value for f in facts)
    assert any(f.label == "Instead" for f in facts)
    assert [(c.label, c.action, c.value) for c in card.choices] == [
        ("Ask a follow-up", "ask.followup", "defamation"),
        ("Quiz me on this", "quiz.category", "defamation"),
    ]


def test_free_text_is_checked_as_a_draft(coach: Coach) -> None:
    replies = say(coach, "Great turnout at the Oakfield litter pick this morning!")
    assert replies[0].kind == "verdict"
    badge = next(p for p in replies[0].parts if isinstance(p, Badge))
    assert badge.verdict == "ok" and replies[0].choices == ()


def test_only_verdict_and_categories_are_kept(coach: Coach) -> None:
    secret = "Everyone knows the Dunsmere clerk has been fiddling the books"
    say(coach, "check " + secret)
    [(kind, verdict, categories)] = stats_rows(coach)
    assert (kind, verdict) == ("check", "stop") and "defamation" in categories.split(",")
    with coach.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                assert "fiddling" not in " ".join(str(v) for v in row)


def test_follow_up_lists_faqs_and_an_faq_answers(coach: Coach) -> None:
    menu = press(coach, "ask.followup", "defamation")[0]
    assert menu.choices and all(c.action == "ask.faq" for c in menu.choices)
    answer = press(coach, "ask.faq", menu.choices[0].value)[0]
    assert answer.kind == "answer" and "Monitoring Officer" in all_text([answer]) or answer.parts


def test_questions_get_an_answer_card(coach: Coach) -> None:
    replies = say(coach, "Can I block a resident who keeps abusing me?")
    text = all_text(replies)
    assert replies[0].kind == "answer"
    assert "block" in text.lower() and "social media protocol" in text
    assert stats_rows(coach) == [("ask", "answered", "moderation")]


def test_unsure_answers_point_to_the_monitoring_officer(coach: Coach) -> None:
    replies = say(coach, "ask What's the best recipe for lemon drizzle cake?")
    assert "I'm not sure" in all_text(replies) and "01632 960000" in all_text(replies)
    assert stats_rows(coach)[0][:2] == ("ask", "unsure")


def test_pre_election_context_comes_from_the_council_calendar(coach: Coach, clock: FixedClock) -> None:
    text = "check Asked the council press office to share my re-election leaflet this week"
    clock.set(datetime(2027, 4, 10, 9, 0, tzinfo=UTC))  # inside the example council's 2027 period
    during = all_text(say(coach, text))
    note = "I checked this as during the pre-election period"
    assert note in during
    clock.set(datetime(2027, 6, 10, 9, 0, tzinfo=UTC))
    assert note not in all_text(say(coach, text))


def test_empty_check_explains_itself(coach: Coach) -> None:
    assert "Paste the post after 'check'" in all_text(say(coach, "check"))
