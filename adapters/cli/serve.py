"""`coach serve [slack|teams]`: one web server for every configured platform, plus delivery."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.background import DeliveryLoop
from bot.errors import BadInput, ConfigError

from ..senders import configured_senders
from ..server import BackgroundJob, build_app
from ..teams.settings import auth_is_off
from .base import coach_from_env
from .kb import PID_FILE, install_sighup_reload

DEFAULT_PORT = 3000
# Bot Framework's customary port, when Teams is served on its own (the Emulator expects it).
PLATFORM_PORTS = {"teams": 3978}
NOT_CONFIGURED = {
    "slack": "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode), or "
    "SLACK_BOT_TOKEN and SLACK_APP_TOKEN with --socket; 'coach slack manifest' creates the Slack app",
    "teams": "Teams is not configured: see the README section on Teams for the settings it needs",
    "": "no platform is configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for Slack, "
    "or the Teams settings in the README, then run 'coach serve' again",
}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="serve Slack and Teams (whichever is configured) and deliver reminders and broadcasts",
        description=(
            "Runs one web server: POST /slack/events for Slack, POST /api/messages for Teams, "
            "GET /healthz and /readyz, plus the delivery worker. Name a platform to serve only that one."
        ),
    )
    p.add_argument("platform", nargs="?", choices=("slack", "teams"), help="serve only this platform")
    p.add_argument("--host", default=None, help="address to listen on (default 0.0.0.0, or COACH_HOST)")
    p.add_argument(
        "--port", type=int, default=None, help=f"port (default {DEFAULT_PORT}; 3978 for teams alone; or PORT)"
    )
    p.add_argument(
        "--socket",
        action="store_true",
        help="Slack Socket Mode (needs SLACK_APP_TOKEN): no public URL needed",
    )
    p.add_argument("--no-worker", action="store_true", help="do not deliver here (another 'coach worker' does)")
    p.set_defaults(func=run)


def serving_env(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    env = dict(environ)
    if args.socket:
        if args.platform == "teams":
            raise BadInput("--socket is Slack's Socket Mode: use it with 'coach serve slack' or no platform")
        env["SLACK_SOCKET_MODE"] = "1"
    return env


def run(args: argparse.Namespace) -> int:
    env = serving_env(args, os.environ)
    host = args.host or env.get("COACH_HOST") or "0.0.0.0"
    try:
        fallback = PLATFORM_PORTS.get(args.platform or "", DEFAULT_PORT)
        port = args.port if args.port is not None else int(env.get("PORT") or fallback)
    except ValueError:
        raise ConfigError("PORT must be a port number, for example 3000") from None
    coach = coach_from_env()
    jobs: list[BackgroundJob] = []
    delivering: list[str] = []
    stop_delivery = asyncio.Event()
    delivery_done = asyncio.Event()
    if not args.no_worker:
        senders = configured_senders(env, only=args.platform)
        if senders:
            loop = DeliveryLoop(coach, senders)
            delivering = sorted(senders)

            async def deliver() -> None:
                try:
                    await loop.run(stop_delivery)
                finally:
                    delivery_done.set()

            jobs.append(deliver)
    app, plan = build_app(coach, env, only=args.platform, extra_jobs=jobs)
    if not plan.mounted:
        raise ConfigError(NOT_CONFIGURED.get(args.platform or "", NOT_CONFIGURED[""]))

    async def finish_delivery(_: web.Application) -> None:
        # Let a delivery pass that is under way finish, so no message is left half-sent.
        if jobs:
            stop_delivery.set()
            try:
                await asyncio.wait_for(delivery_done.wait(), timeout=20)
            except asyncio.TimeoutError:
                print("stopping: a delivery pass did not finish in time", file=sys.stderr, flush=True)

    app.on_shutdown.append(finish_delivery)
    if any("teams" in line.lower() for line in plan.mounted) and auth_is_off(env) and not _is_loopback(host):
        print(
            f"warning: Teams authentication is off (no MicrosoftAppId) and the server listens on {host}; "
            "set MicrosoftAppId and MicrosoftAppPassword, or bind to 127.0.0.1 (--host) for local testing",
            file=sys.stderr, flush=True,
        )
    pid_file = coach.settings.data_dir / PID_FILE
    return asyncio.run(_serve(app, host, port, plan.mounted, delivering, coach, pid_file))


def _is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


async def _serve(
    app: web.Application, host: str, port: int, mounted: list[str], delivering: list[str], coach: Any, pid_file: Path
) -> int:
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # 'coach kb reload' finds this process through the pid file and sends SIGHUP.
    install_sighup_reload(coach)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
    for line in mounted:
        print(line, flush=True)
    print("delivering reminders and broadcasts to: " + (", ".join(delivering) or "nobody (no worker here)"), flush=True)
    for address in runner.addresses:
        print(f"listening on http://{address[0]}:{address[1]} (GET /healthz)", flush=True)
    try:
        await stop.wait()
    finally:
        print("stopping: finishing replies already started", file=sys.stderr, flush=True)
        await runner.cleanup()
        if pid_file.read_text(encoding="utf-8").strip() == str(os.getpid()):
            pid_file.unlink(missing_ok=True)
    return 0
