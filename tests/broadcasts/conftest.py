"""Shared set-up for broadcast tests: a real coach with councillors, tags and an officer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from bot.clock import FixedClock
from bot.coach import Coach
from bot.services.broadcasts import BroadcastService
from bot.storage.repositories import Member
from bot.worker import DeliveryWorker
from tests.support.senders import RecordingSender

PEOPLE = {
    "alice": ("planning-committee", "cabinet"),
    "bob": ("planning-committee",),
    "carol": ("group:independent",),
    "dan": (),
}


@dataclass
class Council:
    coach: Coach
    clock: FixedClock
    officer: Member
    people: dict[str, Member]
    sender: RecordingSender

    @property
    def service(self) -> BroadcastService:
        return self.coach.services["broadcasts"]  # type: ignore[no-any-return]

    def worker(self, **options: object) -> DeliveryWorker:
        return DeliveryWorker(self.coach.engine, {"console": self.sender}, self.clock, **options)  # type: ignore[arg-type]

    def member(self, name: str) -> Member:
        member = self.coach.members.find("console", name)
        assert member is not None
        return member


def populate(coach: Coach, clock: FixedClock) -> Council:
    people = {}
    for name, tags in PEOPLE.items():
        member = coach.members.ensure("console", name, clock.now(), display_name=name.title())
        coach.refs.save(member.id, "console", f"console:{name}", '{"console": true}', clock.now())
        coach.members.add_tags(member.id, tags)
        people[name] = coach.members.get(member.id)
    officer = coach.directory.add_officer("console:olivia", "test-setup")
    return Council(coach, clock, officer, people, RecordingSender())


@pytest.fixture
def council(coach: Coach, clock: FixedClock) -> Council:
    return populate(coach, clock)


@pytest.fixture
def council_on(make_coach: Callable[..., Coach], clock: FixedClock, db_url: str) -> Iterator[Council]:
    """The same, on each database backend."""
    coach = make_coach(db_url)
    yield populate(coach, clock)
    coach.engine.dispose()  # before the test database is dropped
