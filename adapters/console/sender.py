"""Proactive messages in the console: printed into the open chat of the person they are for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.ports import Delivery, SendOutcome

if TYPE_CHECKING:
    from .repl import ConsoleChat


class ConsoleSender:
    platform = "console"

    def __init__(self, chat: ConsoleChat):
        self.chat = chat

    async def send(self, delivery: Delivery) -> SendOutcome:
        if delivery.user_id != self.chat.user:  # the worker only claims this person's rows
            return SendOutcome.retry("not this console chat", retry_after=300, rate_limited=True)
        await self.chat.show([delivery.reply], proactive=True)
        return SendOutcome.sent()
