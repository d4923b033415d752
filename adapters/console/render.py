"""Reply -> wrapped plain text, with choices numbered for typing."""

from __future__ import annotations

import textwrap

from bot.replies import Badge, Choices, Divider, Facts, Heading, Link, Paragraph, Reply

WIDTH = 78
BADGES = {"ok": "[OK]", "caution": "[CAUTION]", "stop": "[STOP]"}


def render(reply: Reply, *, first_number: int = 1) -> str:
    """Plain text for a terminal. Choices are numbered from `first_number`."""
    lines: list[str] = []
    number = first_number
    for part in reply.parts:
        if isinstance(part, Heading):
            lines += ["", part.text.upper() if len(part.text) < 40 else part.text, ""]
        elif isinstance(part, Paragraph):
            for para in part.text.split("\n"):
                lines += textwrap.wrap(para, WIDTH) or [""]
        elif isinstance(part, Badge):
            lines.append(f"{BADGES[part.verdict]} {part.label}")
        elif isinstance(part, Facts):
            for fact in part.items:
                head = f"  - {fact.label}: " if fact.label else "  - "
                wrapped = textwrap.wrap(fact.value, WIDTH - 6) or [""]
                lines.append(head + wrapped[0])
                lines += ["      " + w for w in wrapped[1:]]
        elif isinstance(part, Link):
            lines.append(f"{part.label}: {part.url}")
        elif isinstance(part, Divider):
            lines.append("-" * 40)
        elif isinstance(part, Choices):
            for choice in part.items:
                lines.append(f"  {number}) {choice.label}")
                number += 1
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) if lines else reply.summary
