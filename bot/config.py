"""Settings for the core, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .errors import ConfigError

APP_NAME = "councillor-coach"


def packaged_knowledge_dir() -> Path:
    """The knowledge base shipped with the code.

    `knowledge/` sits beside `bot/` both in a source checkout and in an installed
    wheel (the wheel installs the two side by side in site-packages).
    """
    return Path(__file__).resolve().parent.parent / "knowledge"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    knowledge_dir: Path
    log_level: str = "INFO"
    retention_days: int = 365

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        problems: list[str] = []
        data_dir = Path(env.get("COACH_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))
        url = env.get("COACH_DATABASE_URL") or f"sqlite:///{data_dir / 'coach.db'}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the driver we ship; accept the plain URL operators copy from docs.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        knowledge = Path(env.get("COACH_KNOWLEDGE_DIR") or packaged_knowledge_dir())
        if not knowledge.is_dir():
            problems.append(f"COACH_KNOWLEDGE_DIR: {knowledge} is not a directory")
        level = (env.get("COACH_LOG_LEVEL") or "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            problems.append("COACH_LOG_LEVEL: use DEBUG, INFO, WARNING or ERROR")
        retention_raw = env.get("COACH_RETENTION_DAYS") or "365"
        try:
            retention = int(retention_raw)
            if retention < 1:
                raise ValueError
        except ValueError:
            problems.append("COACH_RETENTION_DAYS: a whole number of days, 1 or more")
            retention = 365
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(
            data_dir=data_dir,
            database_url=url,
            knowledge_dir=knowledge,
            log_level=level,
            retention_days=retention,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
