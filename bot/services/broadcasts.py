"""Officer broadcasts: compose, preview, send through the outbox, acknowledge, chase, report.

Delivery: one outbox row per recipient (key `broadcast:{id}:{member}`), written
in the same transaction as the broadcast, so the worker paces, retries and
resumes them like any other proactive message. Broadcasts are not urgent unless
the officer says so: members' quiet hours then hold them until the morning.

Recipients are councillors (members with the member role): officers write
broadcasts and preview them, they do not receive them.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import Engine

from ..clock import Clock
from ..errors import BadInput, NotAllowed, NotFound
from ..guidance import Council
from ..outbox import Outbox
from ..replies import Reply
from ..storage import tables as t
from ..storage.broadcasts import (
    Broadcast,
    BroadcastRepository,
    RecipientRow,
    broadcast_rows,
    follow_up_key,
)
from ..storage.repositories import AuditRepository, Member, MemberRepository
from .broadcast_messages import (
    PREVIEW_VALUE,
    broadcast_reply,
    check_text,
    follow_up_reply,
)

log = logging.getLogger(__name__)

Officer = Member | str  # a member with the officer role, or a trusted operator label ("cli:alice")
CheckFn = Callable[[str], Any]  # text -> an Assessment-like object (verdict, findings), or None
MAX_FOLLOW_UP_DAYS = 60
TAG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_:./")

# Outbox states as the report names them.
STATUS_OF_STATE = {
    "pending": "queued",
    "claimed": "queued",
    "sending": "queued",
    "sent": "sent",
    "folded": "sent",
    "failed": "failed",
    "unreachable": "unreachable",
    "cancelled": "cancelled",
    "": "failed",
}
COUNTED = ("queued", "sent", "failed", "unreachable", "cancelled")


def normalise_tag(tag: str) -> str:
    """'Planning Committee' -> 'planning-committee'. BadInput if it has odd characters."""
    cleaned = "-".join(tag.strip().lower().split())
    if not cleaned or len(cleaned) > 100 or not set(cleaned) <= TAG_CHARS:
        raise BadInput(
            f"'{tag}' is not a tag. Use letters, digits and - _ : . / (for example planning-committee "
            "or group:independent)."
        )
    return cleaned


def normalise_tags(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({normalise_tag(tg) for tg in tags if tg.strip()}))


def actor_of(officer: Officer) -> str:
    """Who did it, for the audit log. A member must hold the officer role."""
    if isinstance(officer, Member):
        if not officer.is_officer:
            raise NotAllowed("Only council officers can send broadcasts or see their reports.")
        return f"{officer.platform}:{officer.user_id}"
    return officer


@dataclass(frozen=True)
class Recipient:
    """One line of a report."""

    member_id: int
    ref: str  # platform:user_id
    name: str
    status: str  # queued | sent | failed | unreachable | cancelled
    detail: str  # why it failed or could not be delivered
    due_at: datetime | None
    sent_at: datetime | None
    acknowledged_at: datetime | None
    follow_up: str  # "" | queued | sent | cancelled | failed | unreachable
    followed_up_at: datetime | None

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def _recipient(row: RecipientRow) -> Recipient:
    status = STATUS_OF_STATE.get(row.state, row.state)
    detail = (row.last_error or "") if status in ("failed", "unreachable", "cancelled") else ""
    if not row.state:
        detail = "the outbox row is gone"
    return Recipient(
        member_id=row.member_id,
        ref=row.ref,
        name=row.label,
        status=status,
        detail=detail,
        due_at=row.due_at,
        sent_at=row.sent_at,
        acknowledged_at=row.acknowledged_at,
        follow_up=STATUS_OF_STATE.get(row.follow_up_state, row.follow_up_state) if row.follow_up_state else "",
        followed_up_at=row.follow_up_sent_at or row.followed_up_at,
    )


CSV_FIELDS = ("broadcast", "member", "name", "status", "detail", "due_at", "sent_at", "acknowledged_at",
              "follow_up", "followed_up_at")


@dataclass(frozen=True)
class BroadcastReport:
    broadcast: Broadcast
    recipients: tuple[Recipient, ...]

    @property
    def counts(self) -> dict[str, int]:
        """queued / sent / failed / unreachable / cancelled / acknowledged, and the total."""
        tally = Counter(r.status for r in self.recipients)
        counts = {name: tally.get(name, 0) for name in COUNTED}
        counts["acknowledged"] = sum(1 for r in self.recipients if r.is_acknowledged)
        counts["recipients"] = len(self.recipients)
        return counts

    def write_csv(self, out: IO[str]) -> int:
        """Per-recipient status with times (ISO 8601, UTC). Returns the number of rows."""
        writer = csv.writer(out)
        writer.writerow(CSV_FIELDS)
        iso = lambda d: d.isoformat() if d else ""  # noqa: E731
        for r in self.recipients:
            writer.writerow([self.broadcast.id, r.ref, r.name, r.status, r.detail, iso(r.due_at), iso(r.sent_at),
                             iso(r.acknowledged_at), r.follow_up, iso(r.followed_up_at)])
        return len(self.recipients)


@dataclass(frozen=True)
class CancelResult:
    broadcast: Broadcast
    stopped: int  # messages that had not gone yet and now will not
    already_sent: int


@dataclass(frozen=True)
class FollowUpResult:
    broadcast: Broadcast
    queued: int  # reminders queued now (including scheduled ones brought forward)
    already_chased: int
    not_yet_delivered: int
    acknowledged: int


@dataclass(frozen=True)
class Acknowledgement:
    """What a 'Got it' press did: recorded | already | not-received | preview | unknown."""

    outcome: str
    broadcast: Broadcast | None = None
    at: datetime | None = None


@dataclass
class BroadcastService:
    engine: Engine
    members: MemberRepository
    audit: AuditRepository
    clock: Clock
    council: Callable[[], Council]
    checker: CheckFn | None = None
    repo: BroadcastRepository = field(init=False)
    outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        self.repo = BroadcastRepository(self.engine)
        self.outbox = Outbox(self.engine)

    # -- composing --------------------------------------------------------------
    def audience(self, tags: Iterable[str] = ()) -> list[Member]:
        """Members who would receive a broadcast to these tags (any of them; none means everyone)."""
        return self.members.list(role="member", tags=normalise_tags(tags))

    def known_tags(self) -> list[tuple[str, int]]:
        """Tags that members carry, most common first."""
        tally = Counter(tag for m in self.members.list(role="member") for tag in m.tags)
        return sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))

    def preview(self, title: str, body: str, *, requires_ack: bool = False) -> Reply:
        """Exactly what members will see (the Got it button answers as a preview)."""
        title, body = check_text(title, body)
        return broadcast_reply(title, body, requires_ack=requires_ack, broadcast_id=None)

    def warnings(self, body: str, *, title: str = "") -> list[str]:
        """The draft checker's findings on the update: an update must not leak personal data itself."""
        if self.checker is None:
            return ["The draft checker is not available, so this update has not been checked."]
        text = f"{title}\n\n{body}".strip() if title else body
        try:
            assessment = self.checker(text)
        except Exception:  # a checker fault must not stop an officer's update; say it was not checked
            log.exception("the draft checker failed on a broadcast")
            assessment = None
        if assessment is None:
            return ["The draft checker is not available, so this update has not been checked."]
        found = []
        for finding in getattr(assessment, "findings", ()):
            label = str(getattr(finding, "category", "")).replace("_", " ").capitalize() or "Check"
            message = str(getattr(finding, "message", "")).strip()
            evidence = str(getattr(finding, "evidence", "") or "").strip()
            quoted = f' ("{evidence[:80]}")' if evidence else ""
            found.append(f"{label}: {message}{quoted}")
        return found

    def create(
        self,
        officer: Officer,
        title: str,
        body: str,
        audience_tags: Sequence[str] = (),
        send_at: datetime | None = None,
        requires_ack: bool = False,
        follow_up_days: int | None = None,
        *,
        urgent: bool = False,
    ) -> Broadcast:
        """Queue a broadcast: one outbox row per recipient, plus scheduled follow-ups if asked."""
        actor = actor_of(officer)
        title, body = check_text(title, body)
        tags = normalise_tags(audience_tags)
        now = self.clock.now()
        send_at = now if send_at is None else send_at
        if send_at < now - timedelta(minutes=1):
            raise BadInput("That send time has already passed. Give a time in the future, or send it now.")
        if follow_up_days is not None:
            if not requires_ack:
                raise BadInput("A follow-up chases members who have not pressed Got it, so it needs --ack.")
            if not 1 <= follow_up_days <= MAX_FOLLOW_UP_DAYS:
                raise BadInput(f"Follow up after 1 to {MAX_FOLLOW_UP_DAYS} days.")
        recipients = self.audience(tags)
        if not recipients:
            who = "members tagged " + ", ".join(tags) if tags else "members"
            raise BadInput(f"There are no {who} to send this to yet.")
        follow_up_at = send_at + timedelta(days=follow_up_days) if follow_up_days else None
        tz = self.council().tz
        broadcast_id = self.repo.create(
            title=title,
            body=body,
            audience=tags,
            requires_ack=requires_ack,
            send_at=send_at,
            created_by=actor,
            now=now,
            follow_up_at=follow_up_at,
            follow_up_days=follow_up_days,
            urgent=urgent,
            recipients=recipients,
            message=lambda bid: broadcast_reply(title, body, requires_ack=requires_ack, broadcast_id=bid),
            follow_up=lambda bid: follow_up_reply(title, body, sent_at=send_at, tz=tz, broadcast_id=bid),
        )
        unreachable = sum(1 for m in recipients if m.status == "unreachable")
        self.audit.record(
            actor, "broadcast.send", now, broadcast=broadcast_id, title=title,
            audience=list(tags) or "everyone", recipients=len(recipients), unreachable=unreachable,
            send_at=send_at.isoformat(), requires_ack=requires_ack, follow_up_days=follow_up_days, urgent=urgent,
        )
        log.info("broadcast %s queued for %s members", broadcast_id, len(recipients))
        return self.get(broadcast_id)

    # -- looking ----------------------------------------------------------------
    def get(self, broadcast_id: int | str) -> Broadcast:
        ident = _parse_id(broadcast_id)
        broadcast = self.repo.get(ident)
        if broadcast is None:
            raise NotFound(f"There is no broadcast #{ident}.")
        return broadcast

    def list(self, limit: int = 20) -> list[Broadcast]:
        return self.repo.list(limit)

    def report(self, broadcast_id: int | str, viewer: Officer | None = None) -> BroadcastReport:
        """Counts and per-recipient status with times. Officers only."""
        if viewer is not None:
            actor_of(viewer)
        broadcast = self.get(broadcast_id)
        rows = self.repo.recipients(broadcast.id)
        return BroadcastReport(broadcast, tuple(_recipient(r) for r in rows))

    # -- changing ---------------------------------------------------------------
    def cancel(self, officer: Officer, broadcast_id: int | str) -> CancelResult:
        """Stop every message of the broadcast that has not gone yet, follow-ups included."""
        actor = actor_of(officer)
        broadcast = self.get(broadcast_id)
        if broadcast.is_cancelled:
            raise BadInput(f"Broadcast #{broadcast.id} was already cancelled.")
        now = self.clock.now()
        stopped = self.outbox.cancel(broadcast_rows(broadcast.id) & t.outbox.c.kind.in_(("broadcast",)))
        self.repo.mark_cancelled(broadcast.id, now)
        report = self.report(broadcast.id)
        sent = report.counts["sent"]
        self.audit.record(actor, "broadcast.cancel", now, broadcast=broadcast.id, title=broadcast.title,
                          stopped=stopped, already_sent=sent)
        return CancelResult(self.get(broadcast.id), stopped, sent)

    def follow_up(self, officer: Officer, broadcast_id: int | str) -> FollowUpResult:
        """Remind everyone who received the update but has not pressed Got it (once per member)."""
        actor = actor_of(officer)
        broadcast = self.get(broadcast_id)
        if not broadcast.requires_ack:
            raise BadInput(f"Broadcast #{broadcast.id} does not ask for Got it, so there is no one to chase.")
        if broadcast.is_cancelled:
            raise BadInput(f"Broadcast #{broadcast.id} was cancelled.")
        now = self.clock.now()
        tz = self.council().tz
        chase = follow_up_reply(broadcast.title, broadcast.body, sent_at=broadcast.send_at, tz=tz,
                                broadcast_id=broadcast.id)
        queued: list[int] = []
        brought_forward: list[str] = []
        already = waiting = acked = 0
        for r in self.repo.recipients(broadcast.id):
            if r.acknowledged_at is not None:
                acked += 1
            elif r.state not in ("sent", "folded"):
                waiting += 1  # they have not had the update itself yet
            elif r.follow_up_state == "pending":
                brought_forward.append(follow_up_key(broadcast.id, r.member_id))
            elif r.follow_up_state:
                already += 1
            else:
                _, created = self.outbox.enqueue(
                    member_id=r.member_id, platform=r.platform, kind="broadcast", reply=chase, due_at=now,
                    key=follow_up_key(broadcast.id, r.member_id), now=now, urgent=broadcast.is_urgent,
                )
                if created:
                    queued.append(r.member_id)
                else:
                    already += 1
        moved = self.repo.bring_forward(brought_forward, now)
        self.repo.set_followed_up(broadcast.id, queued, now)
        self.audit.record(actor, "broadcast.follow_up", now, broadcast=broadcast.id, title=broadcast.title,
                          queued=len(queued) + moved)
        return FollowUpResult(broadcast, len(queued) + len(brought_forward), already, waiting, acked)

    def acknowledge(self, member: Member, broadcast_id: int | str) -> Acknowledgement:
        """Record a member's Got it once; repeats, stale and stray presses change nothing."""
        if str(broadcast_id) == PREVIEW_VALUE:
            return Acknowledgement("preview")
        try:
            ident = _parse_id(broadcast_id)
        except BadInput:
            return Acknowledgement("unknown")
        broadcast = self.repo.get(ident)
        if broadcast is None:
            return Acknowledgement("unknown")
        received, at = self.repo.receipt(ident, member.id)
        if not received:
            return Acknowledgement("not-received", broadcast)
        now = self.clock.now()
        if at is None and self.repo.acknowledge(ident, member.id, now):
            # Their reminder, if one is still waiting, is no longer needed.
            self.outbox.cancel(t.outbox.c.idempotency_key == follow_up_key(ident, member.id))
            return Acknowledgement("recorded", broadcast, now)
        _, at = self.repo.receipt(ident, member.id)
        return Acknowledgement("already", broadcast, at)


def _parse_id(value: int | str) -> int:
    text = str(value).strip().lstrip("#")
    if not text:
        raise BadInput("Which broadcast? Give its number, e.g. 'broadcast show 3'; 'broadcast list' shows them.")
    if not text.isdigit():
        raise BadInput(f"'{value}' is not a broadcast number. Use the number from 'broadcast list', e.g. 3.")
    return int(text)


def install(coach: Any) -> None:
    """The broadcasts feature: the service, chat commands and the Got it button."""
    from .broadcast_chat import install_chat

    service = BroadcastService(
        engine=coach.engine,
        members=coach.members,
        audit=coach.audit,
        clock=coach.clock,
        council=lambda: coach.knowledge.current.council,
        checker=draft_checker(coach),
    )
    coach.services["broadcasts"] = service
    install_chat(coach, service)


def draft_checker(coach: Any) -> CheckFn:
    """The draft checker, run on an update as an official council post.

    Uses the coach's "checker" service when one is installed, else builds the
    checker for the current knowledge base itself. None means no checker.
    """
    own: list[Any] = []

    def check(text: str) -> Any:
        try:
            from ..checker import CheckContext, Engines
        except ImportError:  # pragma: no cover - the checker ships with the core
            return None
        council = coach.knowledge.current.council
        today = coach.clock.now().astimezone(council.tz).date()
        context = CheckContext(pre_election=council.is_pre_election(today), account="official")
        service = coach.services.get("checker")
        if service is not None and hasattr(service, "check"):
            return service.check(text, context)
        engines = service if service is not None and hasattr(service, "for_knowledge") else None
        if engines is None:
            if not own:
                own.append(Engines())
            engines = own[0]
        return engines.for_knowledge(coach.knowledge.current).checker.check(text, context)

    return check
