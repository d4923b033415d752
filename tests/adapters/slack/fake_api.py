"""A stand-in for the Slack Web API on loopback: records every call, answers like Slack.

The real slack_sdk client talks to it over HTTP (SLACK_API_URL), so the client's
own request building, error handling and 429 behaviour are exercised. It also
serves response_url endpoints for slash commands, shortcuts and buttons.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

Answer = tuple[int, dict[str, Any], dict[str, str]]
Script = Callable[["ApiCall"], "Answer | None"]

BOT_USER_ID = "UBOTCOACH"
TEAM_ID = "T0COUNCIL"


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)
    answer: dict[str, Any] = field(default_factory=dict, compare=False)  # what the stand-in replied

    def blocks(self) -> list[dict[str, Any]]:
        raw = self.params.get("blocks")
        if isinstance(raw, str):
            raw = json.loads(raw)
        return list(raw or [])


class FakeSlackApi:
    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._queued: dict[str, list[Answer]] = {}
        self.scripts: list[Script] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._ts = 0
        self.base = ""
        self.members: dict[str, list[str]] = {}  # channel -> member ids, for conversations.members
        self.users: dict[str, dict[str, Any]] = {}  # user id -> users.info "user"
        self.channels: list[dict[str, Any]] = []  # for conversations.list
        self.sockets: list[web.WebSocketResponse] = []  # Socket Mode connections
        self.socket_replies: list[dict[str, Any]] = []  # what the app sent back over them

    # -- lifecycle --------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)  # slack_sdk GETs a few methods
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """What SLACK_API_URL should be."""
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base}/respond/{key}"

    # -- scripting --------------------------------------------------------------
    def queue(self, method: str, *answers: Answer) -> None:
        """Answer the next calls to `method` with these (status, body, headers), in order."""
        self._queued.setdefault(method, []).extend(answers)

    def fail(self, method: str, error: str, times: int = 1) -> None:
        self.queue(method, *[(200, {"ok": False, "error": error}, {})] * times)

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        self.queue(
            method,
            *[(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})] * times,
        )

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the most recent connection."""
        await self.sockets[-1].send_json(envelope)

    async def wait_for_socket(self, timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: bool(self.sockets)), timeout)

    async def wait_for_socket_reply(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((r for r in self.socket_replies if r.get("envelope_id") == envelope_id), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        reply = found()
        assert reply is not None
        return reply

    # -- inspection -------------------------------------------------------------
    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.calls_to(method)) >= count), timeout
            )
        return self.calls_to(method)

    # -- handlers ---------------------------------------------------------------
    async def _record(self, call: ApiCall) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            if request.content_type == "application/json":
                params.update(json.loads(raw))
            else:
                params.update(dict(parse_qsl(raw, keep_blank_values=True)))
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        auth = request.headers.get("Authorization", "")
        params = await self._params(request)
        token = auth.removeprefix("Bearer ") if auth else params.get("token")
        call = ApiCall(method, params, token)
        await self._record(call)
        answer: Answer | None = None
        for script in self.scripts:
            answer = script(call)
            if answer is not None:
                break
        if answer is None and self._queued.get(method):
            answer = self._queued[method].pop(0)
        if answer is None:
            answer = (200, self._default(call), {})
        status, body, headers = answer
        call.answer.update(body)
        return web.json_response(body, status=status, headers=headers)

    async def _respond(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        await self._record(ApiCall("response_url", {"key": request.match_info["key"], **params}, None))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        async with self._changed:
            self.sockets.append(ws)
            self._changed.notify_all()
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                async with self._changed:
                    self.socket_replies.append(json.loads(message.data))
                    self._changed.notify_all()
        return ws

    def _next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts:06d}"

    def _default(self, call: ApiCall) -> dict[str, Any]:
        p = call.params
        if call.method == "auth.test":
            return {"ok": True, "user_id": BOT_USER_ID, "bot_id": "BCOACH", "team_id": TEAM_ID, "team": "Anytown"}
        if call.method == "apps.connections.open":
            return {"ok": True, "url": self.base.replace("http://", "ws://") + "/socket"}
        if call.method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(p.get("users", "X")).lstrip("U")}}
        if call.method in ("chat.postMessage", "chat.update"):
            return {"ok": True, "channel": p.get("channel"), "ts": p.get("ts") or self._next_ts()}
        if call.method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if call.method in ("views.publish", "views.open", "views.update"):
            return {"ok": True, "view": {"id": "V123"}}
        if call.method == "conversations.members":
            members = self.members.get(str(p.get("channel")), [])
            start = int(p.get("cursor") or 0)
            limit = int(p.get("limit") or 100)
            page = members[start : start + limit]
            more = start + limit < len(members)
            return {
                "ok": True,
                "members": page,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        if call.method == "conversations.list":
            return {"ok": True, "channels": self.channels, "response_metadata": {"next_cursor": ""}}
        if call.method == "conversations.info":
            found = [c for c in self.channels if c["id"] == p.get("channel")]
            return {"ok": True, "channel": found[0]} if found else {"ok": False, "error": "channel_not_found"}
        if call.method == "users.info":
            user = self.users.get(str(p.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        return {"ok": True}
