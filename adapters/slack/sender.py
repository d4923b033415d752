"""Proactive Slack messages (reminders, broadcasts): a DM per person, paced within Slack's limits.

Slack allows about one message a second per channel, with short bursts, and
answers HTTP 429 with Retry-After when an app goes faster. The sender paces
itself (aiolimiter: per channel and overall), waits out a 429 before its next
call, and reports the 429 to the outbox as a rate-limited retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from aiolimiter import AsyncLimiter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import Delivery, SendOutcome

from .inbound import is_direct_channel, parse_route
from .render import render_reply
from .settings import SlackSettings

log = logging.getLogger(__name__)

# The person cannot be reached on Slack any more: retrying will not help, and
# the member is marked unreachable until they write to the coach again.
UNREACHABLE = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "user_not_visible",
        "user_disabled",
        "account_inactive",  # the account (or, for a bot token, the workspace) was deactivated
        "token_revoked",  # the workspace uninstalled the coach
        "team_access_not_granted",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
    }
)

# Our fault, not the person's: the app's configuration or this message. Retrying
# the same call cannot succeed, but the member must not be written off either,
# because fixing the app (e.g. adding a scope) makes them reachable again. The
# row is marked failed, where officers see it and can re-send it.
PERMANENT = frozenset(
    {
        "missing_scope",
        "not_authed",
        "invalid_auth",
        "no_permission",
        "restricted_action",
        "messages_tab_disabled",
        "not_allowed_token_type",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "invalid_arguments",
        "too_many_attachments",
    }
)

CACHE_SIZE = 10_000


class TokenSource(Protocol):
    async def token_for(self, team_id: str, enterprise_id: str | None) -> str | None:
        """The bot token for a workspace, or None when the coach is not installed there."""
        ...


class StaticToken:
    """One workspace, one bot token."""

    def __init__(self, token: str):
        self.token = token

    async def token_for(self, team_id: str, enterprise_id: str | None) -> str | None:
        return self.token


def _limiter(rate_per_second: float) -> AsyncLimiter:
    # aiolimiter allows max_rate per time_period; below 1 a second, stretch the period instead.
    return AsyncLimiter(rate_per_second, 1) if rate_per_second >= 1 else AsyncLimiter(1, 1 / rate_per_second)


class _Bounded(OrderedDict[str, Any]):
    def remember(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > CACHE_SIZE:
            self.popitem(last=False)


class SlackSender:
    """bot.ports.Sender for Slack."""

    platform = "slack"

    def __init__(
        self,
        settings: SlackSettings,
        tokens: TokenSource | None = None,
        *,
        per_channel_rate: float = 1.0,
    ):
        if tokens is None:
            if not settings.bot_token:
                raise ValueError("a bot token or a token source is needed")
            tokens = StaticToken(settings.bot_token)
        self.settings = settings
        self.tokens = tokens
        self.per_channel_rate = per_channel_rate
        self.overall = _limiter(settings.rate_per_second)
        self._channels: _Bounded = _Bounded()  # channel -> its own limiter
        self._direct: _Bounded = _Bounded()  # team:user -> DM channel id
        self._parts_sent: _Bounded = _Bounded()  # idempotency key -> messages already posted
        self._clients: dict[str, AsyncWebClient] = {}
        self._paused_until = 0.0

    async def send(self, delivery: Delivery) -> SendOutcome:
        route = parse_route(delivery.route)
        team, enterprise = route.get("team", ""), route.get("enterprise") or None
        try:
            token = await self.tokens.token_for(team, enterprise)
            if not token:
                return SendOutcome.unreachable(f"the coach is not installed in Slack workspace {team or '?'}")
            client = self._client(token)
            channel = await self._channel_for(client, delivery, route)
            messages = render_reply(delivery.reply)
            done = int(self._parts_sent.get(delivery.idempotency_key, 0))
            for index in range(done, len(messages)):
                await self._pace(channel)
                await client.chat_postMessage(channel=channel, **messages[index].payload())
                # A long reply is several messages: a retry after a 429 on part 2
                # must not post part 1 again.
                self._parts_sent.remember(delivery.idempotency_key, index + 1)
            self._parts_sent.pop(delivery.idempotency_key, None)
            return SendOutcome.sent()
        except SlackApiError as exc:
            return self._outcome(exc, delivery)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # network trouble, timeouts, a 5xx page that is not JSON
            log.info("slack send for outbox row %s failed: %s", delivery.outbox_id, type(exc).__name__)
            return SendOutcome.retry(f"{type(exc).__name__} talking to Slack")

    async def _channel_for(self, client: AsyncWebClient, delivery: Delivery, route: Mapping[str, str]) -> str:
        for candidate in (delivery.conversation_id, route.get("channel", "")):
            if candidate and is_direct_channel(candidate):
                return candidate
        key = f"{route.get('team', '')}:{delivery.user_id}"
        cached = self._direct.get(key)
        if cached:
            return str(cached)
        await self._pace(None)
        opened = await client.conversations_open(users=delivery.user_id)
        channel = str((opened.get("channel") or {}).get("id", ""))
        if not channel:
            raise SlackApiError("conversations.open returned no channel", {"ok": False, "error": "channel_not_found"})
        self._direct.remember(key, channel)
        return channel

    async def _pace(self, channel: str | None) -> None:
        wait = self._paused_until - time.monotonic()
        if wait > 0:  # Slack asked us to slow down: nobody calls until the pause is over
            await asyncio.sleep(wait)
        if channel is not None:
            limiter = self._channels.get(channel)
            if limiter is None:
                limiter = _limiter(self.per_channel_rate)
            self._channels.remember(channel, limiter)
            await limiter.acquire()
        await self.overall.acquire()

    def _outcome(self, exc: SlackApiError, delivery: Delivery) -> SendOutcome:
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        error = str(_get(response, "error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            retry_after = _retry_after(response)
            self._paused_until = max(self._paused_until, time.monotonic() + retry_after)
            log.info("slack rate limit: pausing %.1fs (outbox row %s)", retry_after, delivery.outbox_id)
            return SendOutcome.retry("rate limited by Slack", retry_after, rate_limited=True)
        if error in UNREACHABLE:
            return SendOutcome.unreachable(f"slack: {error}")
        if error in PERMANENT:
            needed = _get(response, "needed")
            detail = f"slack: {error}" + (f" (the app needs the {needed} scope)" if needed else "")
            log.error("slack refused outbox row %s: %s", delivery.outbox_id, detail)
            return SendOutcome.failed(detail)
        return SendOutcome.retry(f"slack: {error}")

    def _client(self, token: str) -> AsyncWebClient:
        client = self._clients.get(token)
        if client is None:
            # No built-in retries: the sender reports 429s and network trouble to the
            # outbox, which reschedules the row without holding a worker slot.
            client = AsyncWebClient(token=token, base_url=self.settings.api_url, timeout=20, retry_handlers=[])
            self._clients[token] = client
        return client


def _get(response: Any, key: str) -> Any:
    try:
        return response.get(key)
    except Exception:  # a response whose body was not JSON
        return None


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    for name, value in dict(headers).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value if not isinstance(value, list) else value[0]))
            except (TypeError, ValueError):
                break
    return 1.0


def sender_from_env(env: Mapping[str, str]) -> SlackSender | None:
    """The Slack sender when Slack is configured (used by `coach worker` and `coach serve`)."""
    settings = SlackSettings.from_env(env)
    if settings is None:
        return None
    if not settings.is_oauth:
        return SlackSender(settings) if settings.bot_token else None
    # Many workspaces: each person's token comes from their workspace's installation.
    from bot.config import Settings
    from bot.storage.database import make_engine

    from .tokens import DatabaseInstallations, InstalledTokens

    assert settings.client_id
    engine = make_engine(Settings.from_env(env).database_url)
    return SlackSender(settings, InstalledTokens(DatabaseInstallations(settings.client_id, engine)))
