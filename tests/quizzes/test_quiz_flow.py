"""A quiz through the real coach: questions, feedback, summary, and presses that must not count."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from bot.coach import Coach
from bot.quizbank import LETTERS
from bot.replies import Choices, Facts, Heading, Link, Paragraph
from bot.services import quizzes as q
from tests.quizzes.support import (
    answer_choices,
    next_value,
    question_of,
    repo,
    service,
    take_quiz,
    plain,
    value_for,
)
from tests.support.chat import press, say


def test_a_quiz_asks_one_question_at_a_time_and_ends_with_a_summary(coach: Coach) -> None:
    first = say(coach, "quiz")[-1]
    session, position, scenario = question_of(coach, first)
    assert (position, session.total) == (0, q.DEFAULT_QUESTIONS)
    assert isinstance(first.parts[0], Heading) and first.parts[0].text.startswith("Question 1 of 4")
    assert Paragraph(scenario.situation) in first.parts and Paragraph(scenario.question) in first.parts
    assert [c.label for c in answer_choices(first)] == list(LETTERS[: len(scenario.options)])
    assert [c.value for c in answer_choices(first)] == [f"{session.id}:0:{i}" for i in range(len(scenario.options))]

    wrong = value_for(coach, first, correct=False)
    feedback = press(coach, "quiz.answer", wrong)[-1]
    assert feedback.replaces_prompt and feedback.kind == "quiz"
    text = plain(feedback)
    assert "Question 1 of 4: not quite" in feedback.summary
    chosen = scenario.options[int(wrong.split(":")[2])]
    right = scenario.options[scenario.correct_indexes[0]]
    assert chosen.feedback in text and right.text in text and "Score so far: 0 out of 1." in text
    assert [c.label for c in feedback.choices] == ["Next question", "Stop for now"]

    session_id, asked, summary = take_quiz_from(coach, feedback)
    assert session_id == session.id
    finished = repo(coach).get(session.id)
    assert finished is not None and finished.state == "finished" and finished.score == 3
    assert summary.parts[0] == Heading("Quiz finished: 3 out of 4")
    text = plain(summary)
    assert "To revisit" in text and "Guidance to read" in text
    assert service(coach).topic_title(scenario.topic) in text
    protocol = coach.knowledge.current.council.protocol_url
    assert any(isinstance(p, Link) and p.url == protocol for p in summary.parts)
    assert {c.action for c in summary.choices} == {"quiz.start", "quiz.progress"}


def take_quiz_from(coach: Coach, feedback, user: str = "alice"):  # type: ignore[no-untyped-def]
    """Carry on from a feedback message, answering the rest right."""
    question = press(coach, "quiz.next", next_value(feedback), user=user)[-1]
    asked = []
    while answer_choices(question):
        session, _, scenario = question_of(coach, question)
        asked.append(scenario)
        fb = press(coach, "quiz.answer", value_for(coach, question, correct=True), user=user)[-1]
        question = press(coach, "quiz.next", next_value(fb), user=user)[-1]
    return session.id, asked, question


def test_a_repeated_or_stale_answer_never_changes_the_score(coach: Coach) -> None:
    question = say(coach, "quiz")[-1]
    session, _, _ = question_of(coach, question)
    right = value_for(coach, question, correct=True)
    wrong = value_for(coach, question, correct=False)
    press(coach, "quiz.answer", wrong)
    again = press(coach, "quiz.answer", wrong)  # a double click
    other = press(coach, "quiz.answer", right)  # the old message's other button
    assert plain(*again) == plain(*other) == q.ALREADY_ANSWERED
    assert not again[0].replaces_prompt
    after = repo(coach).get(session.id)
    assert after is not None and (after.position, after.score) == (1, 0)
    assert len(repo(coach).attempts(session_id=session.id)) == 1

    # A button from a quiz that was replaced by a new one does not count either.
    say(coach, "quiz")
    restarted = press(coach, "quiz.restart", f"{session.id}:")[-1]
    new_session, _, _ = question_of(coach, restarted)
    assert new_session.id != session.id
    stale = press(coach, "quiz.answer", f"{session.id}:1:0")
    assert plain(*stale) == q.REPLACED_LINE
    assert repo(coach).get(session.id).score == 0  # type: ignore[union-attr]
    # And nonsense values get the same polite line, never an error.
    for value in ("", "x", "1:2", "99999:0:0", f"{new_session.id}:0:9"):
        assert plain(*press(coach, "quiz.answer", value)) == q.STALE
    assert repo(coach).attempts(session_id=new_session.id) == []


def test_a_finished_quiz_ignores_late_presses(coach: Coach) -> None:
    session_id, _, summary = take_quiz(coach, right=False)
    assert summary.parts[0] == Heading("Quiz finished: 0 out of 4")
    last = f"{session_id}:3:0"
    assert plain(*press(coach, "quiz.answer", last)) == q.ALREADY_ANSWERED
    assert repo(coach).get(session_id).score == 0  # type: ignore[union-attr]
    # "See your results" pressed twice shows the same summary; it changes nothing.
    again = press(coach, "quiz.next", f"{session_id}:4")[-1]
    assert again.parts[0] == Heading("Quiz finished: 0 out of 4")


def test_another_members_button_never_counts_for_anyone(coach: Coach) -> None:
    question = say(coach, "quiz", user="alice")[-1]
    session, _, _ = question_of(coach, question)
    value = value_for(coach, question, correct=True)
    for action in ("quiz.answer", "quiz.resume", "quiz.stop"):
        reply = press(coach, action, value if action == "quiz.answer" else str(session.id), user="bob")
        assert plain(*reply) == q.NOT_YOURS
    assert plain(*press(coach, "quiz.next", f"{session.id}:0", user="bob")) == q.NOT_YOURS
    assert repo(coach).attempts(session_id=session.id) == []
    bob = coach.members.find("console", "bob")
    assert bob is not None and repo(coach).attempts(member_id=bob.id) == []
    # Alice's own press still counts.
    feedback = press(coach, "quiz.answer", value, user="alice")[-1]
    assert feedback.replaces_prompt and "right" in feedback.summary
    assert repo(coach).get(session.id).score == 1  # type: ignore[union-attr]


def test_an_interrupted_quiz_resumes_where_it_stopped(coach: Coach) -> None:
    question = say(coach, "quiz")[-1]
    session, _, _ = question_of(coach, question)
    feedback = press(coach, "quiz.answer", value_for(coach, question, correct=True))[-1]
    second = press(coach, "quiz.next", next_value(feedback))[-1]
    _, position, scenario = question_of(coach, second)
    assert position == 1
    press(coach, "quiz.answer", value_for(coach, second, correct=False))
    paused = press(coach, "quiz.stop", str(session.id))[-1]
    assert "answered 2 of 4" in plain(paused)

    offer = say(coach, "quiz")[-1]
    assert "You have a quiz in progress" in offer.summary
    assert [c.label for c in offer.choices] == ["Resume", "Start again"]
    resumed = press(coach, "quiz.resume", str(session.id))[-1]
    same, position, third = question_of(coach, resumed)
    assert (same.id, position, same.score) == (session.id, 2, 1)
    assert third.id == session.scenario_ids[2] != scenario.id

    # The nudge's button offers the same choice rather than losing the quiz.
    nudge = press(coach, "quiz.start", "")[-1]
    assert nudge.choices[0].action == "quiz.resume"
    restart = next(c for c in nudge.choices if c.action == "quiz.restart")
    fresh = press(coach, "quiz.restart", restart.value)[-1]
    new, position, _ = question_of(coach, fresh)
    assert new.id != session.id and position == 0
    assert repo(coach).get(session.id).state == "abandoned"  # type: ignore[union-attr]
    # Pressing "Start again" twice does not start a third quiz.
    twice = press(coach, "quiz.restart", restart.value)[-1]
    assert question_of(coach, twice)[0].id == new.id


def test_a_category_quiz_from_the_command_and_the_verdict_card_button(coach: Coach) -> None:
    question = say(coach, "quiz personal data")[-1]
    session, _, _ = question_of(coach, question)
    bank = service(coach).bank
    assert session.category == "personal_data"
    assert {bank.scenarios[s].category for s in session.scenario_ids} == {"personal_data"}
    press(coach, "quiz.stop", str(session.id))
    offer = press(coach, "quiz.category", "defamation")[-1]
    restart = next(c for c in offer.choices if c.action == "quiz.restart")
    assert restart.label == "Start a new quiz on defamation"
    started = press(coach, "quiz.restart", restart.value)[-1]
    new, _, _ = question_of(coach, started)
    assert {bank.scenarios[s].category for s in new.scenario_ids} == {"defamation"}

    refused = say(coach, "quiz knitting")
    assert "I don't have a quiz on 'knitting'" in plain(*refused)
    assert "personal data" in plain(*refused)


def test_progress_shows_course_completion_mastery_and_streak(coach: Coach, clock) -> None:  # type: ignore[no-untyped-def]
    empty = say(coach, "progress")[-1]
    text = plain(empty)
    assert "0 of 14 topics passed" in text and "Streak: none yet" in text

    # Two different defamation scenarios right passes that course topic.
    take_quiz(coach, start="quiz defamation", right=True)
    clock.advance(days=1)
    take_quiz(coach, start="quiz copyright", right=lambda s: s.difficulty == 99)  # all wrong
    text = plain(*say(coach, "progress"))
    assert "1 of 14 topics passed (7%)" in text
    assert "Still to pass: copyright" in text and "defamation," not in text
    assert "Streak: 2 days" in text
    assert "Answered: 8 questions, 4 right" in text
    assert "Due for another look: 8" in text  # the copyright misses, and the day-1 reviews

    clock.advance(days=2)  # a day without a quiz ends the streak
    assert "Streak: none yet" in plain(*say(coach, "progress"))
    # Someone else's progress is theirs alone.
    assert "Answered: none yet" in plain(*say(coach, "progress", user="bob"))


def test_officers_get_the_training_report_and_members_do_not(coach: Coach) -> None:
    take_quiz(coach, user="alice", start="quiz defamation")
    say(coach, "help", user="bob")
    refused = say(coach, "report training", user="bob")
    assert refused[0].parts[0] == Heading("Not allowed")
    assert "Alice" not in plain(*refused)

    coach.directory.add_officer("console:olu", actor="test")
    report = say(coach, "report training", user="olu")[-1]
    text = plain(report)
    assert report.kind == "report"
    assert "Members: 2" in text and "Not started: 1" in text and "In progress: 1" in text
    facts = [f for p in report.parts if isinstance(p, Facts) for f in p.items]
    alice = next(f for f in facts if f.label == "Alice")
    assert alice.value.startswith("7% of course, 100% right, last quiz 2026-11-18")
    assert any(f.label == "Bob" and "never" in f.value for f in facts)
    assert coach.audit.list()[0].action == "report.training"


def test_a_double_click_racing_on_two_workers_counts_once(
    make_coach: Callable[..., Coach], db_url: str
) -> None:
    coach = make_coach(db_url)
    question = say(coach, "quiz")[-1]
    session, _, _ = question_of(coach, question)
    value = value_for(coach, question, correct=True)
    barrier = threading.Barrier(4)
    results: list[str] = []

    def click() -> None:
        barrier.wait()
        results.append(plain(*press(coach, "quiz.answer", value)))

    threads = [threading.Thread(target=click) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(1 for r in results if r == q.ALREADY_ANSWERED) == 3
        after = repo(coach).get(session.id)
        assert after is not None and (after.position, after.score) == (1, 1)
        assert len(repo(coach).attempts(session_id=session.id)) == 1
    finally:
        coach.engine.dispose()


@pytest.mark.parametrize("questions", [2, 6])
def test_a_quiz_has_three_to_five_questions(coach: Coach, questions: int) -> None:
    with pytest.raises(ValueError):
        q.QuizService(coach, questions=questions)


def test_question_choices_fit_every_platform(coach: Coach) -> None:
    question = say(coach, "quiz")[-1]
    # Long option texts go in the body; the buttons carry only a letter.
    assert all(len(c.label) == 1 for c in answer_choices(question))
    assert any(isinstance(p, Facts) for p in question.parts)
    assert sum(isinstance(p, Choices) for p in question.parts) == 1


def test_a_question_withdrawn_from_the_bank_is_skipped_on_resume(coach: Coach) -> None:
    say(coach, "help")
    alice = coach.members.find("console", "alice")
    assert alice is not None
    real = [s.id for s in service(coach).bank.by_category("security")][:3]
    session = repo(coach).create(alice.id, None, ["quiz-withdrawn-since", *real], coach.clock.now())
    resumed = press(coach, "quiz.resume", str(session.id))[-1]
    same, position, scenario = question_of(coach, resumed)
    assert (same.id, position, scenario.id) == (session.id, 1, real[0])
    assert resumed.parts[0] == Heading("Question 2 of 4: Security")
    assert plain(*press(coach, "quiz.answer", f"{session.id}:0:0")) == q.ALREADY_ANSWERED


def test_a_verdict_card_category_without_scenarios_gives_a_mixed_quiz(coach: Coach) -> None:
    question = press(coach, "quiz.category", "no_such_category")[-1]
    session, _, _ = question_of(coach, question)
    assert session.category is None and session.total == q.DEFAULT_QUESTIONS


def test_the_weekly_nudge_button_starts_a_mixed_quiz(coach: Coach) -> None:
    question = press(coach, "quiz.start", "nudge", user="bob")[-1]
    session, position, _ = question_of(coach, question)
    assert (session.category, position, session.total) == (None, 0, q.DEFAULT_QUESTIONS)
    narrowed = press(coach, "quiz.start", "security", user="cat")[-1]
    assert question_of(coach, narrowed)[0].category == "security"
