"""Replies built from platform-neutral parts that every adapter renders natively.

Text in the core is plain: no Markdown, no mrkdwn, no HTML. Emphasis comes from
the structure (a heading, a badge, a list of facts) and each renderer owns escaping
and its platform's limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

VERDICTS = ("ok", "caution", "stop")


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Facts:
    items: tuple[Fact, ...]


@dataclass(frozen=True)
class Badge:
    """A verdict badge: ok, caution or stop, with the words to show beside it."""

    verdict: str
    label: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")


@dataclass(frozen=True)
class Choice:
    label: str
    action: str  # dotted action id, e.g. "quiz.answer"
    value: str = ""
    style: str = ""  # "" | "primary" | "danger": a hint renderers may ignore


@dataclass(frozen=True)
class Choices:
    items: tuple[Choice, ...]


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Divider:
    pass


Part = Union[Heading, Paragraph, Facts, Badge, Choices, Link, Divider]


@dataclass(frozen=True)
class Reply:
    """One message. `summary` is the one-line notification text and plain fallback.

    `replaces_prompt` asks the adapter to update the message whose button was
    pressed instead of posting a new one, so an answered question cannot be
    answered again from the same buttons.
    """

    summary: str
    parts: tuple[Part, ...] = ()
    replaces_prompt: bool = False
    kind: str = "reply"  # e.g. "verdict", "answer", "quiz", "reminder", "broadcast"

    @property
    def choices(self) -> tuple[Choice, ...]:
        return tuple(c for p in self.parts if isinstance(p, Choices) for c in p.items)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, for the outbox and for adapters that want it."""
        return {
            "summary": self.summary,
            "kind": self.kind,
            "replaces_prompt": self.replaces_prompt,
            "parts": [_part_to_dict(p) for p in self.parts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Reply:
        raw_parts = data.get("parts") or []
        assert isinstance(raw_parts, list)
        return cls(
            summary=str(data.get("summary", "")),
            parts=tuple(_part_from_dict(p) for p in raw_parts),
            replaces_prompt=bool(data.get("replaces_prompt", False)),
            kind=str(data.get("kind", "reply")),
        )


def text_reply(text: str, *, heading: str | None = None, kind: str = "reply") -> Reply:
    parts: list[Part] = []
    if heading:
        parts.append(Heading(heading))
    parts.append(Paragraph(text))
    return Reply(summary=heading or text.splitlines()[0][:150], parts=tuple(parts), kind=kind)


_TYPES: dict[str, type] = {
    "heading": Heading,
    "paragraph": Paragraph,
    "facts": Facts,
    "badge": Badge,
    "choices": Choices,
    "link": Link,
    "divider": Divider,
}
_NAMES = {v: k for k, v in _TYPES.items()}


def _part_to_dict(part: Part) -> dict[str, object]:
    name = _NAMES[type(part)]
    if isinstance(part, Facts):
        return {"type": name, "items": [[f.label, f.value] for f in part.items]}
    if isinstance(part, Choices):
        return {
            "type": name,
            "items": [[c.label, c.action, c.value, c.style] for c in part.items],
        }
    data: dict[str, object] = {"type": name}
    data.update(part.__dict__)
    return data


def _part_from_dict(data: object) -> Part:
    assert isinstance(data, dict)
    kind = data["type"]
    if kind == "facts":
        return Facts(tuple(Fact(str(a), str(b)) for a, b in data["items"]))
    if kind == "choices":
        return Choices(tuple(Choice(*map(str, item)) for item in data["items"]))
    cls = _TYPES[kind]
    return cls(**{k: v for k, v in data.items() if k != "type"})  # type: ignore[no-any-return]
