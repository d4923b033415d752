"""The `reminders` section of the knowledge base: wording and defaults from reminders.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from .guidance import Files, Knowledge, Node, Problems, Section, Vocabulary, register_section

KINDS = ("checkin", "weekend", "away_before", "away_back", "custom", "quiz_nudge", "summary")
CHECKIN_STAGES = ("first", "second", "escalation")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(value: str) -> time | None:
    match = _TIME.match(value.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class Message:
    title: str
    text: str


@dataclass(frozen=True)
class Kind:
    name: str
    grace: timedelta | None
    title: str = ""
    text: str = ""
    send_at: time | None = None
    send_on: int | None = None  # 0 = Monday
    topic: str = ""
    extra: dict[str, str] | None = None
    messages: dict[str, Message] | None = None


@dataclass(frozen=True)
class ReminderBook:
    quiet_start: time
    quiet_end: time
    late_start: time
    late_end: time
    checkin_every_days: int
    checkin_time: time
    kinds: dict[str, Kind]
    late_night_note: str

    def kind(self, name: str) -> Kind:
        return self.kinds[name]


DEFAULT_BOOK = ReminderBook(
    quiet_start=time(21), quiet_end=time(8), late_start=time(22), late_end=time(6),
    checkin_every_days=2, checkin_time=time(9, 30),
    kinds={k: Kind(k, timedelta(hours=12), title="Reminder", text="{label}") for k in KINDS},
    late_night_note="",
)


def _load(files: Files, vocabulary: Vocabulary, problems: Problems) -> ReminderBook:
    file = files.read("reminders.yaml")
    if file is None:
        problems.add(files.root / "reminders.yaml", 1, "missing: reminder wording is required")
        return DEFAULT_BOOK
    data = file.data
    if not isinstance(data, Node):
        if data is not None:
            problems.add(file.path, 1, "expected 'defaults:' and 'kinds:' mappings")
        return DEFAULT_BOOK

    def clock(node: Node, key: str, default: time) -> time:
        raw = node.get(key)
        if raw is None:
            return default
        parsed = parse_clock(str(raw))
        if parsed is None:
            problems.add(file.path, node.line_of(key), f"'{key}' must be a time like 09:30, not {raw!r}")
            return default
        return parsed

    defaults = data.get("defaults") or Node()
    if not isinstance(defaults, Node):
        problems.add(file.path, data.line_of("defaults"), "'defaults' must be a mapping")
        defaults = Node()
    quiet = defaults.get("quiet_hours") or Node()
    late = defaults.get("late_night") or Node()
    every = defaults.get("checkin_every_days", 2)
    if not isinstance(every, int) or every < 1:
        problems.add(file.path, defaults.line_of("checkin_every_days"), "checkin_every_days must be a whole number, 1 or more")
        every = 2
    kinds_node = data.get("kinds")
    kinds: dict[str, Kind] = {}
    if not isinstance(kinds_node, Node):
        problems.add(file.path, data.line, "'kinds' mapping is required")
        kinds_node = Node()
    for name in KINDS:
        if name not in kinds_node:
            problems.add(file.path, kinds_node.line or data.line, f"kind '{name}' is missing")
    for name, node in kinds_node.items():
        line = kinds_node.line_of(name)
        if name not in KINDS:
            problems.add(file.path, line, f"unknown reminder kind {name!r} (known: {', '.join(KINDS)})")
            continue
        if not isinstance(node, Node):
            problems.add(file.path, line, f"kind '{name}' must be a mapping")
            continue
        grace_raw = node.get("grace_hours")
        grace = None
        if grace_raw is not None:
            if not isinstance(grace_raw, (int, float)) or grace_raw < 0:
                problems.add(file.path, node.line_of("grace_hours"), "grace_hours must be a number of hours")
            else:
                grace = timedelta(hours=float(grace_raw))
        send_on = None
        if node.get("send_on") is not None:
            day = str(node["send_on"]).lower()
            if day not in WEEKDAYS:
                problems.add(file.path, node.line_of("send_on"), f"send_on must be a weekday name, not {day!r}")
            else:
                send_on = WEEKDAYS.index(day)
        messages: dict[str, Message] | None = None
        if name == "checkin":
            messages = {}
            raw_messages = node.get("messages")
            if not isinstance(raw_messages, Node):
                problems.add(file.path, line, "checkin needs messages: first, second and escalation")
                raw_messages = Node()
            for stage in CHECKIN_STAGES:
                msg = raw_messages.get(stage)
                if not isinstance(msg, Node) or not msg.get("title") or not msg.get("text"):
                    problems.add(file.path, raw_messages.line or line, f"checkin message '{stage}' needs a title and text")
                    continue
                messages[stage] = Message(str(msg["title"]).strip(), str(msg["text"]).strip())
        elif not node.get("title") or not node.get("text"):
            problems.add(file.path, line, f"kind '{name}' needs a title and text")
        extra = {k: str(v) for k, v in node.items() if k in ("holiday_text", "button")}
        kinds[name] = Kind(
            name=name, grace=grace, title=str(node.get("title") or "").strip(), text=str(node.get("text") or "").strip(),
            send_at=clock(node, "send_at", time(10)) if node.get("send_at") is not None else None,
            send_on=send_on, topic=str(node.get("topic") or ""), extra=extra, messages=messages,
        )
    note = data.get("late_night_note")
    return ReminderBook(
        quiet_start=clock(quiet, "start", time(21)) if isinstance(quiet, Node) else time(21),
        quiet_end=clock(quiet, "end", time(8)) if isinstance(quiet, Node) else time(8),
        late_start=clock(late, "start", time(22)) if isinstance(late, Node) else time(22),
        late_end=clock(late, "end", time(6)) if isinstance(late, Node) else time(6),
        checkin_every_days=every,
        checkin_time=clock(defaults, "checkin_time", time(9, 30)),
        kinds={**DEFAULT_BOOK.kinds, **kinds},
        late_night_note=str(note or "").strip(),
    )


def _check(knowledge: Knowledge, problems: Problems) -> None:
    topics: Any = knowledge.sections.get("topics")
    book: ReminderBook = knowledge.sections["reminders"]
    if not isinstance(topics, dict):
        return
    path = knowledge.root / "reminders.yaml"
    for kind in book.kinds.values():
        if kind.topic and kind.topic not in topics:
            problems.add(path, 1, f"kind '{kind.name}' names topic {kind.topic!r}, which does not exist")


register_section(Section("reminders", _load, _check))
