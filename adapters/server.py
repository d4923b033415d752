"""One aiohttp server for every configured platform, plus health checks and the worker.

Each platform module offers `mount(app, coach, env) -> str | None`: it adds its
routes and returns a one-line description, or None when its credentials are not
configured. `coach serve` builds the app here; tests do the same on port 0.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.coach import Coach

log = logging.getLogger(__name__)

Mount = Callable[[web.Application, Coach, Mapping[str, str]], "str | None"]
BackgroundJob = Callable[[], Awaitable[None]]

COACH_KEY: web.AppKey[Coach] = web.AppKey("coach", Coach)


@dataclass
class ServerPlan:
    mounted: list[str] = field(default_factory=list)
    jobs: list[BackgroundJob] = field(default_factory=list)


def platform_mounts() -> dict[str, Mount]:
    """The platforms `coach serve` knows, by name. Imported lazily: each pulls in its SDK."""
    mounts: dict[str, Mount] = {}
    try:
        from adapters.slack.app import mount as slack_mount

        mounts["slack"] = slack_mount
    except ImportError:  # pragma: no cover - the adapter is part of the package
        log.debug("slack adapter not available")
    try:
        from adapters.teams.server import mount as teams_mount

        mounts["teams"] = teams_mount
    except ImportError:  # pragma: no cover
        log.debug("teams adapter not available")
    return mounts


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    coach = request.app[COACH_KEY]
    from sqlalchemy import text

    try:
        with coach.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # readiness reports, it does not crash
        return web.json_response({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return web.json_response({"status": "ready", "knowledge": str(coach.knowledge.current.root.name)})


def build_app(
    coach: Coach,
    env: Mapping[str, str],
    *,
    only: str | None = None,
    extra_jobs: list[BackgroundJob] | None = None,
) -> tuple[web.Application, ServerPlan]:
    """The web app with every configured platform (or just `only`)."""
    app = web.Application(client_max_size=1024 * 1024)
    app[COACH_KEY] = coach
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    plan = ServerPlan()
    for name, mount in platform_mounts().items():
        if only and name != only:
            continue
        described = mount(app, coach, env)
        if described:
            plan.mounted.append(described)
    plan.jobs.extend(extra_jobs or [])
    tasks: list[Any] = []

    async def start_jobs(app: web.Application) -> None:
        import asyncio

        tasks.extend(asyncio.create_task(job()) for job in plan.jobs)

    async def stop_jobs(app: web.Application) -> None:
        import asyncio

        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    app.on_startup.append(start_jobs)
    app.on_cleanup.append(stop_jobs)
    return app, plan
