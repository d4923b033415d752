"""The engine from a URL, and the schema brought up to date by Alembic migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool, QueuePool

from ..errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets a shared file with foreign keys and WAL."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        is_file = bool(path) and path != ":memory:"
        if is_file:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A file database keeps a few connections open: with none pooled, closing the last
        # connection checkpoints the write-ahead log and opening the next rebuilds it, which
        # made every turn's few statements cost ~70 ms under load (`coach bench serve`).
        pooling: dict[str, Any] = (
            {"poolclass": QueuePool, "pool_size": 8, "max_overflow": 8} if is_file else {"poolclass": NullPool}
        )
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **pooling,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`. Safe to call at every start-up."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise ConfigError(f"cannot reach the database: {_short(exc)}") from exc


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def open_database(url: str) -> Engine:
    """Engine plus an up-to-date schema: what every entry point calls."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise ConfigError(f"cannot prepare the database: {_short(exc)}") from exc
    return engine


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
