"""Scenario quizzes: start, answer, score, resume; progress; the officers' training report.

Which scenarios a member sees is driven by a Leitner schedule per member and
scenario: a miss brings a scenario back at once, each right answer moves it to
a box that is reviewed less often. Every button carries the quiz, the question
and the option it answers ("42:1:2"), so a stale, repeated or borrowed press
can be recognised and never counts twice or for the wrong person.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from ..errors import BadInput
from ..guidance import Knowledge
from ..quizbank import LETTERS, QuizBank, Scenario, category_label
from ..replies import Choice, Choices, Fact, Facts, Heading, Link, Paragraph, Part, Reply, text_reply
from ..router import Turn
from ..storage.quizzes import ABANDONED, FINISHED, QuizRepository, QuizSession, ScheduleEntry
from ..training_report import (
    build_training_report,
    course_progress,
    member_training,
    streak_days,
)

if TYPE_CHECKING:
    from ..coach import Coach

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = 4
MIN_QUESTIONS, MAX_QUESTIONS = 3, 5
# Days until a scenario in each Leitner box is due again.
BOX_INTERVALS = (0, 1, 3, 7, 21)
REPORT_ROWS_IN_CHAT = 60

STALE = "That button is no longer in use. Type 'quiz' to start a quiz."
NOT_YOURS = "That button belongs to someone else's quiz, so I have not counted it. Type 'quiz' to start your own."
FINISHED_LINE = "That quiz has already finished, so I have not counted that answer. Type 'quiz' for a new one."
REPLACED_LINE = "That quiz was replaced by a newer one, so I have not counted that answer. Type 'quiz' to carry on."
ALREADY_ANSWERED = "You have already answered that question; your first answer stands."
OUT_OF_ORDER = "That is not the question you are on. Type 'quiz' to carry on where you left off."


def reschedule_at(now: datetime) -> Callable[[int | None, bool], tuple[int, datetime]]:
    """Leitner: wrong -> box 0, due now; right -> the next box, due after its interval."""

    def step(box: int | None, is_correct: bool) -> tuple[int, datetime]:
        if not is_correct:
            return 0, now
        new_box = min((box or 0) + 1, len(BOX_INTERVALS) - 1)
        return new_box, now + timedelta(days=BOX_INTERVALS[new_box])

    return step


def pick_scenarios(
    bank: QuizBank,
    schedule: dict[str, ScheduleEntry],
    now: datetime,
    count: int,
    *,
    category: str | None = None,
    seed: str = "",
    focus: tuple[str, ...] = (),
) -> list[str]:
    """What to ask next: due and never-seen scenarios first, then the rest by box.

    Misses (box 0) come first; then due reviews (oldest first) alternate with
    scenarios never seen, so neither starves the other; then scenarios not yet
    due, lowest box first. New scenarios in `focus` (the core course still to
    pass) go first, and ties are broken by a stable shuffle on `seed`. A mixed
    quiz spreads over categories when it can.
    """
    pool = bank.by_category(category) if category else list(bank.scenarios.values())

    def shuffle(s: Scenario) -> str:
        return hashlib.sha256(f"{seed}:{s.id}".encode()).hexdigest()

    missed: list[Scenario] = []
    reviews: list[Scenario] = []
    new: list[Scenario] = []
    later: list[Scenario] = []
    for s in pool:
        entry = schedule.get(s.id)
        if entry is None:
            new.append(s)
        elif entry.due_at > now:
            later.append(s)
        elif entry.box == 0:
            missed.append(s)
        else:
            reviews.append(s)
    missed.sort(key=lambda s: (schedule[s.id].due_at, shuffle(s)))
    reviews.sort(key=lambda s: (schedule[s.id].due_at, schedule[s.id].box, shuffle(s)))
    new.sort(key=lambda s: (0 if s.category in focus else 1, shuffle(s)))
    later.sort(key=lambda s: (schedule[s.id].box, schedule[s.id].due_at, shuffle(s)))
    interleaved = [s for pair in zip_longest(reviews, new) for s in pair if s is not None]
    first = missed + interleaved
    ranked = first + later
    if category:
        return [s.id for s in ranked[:count]]
    chosen: list[Scenario] = []
    for s in first:
        if len(chosen) < count and all(c.category != s.category for c in chosen):
            chosen.append(s)
    for s in ranked:
        if len(chosen) < count and s not in chosen:
            chosen.append(s)
    chosen.sort(key=ranked.index)
    return [s.id for s in chosen]


def _explanation(feedback: str) -> str:
    """Feedback without its leading 'Right.': the heading already says right or wrong."""
    for lead in ("Right.", "Correct.", "Right!", "Correct!"):
        if feedback.startswith(lead) and len(feedback) > len(lead) + 1:
            return feedback[len(lead):].strip()
    return feedback


def _first_sentence(text: str, limit: int = 120) -> str:
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


def _parse_ints(value: str, parts: int) -> tuple[int, ...] | None:
    bits = value.split(":")
    if len(bits) != parts or not all(b.isdigit() for b in bits):
        return None
    return tuple(int(b) for b in bits)


class QuizService:
    def __init__(self, coach: Coach, *, questions: int = DEFAULT_QUESTIONS):
        if not MIN_QUESTIONS <= questions <= MAX_QUESTIONS:
            raise ValueError(f"a quiz has {MIN_QUESTIONS} to {MAX_QUESTIONS} questions")
        self.coach = coach
        self.repo = QuizRepository(coach.engine)
        self.questions = questions

    # -- knowledge -----------------------------------------------------------
    @property
    def knowledge(self) -> Knowledge:
        return self.coach.knowledge.current

    @property
    def bank(self) -> QuizBank:
        bank = self.knowledge.sections.get("quizzes")
        return bank if isinstance(bank, QuizBank) else QuizBank({})

    def topic_title(self, topic_id: str) -> str:
        topics = self.knowledge.sections.get("topics")
        topic = topics.get(topic_id) if isinstance(topics, dict) else None
        title = getattr(topic, "title", "")
        return str(title) if title else topic_id.replace("-", " ").capitalize()

    # -- commands ------------------------------------------------------------
    def quiz_command(self, turn: Turn, args: str) -> list[Reply]:
        category = self._category(args) if args.strip() else None
        return self._start_or_offer(turn, category)

    def progress_command(self, turn: Turn, args: str) -> list[Reply]:
        return [self.progress(turn)]

    def report_command(self, turn: Turn, args: str) -> list[Reply]:
        words = args.strip().lower().split()
        if words and words[0] in ("broadcast", "broadcasts"):
            # 'report broadcast 3' is the broadcast report: the same as 'broadcast show 3'.
            return self.coach.router.run_command(turn, "broadcast", " ".join(["show" if len(words) > 1 else "list", *words[1:]]))
        if words not in ([], ["training"]):
            raise BadInput("Type 'report training' for the training report or 'report broadcast N' for a broadcast.")
        self.coach.audit.record(f"{turn.member.platform}:{turn.member.user_id}", "report.training", turn.now)
        return [self.report(turn.now)]

    # -- actions -------------------------------------------------------------
    def handle_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        """Every quiz button: quiz.start, quiz.category, quiz.answer, quiz.next, quiz.stop, ..."""
        handler = {
            "quiz.start": self.start_action,
            "quiz.category": self.category_action,
            "quiz.answer": self.answer_action,
            "quiz.next": self.next_action,
            "quiz.stop": self.stop_action,
            "quiz.resume": self.resume_action,
            "quiz.restart": self.restart_action,
            "quiz.progress": self.progress_action,
        }.get(action)
        if handler is None:
            return [text_reply(STALE)]
        return handler(turn, action, value)

    def start_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        # The value may say where the press came from (e.g. "nudge"); only a category id narrows the quiz.
        category = value if value in self.bank.categories else None
        return self._start_or_offer(turn, category)

    def category_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        category = self.bank.find_category(value) if value.strip() else None
        if category is None:
            # A verdict may name a category without scenarios: a mixed quiz still helps.
            return self._start_or_offer(turn, None)
        return self._start_or_offer(turn, category)

    def resume_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        session, problem = self._own_session(turn, value)
        if session is None:
            return [text_reply(problem)]
        return self._current_question(session, turn.now)

    def restart_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        old_id, _, raw_category = value.partition(":")
        session = self.repo.get(int(old_id)) if old_id.isdigit() else None
        if session is None:
            return [text_reply(STALE)]
        if session.member_id != turn.member.id:
            return [text_reply(NOT_YOURS)]
        if not (session.is_open and self.repo.abandon(session.id, turn.now)):
            # A repeated press: the new quiz already exists, so show where it is.
            current = self.repo.open_session(turn.member.id)
            if current is not None:
                return self._current_question(current, turn.now)
        category = self.bank.find_category(raw_category) if raw_category else None
        return self._start(turn, category)

    def answer_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        parsed = _parse_ints(value, 3)
        if parsed is None:
            return [text_reply(STALE)]
        session_id, position, choice = parsed
        session = self.repo.get(session_id)
        if session is None:
            return [text_reply(STALE)]
        if session.member_id != turn.member.id:
            return [text_reply(NOT_YOURS)]
        if position < session.position:
            return [text_reply(ALREADY_ANSWERED)]
        if not session.is_open:
            return [text_reply(FINISHED_LINE if session.state == FINISHED else REPLACED_LINE)]
        if position > session.position:
            return [text_reply(OUT_OF_ORDER)]
        scenario = self.bank.scenarios.get(session.scenario_ids[position])
        if scenario is None:
            self.repo.skip(session, turn.now)
            return [text_reply("That question has been withdrawn from the quiz bank, so I have skipped it.")] + (
                self._after(session.id, turn.now)
            )
        if not 0 <= choice < len(scenario.options):
            return [text_reply(STALE)]
        is_correct = scenario.options[choice].is_correct
        recorded = self.repo.record_answer(
            session, position, scenario.id, scenario.category, choice, is_correct, turn.now, reschedule_at(turn.now)
        )
        if not recorded:
            return [text_reply(ALREADY_ANSWERED)]
        log.info("quiz answer: member=%s session=%s position=%s", turn.member.id, session.id, position)
        updated = self.repo.get(session.id)
        assert updated is not None
        return [self._feedback(updated, position, scenario, choice)]

    def next_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        parsed = _parse_ints(value, 2)
        if parsed is None:
            return [text_reply(STALE)]
        session_id, position = parsed
        session = self.repo.get(session_id)
        if session is None or session.member_id != turn.member.id:
            return [text_reply(STALE if session is None else NOT_YOURS)]
        if session.state == FINISHED and position >= session.total:
            return [self._summary(session)]
        if session.state == ABANDONED:
            return [text_reply(REPLACED_LINE)]
        if position != session.position:
            return [text_reply(OUT_OF_ORDER)]
        return self._current_question(session, turn.now)

    def stop_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        session, problem = self._own_session(turn, value)
        if session is None:
            return [text_reply(problem)]
        return [
            Reply(
                summary="Quiz paused",
                parts=(
                    Heading("Quiz paused"),
                    Paragraph(
                        f"You have answered {session.position} of {session.total} questions. "
                        "Type 'quiz' whenever you like to carry on where you left off."
                    ),
                    Choices((Choice("Carry on now", "quiz.resume", str(session.id), "primary"),)),
                ),
                kind="quiz",
            )
        ]

    def progress_action(self, turn: Turn, action: str, value: str) -> list[Reply]:
        return [self.progress(turn)]

    # -- starting --------------------------------------------------------------
    def _category(self, words: str) -> str:
        category = self.bank.find_category(words)
        if category is None:
            names = ", ".join(category_label(c).lower() for c in sorted(self.bank.categories))
            raise BadInput(f"I don't have a quiz on '{words.strip()}'. Try 'quiz' for a mix, or one of: {names}.")
        return category

    def _start_or_offer(self, turn: Turn, category: str | None) -> list[Reply]:
        session = self.repo.open_session(turn.member.id)
        if session is None:
            return self._start(turn, category)
        about = f" on {category_label(session.category).lower()}" if session.category else ""
        restart = (
            f"Start a new quiz on {category_label(category).lower()}" if category and category != session.category
            else "Start again"
        )
        return [
            Reply(
                summary="You have a quiz in progress",
                parts=(
                    Heading("You have a quiz in progress"),
                    Paragraph(
                        f"You have answered {session.position} of {session.total} questions in your quiz{about}. "
                        "Would you like to carry on where you left off?"
                    ),
                    Choices(
                        (
                            Choice("Resume", "quiz.resume", str(session.id), "primary"),
                            Choice(restart, "quiz.restart", f"{session.id}:{category or ''}"),
                        )
                    ),
                ),
                kind="quiz",
            )
        ]

    def _start(self, turn: Turn, category: str | None) -> list[Reply]:
        bank = self.bank
        member_id = turn.member.id
        if not bank.scenarios or (category and not bank.by_category(category)):
            return [text_reply("There are no quiz questions on that yet. Type 'quiz' for a mixed quiz.")]
        attempts = self.repo.attempts(member_id=member_id)
        focus = course_progress(bank.course, attempts).remaining
        chosen = pick_scenarios(
            bank,
            self.repo.schedule(member_id),
            turn.now,
            self.questions,
            category=category,
            seed=f"{member_id}:{self.repo.session_count(member_id)}",
            focus=focus,
        )
        session = self.repo.create(member_id, category, chosen, turn.now)
        log.info("quiz started: member=%s session=%s questions=%s", member_id, session.id, session.total)
        return self._current_question(session, turn.now)

    # -- questions, feedback, summary -------------------------------------------
    def _own_session(self, turn: Turn, raw_id: str) -> tuple[QuizSession | None, str]:
        """The member's own open quiz named by a button, or why the press does not count."""
        if not raw_id.strip().isdigit():
            return None, STALE
        session = self.repo.get(int(raw_id))
        if session is None:
            return None, STALE
        if session.member_id != turn.member.id:
            return None, NOT_YOURS
        if session.state == FINISHED:
            return None, "That quiz has already finished. Type 'quiz' for a new one."
        if session.state == ABANDONED:
            return None, REPLACED_LINE
        return session, ""

    def _after(self, session_id: int, now: datetime) -> list[Reply]:
        session = self.repo.get(session_id)
        if session is None:
            return [text_reply(STALE)]
        return [self._summary(session)] if session.state == FINISHED else self._current_question(session, now)

    def _current_question(self, session: QuizSession, now: datetime) -> list[Reply]:
        # Skip questions withdrawn from the quiz bank since the quiz began.
        while session.is_open and session.scenario_ids[session.position] not in self.bank.scenarios:
            self.repo.skip(session, now)
            fresh = self.repo.get(session.id)
            assert fresh is not None
            session = fresh
        if not session.is_open:
            return [self._summary(session)]
        scenario = self.bank.scenarios[session.scenario_ids[session.position]]
        number = session.position + 1
        parts: tuple[Part, ...] = (
            Heading(f"Question {number} of {session.total}: {category_label(scenario.category)}"),
            Paragraph(scenario.situation),
            Paragraph(scenario.question),
            Facts(tuple(Fact(LETTERS[i], o.text) for i, o in enumerate(scenario.options))),
            Choices(
                tuple(
                    Choice(LETTERS[i], "quiz.answer", f"{session.id}:{session.position}:{i}")
                    for i in range(len(scenario.options))
                )
            ),
        )
        return [Reply(summary=f"Quiz question {number} of {session.total}", parts=parts, kind="quiz")]

    def _feedback(self, session: QuizSession, position: int, scenario: Scenario, choice: int) -> Reply:
        chosen = scenario.options[choice]
        right = scenario.correct_indexes
        answered = position + 1
        facts = [Fact("Your answer", f"{LETTERS[choice]}. {chosen.text}"), Fact("Why", _explanation(chosen.feedback))]
        if not chosen.is_correct:
            label = "Right answer" if len(right) == 1 else "Right answers"
            facts.append(Fact(label, " / ".join(f"{LETTERS[i]}. {scenario.options[i].text}" for i in right)))
            facts.append(Fact("Why", _explanation(scenario.options[right[0]].feedback)))
        verdict = "right" if chosen.is_correct else "not quite"
        is_last = answered >= session.total
        choices = [
            Choice(
                "See your results" if is_last else "Next question",
                "quiz.next",
                f"{session.id}:{answered}",
                "primary",
            )
        ]
        if not is_last:
            choices.append(Choice("Stop for now", "quiz.stop", str(session.id)))
        return Reply(
            summary=f"Question {answered} of {session.total}: {verdict}",
            parts=(
                Heading(f"Question {answered} of {session.total}: {verdict}"),
                Paragraph(scenario.situation),
                Paragraph(scenario.question),
                Facts(tuple(facts)),
                Paragraph(f"Score so far: {session.score} out of {answered}."),
                Choices(tuple(choices)),
            ),
            replaces_prompt=True,
            kind="quiz",
        )

    def _summary(self, session: QuizSession) -> Reply:
        bank = self.bank
        attempts = self.repo.attempts(session_id=session.id)
        missed = [bank.scenarios[a.scenario_id] for a in attempts if not a.is_correct and a.scenario_id in bank.scenarios]
        asked = len(attempts)
        parts: list[Part] = [Heading(f"Quiz finished: {session.score} out of {asked}")]
        if asked and session.score == asked:
            parts.append(Paragraph("Well done: every answer right. I will bring these back less often."))
        elif asked:
            parts.append(Paragraph("Thank you. I will bring the ones you missed back soon, so they stick."))
        if missed:
            parts.append(Paragraph("To revisit:"))
            parts.append(
                Facts(tuple(Fact(category_label(s.category), _first_sentence(s.situation)) for s in missed))
            )
            titles = list(dict.fromkeys(self.topic_title(s.topic) for s in missed))
            parts.append(Paragraph("Guidance to read:"))
            parts.append(Facts(tuple(Fact("", t) for t in titles)))
            parts.append(Paragraph(f"Ask me about any of these, for example: ask {titles[0].lower()}"))
        else:
            parts.append(Paragraph("Nothing to revisit this time."))
        member_attempts = self.repo.attempts(member_id=session.member_id)
        progress = course_progress(bank.course, member_attempts)
        if progress.categories:
            parts.append(
                Facts((Fact(progress.title or "Core course", f"{len(progress.passed)} of {len(progress.categories)} topics passed"),))
            )
        council = self.knowledge.council
        if council.protocol_url:
            parts.append(Link(f"{council.name}: members' social media protocol", council.protocol_url))
        parts.append(
            Choices(
                (
                    Choice("Another quiz", "quiz.start", "", "primary"),
                    Choice("My progress", "quiz.progress", ""),
                )
            )
        )
        return Reply(summary=f"Quiz finished: {session.score} out of {asked}", parts=tuple(parts), kind="quiz")

    # -- progress and the report ------------------------------------------------
    def progress(self, turn: Turn) -> Reply:
        bank = self.bank
        now = turn.now
        member = turn.member
        attempts = self.repo.attempts(member_id=member.id)
        record = member_training(member, attempts, self.repo.schedule(member.id), bank, now)
        tz = self.knowledge.council.tz
        streak = streak_days(attempts, now.astimezone(tz).date(), tz)
        course = record.course
        facts: list[Fact] = []
        if course.categories:
            status = "complete" if course.is_complete else f"{course.completion_pct}%"
            facts.append(
                Fact(course.title or "Core course", f"{len(course.passed)} of {len(course.categories)} topics passed ({status})")
            )
            if course.remaining:
                facts.append(Fact("Still to pass", ", ".join(category_label(c).lower() for c in course.remaining)))
        facts += [
            Fact("Mastered", f"{record.mastered} of {len(bank.scenarios)} scenarios"),
            Fact("Due for another look", str(record.due)),
            Fact("Streak", f"{streak} day{'s' if streak != 1 else ''}" if streak else "none yet: a quiz today starts one"),
            Fact("Answered", f"{record.answered} questions, {record.correct} right" if record.answered else "none yet"),
        ]
        if record.last_activity:
            last = record.last_activity.astimezone(tz)
            facts.append(Fact("Last quiz", f"{last.day} {last:%B %Y}"))
        parts: list[Part] = [
            Heading("Your training progress"),
            Facts(tuple(facts)),
        ]
        if course.categories:
            parts.append(
                Paragraph(
                    f"You pass a topic by answering {course.pass_correct} different questions on it correctly. "
                    "A scenario counts as mastered after three right answers in a row, spread over days."
                )
            )
        choices = [Choice("Take a quiz", "quiz.start", "", "primary")]
        if course.remaining:
            first = course.remaining[0]
            choices.append(Choice(f"Quiz me on {category_label(first).lower()}", "quiz.category", first))
        parts.append(Choices(tuple(choices)))
        return Reply(summary="Your training progress", parts=tuple(parts), kind="progress")

    def report(self, now: datetime) -> Reply:
        report = build_training_report(self.repo, self.coach.members, self.bank, now, self.knowledge.council.tz)
        totals = report.totals
        parts: list[Part] = [
            Heading(f"Training report: {report.course_title or 'social media training'}"),
            Paragraph(
                f"As of {report.local_date(now)}: {totals.complete} of {totals.members} members have completed "
                "the core course."
            ),
            Facts(
                (
                    Fact("Members", str(totals.members)),
                    Fact("Completed the course", str(totals.complete)),
                    Fact("In progress", str(totals.in_progress)),
                    Fact("Not started", str(totals.not_started)),
                    Fact("Overdue", str(totals.overdue)),
                    Fact("Average completion", f"{totals.average_completion}%"),
                )
            ),
        ]
        if report.rows:
            parts.append(Heading("Members"))
            lines = []
            for row in report.rows[:REPORT_ROWS_IN_CHAT]:
                last = report.local_date(row.last_activity) or "never"
                score = f", {row.score_pct}% right" if row.score_pct is not None else ""
                overdue = " (overdue)" if row.is_overdue else ""
                lines.append(Fact(row.name, f"{row.course.completion_pct}% of course{score}, last quiz {last}{overdue}"))
            parts.append(Facts(tuple(lines)))
            if len(report.rows) > REPORT_ROWS_IN_CHAT:
                parts.append(Paragraph(f"And {len(report.rows) - REPORT_ROWS_IN_CHAT} more in the spreadsheet."))
        parts.append(
            Paragraph(
                "For a spreadsheet and a chart for a committee paper, run on the server: "
                "coach report training --csv training.csv --chart training.png"
            )
        )
        return Reply(summary=f"Training report: {totals.complete} of {totals.members} members trained", parts=tuple(parts), kind="report")


def install(coach: Coach, **options: Any) -> None:
    """Register the quiz commands and buttons with the router."""
    service = QuizService(coach, **options)
    coach.services["quizzes"] = service
    router = coach.router
    router.command("quiz", service.quiz_command)
    router.command("progress", service.progress_command)
    router.command("report", service.report_command)
    router.action("quiz", service.handle_action)
