#!/usr/bin/env python3
"""Fault drill: a broadcast of 1,000 messages survives a flaky platform, a database restart and a killed worker.

Run it by hand, as root or the postgres user, on a machine with PostgreSQL that
nothing else depends on at that moment: it RESTARTS the PostgreSQL server.

    .venv/bin/python scripts/fault_drill.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

What it does, with the real `coach` command line throughout:

  1. creates a throwaway database, imports 1,000 Slack members (`coach members
     import`) and queues one broadcast to all of them (`coach broadcast send`);
  2. starts a stand-in Slack Web API on 127.0.0.1 that answers about 10% of
     messages with HTTP 500 and leaves about 1% hanging past the client's
     timeout (neither posts the message), and records every message it accepts;
  3. starts two `coach worker` processes against PostgreSQL;
  4. once a quarter of the messages have arrived, restarts PostgreSQL
     (`pg_ctlcluster VERSION NAME restart`);
  5. once half have arrived, kills one worker with SIGKILL mid-send and starts
     a replacement (as a process supervisor would);
  6. waits until every broadcast row is settled (sent, or failed with a
     reason; a dead worker's claims are recovered after the 5-minute lease);
  7. checks the outbox against the stand-in's record: no message lost (every
     row sent or failed with a reason, every sent row received) and none
     duplicated (no member received it twice);
  8. does what an operator is told to do with rows failed as "interrupted
     while sending": re-sends (`coach outbox retry ID`) those the platform
     does not have, and checks again that every member has the message
     exactly once. Prints PASS or FAIL.

Rows the killed worker (or the restart) left "sending" are marked failed with
the reason, by design: the platform may or may not have them, and a duplicate
is worse than a message an operator re-sends with `coach outbox retry` after
checking. The drill reports how many of those had in fact arrived.

It is not part of the pytest suite because it restarts the shared server.
Expect it to take about 10 minutes (5 of them the lease). Exit code 0 on PASS.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.storage import tables as t  # noqa: E402  (after the path is set, for a checkout run)

MEMBERS = 1000
FINAL = ("sent", "failed", "unreachable")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the flaky stand-in platform ---------------------------------------------------------
@dataclass
class FlakySlack:
    """A Slack Web API that fails now and then, and records what it accepted (by DM channel)."""

    error_rate: float
    hang_rate: float
    hang_seconds: float
    seed: int = 7
    received: Counter[str] = field(default_factory=Counter)
    errors_500: int = 0
    hangs: int = 0
    title: str = ""
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}/api/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def delivered(self) -> int:
        return sum(self.received.values())

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        raw = await request.text()
        params: dict[str, Any] = dict(request.query)
        if raw:
            params.update(json.loads(raw) if request.content_type == "application/json" else dict(parse_qsl(raw)))
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": f"D{params.get('users', '')}"}})
        if method != "chat.postMessage":
            return web.json_response({"ok": True})
        roll = self.rng.random()
        if roll < self.error_rate:
            self.errors_500 += 1
            return web.Response(status=500, text="<html>Internal Server Error</html>", content_type="text/html")
        if roll < self.error_rate + self.hang_rate:
            self.hangs += 1
            await asyncio.sleep(self.hang_seconds)  # past the client's timeout: it gives up, nothing posted
            return web.Response(status=504, text="Gateway Timeout")
        if self.title and self.title in str(params.get("text", "")):
            self.received[str(params.get("channel", ""))] += 1
        return web.json_response({"ok": True, "channel": params.get("channel"), "ts": f"{time.time():.6f}"})


# -- processes ----------------------------------------------------------------------------------
def coach_command() -> list[str]:
    return [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())"]


async def run_coach(args: list[str], env: dict[str, str], stdin: bytes | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *coach_command(), *args, env=env, stdin=asyncio.subprocess.PIPE if stdin is not None else None,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin)
    if process.returncode != 0:
        raise RuntimeError(f"coach {' '.join(args[:2])} failed: {err.decode(errors='replace').strip()}")
    return out.decode()


@dataclass
class Worker:
    name: str
    process: asyncio.subprocess.Process
    log: Path


async def start_worker(name: str, env: dict[str, str], logs: Path) -> Worker:
    log = logs / f"{name}.log"
    handle = open(log, "wb")  # noqa: SIM115 (kept open for the process's life)
    process = await asyncio.create_subprocess_exec(
        *coach_command(), "worker", "--interval", "0.5", env=env, stdout=handle, stderr=handle,
    )
    handle.close()
    say(f"started {name} (pid {process.pid})")
    return Worker(name, process, log)


def find_cluster(url: str) -> tuple[str, str]:
    """The (version, name) of the local cluster listening on the URL's port, from pg_lsclusters."""
    port = str(make_url(url).port or 5432)
    out = subprocess.run(["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] == port:
            return parts[0], parts[1]
    raise SystemExit(f"no local PostgreSQL cluster on port {port} (pg_lsclusters); use --restart-command")


# -- the database ------------------------------------------------------------------------------
def psycopg_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_database(admin_url: str, name: str) -> str:
    admin = create_engine(psycopg_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(psycopg_url(admin_url)).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(psycopg_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@dataclass(frozen=True)
class Row:
    id: int
    user_id: str
    state: str
    last_error: str | None
    claimed_by: str | None
    attempts: int


def broadcast_rows(engine: Engine, broadcast_id: int) -> list[Row]:
    query = (
        select(t.outbox.c.id, t.members.c.user_id, t.outbox.c.state, t.outbox.c.last_error, t.outbox.c.claimed_by,
               t.outbox.c.attempts)
        .join(t.members, t.members.c.id == t.outbox.c.member_id)
        .where(t.outbox.c.idempotency_key.like(f"broadcast:{broadcast_id}:%"))
    )
    with engine.connect() as conn:
        return [Row(*r) for r in conn.execute(query)]


async def rows_when_possible(engine: Engine, broadcast_id: int) -> list[Row] | None:
    """The rows, or None while the database is restarting."""
    try:
        return await asyncio.to_thread(broadcast_rows, engine, broadcast_id)
    except Exception:  # the drill's own connection drops with the restart; try again shortly
        return None


# -- the drill --------------------------------------------------------------------------------
@dataclass
class Timeline:
    restarted_at: int | None = None
    restart_seconds: float = 0.0
    killed_at: int | None = None
    killed_holding: int = 0  # rows the killed worker had claimed or was sending


async def drill(args: argparse.Namespace) -> bool:
    run = secrets.token_hex(3)
    title = f"Fault drill {run}"
    workdir = Path(tempfile.mkdtemp(prefix="coach-fault-drill-"))
    database = f"coach_drill_{run}"
    restart = args.restart_command.split() if args.restart_command else None
    if restart is None:
        version, name = find_cluster(args.database_url)
        restart = ["pg_ctlcluster", "-m", "fast", version, name, "restart"]
    platform = FlakySlack(args.error_rate, args.hang_rate, args.hang_seconds, title=title)
    api_url = await platform.start()
    url = await asyncio.to_thread(create_database, args.database_url, database)
    engine = create_engine(url, pool_pre_ping=True)
    say(f"database {database}; stand-in Slack API at {api_url}; logs in {workdir}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "SLACK_", "Microsoft", "MICROSOFT"))}
    env.update(
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        COACH_DATA_DIR=str(workdir), COACH_DATABASE_URL=url, COACH_LOG_FORMAT="json",
        SLACK_BOT_TOKEN="xoxb-drill-" + secrets.token_hex(8), SLACK_SIGNING_SECRET=secrets.token_hex(16),
        SLACK_API_URL=api_url, SLACK_RATE_PER_SECOND=str(args.rate), COACH_TEAMS_ENABLED="false",
    )
    workers: list[Worker] = []
    timeline = Timeline()
    ok = False
    try:
        roster = io.StringIO()
        writer = csv.writer(roster)
        writer.writerow(["platform", "user_id", "name", "tags"])
        writer.writerows(["slack", f"U{i:06d}", f"Drill Member {i}", "drill"] for i in range(args.members))
        say((await run_coach(["members", "import", "-"], env, roster.getvalue().encode())).strip())
        body = "This is a fault drill. Please ignore this message."
        queued = await run_coach(["broadcast", "send", "--title", title, "--body-file", "-", "--urgent", "--yes"],
                                 env, body.encode())
        match = re.search(r"broadcast #(\d+) queued for (\d+)", queued)
        if not match:
            raise RuntimeError(f"could not read the broadcast number from: {queued.strip()}")
        broadcast_id, recipients = int(match.group(1)), int(match.group(2))
        say(f"broadcast #{broadcast_id} queued for {recipients} members")

        workers = [await start_worker(f"worker-{i}", env, workdir) for i in (1, 2)]
        started = time.monotonic()
        last_report = 0.0
        while time.monotonic() - started < args.deadline:
            await asyncio.sleep(0.2)
            delivered = platform.delivered
            if timeline.restarted_at is None and delivered >= recipients // 4:
                timeline.restarted_at = delivered
                say(f"{delivered} delivered: restarting PostgreSQL ({' '.join(restart)})")
                t0 = time.monotonic()
                done = await asyncio.create_subprocess_exec(*restart, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                _, err = await done.communicate()
                timeline.restart_seconds = time.monotonic() - t0
                if done.returncode != 0:
                    raise RuntimeError(f"the restart failed: {err.decode(errors='replace').strip()}")
                say(f"PostgreSQL is back after {timeline.restart_seconds:.1f} s")
            if timeline.restarted_at is not None and timeline.killed_at is None and delivered >= recipients // 2:
                victim = workers[0]
                rows = await rows_when_possible(engine, broadcast_id) or []
                victim.process.send_signal(signal.SIGKILL)
                await victim.process.wait()
                timeline.killed_at = platform.delivered
                pid = f":{victim.process.pid}:"
                timeline.killed_holding = sum(1 for r in rows if r.claimed_by and pid in r.claimed_by
                                              and r.state in ("claimed", "sending"))
                say(f"{timeline.killed_at} delivered: killed {victim.name} with SIGKILL "
                    f"(it held about {timeline.killed_holding} rows)")
                workers.append(await start_worker("worker-3", env, workdir))
            rows = await rows_when_possible(engine, broadcast_id)
            if rows is None:
                continue
            states = Counter(r.state for r in rows)
            if time.monotonic() - last_report > 15:
                last_report = time.monotonic()
                say(f"stand-in received {platform.delivered}; outbox " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
            if timeline.killed_at is not None and len(rows) == recipients and all(r.state in FINAL for r in rows):
                break
        else:
            say(f"the deadline of {args.deadline:.0f} s passed before every row was settled")
        rows = await asyncio.to_thread(broadcast_rows, engine, broadcast_id)
        ok = check(rows, recipients, platform, timeline)
        if ok:
            ok = await resend_interrupted(rows, platform, engine, broadcast_id, env, args.deadline)
        return ok
    finally:
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(worker.process.wait(), 30)
                except asyncio.TimeoutError:
                    worker.process.kill()
                    await worker.process.wait()
        engine.dispose()
        await platform.stop()
        if not args.keep:
            await asyncio.to_thread(drop_database, args.database_url, database)
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"kept the worker logs in {workdir}" + (f" and the database {database}" if args.keep else ""))


async def resend_interrupted(rows: list[Row], platform: FlakySlack, engine: Engine, broadcast_id: int,
                             env: dict[str, str], deadline: float) -> bool:
    """What the README tells an operator to do: re-send interrupted rows the platform does not have."""
    missing = [r for r in rows if r.state == "failed" and (r.last_error or "").startswith("interrupted")
               and platform.received[f"D{r.user_id}"] == 0]
    if not missing:
        print("PASS: nothing lost, nothing duplicated", flush=True)
        return True
    say(f"re-sending {len(missing)} interrupted rows the platform does not have (coach outbox retry ID)")
    gate = asyncio.Semaphore(4)

    async def retry(row: Row) -> None:
        async with gate:
            await run_coach(["outbox", "retry", str(row.id)], env)

    await asyncio.gather(*(retry(r) for r in missing))
    wanted = {r.id for r in missing}
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        await asyncio.sleep(1)
        again = [r for r in await asyncio.to_thread(broadcast_rows, engine, broadcast_id) if r.id in wanted]
        if all(r.state in FINAL for r in again):
            break
    rows = await asyncio.to_thread(broadcast_rows, engine, broadcast_id)
    members = len(rows)
    once = sum(1 for r in rows if platform.received[f"D{r.user_id}"] == 1)
    twice = sum(1 for r in rows if platform.received[f"D{r.user_id}"] > 1)
    unsettled = [r for r in rows if r.id in wanted and r.state not in FINAL]
    still_failed = [r for r in rows if r.state == "failed" and platform.received[f"D{r.user_id}"] == 0]
    print(f"  after the re-send      {once} of {members} members have the message exactly once; "
          f"{twice} twice; {len(still_failed)} failed with a reason; {len(unsettled)} not settled", flush=True)
    ok = twice == 0 and not unsettled and once + len(still_failed) == members
    print("PASS: nothing lost, nothing duplicated, after the operator's re-send" if ok else "FAIL", flush=True)
    return ok


def check(rows: list[Row], recipients: int, platform: FlakySlack, timeline: Timeline) -> bool:
    by_channel = {f"D{r.user_id}": r for r in rows}
    states = Counter(r.state for r in rows)
    unsettled = [r for r in rows if r.state not in FINAL]
    no_reason = [r for r in rows if r.state != "sent" and r.state in FINAL and not r.last_error]
    duplicated = [c for c, n in platform.received.items() if n > 1]
    sent_not_received = [r for r in rows if r.state == "sent" and platform.received[f"D{r.user_id}"] == 0]
    strays = [c for c in platform.received if c not in by_channel]
    failed = [r for r in rows if r.state == "failed"]
    failed_arrived = sum(1 for r in failed if platform.received[f"D{r.user_id}"] > 0)
    reasons = Counter("interrupted while sending" if (r.last_error or "").startswith("interrupted") else
                      (r.last_error or "")[:60] for r in failed)
    lines = [
        "",
        "fault drill results",
        f"  broadcast rows        {len(rows)} of {recipients} expected: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
        f"  stand-in platform     {platform.delivered} messages accepted; {platform.errors_500} answered HTTP 500; "
        f"{platform.hangs} left hanging past the client timeout",
        f"  database restart      after {timeline.restarted_at} messages, back in {timeline.restart_seconds:.1f} s",
        f"  worker killed         after {timeline.killed_at} messages, holding about {timeline.killed_holding} rows",
        f"  failed rows           {len(failed)} ({failed_arrived} of them had in fact arrived): "
        + (", ".join(f"{n} {why}" for why, n in reasons.most_common()) or "none"),
        f"  not settled           {len(unsettled)}",
        f"  failed without reason {len(no_reason)}",
        f"  sent but not received {len(sent_not_received)} (lost)",
        f"  received twice        {len(duplicated)} (duplicated)",
        f"  received, no row      {len(strays)}",
    ]
    faults_happened = platform.errors_500 > 0 and platform.hangs > 0 and timeline.restarted_at is not None \
        and timeline.killed_at is not None
    ok = (faults_happened and len(rows) == recipients and not unsettled and not no_reason and not duplicated
          and not sent_not_received and not strays)
    if not faults_happened:
        lines.append("  (not every fault was injected: the drill proves nothing; try more members)")
    if not ok:
        lines.append("FAIL")
    print("\n".join(lines), flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("COACH_TEST_DATABASE_URL")
                        or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server URL with rights to create databases (a throwaway one is made)")
    parser.add_argument("--restart-command", default=None,
                        help="how to restart PostgreSQL (default: pg_ctlcluster VERSION NAME restart -m fast)")
    parser.add_argument("--members", type=int, default=MEMBERS, help=f"recipients of the broadcast (default {MEMBERS})")
    parser.add_argument("--rate", type=float, default=20.0, help="each worker's Slack calls a second (default 20)")
    parser.add_argument("--error-rate", type=float, default=0.10, help="share of messages answered HTTP 500")
    parser.add_argument("--hang-rate", type=float, default=0.01, help="share of messages left hanging")
    parser.add_argument("--hang-seconds", type=float, default=25.0, help="how long a hang lasts (client gives up at 20)")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds before giving up (default 900)")
    parser.add_argument("--keep", action="store_true", help="keep the drill database and logs")
    args = parser.parse_args()
    if not shutil.which("pg_lsclusters") and not args.restart_command:
        parser.error("pg_lsclusters not found: pass --restart-command")
    return 0 if asyncio.run(drill(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
