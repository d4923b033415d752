"""Reply -> Block Kit messages, within Slack's limits, with a plain fallback text.

Slack refuses a message that breaks a Block Kit limit, so this module never
produces one: long text is split across sections, many blocks across messages,
and every message carries a `text` fallback (notifications, screen readers)
that names the verdict when there is one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.replies import Badge, Choice, Choices, Divider, Facts, Heading, Link, Paragraph, Part, Reply

log = logging.getLogger(__name__)

# Slack's documented Block Kit limits.
MAX_BLOCKS = 50  # blocks in one message
MAX_VIEW_BLOCKS = 100  # blocks in a modal or the App Home
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_HEADER_TEXT = 150
# Not a published figure: Slack answers msg_blocks_too_long well before 50 full
# sections, so each message keeps its block text under this budget.
MAX_MESSAGE_TEXT = 12000
MAX_FALLBACK_TEXT = 3000

# Emoji plus a word, so the verdict never depends on colour alone.
BADGES: dict[str, tuple[str, str]] = {
    "ok": (":white_check_mark:", "OK"),
    "caution": (":warning:", "Caution"),
    "stop": (":no_entry:", "Stop"),
}

# Button action ids must be unique within a message; the suffix keeps two
# choices with the same core action apart, and inbound strips it again.
ACTION_SUFFIX = "#"

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage worth: the fallback text and its blocks."""

    text: str
    blocks: tuple[Block, ...]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": list(self.blocks)}


def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def verdict_of(reply: Reply) -> str | None:
    for part in reply.parts:
        if isinstance(part, Badge):
            return part.verdict
    return None


def fallback_text(reply: Reply) -> str:
    """The plain `text` of a message: the summary, naming the verdict if there is one."""
    summary = " ".join(reply.summary.split()) or _first_words(reply)
    verdict = verdict_of(reply)
    if verdict is not None:
        word = BADGES[verdict][1]
        if not re.search(rf"\b{word}\b", summary, re.IGNORECASE):
            summary = f"{word}: {summary}" if summary else word
    return _clip(escape(summary), MAX_FALLBACK_TEXT)


def render_reply(reply: Reply) -> list[SlackMessage]:
    """One reply as one or more messages (more only when it would break a limit)."""
    blocks = reply_blocks(reply)
    if not blocks:
        blocks = [_section(escape(reply.summary.strip()) or "…")]
    groups = _group(blocks, MAX_BLOCKS, MAX_MESSAGE_TEXT)
    text = fallback_text(reply)
    if len(groups) == 1:
        return [SlackMessage(text, tuple(groups[0]))]
    total = len(groups)
    return [
        SlackMessage(text if i == 1 else _clip(f"{text} (part {i} of {total})", MAX_FALLBACK_TEXT), tuple(g))
        for i, g in enumerate(groups, start=1)
    ]


def render_replies(replies: Iterable[Reply]) -> list[SlackMessage]:
    return [message for reply in replies for message in render_reply(reply)]


def render_home(replies: Sequence[Reply], *, title: str = "Councillor Coach") -> dict[str, Any]:
    """The App Home tab: every reply one after another, within the view's block limit."""
    blocks: list[Block] = [_header(title)]
    for index, reply in enumerate(replies):
        if index:
            blocks.append({"type": "divider"})
        blocks += reply_blocks(reply) or [_section(escape(reply.summary.strip()) or "…")]
    if len(replies) == 0:
        blocks.append(
            _section("Send me a draft post to check, a question, or *help* in the Messages tab.")
        )
    if len(blocks) > MAX_VIEW_BLOCKS:
        blocks = blocks[: MAX_VIEW_BLOCKS - 1]
        blocks.append(_context("There is more than fits here: message me *progress* to see it all."))
    return {"type": "home", "blocks": blocks}


def reply_blocks(reply: Reply) -> list[Block]:
    """Block Kit blocks for every part of a reply, each block within its limits."""
    blocks: list[Block] = []
    button_number = 0
    for part in reply.parts:
        if isinstance(part, Choices):
            buttons = []
            for choice in part.items:
                buttons.append(_button(choice, button_number))
                button_number += 1
            for start in range(0, len(buttons), MAX_ACTION_ELEMENTS):
                blocks.append({"type": "actions", "elements": buttons[start : start + MAX_ACTION_ELEMENTS]})
        else:
            blocks += _part_blocks(part)
    return blocks


def _part_blocks(part: Part) -> list[Block]:
    if isinstance(part, Heading):
        text = " ".join(part.text.split())
        if not text:
            return []
        if len(text) <= MAX_HEADER_TEXT:
            return [_header(text)]
        return [_section(f"*{chunk}*") for chunk in split_text(escape(text), MAX_SECTION_TEXT - 2)]
    if isinstance(part, Paragraph):
        return [_section(chunk) for chunk in split_text(escape(part.text), MAX_SECTION_TEXT)]
    if isinstance(part, Badge):
        emoji, word = BADGES[part.verdict]
        label = escape(" ".join(part.label.split()))
        text = f"{emoji} *{word}*" + (f"  {label}" if label else "")
        return [_section(chunk) for chunk in split_text(text, MAX_SECTION_TEXT)]
    if isinstance(part, Facts):
        return _facts_blocks(part)
    if isinstance(part, Link):
        url = part.url.strip().replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
        label = escape(" ".join(part.label.split())) or url
        return [_section(f"<{url}|{_clip(label, 500)}>")]
    if isinstance(part, Divider):
        return [{"type": "divider"}]
    log.warning("unknown reply part %s", type(part).__name__)
    return []


def _facts_blocks(part: Facts) -> list[Block]:
    items = [(escape(f.label.strip()), escape(f.value.strip())) for f in part.items]
    items = [(label, value) for label, value in items if label or value]
    if not items:
        return []
    # Short facts read well as two columns of fields; long ones as a list.
    if len(items) >= 2 and all(len(label) + len(value) <= 150 for label, value in items):
        blocks = []
        for start in range(0, len(items), MAX_FIELDS):
            fields = [
                {"type": "mrkdwn", "text": _field_text(label, value)}
                for label, value in items[start : start + MAX_FIELDS]
            ]
            blocks.append({"type": "section", "fields": fields})
        return blocks
    lines = [f"• *{label}*: {value}" if label and value else f"• {label or value}" for label, value in items]
    return [_section(chunk) for chunk in split_text("\n".join(lines), MAX_SECTION_TEXT)]


def _field_text(label: str, value: str) -> str:
    text = f"*{label}*\n{value}" if label and value else (label or value)
    return _clip(text, MAX_FIELD_TEXT)


def _button(choice: Choice, number: int) -> Block:
    action = choice.action[: MAX_ACTION_ID - 8]
    value = choice.value
    if len(value) > MAX_BUTTON_VALUE:
        # A value this long is a bug in the feature; cut rather than have Slack refuse the message.
        log.warning("button value for %s cut to %s characters", action, MAX_BUTTON_VALUE)
        value = value[:MAX_BUTTON_VALUE]
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": _clip(" ".join(choice.label.split()) or "Choose", MAX_BUTTON_TEXT), "emoji": True},
        "action_id": f"{action}{ACTION_SUFFIX}{number}",
    }
    if value:
        button["value"] = value
    if choice.style in ("primary", "danger"):
        button["style"] = choice.style
    return button


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, MAX_HEADER_TEXT), "emoji": True}}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _block_text_length(block: Block) -> int:
    if block.get("type") == "section":
        text = len(block.get("text", {}).get("text", ""))
        return text + sum(len(f.get("text", "")) for f in block.get("fields", []))
    if block.get("type") == "header":
        return len(block["text"]["text"])
    if block.get("type") == "actions":
        return sum(len(e["text"]["text"]) + len(e.get("value", "")) for e in block["elements"])
    return 0


def _group(blocks: list[Block], max_blocks: int, max_text: int) -> list[list[Block]]:
    groups: list[list[Block]] = [[]]
    used = 0
    for block in blocks:
        size = _block_text_length(block)
        current = groups[-1]
        if current and (len(current) >= max_blocks or used + size > max_text):
            groups.append([])
            used = 0
        groups[-1].append(block)
        used += size
    return groups


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at the gentlest boundary.

    Works on escaped text: a hard cut never splits an entity such as `&amp;`.
    """
    text = text.strip()
    if not text:
        return []
    pieces: list[str] = []
    while len(text) > limit:
        cut = _best_cut(text, limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return [p for p in pieces if p]


def _best_cut(text: str, limit: int) -> int:
    window = text[: limit + 1]
    floor = limit // 2  # never make pieces smaller than half the limit just to find a boundary
    for boundary in ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " "):
        at = window.rfind(boundary, floor)
        if at != -1:
            return at + len(boundary.rstrip()) if boundary.strip() else at
    cut = limit
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    return cut


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first_words(reply: Reply) -> str:
    for part in reply.parts:
        text = getattr(part, "text", "") or getattr(part, "label", "")
        if isinstance(text, str) and text.strip():
            return " ".join(text.split())[:150]
    return ""
