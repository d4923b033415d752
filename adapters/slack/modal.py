"""The officers' broadcast modal: `/coach broadcast` opens a form; submitting queues the update.

The form is Slack's; the rules are the core's. Submitting goes through the
broadcast service, which refuses anyone who is not an officer, runs the draft
checker over the update and queues one outbox row per recipient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import BadInput, NotAllowed
from bot.services.broadcast_messages import MAX_TITLE, format_time, parse_send_time

from .render import escape

CALLBACK_ID = "broadcast.compose"
MAX_BODY = 3000  # Slack's plain_text_input limit (the service allows more from the chat flow)
MAX_TAG_OPTIONS = 100  # a static select's limit
ACK = "ack"
OVERRIDE = "override"


@dataclass(frozen=True)
class Submission:
    title: str
    body: str
    tags: tuple[str, ...]
    when: str
    requires_ack: bool
    send_anyway: bool


def compose_view(known_tags: Sequence[tuple[str, int]], *, members: int) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "A guidance update for members, sent to each of them directly. "
                "It is checked before it goes out.",
            },
        },
        _text_input("title", "Title", max_length=MAX_TITLE, placeholder="e.g. Pre-election period starts Monday"),
        _text_input("body", "Message", max_length=MAX_BODY, multiline=True),
    ]
    if known_tags:
        options = [
            {"text": {"type": "plain_text", "text": f"{tag} ({count})"[:75]}, "value": tag}
            for tag, count in list(known_tags)[:MAX_TAG_OPTIONS]
        ]
        blocks.append(
            {
                "type": "input",
                "block_id": "audience",
                "optional": True,
                "label": {"type": "plain_text", "text": "Send to"},
                "hint": {"type": "plain_text", "text": f"Leave empty for all {members} members."},
                "element": {
                    "type": "multi_static_select",
                    "action_id": "value",
                    "placeholder": {"type": "plain_text", "text": "Everyone"},
                    "options": options,
                },
            }
        )
    blocks.append(
        _text_input("when", "When", optional=True, placeholder="now, or e.g. tomorrow 9am or 1/12 09:00")
    )
    blocks.append(
        {
            "type": "input",
            "block_id": "options",
            "optional": True,
            "label": {"type": "plain_text", "text": "Options"},
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "Ask members to press Got it"}, "value": ACK},
                    {
                        "text": {"type": "plain_text", "text": "Send even if the draft checker has concerns"},
                        "value": OVERRIDE,
                    },
                ],
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": {"type": "plain_text", "text": "Broadcast an update"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def read_submission(view: dict[str, Any]) -> Submission:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        values = {}

    def field(block: str) -> dict[str, Any]:
        inputs = values.get(block)
        found = inputs.get("value") if isinstance(inputs, dict) else None
        return found if isinstance(found, dict) else {}

    def text(block: str) -> str:
        value = field(block).get("value")
        return value if isinstance(value, str) else ""

    selected = _list(field("audience").get("selected_options"))
    ticked = {o.get("value") for o in _list(field("options").get("selected_options")) if isinstance(o, dict)}
    return Submission(
        title=text("title"),
        body=text("body"),
        tags=tuple(str(o.get("value")) for o in selected if isinstance(o, dict) and o.get("value")),
        when=text("when"),
        requires_ack=ACK in ticked,
        send_anyway=OVERRIDE in ticked,
    )


def submit(coach: Any, user_id: str, submission: Submission) -> tuple[dict[str, str] | None, dict[str, Any] | None]:
    """(errors by block, or None) and (the view to show next, or None). Runs in a worker thread."""
    service = coach.services.get("broadcasts")
    if service is None:
        return {"title": "Broadcasts are not available in this version of the coach."}, None
    member = coach.members.find("slack", user_id)
    if member is None or not member.is_officer:
        return {"title": "Only council officers can send broadcasts."}, None
    now = coach.clock.now()
    tz = service.council().tz
    try:
        send_at = parse_send_time(submission.when, now, tz) if submission.when.strip() else None
    except BadInput as exc:
        return {"when": str(exc)}, None
    if not submission.send_anyway:
        concerns = service.warnings(submission.body, title=submission.title)
        if concerns:
            listed = "; ".join(concerns)
            return {"body": _clip(f"The draft checker found: {listed}. Change the message, or tick "
                                  "'Send even if the draft checker has concerns'.", 2000)}, None
    try:
        broadcast = service.create(
            member, submission.title, submission.body, submission.tags, send_at, submission.requires_ack
        )
    except NotAllowed as exc:
        return {"title": str(exc)}, None
    except BadInput as exc:
        block = "audience" if "members tagged" in str(exc) or "no members" in str(exc) else "body"
        return {block: str(exc)}, None
    when = "now" if send_at is None else format_time(broadcast.send_at, tz)
    return None, sent_view(broadcast.id, broadcast.title, broadcast.recipients, when)


def sent_view(broadcast_id: int, title: str, recipients: int, when: str) -> dict[str, Any]:
    text = (
        f"*{escape(title)}* (broadcast #{broadcast_id}) is queued for {recipients} "
        f"member{'s' if recipients != 1 else ''}, to go {escape(when)}.\n\n"
        f"See who has it with `/coach broadcast show {broadcast_id}`; "
        f"stop what has not gone with `/coach broadcast cancel {broadcast_id}`."
    )
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Broadcast queued"},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def _text_input(
    block_id: str,
    label: str,
    *,
    max_length: int | None = None,
    multiline: bool = False,
    optional: bool = False,
    placeholder: str = "",
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": multiline}
    if max_length:
        element["max_length"] = max_length
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
