"""Reply -> Adaptive Card message activities, with a plain-text fallback.

Teams renders Adaptive Cards up to schema 1.5 in bot messages and rejects a
message larger than about 28 KB, so a long reply is split across several cards
(never truncated). Buttons are `Action.Submit` whose data carries the core's
action id and value; Teams posts them back as a message activity whose `value`
is that data. The activity `summary` is what Teams shows in notifications.
"""

from __future__ import annotations

import json
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.replies import Badge, Choice, Choices, Divider, Facts, Heading, Link, Paragraph, Reply

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"  # the newest schema Teams renders in bot messages
# Teams refuses messages over ~28 KB including the activity envelope; keep each card well under.
MAX_CARD_BYTES = 24_000
MAX_TEXT_CHARS = 3_000  # one TextBlock; longer paragraphs become several
MAX_ELEMENT_BYTES = 6_000  # escaped JSON of one block (emoji and control characters grow when escaped)
MAX_SUMMARY_CHARS = 250
MAX_FACTS = 12  # per FactSet, so a long list of facts can be split between cards
MAX_ACTIONS_PER_SET = 5  # Teams hides buttons beyond the first few in an overflow menu
MAX_BUTTON_TITLE = 60
# Channels that render Adaptive Cards; anything else gets plain text.
CARD_CHANNELS = {"msteams", "emulator", "webchat", "directline", "test"}

BADGE_STYLES = {"ok": ("good", "Good"), "caution": ("warning", "Warning"), "stop": ("attention", "Attention")}
BUTTON_STYLES = {"primary": "positive", "danger": "destructive"}

Element = dict[str, Any]


def supports_cards(channel_id: str | None) -> bool:
    return (channel_id or "msteams") in CARD_CHANNELS


def card_elements(reply: Reply) -> list[Element]:
    """The card body for a reply, before any splitting."""
    elements: list[Element] = []
    pending_separator = False
    for part in reply.parts:
        if isinstance(part, Divider):
            pending_separator = bool(elements)
            continue
        new = _elements_for(part)
        if new and pending_separator:
            new[0] = {**new[0], "separator": True, "spacing": "Medium"}
        pending_separator = False
        elements.extend(new)
    if not elements:
        elements = [_text_block(chunk) for chunk in _pieces(reply.summary)]
    return elements


def cards(reply: Reply, *, max_bytes: int = MAX_CARD_BYTES) -> list[Element]:
    """One or more Adaptive Cards, each under `max_bytes` of JSON."""
    budget = max_bytes - _size(_card([], _short(reply.summary)))
    batches: list[list[Element]] = [[]]
    used = 0
    for element in card_elements(reply):
        cost = _size(element) + 1
        if batches[-1] and used + cost > budget:
            batches.append([])
            used = 0
        batches[-1].append(element)
        used += cost
    return [_card(batch, _short(reply.summary)) for batch in batches]


def plain_text(reply: Reply) -> str:
    """The reply as plain text, for channels without cards and for notifications."""
    lines: list[str] = []
    for part in reply.parts:
        if isinstance(part, Heading):
            lines += [part.text, ""]
        elif isinstance(part, Paragraph):
            lines += [part.text, ""]
        elif isinstance(part, Badge):
            lines += [f"[{part.verdict.upper()}] {part.label}", ""]
        elif isinstance(part, Facts):
            lines += [f"- {f.label}: {f.value}" if f.label else f"- {f.value}" for f in part.items]
            lines.append("")
        elif isinstance(part, Link):
            lines += [f"{part.label}: {part.url}", ""]
        elif isinstance(part, Divider):
            lines += ["----", ""]
        elif isinstance(part, Choices):
            labels = ", ".join(f"'{c.label}'" for c in part.items)
            lines += [f"Options (open this in Teams to choose): {labels}", ""]
    text = "\n".join(lines).strip()
    return text or reply.summary


def activities(reply: Reply, *, use_cards: bool = True) -> list[Activity]:
    """Message activities for one reply: cards, or plain text where cards don't render."""
    summary = _short(reply.summary)
    if not use_cards:
        return [
            Activity(type=ActivityTypes.message, text=chunk, text_format="plain", summary=summary)
            for chunk in _pieces(plain_text(reply), MAX_CARD_BYTES // 4)
        ]
    found = cards(reply)
    result = []
    for number, card in enumerate(found, start=1):
        if number > 1:
            summary = _short(f"{reply.summary} (part {number} of {len(found)})")
        result.append(
            Activity(
                type=ActivityTypes.message,
                summary=summary,
                attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
            )
        )
    return result


def card_of(activity: Activity) -> Element | None:
    """The Adaptive Card an activity carries, if any (for tests and updates)."""
    for attachment in activity.attachments or []:
        if attachment.content_type == CARD_CONTENT_TYPE and isinstance(attachment.content, dict):
            return attachment.content
    return None


# -- elements ---------------------------------------------------------------


def _elements_for(part: object) -> list[Element]:
    if isinstance(part, Heading):
        return [
            {**_text_block(chunk), "size": "Large", "weight": "Bolder", "style": "heading"}
            for chunk in _pieces(part.text)
        ]
    if isinstance(part, Paragraph):
        text = "\n\n".join(line.strip() for line in part.text.splitlines() if line.strip())
        return [_text_block(chunk) for chunk in _pieces(text)]
    if isinstance(part, Badge):
        style, colour = BADGE_STYLES[part.verdict]
        return [
            {
                "type": "Container",
                "style": style,
                "items": [{**_text_block(part.label), "weight": "Bolder", "color": colour}],
            }
        ]
    if isinstance(part, Facts):
        return _fact_sets(part)
    if isinstance(part, Link):
        if part.url.startswith(("https://", "http://")) and " " not in part.url:
            label = part.label.replace("[", "(").replace("]", ")")
            url = part.url.replace(")", "%29")
            return [_text_block(f"[{label}]({url})")]
        return [_text_block(f"{part.label}: {part.url}")]
    if isinstance(part, Choices):
        items = list(part.items)
        return [
            {"type": "ActionSet", "actions": [_button(c) for c in items[i : i + MAX_ACTIONS_PER_SET]]}
            for i in range(0, len(items), MAX_ACTIONS_PER_SET)
        ]
    return []


def _fact_sets(part: Facts) -> list[Element]:
    elements: list[Element] = []
    facts: list[dict[str, str]] = []
    for fact in part.items:
        if len(fact.label) + len(fact.value) > MAX_TEXT_CHARS:
            # Too long for one row of a FactSet: show it as text blocks instead.
            if facts:
                elements.append({"type": "FactSet", "facts": facts})
                facts = []
            head = f"{fact.label}: " if fact.label else ""
            elements += [_text_block(c) for c in _pieces(head + fact.value)]
            continue
        facts.append({"title": fact.label, "value": fact.value})
        if len(facts) == MAX_FACTS:
            elements.append({"type": "FactSet", "facts": facts})
            facts = []
    if facts:
        elements.append({"type": "FactSet", "facts": facts})
    return elements


def _button(choice: Choice) -> Element:
    title = choice.label if len(choice.label) <= MAX_BUTTON_TITLE else choice.label[: MAX_BUTTON_TITLE - 1] + "…"
    button: Element = {
        "type": "Action.Submit",
        "title": title,
        "data": {"action": choice.action, "value": choice.value},
    }
    if choice.style in BUTTON_STYLES:
        button["style"] = BUTTON_STYLES[choice.style]
    return button


def _text_block(text: str) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True}


def _card(body: list[Element], summary: str) -> Element:
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "fallbackText": summary,
        "body": body,
        "msteams": {"width": "Full"},
    }


def _size(value: object) -> int:
    # ASCII-escaped, as the connector client sends it: the worst case on the wire.
    return len(json.dumps(value).encode("utf-8"))


def _pieces(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Text split so each piece is short to read and small once escaped as JSON."""
    pieces: list[str] = []
    for piece in _split_text(text, limit):
        if _size(piece) > MAX_ELEMENT_BYTES and limit > 100:
            pieces += _pieces(piece, limit // 2)
        else:
            pieces.append(piece)
    return pieces


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 1] + "…"


def _split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, broken at a line or a space where possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces
