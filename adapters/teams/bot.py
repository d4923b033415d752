"""The Teams bot: activities in, the coach's replies out as Adaptive Cards.

- Personal chat: every message is a turn.
- Channels and group chats: only messages that @mention the coach (Teams sends
  no others unless the app asks for them); the mention is stripped and the
  reply goes in the same thread.
- Card buttons (Action.Submit) come back as a message whose `value` carries the
  action and value; a reply that `replaces_prompt` updates that card in place.
- Install (conversationUpdate adding the bot): the address is stored and a
  short welcome sent.

Addresses: a personal chat's reference is the member's own address and the core
stores it. A channel reference is not (a reminder must not land in a channel);
instead a member first met in a channel gets a "seed" address from which the
sender opens a personal chat, and the team's own reference is kept for roster
sync.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from msrest.exceptions import HttpOperationError

from bot.coach import Coach
from bot.messages import Incoming
from bot.replies import Heading, Paragraph, Reply

from . import inbound, render
from .installations import TeamInstallations
from .settings import TeamsSettings

log = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, something went wrong on my side and I could not answer that. "
    "Please try again; if it keeps happening, tell your council's digital team."
)


def welcome(scope: str) -> Reply:
    """The short hello sent when the coach is added to a chat or a team."""
    parts: list[Any] = [
        Heading("Hello, I'm Councillor Coach"),
        Paragraph(
            "Paste a draft post and I will tell you whether it is ok to post, what to watch and a "
            "safer way to say it. Ask me anything about social media and the rules. "
            "Type 'help' to see everything I can do."
        ),
    ]
    if scope != "personal":
        parts.append(
            Paragraph(
                "Here, mention me (@Councillor Coach) with your draft or question, and I will answer "
                "in the thread where everyone can see it. For anything private, message me in a personal chat."
            )
        )
    parts.append(Paragraph("I never store the text of your drafts or questions."))
    return Reply(summary="Hello from Councillor Coach", parts=tuple(parts), kind="welcome")


def http_status(error: BaseException) -> int | None:
    """The HTTP status of a failed Bot Connector call, if it was one."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else None


async def send_reply(turn_context: TurnContext, reply: Reply, outgoing: list[Activity] | None = None) -> bool:
    """Post a reply's activities; if Teams refuses a card, post the whole reply as plain text instead.

    Returns True when it fell back to plain text (so nothing more of this reply should follow).
    """
    if outgoing is None:
        outgoing = render.activities(reply, use_cards=render.supports_cards(turn_context.activity.channel_id))
    for activity in outgoing:
        try:
            await turn_context.send_activity(activity)
        except HttpOperationError as exc:
            if http_status(exc) not in (400, 413) or render.card_of(activity) is None:
                raise
            # Too big, or a schema this client does not know: the words still get through.
            log.warning("teams: card refused (status %s); sending plain text", http_status(exc))
            for plain in render.activities(reply, use_cards=False):
                await turn_context.send_activity(plain)
            return True
    return False


class CoachBot(ActivityHandler):
    def __init__(self, coach: Coach, settings: TeamsSettings, installations: TeamInstallations):
        self.coach = coach
        self.settings = settings
        self.installations = installations

    async def on_turn(self, turn_context: TurnContext) -> None:
        if not inbound.has_sender(turn_context.activity):
            log.info("teams: ignored a %s activity with no sender or conversation", turn_context.activity.type)
            if turn_context.activity.type == ActivityTypes.invoke:
                await turn_context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=400))
                )
            return
        await super().on_turn(turn_context)

    # -- messages and button presses ----------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        choice = inbound.submitted_choice(activity.value)
        if choice is not None:
            incoming = inbound.incoming_for(activity, action=choice[0], value=choice[1])
            replies = await self._turn(activity, incoming)
            await self.deliver(turn_context, replies, prompt_id=activity.reply_to_id)
            return
        scope = inbound.scope_of(activity)
        if scope != "personal" and not inbound.mentions_bot(activity):
            return  # channel chatter not addressed to the coach
        incoming = inbound.incoming_for(activity, text=inbound.text_without_mentions(activity))
        replies = await self._turn(activity, incoming)
        await self.deliver(turn_context, replies)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name not in (None, "", "adaptiveCard/action"):
            return await super().on_invoke_activity(turn_context)  # 501 for what we do not offer
        choice = inbound.submitted_choice(activity.value)
        if choice is None:
            return InvokeResponse(status=400, body={"error": "the card sent no action"})
        incoming = inbound.incoming_for(activity, action=choice[0], value=choice[1])
        replies = await self._turn(activity, incoming)
        if activity.name == "adaptiveCard/action":
            # Universal Actions: the invoke response replaces the card that was pressed.
            first = replies[0] if replies else None
            if first is not None and first.replaces_prompt:
                await self.deliver(turn_context, replies[1:])
                card = render.cards(first)[0]
                return InvokeResponse(
                    status=200,
                    body={"statusCode": 200, "type": render.CARD_CONTENT_TYPE, "value": card},
                )
            await self.deliver(turn_context, replies)
            return InvokeResponse(
                status=200,
                body={"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": "Done"},
            )
        await self.deliver(turn_context, replies, prompt_id=activity.reply_to_id)
        return InvokeResponse(status=200)

    # -- install and uninstall -----------------------------------------------------
    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        bot_id = getattr(activity.recipient, "id", None)
        if not bot_id or not any(getattr(m, "id", None) == bot_id for m in members_added or []):
            return  # someone else joined a team the coach is in: roster sync picks them up
        scope = inbound.scope_of(activity)
        await asyncio.to_thread(self._remember_install, activity, scope)
        log.info("teams: installed in a %s conversation", scope)
        await self.deliver(turn_context, [welcome(scope)])

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        bot_id = getattr(activity.recipient, "id", None)
        team = inbound.team_of(activity)
        if team and bot_id and any(getattr(m, "id", None) == bot_id for m in members_removed or []):
            await asyncio.to_thread(self.installations.remove, team[0])
            log.info("teams: removed from a team")

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await asyncio.to_thread(self._remember_install, activity, inbound.scope_of(activity))

    # -- replies -------------------------------------------------------------------
    async def deliver(self, turn_context: TurnContext, replies: Sequence[Reply], *, prompt_id: str | None = None) -> None:
        """Send each reply; the first that replaces the prompt updates the pressed card instead."""
        use_cards = render.supports_cards(turn_context.activity.channel_id)
        for reply in replies:
            outgoing = render.activities(reply, use_cards=use_cards)
            if reply.replaces_prompt and prompt_id:
                if await self._update(turn_context, prompt_id, outgoing[0]):
                    outgoing = outgoing[1:]
                prompt_id = None  # one card is updated per press, whatever happens
            await send_reply(turn_context, reply, outgoing)

    async def _update(self, turn_context: TurnContext, activity_id: str, activity: Activity) -> bool:
        activity.id = activity_id
        try:
            await turn_context.update_activity(activity)
            return True
        except HttpOperationError as exc:
            # The card may be too old or gone; post the answer as a new message instead.
            log.warning("teams: could not update a card in place (status %s)", http_status(exc))
            activity.id = None
            return False

    async def on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """The one turn-level handler: log (never the text), apologise briefly, carry on."""
        log.error("teams turn failed: %s (status %s)", type(error).__name__, http_status(error), exc_info=error)
        if turn_context.activity.type == ActivityTypes.invoke:
            # The card shows Teams' own "something went wrong" rather than waiting for an answer.
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=500))
            )
        try:
            await turn_context.send_activity(
                Activity(type="message", text=APOLOGY, text_format="plain", summary="Sorry, something went wrong")
            )
        except Exception as exc:  # the connector itself may be what failed
            log.warning("teams: could not send the apology: %s", type(exc).__name__)

    # -- the core ------------------------------------------------------------------
    async def _turn(self, activity: Activity, incoming: Incoming) -> list[Reply]:
        return await asyncio.to_thread(self._handle, activity, incoming)

    def _handle(self, activity: Activity, incoming: Incoming) -> list[Reply]:
        """One thread hop: the core's answer, plus the addresses this turn teaches us."""
        replies = self.coach.handle(incoming)
        if not incoming.is_private:
            self._remember_seed(activity, incoming)
        team = inbound.team_of(activity)
        if team:
            self._remember_team(activity, *team)
        return replies

    def _remember_install(self, activity: Activity, scope: str) -> None:
        now = self.coach.clock.now()
        team = inbound.team_of(activity)
        if team:
            self._remember_team(activity, *team)
            return
        if scope != "personal":
            return  # a group chat: nothing to keep beyond what each member's own turns store
        user = activity.from_property
        member = self.coach.members.ensure(
            inbound.PLATFORM, user.id, now,
            display_name=user.name if isinstance(user.name, str) else "",
            workspace=inbound.tenant_of(activity),
            touch=False,
        )
        self.coach.refs.save(
            member.id, inbound.PLATFORM, activity.conversation.id,
            inbound.to_json(inbound.reference_for(activity)), now,
        )

    def _remember_seed(self, activity: Activity, incoming: Incoming) -> None:
        member = self.coach.members.find(inbound.PLATFORM, incoming.user_id)
        if member is not None and self.coach.refs.get(member.id) is None:
            seed = inbound.to_json(inbound.personal_seed_for(activity))
            self.coach.refs.save(member.id, inbound.PLATFORM, "", seed, self.coach.clock.now())

    def _remember_team(self, activity: Activity, team_id: str, name: str) -> None:
        reference = inbound.to_json(inbound.team_reference_for(activity, team_id))
        self.installations.save(team_id, name, inbound.tenant_of(activity), reference, self.coach.clock.now())
