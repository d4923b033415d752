"""Quiz sessions, answers and each member's review schedule, over SQLAlchemy Core.

An answer is recorded at most once per question of a session: the unique
(session_id, position) constraint and a conditional update of the session's
position both refuse a second answer, so a double click racing on two workers
still counts once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import tables as t

OPEN, FINISHED, ABANDONED = "open", "finished", "abandoned"


@dataclass(frozen=True)
class QuizSession:
    id: int
    member_id: int
    category: str | None
    scenario_ids: tuple[str, ...]
    position: int  # the question to answer next, counting from 0
    score: int
    state: str
    started_at: datetime
    updated_at: datetime

    @property
    def total(self) -> int:
        return len(self.scenario_ids)

    @property
    def is_open(self) -> bool:
        return self.state == OPEN


@dataclass(frozen=True)
class Attempt:
    member_id: int
    session_id: int | None
    position: int
    scenario_id: str
    category: str
    choice: int
    is_correct: bool
    answered_at: datetime


@dataclass(frozen=True)
class ScheduleEntry:
    scenario_id: str
    box: int
    due_at: datetime
    last_seen_at: datetime | None


# (previous box or None when never seen, answered right?) -> (new box, next due time)
Reschedule = Callable[[int | None, bool], tuple[int, datetime]]


def _session(r: Any) -> QuizSession:
    return QuizSession(
        id=r.id,
        member_id=r.member_id,
        category=r.category,
        scenario_ids=tuple(json.loads(r.scenario_ids)),
        position=r.position,
        score=r.score,
        state=r.state,
        started_at=r.started_at,
        updated_at=r.updated_at,
    )


def _attempt(r: Any) -> Attempt:
    return Attempt(
        member_id=r.member_id,
        session_id=r.session_id,
        position=r.position,
        scenario_id=r.scenario_id,
        category=r.category,
        choice=r.choice,
        is_correct=bool(r.is_correct),
        answered_at=r.answered_at,
    )


class _AlreadyAnswered(Exception):
    pass


class QuizRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- sessions -----------------------------------------------------------
    def get(self, session_id: int) -> QuizSession | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.quiz_sessions).where(t.quiz_sessions.c.id == session_id)).first()
            return None if row is None else _session(row)

    def open_session(self, member_id: int) -> QuizSession | None:
        """The member's most recent unfinished quiz, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.quiz_sessions)
                .where(t.quiz_sessions.c.member_id == member_id, t.quiz_sessions.c.state == OPEN)
                .order_by(t.quiz_sessions.c.id.desc())
                .limit(1)
            ).first()
            return None if row is None else _session(row)

    def session_count(self, member_id: int) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(t.quiz_sessions).where(t.quiz_sessions.c.member_id == member_id)
                ).scalar_one()
            )

    def create(self, member_id: int, category: str | None, scenario_ids: Sequence[str], now: datetime) -> QuizSession:
        """Start a quiz; any other unfinished quiz of the member's is abandoned."""
        with self.engine.begin() as conn:
            conn.execute(
                update(t.quiz_sessions)
                .where(t.quiz_sessions.c.member_id == member_id, t.quiz_sessions.c.state == OPEN)
                .values(state=ABANDONED, updated_at=now)
            )
            result = conn.execute(
                insert(t.quiz_sessions)
                .values(
                    member_id=member_id,
                    category=category,
                    scenario_ids=json.dumps(list(scenario_ids)),
                    position=0,
                    score=0,
                    state=OPEN,
                    started_at=now,
                    updated_at=now,
                )
            )
            new_id = result.inserted_primary_key[0]  # type: ignore[index]
        session = self.get(int(new_id))
        assert session is not None
        return session

    def abandon(self, session_id: int, now: datetime) -> bool:
        """Abandon an open quiz. False when it was no longer open (a repeated press)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.quiz_sessions)
                .where(t.quiz_sessions.c.id == session_id, t.quiz_sessions.c.state == OPEN)
                .values(state=ABANDONED, updated_at=now)
            )
            return result.rowcount == 1

    def skip(self, session: QuizSession, now: datetime) -> bool:
        """Move past a question that has left the quiz bank, without an answer."""
        position = session.position
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.quiz_sessions)
                .where(
                    t.quiz_sessions.c.id == session.id,
                    t.quiz_sessions.c.state == OPEN,
                    t.quiz_sessions.c.position == position,
                )
                .values(
                    position=position + 1,
                    state=FINISHED if position + 1 >= session.total else OPEN,
                    updated_at=now,
                )
            )
            return result.rowcount == 1

    # -- answers ------------------------------------------------------------
    def record_answer(
        self,
        session: QuizSession,
        position: int,
        scenario_id: str,
        category: str,
        choice: int,
        is_correct: bool,
        now: datetime,
        reschedule: Reschedule,
    ) -> bool:
        """Record one answer, move the quiz on and reschedule the scenario.

        Returns False, changing nothing, when that question was already answered.
        """
        try:
            with self.engine.begin() as conn:
                # The session row is updated first so that, on PostgreSQL, a racing
                # duplicate waits on its lock and then finds the position moved on.
                moved = conn.execute(
                    update(t.quiz_sessions)
                    .where(
                        t.quiz_sessions.c.id == session.id,
                        t.quiz_sessions.c.member_id == session.member_id,
                        t.quiz_sessions.c.state == OPEN,
                        t.quiz_sessions.c.position == position,
                    )
                    .values(
                        position=position + 1,
                        score=t.quiz_sessions.c.score + (1 if is_correct else 0),
                        state=FINISHED if position + 1 >= session.total else OPEN,
                        updated_at=now,
                    )
                )
                if moved.rowcount != 1:
                    raise _AlreadyAnswered
                conn.execute(
                    insert(t.quiz_attempts).values(
                        member_id=session.member_id,
                        session_id=session.id,
                        position=position,
                        scenario_id=scenario_id,
                        category=category,
                        choice=choice,
                        is_correct=is_correct,
                        answered_at=now,
                    )
                )
                self._reschedule(conn, session.member_id, scenario_id, is_correct, now, reschedule)
        except _AlreadyAnswered:
            return False
        except IntegrityError:
            return False  # the unique (session_id, position) constraint: already answered
        return True

    def _reschedule(
        self, conn: Any, member_id: int, scenario_id: str, is_correct: bool, now: datetime, reschedule: Reschedule
    ) -> None:
        sched = t.scenario_schedule
        key = (sched.c.member_id == member_id, sched.c.scenario_id == scenario_id)
        row = conn.execute(select(sched.c.box).where(*key)).first()
        box, due = reschedule(None if row is None else int(row.box), is_correct)
        if row is None:
            conn.execute(
                insert(sched).values(
                    member_id=member_id, scenario_id=scenario_id, box=box, due_at=due, last_seen_at=now
                )
            )
        else:
            conn.execute(update(sched).where(*key).values(box=box, due_at=due, last_seen_at=now))

    def attempts(self, member_id: int | None = None, session_id: int | None = None) -> list[Attempt]:
        """Answers in the order given: one member's, one quiz's, or everyone's (for reports)."""
        query = select(t.quiz_attempts).order_by(t.quiz_attempts.c.answered_at, t.quiz_attempts.c.id)
        if member_id is not None:
            query = query.where(t.quiz_attempts.c.member_id == member_id)
        if session_id is not None:
            query = query.where(t.quiz_attempts.c.session_id == session_id)
        with self.engine.connect() as conn:
            return [_attempt(r) for r in conn.execute(query)]

    # -- the review schedule --------------------------------------------------
    def schedule(self, member_id: int) -> dict[str, ScheduleEntry]:
        sched = t.scenario_schedule
        with self.engine.connect() as conn:
            rows = conn.execute(select(sched).where(sched.c.member_id == member_id))
            return {r.scenario_id: ScheduleEntry(r.scenario_id, r.box, r.due_at, r.last_seen_at) for r in rows}

    def schedules(self) -> dict[int, dict[str, ScheduleEntry]]:
        """Every member's schedule, for the officers' report."""
        sched = t.scenario_schedule
        result: dict[int, dict[str, ScheduleEntry]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(select(sched)):
                result.setdefault(r.member_id, {})[r.scenario_id] = ScheduleEntry(
                    r.scenario_id, r.box, r.due_at, r.last_seen_at
                )
        return result
