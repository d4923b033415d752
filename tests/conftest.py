from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import UTC, FixedClock
from bot.coach import Coach, build_coach
from bot.config import Settings, packaged_knowledge_dir
from bot.guidance import KnowledgeStore
from bot.storage.database import make_engine, upgrade
from tests.support.databases import PG_ENV, fresh_database

BACKENDS = ["sqlite", "postgres"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(PG_ENV):
        return
    skip = pytest.mark.skip(reason=f"set {PG_ENV} to run the PostgreSQL variant")
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("backend") == "postgres":
            item.add_marker(skip)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'coach.db'}"


@pytest.fixture
def clock() -> FixedClock:
    # A Wednesday morning in November, London time = UTC.
    return FixedClock(datetime(2026, 11, 18, 10, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return Settings.from_env({"COACH_DATA_DIR": str(tmp_path), "COACH_DATABASE_URL": sqlite_url})


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeStore:
    """The knowledge base, loaded once for the session: tests only read it."""
    # COACH_TEST_KNOWLEDGE_DIR tries the suite against a council's own copy.
    return KnowledgeStore(Path(os.environ.get("COACH_TEST_KNOWLEDGE_DIR") or packaged_knowledge_dir()))


@pytest.fixture
def make_coach(tmp_path: Path, clock: FixedClock, knowledge: KnowledgeStore) -> Callable[..., Coach]:
    """Build a real coach on a given database URL (default: a SQLite file)."""

    def factory(url: str | None = None, **env: str) -> Coach:
        values = {"COACH_DATA_DIR": str(tmp_path), "COACH_DATABASE_URL": url or f"sqlite:///{tmp_path / 'coach.db'}"}
        values.update(env)
        settings = Settings.from_env(values)
        engine = make_engine(settings.database_url)
        upgrade(engine)
        # A test that names its own knowledge base gets it loaded; the rest share one.
        store = None if "COACH_KNOWLEDGE_DIR" in env else knowledge
        return build_coach(settings, clock=clock, engine=engine, knowledge=store)

    return factory


@pytest.fixture
def coach(make_coach: Callable[..., Coach]) -> Coach:
    return make_coach()
