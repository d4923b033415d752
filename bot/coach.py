"""The façade every adapter calls: Coach.handle(incoming) -> list[Reply]."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from .clock import Clock, SystemClock
from .config import Settings
from .errors import BadInput, CoachError, NotAllowed, NotFound
from .messages import Incoming
from .replies import Reply, text_reply
from .router import Router, Turn
from .guidance import KnowledgeStore
from .services.directory import Directory
from .storage.database import open_database
from .storage.repositories import (
    AuditRepository,
    ConversationRefRepository,
    MemberRepository,
    StatsRepository,
)

log = logging.getLogger(__name__)


@dataclass
class Coach:
    """Everything one running coach shares, built once by `build_coach`."""

    settings: Settings
    clock: Clock
    engine: Engine
    members: MemberRepository
    refs: ConversationRefRepository
    audit: AuditRepository
    stats: StatsRepository
    directory: Directory
    router: Router
    knowledge: KnowledgeStore
    services: dict[str, Any] = field(default_factory=dict)

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one turn. Never raises: failures become a short, kind reply."""
        try:
            now = self.clock.now()
            member = self.members.ensure(
                incoming.platform,
                incoming.user_id,
                now,
                display_name=incoming.display_name,
                workspace=incoming.workspace,
            )
            if incoming.route and incoming.is_private:
                self.refs.save(member.id, incoming.platform, incoming.conversation_id, incoming.route, now)
            return self.router.route(Turn(incoming, member, now))
        except NotAllowed as exc:
            log.info("refused: platform=%s action=%s", incoming.platform, incoming.action or "text")
            return [text_reply(str(exc), heading="Not allowed")]
        except (BadInput, NotFound) as exc:
            return [text_reply(str(exc))]
        except CoachError as exc:
            log.warning("coach error: %s", type(exc).__name__)
            return [text_reply(str(exc))]
        except Exception:
            # One turn-level handler: log the traceback (never the message text), apologise briefly.
            log.exception("turn failed: platform=%s action=%s", incoming.platform, incoming.action or "text")
            return [
                text_reply(
                    "Sorry, something went wrong on my side and I could not answer that. "
                    "Please try again; if it keeps happening, tell your council's digital team."
                )
            ]

    def home(self, incoming: Incoming) -> list[Reply]:
        """A member's overview (progress, reminders, settings), e.g. for Slack's App Home."""
        replies: list[Reply] = []
        for command in ("progress", "reminders", "settings"):
            replies += self.handle(
                Incoming(
                    platform=incoming.platform,
                    user_id=incoming.user_id,
                    display_name=incoming.display_name,
                    workspace=incoming.workspace,
                    text=command,
                )
            )
        return replies


Feature = Callable[[Coach], None]


# Modules with an `install(coach)` function; each registers its commands and actions.
FEATURE_MODULES: list[str] = [
    "bot.services.drafts",
    "bot.services.answers",
    "bot.services.reminders",
    "bot.services.broadcasts",
    "bot.services.quizzes",
]


def installed_features() -> list[Feature]:
    """Each feature registers its commands and actions with the router."""
    return [importlib.import_module(name).install for name in FEATURE_MODULES]


def build_coach(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    knowledge: KnowledgeStore | None = None,
) -> Coach:
    """The composition root of the core: settings, storage, services and router."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    # A broken knowledge base is refused here, before anything else starts.
    knowledge = knowledge or KnowledgeStore(settings.knowledge_dir)
    engine = engine or open_database(settings.database_url)
    members = MemberRepository(engine)
    audit = AuditRepository(engine)
    coach = Coach(
        settings=settings,
        clock=clock,
        engine=engine,
        members=members,
        refs=ConversationRefRepository(engine),
        audit=audit,
        stats=StatsRepository(engine),
        directory=Directory(members, audit, clock),
        router=Router(),
        knowledge=knowledge,
    )
    for feature in installed_features():
        feature(coach)
    return coach
