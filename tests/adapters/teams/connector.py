"""A stand-in for the Bot Connector service on 127.0.0.1, port 0.

It records every call the real botbuilder connector client makes (replies,
new messages, card updates, new conversations, roster pages) and can be told
to answer the next matching calls with an error, e.g. 429 with Retry-After or
403 ConversationBlockedByUser.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    path: str
    conversation_id: str
    activity_id: str | None
    body: Any
    headers: dict[str, str]
    status: int = 200
    response_id: str = ""  # the id the service gave a posted message (what Teams later sends as replyToId)

    @property
    def cards(self) -> list[dict[str, Any]]:
        attachments = (self.body or {}).get("attachments") or []
        return [a["content"] for a in attachments if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]

    @property
    def card(self) -> dict[str, Any]:
        (card,) = self.cards
        return card


@dataclass
class Failure:
    status: int
    match: Callable[[Call], bool]
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    code: str = ""


class StandInConnector:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.roster: dict[str, list[dict[str, Any]]] = {}  # conversation/team id -> members
        self.page_size = 2
        self._ids = itertools.count(1)
        self.runner: web.AppRunner | None = None
        self.url = ""

    # -- scripting ---------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        match: Callable[[Call], bool] = lambda call: True,
        retry_after: str | None = None,
        code: str = "",
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.append(Failure(status, match, times, headers, code))

    # -- what happened ------------------------------------------------------------
    def sent(self) -> list[Call]:
        """Successful message posts (new messages and replies), in order."""
        return [c for c in self.calls if c.method == "POST" and "/activities" in c.path and c.status < 300]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT" and c.status < 300]

    def sent_to(self, conversation_id: str) -> list[Call]:
        return [c for c in self.sent() if c.conversation_id == conversation_id]

    # -- the server -----------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._paged_members)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _record(self, request: web.Request) -> tuple[Call, web.Response | None]:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        call = Call(
            method=request.method,
            path=request.path,
            conversation_id=request.match_info.get("cid", ""),
            activity_id=request.match_info.get("aid"),
            body=body,
            headers=dict(request.headers),
        )
        self.calls.append(call)
        for failure in self.failures:
            if failure.times > 0 and failure.match(call):
                failure.times -= 1
                call.status = failure.status
                error = {"error": {"code": failure.code or f"E{failure.status}", "message": "scripted failure"}}
                return call, web.json_response(error, status=failure.status, headers=failure.headers)
        return call, None

    async def _activity(self, request: web.Request) -> web.Response:
        call, failure = await self._record(request)
        if failure is not None:
            return failure
        if request.method == "PUT":
            return web.json_response({"id": call.activity_id})
        call.response_id = f"activity-{next(self._ids)}"
        return web.json_response({"id": call.response_id}, status=201)

    async def _create(self, request: web.Request) -> web.Response:
        call, failure = await self._record(request)
        if failure is not None:
            return failure
        user = ((call.body or {}).get("members") or [{}])[0].get("id", "someone")
        return web.json_response({"id": f"a:personal-{user}", "activityId": f"created-{next(self._ids)}"}, status=201)

    async def _paged_members(self, request: web.Request) -> web.Response:
        call, failure = await self._record(request)
        if failure is not None:
            return failure
        members = self.roster.get(call.conversation_id, [])
        start = int(request.query.get("continuationToken") or 0)
        size = min(int(request.query.get("pageSize") or self.page_size), self.page_size)  # the service's own cap
        page = members[start : start + size]
        token = str(start + size) if start + size < len(members) else None
        body: dict[str, Any] = {"members": page}
        if token:
            body["continuationToken"] = token
        return web.json_response(body)
