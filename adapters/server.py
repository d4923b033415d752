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


REQUESTS_KEY: web.AppKey[dict[tuple[str, int], int]] = web.AppKey("requests", dict)


@web.middleware
async def _count_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    """Count requests by route and status for /metrics (never their bodies)."""
    counts = request.app[REQUESTS_KEY]
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "other"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        counts[(route, exc.status)] = counts.get((route, exc.status), 0) + 1
        raise
    except Exception:
        counts[(route, 500)] = counts.get((route, 500), 0) + 1
        raise
    counts[(route, response.status)] = counts.get((route, response.status), 0) + 1
    return response


def _metric(lines: list[str], name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        label_text = ",".join(f'{k}="{str(v).replace(chr(34), "")}"' for k, v in sorted(labels.items()))
        lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")


def render_metrics(coach: Coach, requests: dict[tuple[str, int], int]) -> str:
    """Prometheus text format: requests, verdicts by category, outbox depth and age, delivery failures."""
    from bot.outbox import Outbox

    outbox = Outbox(coach.engine)
    counts = outbox.counts()
    oldest = outbox.oldest_pending()
    now = coach.clock.now()
    lines: list[str] = []
    _metric(lines, "coach_http_requests_total", "counter", "HTTP requests by route and status.",
            [({"route": r, "status": str(s)}, n) for (r, s), n in sorted(requests.items())])
    _metric(lines, "coach_verdicts_total", "counter", "Drafts checked, by verdict (within the retention period).",
            [({"verdict": v}, n) for v, n in sorted(coach.stats.counts().items()) if v])
    _metric(lines, "coach_categories_total", "counter", "Risk categories found in drafts or asked about.",
            [({"kind": k, "category": c}, n) for (k, c), n in sorted(coach.stats.category_counts().items())])
    _metric(lines, "coach_outbox_rows", "gauge", "Outbox rows by state.",
            [({"state": st}, n) for st, n in sorted(counts.items())])
    _metric(lines, "coach_outbox_depth", "gauge", "Messages waiting to be sent.",
            [({}, counts.get("pending", 0) + counts.get("claimed", 0) + counts.get("sending", 0))])
    _metric(lines, "coach_outbox_oldest_pending_seconds", "gauge", "How overdue the oldest waiting message is.",
            [({}, max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)])
    _metric(lines, "coach_delivery_failures", "gauge", "Messages that failed or whose recipient was unreachable.",
            [({"state": "failed"}, counts.get("failed", 0)), ({"state": "unreachable"}, counts.get("unreachable", 0))])
    return "\n".join(lines) + "\n"


async def _metrics(request: web.Request) -> web.Response:
    import asyncio

    text = await asyncio.to_thread(render_metrics, request.app[COACH_KEY], dict(request.app[REQUESTS_KEY]))
    return web.Response(text=text, content_type="text/plain", charset="utf-8", headers={"X-Content-Type-Options": "nosniff"})


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
    app = web.Application(client_max_size=1024 * 1024, middlewares=[_count_requests])
    app[COACH_KEY] = coach
    app[REQUESTS_KEY] = {}
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
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
