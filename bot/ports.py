"""Seams between the core and the platforms: how a proactive message leaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from .replies import Reply

Status = Literal["sent", "retry", "unreachable", "failed"]


@dataclass(frozen=True)
class Delivery:
    """One outbox row, ready for a platform sender."""

    outbox_id: int
    idempotency_key: str
    platform: str
    user_id: str  # the member's platform user id
    conversation_id: str  # from the stored conversation reference ("" if none)
    route: str  # the adapter-owned reference stored at first contact ("" if none)
    reply: Reply


@dataclass(frozen=True)
class SendOutcome:
    """What a sender reports. `retry_after` (seconds) comes from a 429's Retry-After."""

    status: Status
    detail: str = ""
    retry_after: float | None = None
    is_rate_limited: bool = False

    @classmethod
    def sent(cls) -> SendOutcome:
        return cls("sent")

    @classmethod
    def retry(cls, detail: str, retry_after: float | None = None, *, rate_limited: bool = False) -> SendOutcome:
        return cls("retry", detail, retry_after, rate_limited)

    @classmethod
    def unreachable(cls, detail: str) -> SendOutcome:
        return cls("unreachable", detail)

    @classmethod
    def failed(cls, detail: str) -> SendOutcome:
        return cls("failed", detail)


class Sender(Protocol):
    """Sends one proactive message on one platform.

    Senders pace themselves within their platform's rate limits, report 429s as
    `retry` with `retry_after` and `rate_limited=True`, and report a person who
    can no longer be reached (left, uninstalled, blocked) as `unreachable`.
    They must not raise for platform errors; the worker treats a raise as `retry`.
    """

    platform: str

    async def send(self, delivery: Delivery) -> SendOutcome: ...
