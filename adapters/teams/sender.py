"""Proactive Teams messages: continue a stored conversation (or open a personal one).

Pacing follows the Bot Framework limits for Teams: per bot per conversation
7 messages a second, 8 in 2 s, 60 in 30 s and 1,800 an hour; per app per
tenant 50 requests a second in all. We stay well inside them (a burst of 3 then
1 a second per conversation, 30 a second overall, leaving room for live
replies). A 429 is reported as a rate-limited retry and pauses every send for
its Retry-After: a short pause is waited out in place, a long one is reported
to the outbox as a retry so the worker is not held; 403 and 404 mean the member cannot be reached (app
uninstalled or blocked, member left, conversation gone) and are not retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone

from aiolimiter import AsyncLimiter
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationAccount, ConversationParameters, ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.coach import Coach
from bot.ports import Delivery, SendOutcome

from . import inbound, render
from .bot import http_status, send_reply
from .settings import TeamsSettings, is_disabled, is_loopback_url

log = logging.getLogger(__name__)

GLOBAL_PER_SECOND = 30.0
CONVERSATION_LIMITS = ((3.0, 3.0), (1800.0, 3600.0))  # (messages, seconds): burst 3 then 1/s; hourly cap
DEFAULT_RETRY_AFTER = 5.0
MAX_TRACKED_CONVERSATIONS = 5_000
SEND_TIMEOUT_SECONDS = 30
MAX_INLINE_WAIT = 10.0  # seconds of a 429 pause a send waits out rather than handing back to the outbox


def sender_from_env(env: Mapping[str, str], coach: Coach | None = None) -> TeamsSender | None:
    """The outbox's Teams sender, unless Teams is turned off (COACH_TEAMS_ENABLED=false)."""
    if is_disabled(env):
        return None
    from .server import make_adapter  # the server module imports this one

    settings = TeamsSettings.from_env(env)
    return TeamsSender(make_adapter(settings), settings.app_id, coach=coach)


class TeamsSender:
    """bot.ports.Sender for Teams."""

    platform = "teams"

    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        *,
        coach: Coach | None = None,
        global_per_second: float = GLOBAL_PER_SECOND,
        conversation_limits: tuple[tuple[float, float], ...] = CONVERSATION_LIMITS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait: float = MAX_INLINE_WAIT,
    ):
        self.adapter = adapter
        self.app_id = app_id
        self.coach = coach  # to keep the address of a personal chat the sender opened
        self._global = AsyncLimiter(global_per_second, 1.0)
        self._conversation_limits = conversation_limits
        self._limiters: OrderedDict[str, list[AsyncLimiter]] = OrderedDict()
        self._monotonic = monotonic
        self._sleep = sleep
        self._max_wait = max_wait
        self._paused_until = 0.0
        self._parts_done: OrderedDict[str, int] = OrderedDict()  # idempotency key -> parts already posted

    async def send(self, delivery: Delivery) -> SendOutcome:
        if not delivery.route:
            return SendOutcome.unreachable("no Teams address stored: the member has not talked to the coach in Teams")
        try:
            reference = inbound.from_json(delivery.route)
        except ValueError as exc:
            return SendOutcome.failed(str(exc))
        if not self.app_id and not is_loopback_url(reference.service_url or ""):
            # Without credentials Teams would refuse us; the operator can fix the settings and the row waits.
            return SendOutcome.retry("Teams authentication is off (no MicrosoftAppId), so Teams cannot be reached")
        pause = self._paused_until - self._monotonic()
        if pause > self._max_wait:
            return SendOutcome.retry("Teams asked us to slow down (429)", retry_after=pause, rate_limited=True)
        if pause > 0:
            await self._sleep(pause)
        conversation_id = reference.conversation.id or ""
        if not conversation_id and (reference.user is None or not reference.user.id):
            return SendOutcome.failed("the stored address has neither a conversation nor a member")
        await self._pace(conversation_id or f"new:{getattr(reference.user, 'id', '')}")
        try:
            if conversation_id:
                await self._continue(reference, delivery)
            else:
                await self._open_personal_chat(reference, delivery)
        except HttpOperationError as exc:
            return self._outcome_of(exc)
        except (ClientRequestError, OSError, asyncio.TimeoutError) as exc:
            return SendOutcome.retry(f"could not reach Teams ({type(exc).__name__})")
        except Exception as exc:  # a sender reports, it does not raise
            log.exception("teams: proactive send failed")
            return SendOutcome.retry(f"unexpected error ({type(exc).__name__})")
        return SendOutcome.sent()

    # -- sending -------------------------------------------------------------------
    async def _continue(self, reference: ConversationReference, delivery: Delivery) -> None:
        failures: list[BaseException] = []

        async def post(turn_context: TurnContext) -> None:
            # Errors are carried out of the turn by hand: the adapter's turn-error handler
            # would otherwise swallow them (and try to apologise to the member).
            try:
                _no_client_retries(turn_context)
                await self._post(turn_context, delivery)
            except Exception as exc:
                failures.append(exc)

        await self.adapter.continue_conversation(reference, post, bot_app_id=self.app_id)
        if failures:
            raise failures[0]

    async def _open_personal_chat(self, seed: ConversationReference, delivery: Delivery) -> None:
        """First message to a member met only in a channel or a roster: open a 1:1 chat."""
        tenant = seed.conversation.tenant_id if seed.conversation else None
        parameters = ConversationParameters(
            is_group=False,
            bot=seed.bot,
            members=[seed.user],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        failures: list[BaseException] = []
        opened: list[ConversationReference] = []

        async def post(turn_context: TurnContext) -> None:
            try:
                _no_client_retries(turn_context)
                opened.append(
                    ConversationReference(
                        user=seed.user,
                        bot=seed.bot,
                        conversation=ConversationAccount(
                            id=turn_context.activity.conversation.id, conversation_type="personal", tenant_id=tenant
                        ),
                        channel_id=seed.channel_id,
                        service_url=seed.service_url,
                    )
                )
                await self._post(turn_context, delivery)
            except Exception as exc:
                failures.append(exc)

        await self.adapter.create_conversation(
            self.app_id, post, parameters, channel_id=seed.channel_id or "msteams", service_url=seed.service_url
        )
        if opened and self.coach is not None:
            await asyncio.to_thread(self._keep, delivery.user_id, opened[0])
        if failures:
            raise failures[0]

    async def _post(self, turn_context: TurnContext, delivery: Delivery) -> None:
        """Post the reply's messages, skipping any a failed earlier try already delivered.

        A long reply is several messages; after a 429 half-way, the retry resumes at the
        first part not yet delivered instead of repeating the ones members already have.
        """
        reply = delivery.reply
        outgoing = render.activities(reply, use_cards=render.supports_cards(turn_context.activity.channel_id))
        done = self._parts_done.get(delivery.idempotency_key, 0)
        for index in range(done, len(outgoing)):
            if len(outgoing) > 1:
                self._parts_done[delivery.idempotency_key] = index
            if await send_reply(turn_context, reply, [outgoing[index]]):
                break  # Teams refused the card and the whole reply went as plain text
        self._parts_done.pop(delivery.idempotency_key, None)
        while len(self._parts_done) > MAX_TRACKED_CONVERSATIONS:
            self._parts_done.popitem(last=False)

    def _keep(self, user_id: str, reference: ConversationReference) -> None:
        assert self.coach is not None
        member = self.coach.members.find(inbound.PLATFORM, user_id)
        if member is not None:
            self.coach.refs.save(
                member.id, inbound.PLATFORM, reference.conversation.id, inbound.to_json(reference), self.coach.clock.now()
            )

    # -- pacing and outcomes ---------------------------------------------------------
    async def _pace(self, key: str) -> None:
        limiters = self._limiters.get(key)
        if limiters is None:
            limiters = [AsyncLimiter(rate, period) for rate, period in self._conversation_limits]
            self._limiters[key] = limiters
            while len(self._limiters) > MAX_TRACKED_CONVERSATIONS:
                self._limiters.popitem(last=False)
        else:
            self._limiters.move_to_end(key)
        for limiter in limiters:
            await limiter.acquire()
        await self._global.acquire()

    def _outcome_of(self, exc: HttpOperationError) -> SendOutcome:
        status = http_status(exc)
        code = _error_code(exc)
        detail = f"{status}{' ' + code if code else ''}"
        if status == 429:
            given = retry_after_seconds(exc)
            wait = DEFAULT_RETRY_AFTER if given is None else given
            self._paused_until = max(self._paused_until, self._monotonic() + wait)
            log.info("teams: rate limited; pausing %.1fs", wait)
            return SendOutcome.retry(f"Teams rate limit ({detail})", retry_after=wait, rate_limited=True)
        if status == 403:
            return SendOutcome.unreachable(
                f"Teams refused ({detail}): the app was uninstalled or blocked, or the member has left"
            )
        if status == 404:
            return SendOutcome.unreachable(f"conversation not found ({detail}): the chat or the member is gone")
        if status == 401:
            return SendOutcome.retry(f"Teams rejected our credentials ({detail}): check MicrosoftAppId and MicrosoftAppPassword")
        if status in (400, 413):
            return SendOutcome.failed(f"Teams rejected the message ({detail})")
        return SendOutcome.retry(f"Teams error ({detail})")


def _no_client_retries(turn_context: TurnContext) -> None:
    """The outbox owns retries (with backoff and Retry-After); the connector client's own
    (three more tries, backing off up to 90 s) would only hold the worker up."""
    client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    config = getattr(client, "config", None)
    if config is not None:
        config.retry_policy.retries = 0
        config.connection.timeout = SEND_TIMEOUT_SECONDS


def retry_after_seconds(exc: BaseException) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _error_code(exc: HttpOperationError) -> str:
    code = getattr(getattr(getattr(exc, "error", None), "error", None), "code", None)
    return code if isinstance(code, str) else ""

