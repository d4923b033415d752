"""Recording senders for outbox tests (the outbox and worker are under test, not these)."""

from __future__ import annotations

import os
import random
from collections import Counter

from bot.ports import Delivery, SendOutcome


class RecordingSender:
    """Records what it was asked to deliver; outcomes can be scripted per key."""

    def __init__(self, platform: str = "console"):
        self.platform = platform
        self.delivered: list[Delivery] = []
        self.script: dict[str, list[SendOutcome]] = {}

    async def send(self, delivery: Delivery) -> SendOutcome:
        queued = self.script.get(delivery.idempotency_key)
        outcome = queued.pop(0) if queued else SendOutcome.sent()
        if outcome.status == "sent":
            self.delivered.append(delivery)
        return outcome

    def keys(self) -> Counter[str]:
        return Counter(d.idempotency_key for d in self.delivered)


class FlakyFileSender:
    """Appends each delivered key to a shared file; fails at random like a real platform."""

    def __init__(self, path: str, platform: str = "slack", seed: int | None = None, fail_rate: float = 0.1):
        self.platform = platform
        self.path = path
        self.rng = random.Random(seed)
        self.fail_rate = fail_rate

    async def send(self, delivery: Delivery) -> SendOutcome:
        roll = self.rng.random()
        if roll < self.fail_rate:
            return SendOutcome.retry("HTTP 500 from the platform")
        if roll < self.fail_rate * 1.2:
            return SendOutcome.failed("invalid_blocks")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (delivery.idempotency_key + "\n").encode())
        finally:
            os.close(fd)
        return SendOutcome.sent()
