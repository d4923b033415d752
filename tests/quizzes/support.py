"""Helpers for driving quizzes through a real coach as a member would."""

from __future__ import annotations

from collections.abc import Callable

from bot.coach import Coach
from bot.quizbank import Scenario
from bot.replies import Choice, Reply
from bot.services.quizzes import QuizService
from bot.storage.quizzes import QuizRepository, QuizSession
from tests.support.chat import press, say


def service(coach: Coach) -> QuizService:
    svc = coach.services["quizzes"]
    assert isinstance(svc, QuizService)
    return svc


def repo(coach: Coach) -> QuizRepository:
    return service(coach).repo


def answer_choices(reply: Reply) -> list[Choice]:
    return [c for c in reply.choices if c.action == "quiz.answer"]


def question_of(coach: Coach, reply: Reply) -> tuple[QuizSession, int, Scenario]:
    """The session, position and scenario a question reply asks about."""
    choices = answer_choices(reply)
    assert choices, f"not a question: {reply.summary}"
    session_id, position, _ = map(int, choices[0].value.split(":"))
    session = repo(coach).get(session_id)
    assert session is not None
    scenario = service(coach).bank.scenarios[session.scenario_ids[position]]
    return session, position, scenario


def value_for(coach: Coach, reply: Reply, *, correct: bool) -> str:
    """The button value of a right (or a wrong) option of a question."""
    _, _, scenario = question_of(coach, reply)
    wanted = [i for i, o in enumerate(scenario.options) if o.is_correct == correct]
    return next(c.value for c in answer_choices(reply) if int(c.value.split(":")[2]) == wanted[0])


def next_value(reply: Reply) -> str:
    return next(c.value for c in reply.choices if c.action == "quiz.next")


def take_quiz(
    coach: Coach,
    user: str = "alice",
    *,
    right: Callable[[Scenario], bool] | bool = True,
    start: str = "quiz",
) -> tuple[int, list[Scenario], Reply]:
    """Start a quiz with `start` and answer every question. Returns (session id, scenarios asked, summary)."""
    replies = say(coach, start, user=user)
    question = replies[-1]
    asked: list[Scenario] = []
    while True:
        session, _, scenario = question_of(coach, question)
        asked.append(scenario)
        is_right = right(scenario) if callable(right) else right
        feedback = press(coach, "quiz.answer", value_for(coach, question, correct=is_right), user=user)[-1]
        assert feedback.replaces_prompt
        after = press(coach, "quiz.next", next_value(feedback), user=user)[-1]
        if not answer_choices(after):
            return session.id, asked, after
        question = after


def plain(*replies: Reply) -> str:
    """The replies' words, unwrapped: headings, paragraphs, facts and links."""
    from bot.replies import Facts, Heading, Link, Paragraph

    out: list[str] = []
    for reply in replies:
        for part in reply.parts:
            if isinstance(part, (Heading, Paragraph)):
                out.append(part.text)
            elif isinstance(part, Facts):
                out += [f"{f.label}: {f.value}" for f in part.items]
            elif isinstance(part, Link):
                out.append(f"{part.label}: {part.url}")
    return "\n".join(out)
