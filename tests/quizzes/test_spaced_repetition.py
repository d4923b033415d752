"""Leitner scheduling: misses come back at once, right answers later and later. Time moves only by the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import UTC, FixedClock
from bot.coach import Coach
from bot.quizbank import Option, QuizBank, Scenario
from bot.services.quizzes import BOX_INTERVALS, pick_scenarios, reschedule_at
from bot.storage.quizzes import ScheduleEntry
from tests.quizzes.support import plain, repo, take_quiz
from tests.support.chat import say

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def test_wrong_goes_back_to_box_zero_and_right_moves_up_a_box() -> None:
    step = reschedule_at(NOW)
    assert step(None, False) == (0, NOW)
    assert step(3, False) == (0, NOW)
    assert step(None, True) == (1, NOW + timedelta(days=1))
    assert step(1, True) == (2, NOW + timedelta(days=3))
    assert step(3, True) == (4, NOW + timedelta(days=21))
    assert step(4, True) == (4, NOW + timedelta(days=21))  # the last box keeps its interval
    assert BOX_INTERVALS == (0, 1, 3, 7, 21)


def _bank(categories: dict[str, int]) -> QuizBank:
    options = (Option("yes", True, "why"), Option("no", False, "why"), Option("maybe", False, "why"))
    scenarios = {
        f"{c}-{i}": Scenario(f"{c}-{i}", c, 1, "t", "s", "q", options)
        for c, n in categories.items()
        for i in range(n)
    }
    return QuizBank(scenarios)


def test_selection_puts_due_and_new_first_then_lower_boxes() -> None:
    bank = _bank({"a": 6})
    schedule = {
        "a-0": ScheduleEntry("a-0", 4, NOW + timedelta(days=20), NOW),  # mastered, not due
        "a-1": ScheduleEntry("a-1", 2, NOW + timedelta(days=2), NOW),  # not due yet
        "a-2": ScheduleEntry("a-2", 0, NOW - timedelta(hours=1), NOW),  # missed: due
        "a-3": ScheduleEntry("a-3", 3, NOW - timedelta(days=1), NOW),  # due review, high box
    }
    picked = pick_scenarios(bank, schedule, NOW, 5, category="a", seed="x")
    assert picked[0] == "a-2"  # the miss comes back first
    assert picked[1] == "a-3"  # then due reviews and never-seen scenarios, taking turns
    assert set(picked[2:4]) == {"a-4", "a-5"}
    assert picked[4] == "a-1"  # the lowest box not yet due fills the quiz; the mastered one waits


def test_a_mixed_quiz_spreads_over_categories_and_favours_the_course_still_to_pass() -> None:
    bank = _bank({"a": 5, "b": 5, "c": 5, "d": 5, "e": 5})
    picked = pick_scenarios(bank, {}, NOW, 4, seed="y", focus=("c", "e"))
    categories = [p.split("-")[0] for p in picked]
    assert len(set(categories)) == 4
    assert set(categories[:2]) == {"c", "e"}
    # The same seed gives the same quiz; another seed shuffles ties differently.
    assert pick_scenarios(bank, {}, NOW, 4, seed="y", focus=("c", "e")) == picked
    assert {pick_scenarios(bank, {}, NOW, 4, seed=str(n))[0] for n in range(20)} != {picked[0]}


def test_sixty_days_of_daily_quizzes_follow_the_schedule() -> None:
    """The selection and the boxes together, simulated day by day in memory."""
    bank = _bank({c: 5 for c in "abcdefgh"})
    schedule: dict[str, ScheduleEntry] = {}
    asked_on: dict[str, list[datetime]] = {}
    missed = ""
    for day in range(60):
        now = NOW + timedelta(days=day)
        for quiz in range(2 if day == 0 else 1):
            waiting = {s for s in bank.scenarios if s not in schedule or schedule[s].due_at <= now}
            picked = pick_scenarios(bank, schedule, now, 4, seed=f"{day}:{quiz}")
            assert len(set(picked)) == 4
            if len(waiting) >= 4:
                assert set(picked) <= waiting, "nothing is asked early while due or new scenarios wait"
            if quiz == 1:
                assert picked[0] == missed, "a miss comes back first, the same day"
            missed = missed or picked[0]
            for sid in picked:
                entry = schedule.get(sid)
                is_right = not (sid == missed and entry is None)
                box, due = reschedule_at(now)(entry.box if entry else None, is_right)
                schedule[sid] = ScheduleEntry(sid, box, due, now)
                asked_on.setdefault(sid, []).append(now)
    assert set(asked_on) == set(bank.scenarios), "new scenarios keep coming alongside reviews"
    assert sum(e.box >= 3 for e in schedule.values()) >= 30
    assert any(e.box == 4 for e in schedule.values())
    # Reviews spread out as boxes climb.
    assert max((b - a).days for t in asked_on.values() for a, b in zip(t, t[1:])) >= 14


def test_missed_scenarios_come_back_first_and_reviews_fall_due_by_the_clock(
    coach: Coach, clock: FixedClock
) -> None:
    bank = coach.services["quizzes"].bank
    defamation = {s.id for s in bank.by_category("defamation")}
    assert len(defamation) == 5
    missed: list[str] = []

    def first_wrong(s: Scenario) -> bool:
        if not missed:
            missed.append(s.id)
            return False
        return True

    # Day 0: miss the first question, get the rest right.
    _, day0, _ = take_quiz(coach, start="quiz defamation", right=first_wrong)
    member = coach.members.find("console", "alice")
    assert member is not None
    schedule = repo(coach).schedule(member.id)
    assert (schedule[missed[0]].box, schedule[missed[0]].due_at) == (0, clock.now())
    right_day0 = {s.id for s in day0} - set(missed)
    assert all(
        (schedule[s].box, schedule[s].due_at) == (1, clock.now() + timedelta(days=1)) for s in right_day0
    )
    unseen = defamation - {s.id for s in day0}

    # Same day: the miss first, then the one never seen; right answers only fill up.
    _, again, _ = take_quiz(coach, start="quiz defamation", right=True)
    assert [s.id for s in again[:2]] == [missed[0], *unseen]
    fillers = {s.id for s in again[2:]}
    assert fillers <= right_day0

    # Nothing is due an hour later, so a quiz is all early reviews, lowest box first.
    clock.advance(hours=1)
    assert not [e for e in repo(coach).schedule(member.id).values() if e.due_at <= clock.now()]

    # Day 1: what was answered right once on day 0 (box 1) is due and comes first.
    clock.advance(days=1)
    due = {sid for sid, e in repo(coach).schedule(member.id).items() if e.due_at <= clock.now()}
    assert due == defamation - fillers
    _, day1, _ = take_quiz(coach, start="quiz defamation", right=True)
    assert {s.id for s in day1[: len(due)]} == due
    assert "Due for another look: 0" in plain(*say(coach, "progress"))


def test_a_miss_brings_a_reviewed_scenario_straight_back(coach: Coach, clock: FixedClock) -> None:
    _, day0, _ = take_quiz(coach, start="quiz security", right=True)
    first_seen = {s.id for s in day0}
    clock.advance(days=1)
    missed: list[str] = []

    def miss_a_review(s: Scenario) -> bool:
        if s.id in first_seen and not missed:
            missed.append(s.id)
            return False
        return True

    take_quiz(coach, start="quiz security", right=miss_a_review)
    member = coach.members.find("console", "alice")
    assert member is not None and missed
    entry = repo(coach).schedule(member.id)[missed[0]]
    assert (entry.box, entry.due_at) == (0, clock.now())
    _, next_quiz, _ = take_quiz(coach, start="quiz security", right=True)
    assert next_quiz[0].id == missed[0]
