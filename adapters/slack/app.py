"""The Slack wiring: a Bolt AsyncApp that acknowledges at once, then asks the coach.

Slack retries any request not acknowledged within 3 seconds, so every listener
acknowledges first and hands the turn to a background task; the coach's
synchronous core runs in a worker thread (`asyncio.to_thread`). Slack also
retries events it thinks were lost: a bounded cache of event ids drops repeats.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.coach import Coach
from bot.errors import ConfigError
from bot.messages import Incoming
from bot.replies import Reply, text_reply

from . import inbound, modal
from .render import SlackMessage, render_home, render_replies, render_reply
from .settings import SlackSettings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SHORTCUT_CALLBACK_ID = "check_with_coach"
DEDUPE_SIZE = 10_000
BROADCAST_WORDS = {"broadcast", "broadcast new", "broadcast send", "broadcast write"}
TURNS_AT_ONCE = 2
SUBMIT_WAIT = 2.5  # seconds: a modal submission must be answered within Slack's 3
SORRY = "Sorry, something went wrong on my side. Please try again."
NO_TEXT_TO_CHECK = text_reply(
    "That message has no text for me to check. Paste the words into a message to me instead."
)


class BackgroundTasks:
    """Work started after an acknowledgement: kept referenced, logged, and drained at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=f"slack:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except SlackApiError as exc:
            log.warning("slack %s failed: %s", name, exc.response.get("error", "unknown error"))
        except Exception:
            log.exception("slack %s failed", name)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for work already started (including work that starts more work)."""
        async def wait_all() -> None:
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

        await asyncio.wait_for(wait_all(), timeout)


class EventIds:
    """The most recent Events API ids, to recognise Slack's retries of handled events."""

    def __init__(self, size: int = DEDUPE_SIZE):
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def is_repeat(self, event_id: str) -> bool:
        """True if seen before; otherwise remember it and return False."""
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            return True
        self._seen[event_id] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return False


def web_client(settings: SlackSettings, token: str | None) -> AsyncWebClient:
    """A Web API client aimed at SLACK_API_URL; replies wait out a 429 rather than get lost."""
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackAdapter:
    """One Slack app: the Bolt listeners and the work they start."""

    def __init__(self, coach: Coach, settings: SlackSettings, **bolt_options: Any):
        self.coach = coach
        self.settings = settings
        self.tasks = BackgroundTasks()
        self.event_ids = EventIds()
        self._turns = asyncio.Semaphore(TURNS_AT_ONCE)
        self.installations: AsyncInstallationStore | None = None
        if settings.is_oauth:
            bolt_options.update(self._oauth_options())
            # Each request gets its workspace's token from the installation store.
            self.client = web_client(settings, None)
        else:
            self.client = web_client(settings, settings.bot_token)
        self.bolt = AsyncApp(
            name="councillor-coach",
            client=self.client,
            signing_secret=settings.signing_secret,
            logger=logging.getLogger("slack_bolt"),
            # Socket Mode requests arrive over an authenticated socket, unsigned.
            request_verification_enabled=not settings.socket_mode,
            **bolt_options,
        )
        self._register()
        if self.installations is not None:
            # app_uninstalled / tokens_revoked remove the workspace's installation.
            self.bolt.event("app_uninstalled")(self._on_uninstalled)
            self.bolt.event("tokens_revoked")(self._on_tokens_revoked)

    def _oauth_options(self) -> dict[str, Any]:
        from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

        from .manifest import BOT_SCOPES, INSTALL_PATH, OAUTH_REDIRECT_PATH
        from .tokens import DatabaseInstallations, DatabaseOAuthStates

        assert self.settings.client_id and self.settings.client_secret
        self.installations = DatabaseInstallations(self.settings.client_id, self.coach.engine)
        oauth = AsyncOAuthSettings(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scopes=sorted(BOT_SCOPES),
            user_scopes=[],
            install_path=INSTALL_PATH,
            redirect_uri_path=OAUTH_REDIRECT_PATH,
            installation_store=self.installations,
            installation_store_bot_only=True,
            state_store=DatabaseOAuthStates(self.coach.engine),
        )
        return {"oauth_settings": oauth, "installation_store": self.installations, "installation_store_bot_only": True}

    # -- turns ----------------------------------------------------------------
    async def turn(self, incoming: Incoming) -> list[Reply]:
        # The core is CPU-bound Python: more threads than this only take the GIL from
        # the event loop, and acknowledgements (which must beat Slack's 3 s) slow down.
        async with self._turns:
            return await asyncio.to_thread(self.coach.handle, incoming)

    def _register(self) -> None:
        bolt = self.bolt
        bolt.middleware(self._drop_repeated_events)
        bolt.event("message")(self._on_message)
        bolt.event("app_mention")(self._on_mention)
        bolt.event("app_home_opened")(self._on_home_opened)
        bolt.command(self.settings.command)(self._on_command)
        bolt.shortcut(SHORTCUT_CALLBACK_ID)(self._on_shortcut)
        bolt.block_action(re.compile(".*"))(self._on_block_action)
        bolt.view(modal.CALLBACK_ID)(self._on_broadcast_submitted)

    async def _drop_repeated_events(
        self, body: dict[str, Any], request: AsyncBoltRequest, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id and self.event_ids.is_repeat(event_id):
            retry = request.headers.get("x-slack-retry-num", ["0"])[0]
            log.info("ignored a repeat of event %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        await next()
        return None

    # -- listeners: each returns at once; the work runs after the acknowledgement --
    async def _on_message(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        incoming = inbound.from_direct_message(body)
        if incoming is not None:
            self.tasks.spawn(self._post_answer(client, incoming), "direct message")

    async def _on_mention(self, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]) -> None:
        incoming = inbound.from_mention(body, context.get("bot_user_id"))
        if incoming is not None:
            thread = incoming.extras.get("thread_ts") or None
            self.tasks.spawn(self._post_answer(client, incoming, thread_ts=thread), "mention")

    async def _on_home_opened(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        incoming = inbound.for_home(body)
        if incoming is not None:
            self.tasks.spawn(self._publish_home(client, incoming), "app home")

    async def _on_command(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incoming = inbound.from_command(body)
        if incoming is None:
            return
        trigger = body.get("trigger_id")
        if incoming.text.strip().lower() in BROADCAST_WORDS and isinstance(trigger, str):
            self.tasks.spawn(self._broadcast_or_answer(client, respond, incoming, trigger), "broadcast form")
        else:
            self.tasks.spawn(self._respond_answer(respond, incoming), "slash command")

    async def _on_shortcut(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incoming = inbound.from_message_shortcut(body)
        if incoming is not None:
            self.tasks.spawn(self._answer_shortcut(client, respond, incoming), "shortcut")

    async def _on_block_action(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incoming = inbound.from_block_action(body)
        if incoming is not None:
            self.tasks.spawn(self._answer_action(client, respond, body, incoming), "button")

    async def _on_uninstalled(self, context: dict[str, Any]) -> None:
        assert self.installations is not None
        work = self.installations.async_delete_all(enterprise_id=context.get("enterprise_id"), team_id=context.get("team_id"))
        self.tasks.spawn(work, "uninstall")

    async def _on_tokens_revoked(self, event: dict[str, Any], context: dict[str, Any]) -> None:
        assert self.installations is not None
        from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners

        handler = AsyncTokenRevocationListeners(self.installations)
        self.tasks.spawn(handler.handle_tokens_revoked_events(event, context), "tokens revoked")  # type: ignore[arg-type]

    async def _on_broadcast_submitted(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        assert isinstance(view, dict) and isinstance(user, dict)
        user_id = str(user.get("id", ""))
        work = asyncio.ensure_future(asyncio.to_thread(modal.submit, self.coach, user_id, modal.read_submission(view)))
        done, _ = await asyncio.wait({work}, timeout=SUBMIT_WAIT)
        if not done:
            # Slow database: close the form now (Slack allows 3 seconds) and report by DM.
            await ack()
            self.tasks.spawn(self._report_broadcast_later(client, user_id, work), "broadcast")
            return
        try:
            errors, next_view = work.result()
        except Exception:
            log.exception("broadcast form failed")
            await ack(response_action="errors", errors={"title": SORRY})
            return
        if errors:
            await ack(response_action="errors", errors=errors)
        else:
            await ack(response_action="update", view=next_view)

    async def _report_broadcast_later(
        self, client: AsyncWebClient, user_id: str, work: asyncio.Future[tuple[Any, Any]]
    ) -> None:
        errors, view = await work
        text = (
            "Your broadcast was not sent: " + "; ".join(errors.values())
            if errors
            else " ".join(b["text"]["text"] for b in view["blocks"])
        )
        channel = await open_direct_message(client, user_id)
        await client.chat_postMessage(channel=channel, text=text)

    async def _broadcast_or_answer(
        self, client: AsyncWebClient, respond: AsyncRespond, incoming: Incoming, trigger_id: str
    ) -> None:
        """`/coach broadcast` from an officer opens the form; from anyone else, the usual answer."""
        view = await asyncio.to_thread(self._compose_view_for, incoming.user_id)
        if view is None:
            await self._respond_answer(respond, incoming)
            return
        await client.views_open(trigger_id=trigger_id, view=view)

    def _compose_view_for(self, user_id: str) -> dict[str, Any] | None:
        service = self.coach.services.get("broadcasts")
        member = self.coach.members.find(inbound.PLATFORM, user_id)
        if service is None or member is None or not member.is_officer:
            return None
        return modal.compose_view(service.known_tags(), members=len(service.audience()))

    # -- work -----------------------------------------------------------------
    async def _post_answer(self, client: AsyncWebClient, incoming: Incoming, thread_ts: str | None = None) -> None:
        replies = await self.turn(incoming)
        await post_messages(client, incoming.conversation_id, render_replies(replies), thread_ts=thread_ts)

    async def _respond_answer(self, respond: AsyncRespond, incoming: Incoming) -> None:
        # Through the command's response_url: private to the person, and works in
        # channels the coach has not been invited to.
        replies = await self.turn(incoming)
        for message in render_replies(replies):
            await respond_message(respond, message, response_type="ephemeral")

    async def _answer_shortcut(self, client: AsyncWebClient, respond: AsyncRespond, incoming: Incoming) -> None:
        replies = [NO_TEXT_TO_CHECK] if not incoming.text else await self.turn(incoming)
        for message in render_replies(replies):
            try:
                await client.chat_postEphemeral(
                    channel=incoming.conversation_id, user=incoming.user_id, **message.payload()
                )
            except SlackApiError as exc:
                # Not in that channel (or a DM between other people): the shortcut's
                # response_url still reaches the person privately.
                log.info("ephemeral post refused (%s); answering through response_url", _error(exc))
                await respond_message(respond, message, response_type="ephemeral")

    async def _answer_action(
        self, client: AsyncWebClient, respond: AsyncRespond, body: dict[str, Any], incoming: Incoming
    ) -> None:
        replies = await self.turn(incoming)
        container = body.get("container") if isinstance(body.get("container"), dict) else {}
        assert isinstance(container, dict)
        if container.get("type") == "view":
            # A button on the App Home: answer in the DM, then refresh the Home tab.
            channel = await open_direct_message(client, incoming.user_id)
            await post_messages(client, channel, render_replies(replies))
            await self._publish_home(client, incoming)
            return
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        assert isinstance(message, dict)
        thread_ts = message.get("thread_ts") if isinstance(message.get("thread_ts"), str) else None
        is_ephemeral = bool(container.get("is_ephemeral"))
        channel = incoming.conversation_id
        message_ts = container.get("message_ts")
        replaced = False
        for reply in replies:
            messages = render_reply(reply)
            if reply.replaces_prompt and not replaced:
                replaced = True
                first, messages = messages[0], messages[1:]
                # Updating the pressed message removes its buttons, so nobody can answer twice.
                if is_ephemeral or not (channel and isinstance(message_ts, str)):
                    await respond_message(respond, first, replace_original=True)
                else:
                    await client.chat_update(channel=channel, ts=message_ts, **first.payload())
            if is_ephemeral or not channel:
                for m in messages:
                    await respond_message(respond, m, response_type="ephemeral")
            else:
                await post_messages(client, channel, messages, thread_ts=thread_ts)

    async def _publish_home(self, client: AsyncWebClient, incoming: Incoming) -> None:
        home = Incoming(platform=incoming.platform, user_id=incoming.user_id, workspace=incoming.workspace)
        async with self._turns:
            replies = await asyncio.to_thread(self.coach.home, home)
        await client.views_publish(user_id=incoming.user_id, view=render_home(replies))

    # -- HTTP -------------------------------------------------------------------
    async def handle_http(self, request: web.Request) -> web.Response:
        """POST /slack/events: Bolt verifies the signature and dispatches."""
        raw = await request.read()
        if not request.headers.get("X-Slack-Request-Timestamp", "0").strip().isdigit():
            # Bolt's verification would fail on a non-numeric timestamp with a 500; it is simply unsigned.
            return web.Response(status=401, text="bad request")
        try:
            text = raw.decode("utf-8")
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
            usable = isinstance(bolt_request.body, dict) and inbound.is_well_formed(bolt_request.body)
        except Exception:  # a body Bolt cannot even parse
            usable = False
        if not usable:
            return web.Response(status=401 if not self._is_signed(raw, request) else 400, text="bad request")
        response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    def _is_signed(self, raw: bytes, request: web.Request) -> bool:
        if not self.settings.signing_secret:
            return False
        try:  # the verifier decodes the body as UTF-8: other bytes are simply not a signed Slack request
            return SignatureVerifier(self.settings.signing_secret).is_valid_request(raw, dict(request.headers))
        except (UnicodeDecodeError, ValueError):
            return False

    async def handle_oauth(self, request: web.Request) -> web.Response:
        """GET /slack/install and the OAuth redirect: Bolt's installation flow."""
        flow = self.bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
        if request.path == flow.install_path:
            response = await flow.handle_installation(bolt_request)
        else:
            response = await flow.handle_callback(bolt_request)
        return await to_aiohttp_response(response)


# -- sending helpers shared by the listeners ----------------------------------------
async def post_messages(
    client: AsyncWebClient, channel: str, messages: list[SlackMessage], *, thread_ts: str | None = None
) -> None:
    for message in messages:
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        await client.chat_postMessage(channel=channel, **message.payload(), **extra)


async def respond_message(respond: AsyncRespond, message: SlackMessage, **options: Any) -> None:
    if respond.response_url is None:
        log.warning("no response_url to answer through")
        return
    result = await respond(text=message.text, blocks=list(message.blocks), **options)
    if result.status_code >= 300:
        log.warning("response_url answered HTTP %s", result.status_code)


async def open_direct_message(client: AsyncWebClient, user_id: str) -> str:
    opened = await client.conversations_open(users=user_id)
    channel = opened.get("channel") or {}
    return str(channel.get("id", ""))


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown error"))


SLACK_ADAPTER_KEY: web.AppKey[SlackAdapter] = web.AppKey("slack_adapter", SlackAdapter)


def build_adapter(coach: Coach, settings: SlackSettings) -> SlackAdapter:
    return SlackAdapter(coach, settings)


def build_bolt_app(coach: Coach, settings: SlackSettings) -> AsyncApp:
    """The Bolt app alone, for tests and for embedding elsewhere."""
    return build_adapter(coach, settings).bolt


def quiet_sdk_debug_logs() -> None:
    """slack_sdk and Bolt print whole request bodies at DEBUG; the coach never logs message text."""
    for name in ("slack_sdk", "slack_bolt"):
        sdk_log = logging.getLogger(name)
        if sdk_log.getEffectiveLevel() < logging.INFO:
            sdk_log.setLevel(logging.INFO)


def mount(app: web.Application, coach: Coach, env: Mapping[str, str]) -> str | None:
    """Add Slack to the server, or return None when Slack is not configured."""
    settings = SlackSettings.from_env(env)
    if settings is None:
        return None
    quiet_sdk_debug_logs()
    adapter = build_adapter(coach, settings)
    app[SLACK_ADAPTER_KEY] = adapter

    async def drain(_: web.Application) -> None:
        try:
            await adapter.tasks.drain(timeout=10)
        except asyncio.TimeoutError:
            log.warning("stopped with %s Slack replies unfinished", adapter.tasks.pending)

    app.on_shutdown.append(drain)
    if settings.socket_mode:
        return _mount_socket_mode(app, adapter)
    app.router.add_post(EVENTS_PATH, adapter.handle_http)
    flow = adapter.bolt.oauth_flow
    if flow is not None:
        app.router.add_get(flow.install_path, adapter.handle_oauth)
        app.router.add_get(flow.redirect_uri_path, adapter.handle_oauth)
        return (
            f"slack: events, commands and buttons at POST {EVENTS_PATH}; "
            f"workspaces install at GET {flow.install_path} (HTTP mode, many workspaces)"
        )
    return f"slack: events, commands and buttons at POST {EVENTS_PATH} (HTTP mode)"


def _mount_socket_mode(app: web.Application, adapter: SlackAdapter) -> str:
    """Socket Mode: the coach dials out to Slack, for councils that cannot expose a URL."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    assert adapter.settings.app_token
    handler = AsyncSocketModeHandler(adapter.bolt, adapter.settings.app_token, web_client=adapter.client)

    async def connect(_: web.Application) -> None:
        try:
            await handler.connect_async()
        except SlackApiError as exc:
            raise ConfigError(f"Slack refused the Socket Mode connection: {_error(exc)} (check SLACK_APP_TOKEN)") from None

    async def close(_: web.Application) -> None:
        await handler.close_async()

    app.on_startup.append(connect)
    app.on_shutdown.insert(0, close)  # stop taking new work before draining what was started
    return "slack: Socket Mode (connected out to Slack; no public URL needed)"
