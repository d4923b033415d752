"""`POST /api/messages`: botbuilder's CloudAdapter behind a body check of our own.

CloudAdapter.process() answers a missing Content-Type or broken JSON with a 500
and a traceback, so the endpoint reads and checks the body itself (415, 400,
413) and then hands the activity to `adapter.process_activity`, which is the
same call process() makes. Authentication is botbuilder's: with a
MicrosoftAppId every request must carry a valid Bot Framework token; without
one it is off, and the endpoint then only talks to Bot Connector services on
this machine (loopback clients, and a loopback serviceUrl), so an open port
cannot be used to make the coach post to arbitrary addresses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import ClientError, web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity

from bot.coach import Coach

from . import speedups
from .bot import CoachBot
from .installations import TeamInstallations
from .sender import TeamsSender
from .settings import TeamsSettings, is_disabled, is_loopback_host, is_loopback_url

log = logging.getLogger(__name__)

PATH = "/api/messages"
MAX_BODY_BYTES = 256 * 1024  # real activities are a few KB; Teams caps messages at ~28 KB


@dataclass
class TeamsRuntime:
    """What one mounted Teams endpoint shares: the adapter, the bot and the proactive sender."""

    settings: TeamsSettings
    adapter: CloudAdapter
    bot: CoachBot
    sender: TeamsSender


RUNTIME_KEY: web.AppKey[TeamsRuntime] = web.AppKey("teams_runtime", TeamsRuntime)


def make_adapter(settings: TeamsSettings) -> CloudAdapter:
    speedups.apply()
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(settings))


def build_runtime(coach: Coach, settings: TeamsSettings) -> TeamsRuntime:
    adapter = make_adapter(settings)
    installations = TeamInstallations(coach.engine)
    bot = CoachBot(coach, settings, installations)
    adapter.on_turn_error = bot.on_turn_error
    sender = TeamsSender(adapter, settings.app_id, coach=coach)
    return TeamsRuntime(settings, adapter, bot, sender)


def mount(app: web.Application, coach: Coach, env: Mapping[str, str]) -> str | None:
    """Add POST /api/messages. None only when Teams is turned off (COACH_TEAMS_ENABLED=false)."""
    if is_disabled(env):
        return None
    settings = TeamsSettings.from_env(env)
    runtime = build_runtime(coach, settings)
    app[RUNTIME_KEY] = runtime
    app.router.add_post(PATH, _handler(runtime))
    if settings.is_auth_off:
        log.warning(
            "Teams authentication is OFF (no MicrosoftAppId): %s accepts unsigned requests, so it "
            "only answers clients and Bot Connector services on this machine. Set MicrosoftAppId "
            "and MicrosoftAppPassword before exposing it.",
            PATH,
        )
    return f"Microsoft Teams: POST {PATH} ({settings.describe()})"


def sender_of(app: web.Application) -> TeamsSender | None:
    """The proactive sender of a mounted endpoint, for the outbox worker."""
    runtime = app.get(RUNTIME_KEY)
    return runtime.sender if runtime else None


def _handler(runtime: TeamsRuntime):  # type: ignore[no-untyped-def]
    async def messages(request: web.Request) -> web.StreamResponse:
        if runtime.settings.is_auth_off and not is_loopback_host(request.remote or ""):
            # Unauthenticated, the endpoint is for a Bot Framework client on this machine only.
            log.warning("teams: refused a request from another machine while authentication is off")
            return _problem(403, "authentication is off, so only clients on this machine may call this endpoint")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "send the activity as application/json")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _problem(413, "the activity is too large")
        try:
            body = await request.content.read(MAX_BODY_BYTES + 1)
        except (ConnectionError, ValueError):
            return _problem(400, "the body could not be read")
        if len(body) > MAX_BODY_BYTES:
            return _problem(413, "the activity is too large")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _problem(400, "the body is not JSON")
        if not isinstance(data, dict):
            return _problem(400, "the body must be a JSON object")
        problem = _shape_problem(data)
        if problem:
            return _problem(400, problem)
        try:
            activity = Activity().deserialize(data)
        except Exception:  # msrest's DeserializationError family, on any odd shape
            return _problem(400, "the body is not a Bot Framework activity")
        if not isinstance(activity.type, str) or not activity.type:
            return _problem(400, "the activity has no type")
        if not isinstance(activity.service_url, str) or not activity.service_url.startswith(("https://", "http://")):
            return _problem(400, "the activity has no serviceUrl")
        if runtime.settings.is_auth_off and not is_loopback_url(activity.service_url):
            log.warning("teams: refused an unauthenticated activity for a non-loopback service")
            return _problem(403, "authentication is off, so only a Bot Connector on this machine may be used")
        auth_header = request.headers.get("Authorization", "")
        try:
            # Authenticate first, so a bad token is a 401 whatever botbuilder raises for it.
            authenticated = await runtime.adapter.bot_framework_authentication.authenticate_request(
                activity, auth_header
            )
        except PermissionError:  # (an OSError, so it comes first)
            log.info("teams: refused a request without a valid token")
            return _problem(401, "a valid Bot Framework token is required")
        except (OSError, ClientError, asyncio.TimeoutError) as exc:
            log.warning("teams: could not check a token (%s)", type(exc).__name__)
            return _problem(503, "could not check the token just now")
        except Exception as exc:  # PermissionError, and jwt's own errors for malformed tokens
            log.info("teams: refused a request (%s)", type(exc).__name__)
            return _problem(401, "a valid Bot Framework token is required")
        response = await runtime.adapter.process_activity(authenticated, activity, runtime.bot.on_turn)
        if response is not None:
            body = response.body
            # serializer_helper only takes msrest models; plain dicts and lists go out as they are.
            payload = body if body is None or isinstance(body, (dict, list, str, int, float)) else serializer_helper(body)
            return web.json_response(payload, status=response.status)
        return web.Response(status=201)

    return messages


_TEXT_FIELDS = ("type", "id", "replyToId", "serviceUrl", "channelId", "name", "text", "locale")
_OBJECT_FIELDS = ("from", "recipient", "conversation")
_ID_FIELDS = ("id", "replyToId", "serviceUrl", "channelId")
# Bot Framework ids ("29:1a…", "19:…@thread.tacv2;messageid=…") are printable ASCII; they go into
# URLs and headers, where anything else breaks the connector client.
_ID = re.compile(r"[\x21-\x7e]{1,1024}")


def _shape_problem(data: dict[str, object]) -> str | None:
    """The few fields every activity must get right, checked before botbuilder sees them.

    msrest turns a number or an object in an id field into a string, which then
    ends up in a URL; Teams never sends such things, so they are refused here.
    """
    for key in _TEXT_FIELDS:
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"'{key}' must be a string"
    for key in _OBJECT_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            return f"'{key}' must be an object"
        if value.get("id") is not None and not (isinstance(value["id"], str) and _ID.fullmatch(value["id"])):
            return f"'{key}.id' must be a Bot Framework id"
    for key in _ID_FIELDS:
        if data.get(key) is not None and not _ID.fullmatch(str(data[key])):
            return f"'{key}' must be a Bot Framework id"
    return None


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
