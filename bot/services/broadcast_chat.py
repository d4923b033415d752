"""`broadcast` in chat: an officer writes an update step by step; members press Got it.

The half-written broadcast lives in the database (one draft per officer), so
the conversation survives a restart and works the same on every platform. Each
step's buttons carry the draft and step they belong to, so a press on an old
prompt is answered politely instead of changing anything.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..errors import BadInput, NotAllowed
from ..replies import Badge, Choice, Choices, Fact, Facts, Heading, Paragraph, Reply, text_reply
from ..router import Replies, Turn
from ..storage.broadcasts import Draft, DraftRepository
from .broadcast_messages import MAX_TITLE, acknowledged_reply, format_time, parse_send_time
from .broadcasts import (
    Acknowledgement,
    BroadcastReport,
    BroadcastService,
    Recipient,
    normalise_tags,
)

DRAFT_ACTION = "broadcast.draft"
REPORT_ACTION = "broadcast.report"
CHASE_ACTION = "broadcast.chase"
ACK_PREFIX = "broadcast.ack"
DRAFT_LIFETIME = timedelta(hours=2)  # after that, typed text is a draft to check again, not a title
URGENT_WORDS = {"urgent", "now, urgent", "send now, urgent", "now urgent"}
CANCEL_WORDS = {"cancel", "stop", "discard", "abandon"}
YES_WORDS = {"yes", "y", "yes please", "confirm", "send", "send it"}
NO_WORDS = {"no", "n", "no thanks"}
FOLLOW_UP_DAYS = 3
REPORT_LINES = 40
USAGE = (
    "broadcast: write a new update, step by step\n"
    "broadcast list: recent broadcasts\n"
    "broadcast show N: who has it, who confirmed\n"
    "broadcast follow-up N: remind those who have not confirmed\n"
    "broadcast cancel N: stop what has not gone yet"
)


class BroadcastChat:
    def __init__(self, coach: Any, service: BroadcastService):
        self.coach = coach
        self.service = service
        self.drafts = DraftRepository(coach.engine)

    @property
    def tz(self) -> Any:
        return self.service.council().tz

    # -- the command ------------------------------------------------------------
    def command(self, turn: Turn, args: str) -> Replies:
        word, _, rest = args.strip().partition(" ")
        word = word.lower()
        if not word or word in ("new", "send", "write"):
            return self._start(turn)
        if word in ("list", "ls"):
            return [self._list_reply()]
        if word in ("show", "report", "status"):
            return [self._report_reply(self.service.report(rest, viewer=turn.member))]
        if word in ("cancel", "stop"):
            return [self._cancel(turn, rest)]
        if word in ("follow-up", "followup", "chase", "remind"):
            return [self._follow_up(turn, rest)]
        return [text_reply(USAGE, heading="Broadcasts")]

    def _start(self, turn: Turn) -> Replies:
        draft = self.drafts.start(turn.member.id, "title", turn.now)
        return [self._prompt(draft)]

    # -- typed text while a draft is open ------------------------------------------
    def conversation(self, turn: Turn) -> Replies | None:
        if not turn.is_officer:
            return None
        draft = self.drafts.get(turn.member.id)
        if draft is None:
            return None
        if turn.now - draft.updated_at > DRAFT_LIFETIME:
            self.drafts.delete(draft.id)
            return None
        text = turn.incoming.text.strip()
        if text.split()[0].lower() == "broadcast":
            return None  # 'broadcast' starts again; 'broadcast list' etc. still work
        if text.lower() in CANCEL_WORDS:
            return [self._discard(draft)]
        return self._answer(turn, draft, text)

    def _answer(self, turn: Turn, draft: Draft, text: str) -> Replies:
        try:
            moved = self._apply(turn, draft, text)
        except BadInput as exc:
            return [text_reply(str(exc)), self._prompt(draft)]
        if isinstance(moved, list):
            return moved
        if moved is None:
            return [text_reply("That step was answered a moment ago.")]
        return self._show(moved)

    def _apply(self, turn: Turn, draft: Draft, text: str) -> Draft | Replies | None:
        """Take one answer for the draft's current step; returns the draft at its next step."""
        now = turn.now
        if draft.step == "title":
            return self.drafts.advance(draft, "body", now, title=_title(text))
        if draft.step == "body":
            self.service.preview(draft.title, text)  # checks the length
            return self.drafts.advance(draft, "audience", now, body=text.strip())
        if draft.step == "audience":
            tags = () if text.strip().lower() in ("everyone", "all", "*") else normalise_tags(text.split(","))
            if not self.service.audience(tags):
                raise BadInput(f"No members are tagged {', '.join(tags)}. Choose another tag, or everyone.")
            return self.drafts.advance(draft, "when", now, audience=tags)
        if draft.step == "when":
            urgent = text.strip().lower() in URGENT_WORDS
            when = now if urgent else parse_send_time(text, now, self.tz)
            return self.drafts.advance(draft, "ack", now, send_at=None if when <= now else when, is_urgent=urgent)
        if draft.step == "ack":
            answer = text.strip().lower()
            if answer in YES_WORDS:
                return self.drafts.advance(draft, "confirm", now, requires_ack=True, follow_up_days=None)
            if answer.startswith("yes") and "remind" in answer:
                return self.drafts.advance(draft, "confirm", now, requires_ack=True, follow_up_days=FOLLOW_UP_DAYS)
            if answer in NO_WORDS:
                return self.drafts.advance(draft, "confirm", now, requires_ack=False, follow_up_days=None)
            raise BadInput("Please answer yes or no.")
        if draft.step == "confirm":
            if text.strip().lower() in YES_WORDS:
                return self._send(turn, draft)
            raise BadInput("Choose Confirm to send it, or Cancel.")
        return [text_reply("That broadcast is being sent.")]

    # -- pressed choices -------------------------------------------------------------
    def on_draft_choice(self, turn: Turn, action: str, value: str) -> Replies:
        if not turn.is_officer:
            raise NotAllowed("'broadcast' is for council officers only.")
        draft_id, _, rest = value.partition(":")
        step, _, arg = rest.partition(":")
        draft = self.drafts.get(turn.member.id)
        if draft is None or str(draft.id) != draft_id:
            return [text_reply("That broadcast draft is finished or was discarded. Type 'broadcast' to write a new one.")]
        if arg == "cancel":
            return [self._discard(draft)]
        if draft.step != step:
            return [text_reply("That step is already answered. Here is where we are:"), *self._show(draft)]
        answers = {"everyone": "everyone", "now": "now", "urgent": "urgent", "yes": "yes", "remind": "yes, remind",
                   "no": "no", "confirm": "confirm"}
        if arg.startswith("tag="):
            return self._answer(turn, draft, arg[4:])
        if arg in answers:
            return self._answer(turn, draft, answers[arg])
        return [text_reply("That button is no longer in use."), *self._show(draft)]

    def on_ack(self, turn: Turn, action: str, value: str) -> Replies:
        result = self.service.acknowledge(turn.member, value)
        return [self._ack_reply(result)]

    def on_report(self, turn: Turn, action: str, value: str) -> Replies:
        return [self._report_reply(self.service.report(value, viewer=turn.member))]

    def on_chase(self, turn: Turn, action: str, value: str) -> Replies:
        if not turn.is_officer:
            raise NotAllowed("'broadcast' is for council officers only.")
        return [self._follow_up(turn, value)]

    # -- steps ----------------------------------------------------------------------
    def _choice(self, draft: Draft, label: str, arg: str, style: str = "") -> Choice:
        return Choice(label, DRAFT_ACTION, f"{draft.id}:{draft.step}:{arg}", style)

    def _prompt(self, draft: Draft) -> Reply:
        cancel = self._choice(draft, "Cancel", "cancel", "danger")
        if draft.step == "title":
            return Reply(
                "New broadcast: what is the title?",
                (
                    Heading("New broadcast"),
                    Paragraph("What is the title? Members see it as the heading and in their notification. "
                              "Type 'cancel' at any point to stop."),
                    Choices((cancel,)),
                ),
                kind="broadcast-draft",
            )
        if draft.step == "body":
            return Reply(
                "Now the message itself",
                (
                    Paragraph("Now the message itself. Blank lines start new paragraphs; start a line with "
                              "'- ' for a list; a line with just a web address becomes a link."),
                    Choices((cancel,)),
                ),
                kind="broadcast-draft",
            )
        if draft.step == "audience":
            everyone = len(self.service.audience())
            tags = self.service.known_tags()[:6]
            choices = [self._choice(draft, f"Everyone ({everyone})", "everyone", "primary")]
            choices += [self._choice(draft, f"{tag} ({n})", f"tag={tag}") for tag, n in tags]
            hint = " Or type tags separated by commas; members with any of them get it." if tags else ""
            return Reply(
                "Who should get it?",
                (Paragraph("Who should get it? Everyone, or members with a tag." + hint),
                 Choices((*choices, cancel))),
                kind="broadcast-draft",
            )
        if draft.step == "when":
            return Reply(
                "When should it go?",
                (
                    Paragraph("When should it go? Send it now, or type a time such as 'tomorrow 9am' or "
                              "'2026-12-01 09:00' (council time, day first). Members in their quiet hours "
                              "get it in the morning, unless you send it now as urgent."),
                    Choices((
                        self._choice(draft, "Send now", "now", "primary"),
                        self._choice(draft, "Send now, urgent", "urgent"),
                        cancel,
                    )),
                ),
                kind="broadcast-draft",
            )
        if draft.step == "ack":
            return Reply(
                "Should members confirm they have read it?",
                (
                    Paragraph("Should members press Got it to confirm they have read it? You will see who has "
                              "in the report, and can remind those who have not."),
                    Choices((
                        self._choice(draft, "Yes", "yes", "primary"),
                        self._choice(draft, f"Yes, and remind after {FOLLOW_UP_DAYS} days", "remind"),
                        self._choice(draft, "No", "no"),
                        cancel,
                    )),
                ),
                kind="broadcast-draft",
            )
        if draft.step == "confirm":
            return self._confirm_card(draft)
        return text_reply("That broadcast is being sent.")

    def _show(self, draft: Draft) -> Replies:
        if draft.step == "confirm":
            preview = self.service.preview(draft.title, draft.body, requires_ack=draft.requires_ack)
            return [preview, self._confirm_card(draft)]
        return [self._prompt(draft)]

    def _confirm_card(self, draft: Draft) -> Reply:
        recipients = self.service.audience(draft.audience)
        unreachable = sum(1 for m in recipients if m.status == "unreachable")
        who = ("everyone" if not draft.audience else "members tagged " + ", ".join(draft.audience))
        facts = [
            Fact("Title", draft.title),
            Fact("To", f"{who} ({len(recipients)} {'member' if len(recipients) == 1 else 'members'})"),
            Fact("When", (format_time(draft.send_at, self.tz) if draft.send_at else "as soon as you confirm")
                 + (", urgent: quiet hours do not hold it" if draft.is_urgent else "")),
            Fact("Got it", _ack_words(draft.requires_ack, draft.follow_up_days)),
        ]
        if unreachable:
            facts.append(Fact("Cannot be reached", f"{unreachable} (recorded in the report, not retried)"))
        parts: list[Any] = [
            Heading("Check before sending"),
            Paragraph("Above is exactly what members will see."
                      + ("" if draft.is_urgent else " Members in their quiet hours get it in the morning.")),
            Facts(tuple(facts)),
        ]
        warnings = self.service.warnings(draft.body, title=draft.title)
        if warnings:
            parts += [Badge("caution", "The draft checker found things to look at before you send:"),
                      Facts(tuple(Fact("", w) for w in warnings))]
        else:
            parts.append(Badge("ok", "The draft checker found nothing to worry about."))
        parts.append(Choices((self._choice(draft, "Confirm", "confirm", "primary"),
                              self._choice(draft, "Cancel", "cancel", "danger"))))
        return Reply("Check before sending", tuple(parts), kind="broadcast-draft")

    def _send(self, turn: Turn, draft: Draft) -> Replies:
        sending = self.drafts.advance(draft, "sending", turn.now)
        if sending is None:
            return [text_reply("That broadcast is already on its way.")]
        try:
            broadcast = self.service.create(
                turn.member, draft.title, draft.body, draft.audience, draft.send_at, draft.requires_ack,
                draft.follow_up_days, urgent=draft.is_urgent,
            )
        except BadInput:
            self.drafts.advance(sending, "confirm", turn.now)
            raise
        self.drafts.delete(draft.id)
        when = format_time(broadcast.send_at, self.tz) if broadcast.send_at > turn.now else "now"
        return [
            Reply(
                f"Broadcast #{broadcast.id} queued for {broadcast.recipients} members",
                (
                    Heading(f"Broadcast #{broadcast.id} is on its way"),
                    Facts((
                        Fact("Title", broadcast.title),
                        Fact("Recipients", str(broadcast.recipients)),
                        Fact("Sending", when),
                    )),
                    Paragraph(f"Type 'broadcast show {broadcast.id}' to see who has it and who has confirmed."),
                    Choices((Choice("See the report", REPORT_ACTION, str(broadcast.id)),)),
                ),
                replaces_prompt=True,
                kind="broadcast-draft",
            )
        ]

    def _discard(self, draft: Draft) -> Reply:
        self.drafts.delete(draft.id)
        return Reply("Broadcast discarded", (Paragraph("Broadcast discarded: nothing was sent."),),
                     replaces_prompt=True, kind="broadcast-draft")

    # -- officers' other commands ---------------------------------------------------------
    def _cancel(self, turn: Turn, ident: str) -> Reply:
        result = self.service.cancel(turn.member, ident)
        return text_reply(
            f"Broadcast #{result.broadcast.id} is cancelled: {result.stopped} waiting "
            f"{'message was' if result.stopped == 1 else 'messages were'} stopped; "
            f"{result.already_sent} had already gone.",
            heading="Broadcast cancelled",
        )

    def _follow_up(self, turn: Turn, ident: str) -> Reply:
        r = self.service.follow_up(turn.member, ident)
        lines = [f"{r.queued} {'reminder' if r.queued == 1 else 'reminders'} on the way to members who have "
                 "not pressed Got it."]
        if r.already_chased:
            lines.append(f"{r.already_chased} had a reminder already.")
        if r.not_yet_delivered:
            lines.append(f"{r.not_yet_delivered} {'has' if r.not_yet_delivered == 1 else 'have'} not had "
                         "the update itself yet.")
        lines.append(f"{r.acknowledged} {'has' if r.acknowledged == 1 else 'have'} confirmed.")
        return text_reply(" ".join(lines), heading=f"Follow-up for broadcast #{r.broadcast.id}")

    def _list_reply(self) -> Reply:
        items = self.service.list()
        if not items:
            return text_reply("No broadcasts yet. Type 'broadcast' to write one.", heading="Broadcasts")
        facts = []
        for b in items:
            who = "everyone" if not b.audience else ", ".join(b.audience)
            ack = f", {b.acknowledged} confirmed" if b.requires_ack else ""
            state = " (cancelled)" if b.is_cancelled else ""
            facts.append(Fact(f"#{b.id} {b.title}",
                              f"{format_time(b.send_at, self.tz)}, to {who}: {b.recipients} members{ack}{state}"))
        return Reply("Broadcasts", (Heading("Broadcasts"), Facts(tuple(facts)),
                                    Paragraph("Type 'broadcast show N' for the details of one.")), kind="report")

    def _report_reply(self, report: BroadcastReport) -> Reply:
        return report_reply(report, self.tz)

    def _ack_reply(self, result: Acknowledgement) -> Reply:
        b = result.broadcast
        if result.outcome == "recorded" and b is not None:
            return acknowledged_reply(b.title, b.body,
                                      f"Thank you: recorded that you read this on {format_time(result.at, self.tz)}.")
        if result.outcome == "already" and b is not None:
            return acknowledged_reply(b.title, b.body,
                                      f"You already confirmed this on {format_time(result.at, self.tz)}. Thank you.")
        if result.outcome == "preview":
            return text_reply("This is a preview. When members press Got it, it is recorded in the report.")
        if result.outcome == "not-received":
            return text_reply("That update was not sent to you, so there is nothing to confirm.")
        return text_reply("That update is no longer available. Thank you all the same.")


def report_reply(report: BroadcastReport, tz: Any) -> Reply:
    """A broadcast's report as a chat card."""
    b = report.broadcast
    c = report.counts
    who = "everyone" if not b.audience else "members tagged " + ", ".join(b.audience)
    facts = [
        Fact("Sent by", b.created_by),
        Fact("When", format_time(b.send_at, tz)),
        Fact("To", f"{who} ({c['recipients']})"),
        Fact("Got it", _ack_words(b.requires_ack, b.follow_up_days)),
        Fact("Delivery", f"{c['queued']} queued, {c['sent']} sent, {c['failed']} failed, "
                         f"{c['unreachable']} unreachable" + (f", {c['cancelled']} cancelled" if c["cancelled"] else "")),
    ]
    if b.requires_ack:
        facts.append(Fact("Confirmed", f"{c['acknowledged']} of {c['recipients']}"))
    if b.is_cancelled:
        facts.append(Fact("Cancelled", format_time(b.cancelled_at, tz)))
    parts: list[Any] = [Heading(f"Broadcast #{b.id}: {b.title}"), Facts(tuple(facts)), Heading("Recipients")]
    lines = [Fact(f"{r.name} ({r.ref})", recipient_line(r, tz)) for r in report.recipients[:REPORT_LINES]]
    parts.append(Facts(tuple(lines)))
    if len(report.recipients) > REPORT_LINES:
        parts.append(Paragraph(f"And {len(report.recipients) - REPORT_LINES} more: "
                               f"'coach broadcast show {b.id} --csv FILE' lists everyone."))
    choices = []
    if b.requires_ack and not b.is_cancelled and c["acknowledged"] < c["recipients"]:
        choices.append(Choice("Remind those who have not confirmed", CHASE_ACTION, str(b.id)))
    if choices:
        parts.append(Choices(tuple(choices)))
    summary = f"Broadcast #{b.id}: {c['sent']} of {c['recipients']} sent"
    if b.requires_ack:
        summary += f", {c['acknowledged']} confirmed"
    return Reply(summary, tuple(parts), kind="report")


def recipient_line(r: Recipient, tz: Any) -> str:
    if r.status == "sent":
        text = f"sent {format_time(r.sent_at, tz)}"
    elif r.status == "queued":
        text = f"queued for {format_time(r.due_at, tz)}"
    else:
        text = r.status + (f": {r.detail}" if r.detail else "")
    if r.acknowledged_at:
        text += f"; confirmed {format_time(r.acknowledged_at, tz)}"
    if r.follow_up:
        text += f"; reminder {r.follow_up}" + (f" {format_time(r.followed_up_at, tz)}" if r.followed_up_at else "")
    return text


def _ack_words(requires_ack: bool, follow_up_days: int | None) -> str:
    if not requires_ack:
        return "not asked for"
    if follow_up_days:
        return f"asked for; a reminder after {follow_up_days} days to those who have not"
    return "asked for"


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise BadInput("Please type a title.")
    if len(title) > MAX_TITLE:
        raise BadInput(f"Please keep the title to {MAX_TITLE} characters (it has {len(title)}).")
    return title


def install_chat(coach: Any, service: BroadcastService) -> None:
    chat = BroadcastChat(coach, service)
    coach.router.command("broadcast", chat.command)
    coach.router.conversation(chat.conversation)
    coach.router.action(DRAFT_ACTION, chat.on_draft_choice)
    coach.router.action(ACK_PREFIX, chat.on_ack)
    coach.router.action(REPORT_ACTION, chat.on_report)
    coach.router.action(CHASE_ACTION, chat.on_chase)
