"""`coach bench broadcast`: a broadcast to thousands through the outbox, with a crash half-way.

A local stand-in platform on 127.0.0.1 accepts R messages a second and answers
HTTP 429 with Retry-After beyond that, recording every message it accepts. The
broadcast is queued by the real BroadcastService and delivered by the real
DeliveryWorker in a separate process, which is killed (SIGKILL) once half the
messages have arrived; a fresh worker process then carries on. Rows the dead
worker had handed to the platform are marked failed by the outbox's recovery
(it cannot know whether they arrived), and the bench then does what an
operator is told to do: check the platform, and re-send (`outbox retry`) only
what did not arrive.

Reported: the achieved rate as a share of R, duplicates and losses.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiolimiter import AsyncLimiter
from sqlalchemy import Engine, insert, select

from bot.clock import Clock, SystemClock
from bot.guidance import Council
from bot.outbox import INTERRUPTED, Outbox
from bot.ports import Delivery, SendOutcome
from bot.services.broadcasts import BroadcastService
from bot.storage import tables as t
from bot.storage.database import make_engine, upgrade
from bot.storage.repositories import AuditRepository, MemberRepository
from bot.worker import DeliveryWorker

POST_PATH = "/api/chat.postMessage"
DEFAULT_RATE = 15.0
GONE_ERRORS = {"user_not_found", "account_inactive", "user_disabled", "cannot_dm_bot", "channel_not_found"}


# -- the stand-in platform ----------------------------------------------------------------
class StandInPlatform:
    """Accepts `rate` messages a second (a token bucket holding one second's worth); 429 beyond.

    Records each accepted message by its idempotency key (or, when a client
    sends none, by the channel, which is one person in a broadcast). `clock`
    gives seconds, so tests can drive the bucket with their fixed clock.
    """

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 gone: set[str] | None = None):
        if rate <= 0:
            raise ValueError("rate must be above 0")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.clock = clock
        self.gone = set(gone or ())
        self.tokens = self.capacity
        self.last = clock()
        self.received: Counter[str] = Counter()
        self.accepted_at: list[float] = []
        self.rejected = 0
        self._runner: web.AppRunner | None = None

    def _take(self) -> float:
        """0 when a message may pass now, else the seconds until one may."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def _post(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
        else:
            data = dict(await request.post())
        channel = str(data.get("channel", ""))
        if channel in self.gone:
            return web.json_response({"ok": False, "error": "user_not_found"})
        wait = self._take()
        if wait > 0:
            self.rejected += 1
            # Retry-After is whole seconds on the wire, as real platforms send it.
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(max(1, math.ceil(wait)))})
        self.received[str(data.get("idempotency_key") or channel)] += 1
        self.accepted_at.append(time.monotonic())
        return web.json_response({"ok": True, "channel": channel, "ts": f"{len(self.accepted_at)}.000"})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post(POST_PATH, self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/api/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def delivered(self) -> int:
        return sum(self.received.values())


# -- the sender the bench delivers through --------------------------------------------------
class HttpSender:
    """Posts each message to a Slack-like `chat.postMessage`, paced at the platform's rate.

    Used when the Slack adapter's sender is not installed; the same contract:
    pace, report 429 with Retry-After as a rate-limited retry, gone people as unreachable.
    """

    def __init__(self, api_url: str, rate: float, platform: str = "slack"):
        self.platform = platform
        self.api_url = api_url.rstrip("/") + "/"
        self.limiter = AsyncLimiter(rate, 1.0) if rate > 0 else None
        self._session: aiohttp.ClientSession | None = None

    async def send(self, delivery: Delivery) -> SendOutcome:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        if self.limiter is not None:
            await self.limiter.acquire()
        payload = {"channel": delivery.conversation_id or delivery.user_id, "text": delivery.reply.summary,
                   "idempotency_key": delivery.idempotency_key}
        try:
            async with self._session.post(self.api_url + "chat.postMessage", json=payload) as resp:
                if resp.status == 429:
                    after = float(resp.headers.get("Retry-After", "1"))
                    return SendOutcome.retry("HTTP 429 rate limited", retry_after=after, rate_limited=True)
                if resp.status >= 500:
                    return SendOutcome.retry(f"HTTP {resp.status}")
                data = await resp.json()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return SendOutcome.retry(f"{type(exc).__name__}")
        if data.get("ok"):
            return SendOutcome.sent()
        error = str(data.get("error", "unknown"))
        if error in GONE_ERRORS:
            return SendOutcome.unreachable(error)
        return SendOutcome.failed(error)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def make_sender(api_url: str, rate: float) -> Any:
    """The Slack adapter's real sender pointed at the stand-in, or HttpSender without it."""
    try:
        from adapters.slack.sender import SlackSender
        from adapters.slack.settings import SlackSettings
    except ImportError:
        return HttpSender(api_url, rate)
    settings = SlackSettings(bot_token="xoxb-bench", signing_secret="bench", api_url=api_url, rate_per_second=rate)
    return SlackSender(settings)


def identity(sender: Any, member_id: int, key: str) -> str:
    """How the stand-in knows a message: its idempotency key, or the person's DM channel."""
    return key if isinstance(sender, HttpSender) else f"D{member_id}"


async def close(sender: Any) -> None:
    if isinstance(sender, HttpSender):
        await sender.close()
    else:
        for client in getattr(sender, "_clients", {}).values():
            session = getattr(client, "session", None)
            if session is not None:
                await session.close()


# -- setting up ------------------------------------------------------------------------------
def add_members(engine: Engine, count: int, now: datetime, platform: str = "slack") -> None:
    """`count` councillors with saved conversations, written in bulk (set-up, not under test)."""
    with engine.begin() as conn:
        conn.execute(insert(t.members), [
            dict(platform=platform, user_id=f"U{i:06d}", workspace="T1", display_name=f"Member {i}", role="member",
                 preferences="{}", status="active", created_at=now)
            for i in range(count)
        ])
        ids = [r.id for r in conn.execute(select(t.members.c.id).where(t.members.c.platform == platform))]
        conn.execute(insert(t.conversation_refs), [
            dict(member_id=i, platform=platform, conversation_id=f"D{i}", reference="{}", updated_at=now) for i in ids
        ])


def broadcast_service(engine: Engine, clock: Clock) -> BroadcastService:
    return BroadcastService(engine=engine, members=MemberRepository(engine), audit=AuditRepository(engine),
                            clock=clock, council=Council, checker=None)


# -- the worker process ---------------------------------------------------------------------
async def worker_main(db_url: str, api_url: str, rate: float, lease: float) -> None:
    """Deliver until nothing is left to do (or until killed)."""
    engine = make_engine(db_url)
    sender = make_sender(api_url, rate)
    worker = DeliveryWorker(engine, {"slack": sender}, SystemClock(), lease=timedelta(seconds=lease),
                            batch=50, concurrency=8)
    outbox = Outbox(engine)
    try:
        while True:
            stats = await worker.run_once()
            if stats.claimed:
                continue
            counts = outbox.counts()
            if not any(counts.get(s, 0) for s in ("pending", "claimed", "sending")):
                return
            await asyncio.sleep(0.05)  # a real process waiting for retries or a dead worker's lease
    finally:
        await close(sender)
        engine.dispose()


def spawn_worker(db_url: str, api_url: str, rate: float, lease: float) -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "adapters.bench_broadcast", "--worker", db_url, api_url, str(rate), str(lease)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


# -- the bench -------------------------------------------------------------------------------
@dataclass
class BenchResult:
    recipients: int
    rate: float
    delivered: int
    duplicates: int
    losses: int
    seconds: float
    rejected_429: int
    killed_at: int  # messages accepted when the first worker was killed
    interrupted: int  # rows the dead worker had handed over: outbox marked them failed
    interrupted_arrived: int  # ... of which the platform had received
    resent: int  # ... the rest, re-sent after checking
    states: dict[str, int] = field(default_factory=dict)
    sender: str = ""
    workers: int = 1
    database: str = "sqlite"

    @property
    def achieved_rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0

    @property
    def share(self) -> float:
        return self.achieved_rate / self.rate

    def lines(self) -> list[str]:
        return [
            f"recipients        {self.recipients}",
            f"platform limit    {self.rate:g} messages/s (429 with Retry-After beyond)",
            f"sender            {self.sender}, {self.workers} worker process(es) on {self.database}",
            f"delivered         {self.delivered} in {self.seconds:.1f} s",
            f"achieved rate     {self.achieved_rate:.1f}/s = {self.share:.1%} of the limit",
            f"crash             worker(s) killed (SIGKILL) after {self.killed_at} messages; restarted",
            f"interrupted rows  {self.interrupted} ({self.interrupted_arrived} had arrived; {self.resent} re-sent "
            "after checking the platform)",
            f"429 answers       {self.rejected_429}",
            f"duplicates        {self.duplicates}",
            f"losses            {self.losses}",
            "outbox            " + ", ".join(f"{k} {v}" for k, v in sorted(self.states.items())),
        ]


async def run_bench(recipients: int = 5000, rate: float = 200.0, *, db_url: str | None = None,
                    workers: int = 1, lease: float = 2.0, timeout: float = 900.0) -> BenchResult:
    workdir = tempfile.TemporaryDirectory(prefix="coach-bench-")
    db_url = db_url or f"sqlite:///{Path(workdir.name) / 'bench.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    platform = StandInPlatform(rate)
    api_url = await platform.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        clock = SystemClock()
        add_members(engine, recipients, clock.now())
        broadcast = broadcast_service(engine, clock).create(
            "bench", "Bench: guidance update", "A guidance update sent by the broadcast bench.",
        )
        probe = make_sender(api_url, rate)
        await close(probe)
        sender_name = type(probe).__name__
        expected = {identity(probe, m.id, f"broadcast:{broadcast.id}:{m.id}")
                    for m in MemberRepository(engine).list(role="member")}
        deadline = time.monotonic() + timeout
        # Each worker paces itself at its share of the platform's limit, as a deployment would.
        share = rate / workers
        first = [spawn_worker(db_url, api_url, share, lease) for _ in range(workers)]
        procs += first
        while platform.delivered < recipients // 2:
            for proc in first:
                _check_alive(proc, deadline)
            await asyncio.sleep(0.01)
        for proc in first:
            proc.send_signal(signal.SIGKILL)  # the crash: no chance to tidy up
        for proc in first:
            proc.wait()
        killed_at = platform.delivered
        second = [spawn_worker(db_url, api_url, share, lease) for _ in range(workers)]
        procs += second
        outbox = Outbox(engine)
        checked: dict[int, bool] = {}  # interrupted row id -> had it arrived?

        def operator_check() -> int:
            """What an operator does with interrupted rows: re-send only what the platform does not have."""
            fresh = [r for r in outbox.list(states=["failed"], limit=recipients + 10)
                     if r.last_error == INTERRUPTED and r.id not in checked]
            for row in fresh:
                arrived = platform.received[identity(probe, row.member_id or 0, row.idempotency_key)] > 0
                checked[row.id] = arrived
                if not arrived:
                    outbox.retry(row.id, clock.now())
            return sum(1 for r in fresh if not checked[r.id])

        # The check runs while the new workers are busy, as soon as the recovery marks the rows.
        while any(proc.poll() is None for proc in second):
            if time.monotonic() > deadline:
                raise TimeoutError("the bench did not finish in time")
            operator_check()
            await asyncio.sleep(0.2)
        for proc in second:
            if proc.returncode != 0:
                raise RuntimeError(f"a restarted worker failed: {_stderr(proc)}")
        if operator_check() or outbox.counts().get("pending"):
            sender = make_sender(api_url, rate)
            try:
                await DeliveryWorker(engine, {"slack": sender}, clock).drain()
            finally:
                await close(sender)
        interrupted = list(checked)
        missing = [i for i, arrived in checked.items() if not arrived]
        delivered = platform.delivered
        seconds = (platform.accepted_at[-1] - platform.accepted_at[0]) if len(platform.accepted_at) > 1 else 0.0
        duplicates = sum(n - 1 for n in platform.received.values() if n > 1)
        losses = sum(1 for k in expected if platform.received[k] == 0)
        return BenchResult(
            recipients=recipients, rate=rate, delivered=delivered, duplicates=duplicates, losses=losses,
            seconds=seconds, rejected_429=platform.rejected, killed_at=killed_at, interrupted=len(interrupted),
            interrupted_arrived=len(interrupted) - len(missing), resent=len(missing), states=outbox.counts(),
            sender=sender_name, workers=workers, database="sqlite" if db_url.startswith("sqlite") else "postgresql",
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
        await platform.stop()
        engine.dispose()
        workdir.cleanup()


def _check_alive(proc: subprocess.Popen[bytes], deadline: float) -> None:
    if proc.poll() is not None:
        raise RuntimeError(f"the worker stopped before the crash point: {_stderr(proc)}")
    if time.monotonic() > deadline:
        raise TimeoutError("the bench did not reach half-way in time")


def _stderr(proc: subprocess.Popen[bytes]) -> str:
    data = proc.stderr.read() if proc.stderr is not None else b""
    lines = data.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"exit code {proc.returncode}"


# -- `coach bench broadcast` -----------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipients", type=int, default=5000,
                        help="broadcast bench: members to broadcast to (default 5000)")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE,
                        help=f"broadcast bench: messages a second the stand-in platform accepts (default {DEFAULT_RATE:g})")
    parser.add_argument("--database-url", default=None,
                        help="broadcast bench: an empty database to run on (default: a temporary SQLite file)")
    parser.add_argument("--workers", type=int, default=1,
                        help="broadcast bench: worker processes (PostgreSQL only; default 1)")


def run(args: argparse.Namespace) -> int:
    from bot.errors import BadInput

    if args.recipients < 2:
        raise BadInput("--recipients: at least 2")
    if not 0 < args.rate <= 5000:
        raise BadInput("--rate: above 0 and at most 5000 messages a second")
    url = args.database_url
    if url and (url.startswith("postgresql://") or url.startswith("postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if args.workers < 1 or (args.workers > 1 and not (url or "").startswith("postgresql")):
        raise BadInput("--workers: 1 on SQLite; several workers need PostgreSQL (--database-url)")
    result = asyncio.run(run_bench(args.recipients, args.rate, db_url=url, workers=args.workers))
    if getattr(args, "json", False):
        print(json.dumps({**dataclasses.asdict(result), "achieved_rate": round(result.achieved_rate, 2),
                          "share": round(result.share, 4)}))
    else:
        print("\n".join(result.lines()))
    return 0 if result.duplicates == 0 and result.losses == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        asyncio.run(worker_main(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])))
    else:
        parser = argparse.ArgumentParser(prog="python -m adapters.bench_broadcast")
        add_arguments(parser)
        sys.exit(run(parser.parse_args()))
