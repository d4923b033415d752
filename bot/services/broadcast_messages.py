"""What a broadcast looks like to members, and reading officers' send times.

Officers write bodies in a light, Markdown-ish way (blank lines between
paragraphs, "- " bullets, [label](url) links). The core keeps text plain, so the
body becomes neutral parts (paragraphs, a bulleted list, links) that each
adapter renders natively.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..clock import UTC
from ..errors import BadInput
from ..replies import Choice, Choices, Fact, Facts, Heading, Link, Paragraph, Part, Reply

ACK_ACTION = "broadcast.ack"
PREVIEW_VALUE = "preview"
MAX_TITLE = 150  # Slack's header block limit; Teams is roomier
MAX_BODY = 4000

_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+(.*)$")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*)$")
_LINK_ONLY = re.compile(r"^\s*(?:\[([^\]]+)\]\((https?://[^\s)]+)\)|<?(https?://\S+?)>?)\s*$")
_INLINE_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def _plain(text: str) -> str:
    text = _INLINE_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _EMPHASIS.sub(lambda m: m.group(2), text).strip()


def body_parts(body: str) -> tuple[Part, ...]:
    """Paragraphs, bullets, headings and links from an officer's text."""
    parts: list[Part] = []
    paragraph: list[str] = []
    bullets: list[str] = []

    def flush() -> None:
        if paragraph:
            parts.append(Paragraph("\n".join(paragraph)))
            paragraph.clear()
        if bullets:
            parts.append(Facts(tuple(Fact("", b) for b in bullets)))
            bullets.clear()

    for raw in body.replace("\r\n", "\n").split("\n"):
        if not raw.strip():
            flush()
            continue
        if bullet := _BULLET.match(raw):
            if paragraph:
                flush()
            bullets.append(_plain(bullet.group(1)))
        elif heading := _HEADING.match(raw):
            flush()
            parts.append(Heading(_plain(heading.group(1))))
        elif link := _LINK_ONLY.match(raw):
            flush()
            url = link.group(2) or link.group(3)
            parts.append(Link(link.group(1) or "Read more", url))
        else:
            if bullets:
                flush()
            paragraph.append(_plain(raw))
    flush()
    return tuple(parts)


def check_text(title: str, body: str) -> tuple[str, str]:
    """Tidy and validate a title and body; BadInput says what is wrong."""
    title = " ".join(title.split())
    body = body.strip()
    if not title:
        raise BadInput("A broadcast needs a title.")
    if len(title) > MAX_TITLE:
        raise BadInput(f"Please keep the title to {MAX_TITLE} characters (it has {len(title)}).")
    if not body:
        raise BadInput("A broadcast needs a message.")
    if len(body) > MAX_BODY:
        raise BadInput(f"Please keep the message to {MAX_BODY} characters (it has {len(body)}).")
    return title, body


def broadcast_reply(title: str, body: str, *, requires_ack: bool, broadcast_id: int | None) -> Reply:
    """The message members receive (and officers preview): the same Reply the outbox carries."""
    parts: list[Part] = [Heading(title), *body_parts(body)]
    if requires_ack:
        parts.append(Paragraph("Please press Got it to confirm you have read this."))
        value = PREVIEW_VALUE if broadcast_id is None else str(broadcast_id)
        parts.append(Choices((Choice("Got it", ACK_ACTION, value, "primary"),)))
    return Reply(summary=f"Guidance update: {title}", parts=tuple(parts), kind="broadcast")


def follow_up_reply(title: str, body: str, *, sent_at: datetime, tz: ZoneInfo, broadcast_id: int) -> Reply:
    """A reminder to read and confirm, carrying the whole update again (and its Got it)."""
    original = broadcast_reply(title, body, requires_ack=True, broadcast_id=broadcast_id)
    note = Paragraph(
        f"A reminder: on {format_day(sent_at, tz)} we sent you this guidance update and have not yet "
        "had your confirmation that you have read it."
    )
    return Reply(summary=f"Reminder: please read and confirm: {title}", parts=(note, *original.parts),
                 kind="broadcast")


def acknowledged_reply(title: str, body: str, note: str) -> Reply:
    """The update again, without its button, with a line saying it was confirmed."""
    original = broadcast_reply(title, body, requires_ack=False, broadcast_id=None)
    return Reply(summary=note, parts=(*original.parts, Paragraph(note)), replaces_prompt=True, kind="broadcast")


# -- times ------------------------------------------------------------------
def format_time(when: datetime | None, tz: ZoneInfo) -> str:
    if when is None:
        return ""
    local = when.astimezone(tz)
    return f"{local.day} {local:%b %Y %H:%M}"


def format_day(when: datetime, tz: ZoneInfo) -> str:
    local = when.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B}"


NOW_WORDS = {"", "now", "send now", "straight away", "immediately", "asap"}


def parse_send_time(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """A send time in the council's timezone, British day-first ("tomorrow 9am", "1/12 9:00")."""
    cleaned = text.strip().lower()
    if cleaned in NOW_WORDS:
        return now
    import dateparser  # slow to import; only officers scheduling a broadcast need it

    local_now = now.astimezone(tz).replace(tzinfo=None)
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now,
            "TIMEZONE": str(tz),
            "RETURN_AS_TIMEZONE_AWARE": True,
        },
    )
    if parsed is None:
        raise BadInput(
            f"I could not read '{text.strip()}' as a time. Try 'now', 'tomorrow 9am' or '2026-12-01 09:00'."
        )
    if parsed.tzinfo is None:  # pragma: no cover - dateparser returns aware times with the settings above
        parsed = parsed.replace(tzinfo=tz)
    when = parsed.astimezone(UTC)
    if when < now - timedelta(minutes=1):
        raise BadInput(f"{format_time(when, tz)} has already passed. Give a time in the future, or 'now'.")
    if when > now + timedelta(days=366):
        raise BadInput("That is more than a year away. Give a time within the next year.")
    return when
