"""`coach bench serve`: many concurrent Slack and Teams requests against a real `coach serve`.

The bench starts `coach serve` as its own process on 127.0.0.1 (or, with
--url, targets one already running), with a throwaway database in a temporary
data directory and a generated signing secret and bot token. Two stand-ins on
loopback take the replies: a Slack Web API (the server's SLACK_API_URL, plus
the response_url of each slash command) and a Bot Connector that every Teams
activity's serviceUrl points to. Then N requests go out at once: signed Slack
direct messages (drafts), signed /coach slash commands, and Teams personal
messages, each from a different person in a different conversation.

Reported per platform: acknowledgement latency (request sent -> HTTP answer)
p50, p99 and max; HTTP errors; and whether every request's reply reached its
stand-in before the deadline ("no reply lost"), with the time to the reply.
Slack retries any request not acknowledged within 3 seconds; Teams waits for
the whole turn (its answer comes after the bot has replied).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

DEFAULT_REQUESTS = 200
DEFAULT_CONCURRENCY = 200
DEFAULT_DEADLINE = 60.0
DEFAULT_SLACK_API_PORT = 3999  # with --url: where the running server's SLACK_API_URL must point
TARGET_SLACK_P99_MS = 300.0
WARM_DELIVERY_PASS = 2.5  # seconds: `coach serve` runs a delivery pass every 2 s when idle
TEAM_ID = "TBENCH"
BOT_USER_ID = "UBENCHBOT"
TENANT = "bench-tenant"
KINDS = ("slack dm", "slack command", "teams")

_QUESTIONS = [
    "Can I block a resident who keeps abusing me?",
    "What is purdah and when does it start?",
    "Can I use the council logo on my Facebook page?",
    "Do I need to declare an interest if my brother owns the site?",
]


# -- the stand-ins -------------------------------------------------------------------------
class Replies:
    """Where each request's reply arrived, keyed by the conversation (or response_url) it went to."""

    def __init__(self) -> None:
        self.first_at: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def record(self, key: str) -> None:
        self.first_at.setdefault(key, time.monotonic())
        self.count[key] = self.count.get(key, 0) + 1


@dataclass(frozen=True)
class Addresses:
    slack_api_url: str  # SLACK_API_URL for the server
    respond_base: str  # + key: a slash command's response_url
    connector_url: str  # every Teams activity's serviceUrl

    @property
    def replies_url(self) -> str:
        return self.respond_base.replace("/respond/", "/_replies")


class StandIns:
    """A stand-in Slack Web API and Bot Connector on one loopback port each.

    They run in a process of their own (`python -m adapters.bench_serve --stand-ins`), so
    taking the replies never competes with sending the requests or reading their answers.
    """

    def __init__(self) -> None:
        self.replies = Replies()
        self._runners: list[web.AppRunner] = []
        self.slack_api_url = ""
        self.respond_base = ""
        self.connector_url = ""
        self._ts = 0
        self._ids = 0

    async def start(self, slack_api_port: int = 0) -> None:
        slack = web.Application(client_max_size=4 * 1024 * 1024)
        slack.router.add_route("*", "/api/{method}", self._slack_api)
        slack.router.add_post("/respond/{key}", self._respond)
        slack.router.add_get("/_replies", self._replies)
        slack_base = await self._listen(slack, slack_api_port)
        self.slack_api_url = f"{slack_base}/api/"
        self.respond_base = f"{slack_base}/respond/"
        connector = web.Application(client_max_size=4 * 1024 * 1024)
        connector.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        connector.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._activity)
        connector.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._activity)
        connector.router.add_post("/v3/conversations", self._create_conversation)
        self.connector_url = await self._listen(connector, 0) + "/"

    async def _listen(self, app: web.Application, port: int) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self._runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    @property
    def addresses(self) -> Addresses:
        return Addresses(self.slack_api_url, self.respond_base, self.connector_url)

    async def _replies(self, request: web.Request) -> web.Response:
        """What arrived so far, for the bench in the other process (monotonic clocks are system-wide)."""
        return web.json_response({"first_at": self.replies.first_at, "count": self.replies.count})

    async def _slack_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            params.update(json.loads(raw) if request.content_type == "application/json" else dict(parse_qsl(raw)))
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": BOT_USER_ID, "bot_id": "BBENCH", "team_id": TEAM_ID,
                                      "team": "Bench"})
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            channel = str(params.get("channel", ""))
            self.replies.record(f"slack:{channel}")
            self._ts += 1
            return web.json_response({"ok": True, "channel": channel, "ts": f"1700000000.{self._ts:06d}",
                                      "message_ts": f"1700000000.{self._ts:06d}"})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))}})
        return web.json_response({"ok": True})

    async def _respond(self, request: web.Request) -> web.Response:
        await request.read()
        self.replies.record(f"respond:{request.match_info['key']}")
        return web.Response(text="ok")

    async def _activity(self, request: web.Request) -> web.Response:
        await request.read()
        self.replies.record(f"teams:{request.match_info['cid']}")
        self._ids += 1
        return web.json_response({"id": f"activity-{self._ids}"}, status=201 if request.method == "POST" else 200)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        await request.read()
        self._ids += 1
        return web.json_response({"id": f"a:created-{self._ids}", "activityId": f"created-{self._ids}"}, status=201)


# -- the requests ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Planned:
    kind: str  # one of KINDS
    index: int
    path: str
    body: bytes
    content_type: str
    reply_key: str  # where its reply must arrive


def _drafts(count: int) -> list[str]:
    from adapters.cli.bench import generated_corpus

    return generated_corpus(max(1, count))["280"]


def plan_requests(count: int, stand_ins: Addresses, run_id: str) -> list[Planned]:
    """Two in five Slack DMs, one in five Slack slash commands, two in five Teams personal messages."""
    drafts = _drafts(count)
    planned: list[Planned] = []
    for i in range(count):
        draft = drafts[i % len(drafts)]
        slot = i % 5
        if slot in (0, 1):
            channel = f"D{run_id}{i}"
            event = {"type": "message", "channel": channel, "user": f"U{run_id}{i}", "text": draft,
                     "ts": f"1731920000.{i:06d}", "event_ts": f"1731920000.{i:06d}", "channel_type": "im",
                     "team": TEAM_ID, "client_msg_id": f"{run_id}-{i}"}
            body = {"token": "bench", "team_id": TEAM_ID, "api_app_id": "ABENCH", "event": event,
                    "type": "event_callback", "event_id": f"Ev{run_id}{i:06d}", "event_time": int(time.time()),
                    "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]}
            planned.append(Planned("slack dm", i, "/slack/events", json.dumps(body).encode(), "application/json",
                                   f"slack:{channel}"))
        elif slot == 2:
            key = f"{run_id}-{i}"
            text = f"check {draft}" if i % 2 == 0 else f"ask {_QUESTIONS[i % len(_QUESTIONS)]}"
            fields = {"token": "bench", "team_id": TEAM_ID, "team_domain": "bench", "channel_id": f"C{run_id}",
                      "channel_name": "general", "user_id": f"U{run_id}{i}", "user_name": f"member{i}",
                      "command": "/coach", "text": text, "api_app_id": "ABENCH", "is_enterprise_install": "false",
                      "response_url": stand_ins.respond_base + key, "trigger_id": f"{i}.1.bench"}
            planned.append(Planned("slack command", i, "/slack/events", urlencode(fields).encode(),
                                   "application/x-www-form-urlencoded", f"respond:{key}"))
        else:
            conversation = f"a:bench-{run_id}-{i}"
            activity = {
                "type": "message", "id": f"{run_id}{i}", "timestamp": "2026-11-18T10:00:00.000Z",
                "serviceUrl": stand_ins.connector_url, "channelId": "msteams",
                "from": {"id": f"29:bench-{run_id}-{i}", "name": f"Member {i}", "aadObjectId": f"aad-{run_id}-{i}"},
                "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": conversation},
                "recipient": {"id": "28:bench-coach", "name": "Councillor Coach"},
                "locale": "en-GB", "text": draft, "textFormat": "plain",
                "channelData": {"tenant": {"id": TENANT}},
            }
            planned.append(Planned("teams", i, "/api/messages", json.dumps(activity).encode(), "application/json",
                                   f"teams:{conversation}"))
    return planned


def _headers(item: Planned, secret: str) -> dict[str, str]:
    headers = {"Content-Type": item.content_type}
    if item.path == "/slack/events":
        ts = str(int(time.time()))
        headers["X-Slack-Request-Timestamp"] = ts
        headers["X-Slack-Signature"] = SignatureVerifier(secret).generate_signature(timestamp=ts, body=item.body.decode())
    return headers


@dataclass
class Outcome:
    kind: str
    status: int  # 0 when the request itself failed (refused, reset, timed out)
    sent_at: float
    ack_ms: float
    reply_key: str
    error: str = ""

    @property
    def is_error(self) -> bool:
        return not 200 <= self.status < 300


async def _send(session: aiohttp.ClientSession, bases: dict[str, str], item: Planned, secret: str,
                gate: asyncio.Semaphore, start: asyncio.Event) -> Outcome:
    await start.wait()
    async with gate:
        headers = _headers(item, secret)  # signed just before sending, as Slack does
        sent = time.monotonic()
        try:
            async with session.post(bases[item.path] + item.path, data=item.body, headers=headers) as response:
                await response.read()
                status = response.status
            return Outcome(item.kind, status, sent, (time.monotonic() - sent) * 1000, item.reply_key)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return Outcome(item.kind, 0, sent, (time.monotonic() - sent) * 1000, item.reply_key, type(exc).__name__)


# -- the server under test ------------------------------------------------------------------
@dataclass
class Server:
    """Where each endpoint is served: one `coach serve`, or (with split) one per platform."""

    bases: dict[str, str]  # request path -> base URL
    secret: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log_paths: list[Path] = field(default_factory=list)

    @property
    def description(self) -> str:
        urls = sorted(set(self.bases.values()))
        if not self.processes:
            return ", ".join(urls)
        if len(self.processes) == 1:
            return f"coach serve started by the bench at {urls[0]}"
        return "coach serve slack and coach serve teams started by the bench at " + " and ".join(urls)


def server_env(data_dir: Path, stand_ins: Addresses, secret: str, token: str, database_url: str | None) -> dict[str, str]:
    """The environment `coach serve` gets: ours only, nothing of the operator's Slack or Teams settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "SLACK_", "Microsoft", "MICROSOFT"))}
    env.update(
        COACH_DATA_DIR=str(data_dir),
        SLACK_BOT_TOKEN=token,
        SLACK_SIGNING_SECRET=secret,
        SLACK_API_URL=stand_ins.slack_api_url,
        COACH_LOG_FORMAT="json",
    )
    if database_url:
        env["COACH_DATABASE_URL"] = database_url
    # With no MicrosoftAppId the Teams endpoint accepts unsigned activities, and only for a
    # Bot Connector on this machine: the stand-in.
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


async def _start_one(env: dict[str, str], data_dir: Path, platform: str | None, timeout: float) -> tuple[
        subprocess.Popen[bytes], str, Path]:
    name = platform or "all"
    out_path, log_path = data_dir / f"serve-{name}.out", data_dir / f"serve-{name}.log"
    with open(out_path, "wb") as out, open(log_path, "wb") as err:
        # Output goes to files, never to a pipe nobody reads: a full pipe would stall the server.
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())",
             "serve", *([platform] if platform else []), "--host", "127.0.0.1", "--port", "0"],
            env=env, stdout=out, stderr=err,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in out_path.read_text(errors="replace").splitlines():
            if line.startswith("listening on http://"):
                return process, line.split()[2], log_path
        if process.poll() is not None:
            raise RuntimeError(f"coach serve stopped at start-up: {_last_lines(log_path)}")
        await asyncio.sleep(0.05)
    _stop(process)
    raise TimeoutError("coach serve did not start listening in time")


async def start_server(data_dir: Path, stand_ins: Addresses, database_url: str | None, *, split: bool = False,
                       timeout: float = 90.0) -> Server:
    """`coach serve` (or, split, `coach serve slack` and `coach serve teams`) with generated secrets."""
    secret = secrets.token_hex(16)
    token = "xoxb-bench-" + secrets.token_hex(12)
    env = server_env(data_dir, stand_ins, secret, token, database_url)
    server = Server({}, secret)
    try:
        for platform, path in ((("slack", "/slack/events"), ("teams", "/api/messages")) if split else ((None, ""),)):
            process, base, log_path = await _start_one(env, data_dir, platform, timeout)
            server.processes.append(process)
            server.log_paths.append(log_path)
            if path:
                server.bases[path] = base
            else:
                server.bases.update({"/slack/events": base, "/api/messages": base})
    except BaseException:
        stop_server(server)
        raise
    return server


def _stop(process: subprocess.Popen[bytes]) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def stop_server(server: Server) -> list[int | None]:
    return [_stop(p) for p in server.processes]


def _last_lines(path: Path | None, count: int = 3) -> str:
    if path is None or not path.exists():
        return ""
    lines = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(lines[-count:])


def log_problems(paths: list[Path]) -> list[str]:
    """Server log lines at error level or with a traceback (never message text: the logs hold none)."""
    problems = []
    lines = [line for path in paths if path.exists() for line in path.read_text(errors="replace").splitlines()]
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                problems.append(line[:200])
            continue
        if isinstance(record, dict) and (record.get("level") in ("error", "critical") or "traceback" in record):
            problems.append(str(record.get("event", ""))[:200])
    return problems


# -- results ---------------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 80 values is the 80th smallest, i.e. the maximum)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


@dataclass
class KindResult:
    requests: int
    errors: int
    ack_p50_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    replied: int
    reply_p50_ms: float
    reply_p99_ms: float
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return self.requests - self.replied


@dataclass
class BenchResult:
    requests: int
    concurrency: int
    seconds: float
    kinds: dict[str, KindResult]
    platforms: dict[str, KindResult]
    server_log_problems: list[str]
    target: str
    database: str

    @property
    def errors(self) -> int:
        return sum(k.errors for k in self.kinds.values())

    @property
    def lost(self) -> int:
        return sum(k.lost for k in self.kinds.values())

    @property
    def slack_p99_ms(self) -> float:
        slack = self.platforms.get("slack")
        return slack.ack_p99_ms if slack else 0.0

    @property
    def meets_target(self) -> bool:
        return self.errors == 0 and self.lost == 0 and self.slack_p99_ms < TARGET_SLACK_P99_MS

    def lines(self) -> list[str]:
        out = [
            f"server            {self.target} ({self.database})",
            f"requests          {self.requests}, {self.concurrency} at a time, all sent in {self.seconds:.2f} s",
            f"{'':<17} {'sent':>5} {'errors':>6}  {'ack p50':>8} {'ack p99':>8} {'ack max':>8}  "
            f"{'replied':>7} {'reply p50':>9} {'reply p99':>9}",
        ]
        rows = [(f"  {k}", r) for k, r in self.kinds.items()] + [(p, r) for p, r in self.platforms.items()]
        for label, r in rows:
            out.append(
                f"{label:<17} {r.requests:>5} {r.errors:>6}  {r.ack_p50_ms:>6.0f}ms {r.ack_p99_ms:>6.0f}ms "
                f"{r.ack_max_ms:>6.0f}ms  {r.replied:>7} {r.reply_p50_ms:>7.0f}ms {r.reply_p99_ms:>7.0f}ms"
            )
        statuses = {}
        for r in self.kinds.values():
            for status, n in r.statuses.items():
                statuses[status] = statuses.get(status, 0) + n
        out.append("HTTP answers      " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
        out.append(f"no reply lost     {'yes' if self.lost == 0 else f'NO: {self.lost} without a reply'}")
        out.append(f"server log        {len(self.server_log_problems)} error lines"
                   + (f" (first: {self.server_log_problems[0]})" if self.server_log_problems else ""))
        verdict = "met" if self.meets_target else "MISSED"
        out.append(f"target            {verdict}: Slack ack p99 < {TARGET_SLACK_P99_MS:.0f} ms, zero errors, "
                   "no reply lost")
        return out

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(errors=self.errors, lost=self.lost, meets_target=self.meets_target)
        return data


def summarise(outcomes: list[Outcome], replies: dict[str, float]) -> dict[str, KindResult]:
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.kind, []).append(o)
    return {name: _summary(items, replies) for name, items in groups.items()}


def _summary(items: list[Outcome], replies: dict[str, float]) -> KindResult:
    acks = [o.ack_ms for o in items]
    reply_ms = [(replies[o.reply_key] - o.sent_at) * 1000 for o in items if o.reply_key in replies]
    statuses: dict[str, int] = {}
    for o in items:
        label = str(o.status) if o.status else (o.error or "no answer")
        statuses[label] = statuses.get(label, 0) + 1
    return KindResult(
        requests=len(items), errors=sum(o.is_error for o in items),
        ack_p50_ms=round(percentile(acks, 50), 1), ack_p99_ms=round(percentile(acks, 99), 1),
        ack_max_ms=round(max(acks, default=0.0), 1),
        replied=len(reply_ms), reply_p50_ms=round(percentile(reply_ms, 50), 1),
        reply_p99_ms=round(percentile(reply_ms, 99), 1), statuses=statuses,
    )


# -- the bench -------------------------------------------------------------------------------
class StandInProcess:
    """The stand-ins in a child process; it exits when the bench closes its standard input."""

    def __init__(self, slack_api_port: int = 0):
        self.slack_api_port = slack_api_port
        self.process: subprocess.Popen[bytes] | None = None
        self.addresses = Addresses("", "", "")

    def start(self, timeout: float = 30.0) -> Addresses:
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "adapters.bench_serve", "--stand-ins", str(self.slack_api_port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the one line it prints: its addresses
        if not line:
            self.stop()
            raise RuntimeError("the stand-in platforms did not start"
                               + (f" (is port {self.slack_api_port} free?)" if self.slack_api_port else ""))
        self.addresses = Addresses(**json.loads(line))
        return self.addresses

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


async def fetch_replies(session: aiohttp.ClientSession, addresses: Addresses) -> dict[str, float]:
    async with session.get(addresses.replies_url) as response:
        data = await response.json()
    return {str(k): float(v) for k, v in data["first_at"].items()}


async def wait_for_replies(session: aiohttp.ClientSession, addresses: Addresses, keys: set[str],
                           deadline: float) -> dict[str, float]:
    """Poll the stand-ins until every key has its reply, or the deadline passes."""
    while True:
        replies = await fetch_replies(session, addresses)
        if keys <= replies.keys() or time.monotonic() >= deadline:
            return replies
        await asyncio.sleep(0.2)


async def _warm_up(session: aiohttp.ClientSession, bases: dict[str, str], addresses: Addresses, secret: str,
                   deadline: float) -> None:
    """One request of each kind and one delivery pass first: the burst measures a running server.

    The server's first turns and its first reminder pass for new members load what they use on
    first need (Bolt's auth check, the bank-holiday tables); a server that has been up a while has.
    """
    warm = plan_requests(5, addresses, "warm")[:3]
    gate, start = asyncio.Semaphore(3), asyncio.Event()
    start.set()
    await asyncio.gather(*(_send(session, bases, item, secret, gate, start) for item in warm))
    await wait_for_replies(session, addresses, {w.reply_key for w in warm}, time.monotonic() + deadline)
    await asyncio.sleep(WARM_DELIVERY_PASS)


async def run_bench(
    requests: int = DEFAULT_REQUESTS,
    concurrency: int = DEFAULT_CONCURRENCY,
    *,
    url: str | None = None,
    secret: str | None = None,
    database_url: str | None = None,
    slack_api_port: int | None = None,
    deadline: float = DEFAULT_DEADLINE,
    warm_up: bool = True,
    split: bool = False,
) -> BenchResult:
    stand_ins = StandInProcess(slack_api_port if slack_api_port is not None else (DEFAULT_SLACK_API_PORT if url else 0))
    addresses = await asyncio.to_thread(stand_ins.start)
    with _data_dir() as data_dir:
        server: Server | None = None
        try:
            if url:
                server = Server({"/slack/events": url.rstrip("/"), "/api/messages": url.rstrip("/")}, secret or "")
            else:
                server = await start_server(data_dir, addresses, database_url, split=split)
            run_id = secrets.token_hex(3)
            planned = plan_requests(requests, addresses, run_id)
            connector = aiohttp.TCPConnector(limit=max(1, concurrency), force_close=False)
            timeout = aiohttp.ClientTimeout(total=deadline)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                if warm_up:
                    await _warm_up(session, server.bases, addresses, server.secret, deadline)
                gate, start = asyncio.Semaphore(max(1, concurrency)), asyncio.Event()
                tasks = [asyncio.create_task(_send(session, server.bases, item, server.secret, gate, start))
                         for item in planned]
                await asyncio.sleep(0)  # every task waits at the gate, then all go at once
                began = time.monotonic()
                start.set()
                outcomes = await asyncio.gather(*tasks)
                seconds = time.monotonic() - began
                replies = await wait_for_replies(session, addresses, {p.reply_key for p in planned},
                                                 time.monotonic() + deadline)
        finally:
            if server is not None:
                stop_server(server)
            stand_ins.stop()
        kinds = summarise(outcomes, replies)
        kinds = {k: kinds[k] for k in KINDS if k in kinds}
        by_platform: dict[str, list[Outcome]] = {}
        for o in outcomes:
            by_platform.setdefault(o.kind.split()[0], []).append(o)
        platforms = {p: _summary(items, replies) for p, items in by_platform.items()}
        database = "PostgreSQL" if (database_url or "").startswith("postgres") else ("SQLite" if not url else "as running")
        return BenchResult(
            requests=requests, concurrency=concurrency, seconds=round(seconds, 3), kinds=kinds, platforms=platforms,
            server_log_problems=log_problems(server.log_paths if server else []),
            target=server.description if server else "?", database=database,
        )


@contextmanager
def _data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="coach-bench-serve-") as name:
        yield Path(name)


# -- `coach bench serve` -------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS,
                        help=f"serve bench: requests to send (default {DEFAULT_REQUESTS})")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY,
                        help=f"serve bench: requests in flight at once (default {DEFAULT_CONCURRENCY})")
    parser.add_argument("--url", default=None,
                        help="serve bench: a running 'coach serve' to target instead of starting one; it must use "
                        "this machine's SLACK_SIGNING_SECRET, SLACK_API_URL=http://127.0.0.1:"
                        f"{DEFAULT_SLACK_API_PORT}/api/ and no MicrosoftAppId")
    parser.add_argument("--split", action="store_true",
                        help="serve bench: run 'coach serve slack' and 'coach serve teams' as two processes")
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE,
                        help=f"serve bench: seconds to wait for every reply (default {DEFAULT_DEADLINE:g})")


def run(args: argparse.Namespace) -> int:
    from bot.errors import BadInput, ConfigError

    if args.requests < 1 or args.concurrency < 1:
        raise BadInput("--requests and --concurrency: 1 or more")
    secret = None
    if args.url:
        if not args.url.startswith(("http://", "https://")):
            raise BadInput("--url: the address of a running 'coach serve', e.g. http://127.0.0.1:3000")
        secret = os.environ.get("SLACK_SIGNING_SECRET")
        if not secret:
            raise ConfigError("--url: set SLACK_SIGNING_SECRET to the running server's, so requests can be signed")
    url = getattr(args, "database_url", None)
    if url and (url.startswith("postgresql://") or url.startswith("postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    result = asyncio.run(run_bench(args.requests, args.concurrency, url=args.url, secret=secret,
                                   database_url=url, deadline=args.deadline, split=args.split))
    if getattr(args, "json", False):
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print("\n".join(result.lines()))
    return 0 if result.errors == 0 and result.lost == 0 else 1


async def serve_stand_ins(slack_api_port: int) -> None:
    """The child process: start the stand-ins, print their addresses, run until stdin closes."""
    stand_ins = StandIns()
    await stand_ins.start(slack_api_port)
    print(json.dumps(asdict(stand_ins.addresses)), flush=True)
    try:
        await asyncio.to_thread(sys.stdin.read)  # EOF when the bench stops (or dies)
    finally:
        await stand_ins.stop()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--stand-ins":
        asyncio.run(serve_stand_ins(int(sys.argv[2])))
