"""What changed between two knowledge bases, in plain words an officer can send to members.

Works on whatever sections are registered: any section whose records carry an
`id` is compared record by record, field by field, so a new section (quiz
scenarios, reminder wording) is covered without changes here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .guidance import Council, Knowledge, Period

# How each section's records are named in a sentence: (one, many).
SECTION_WORDS: dict[str, tuple[str, str]] = {
    "topics": ("guidance topic", "guidance topics"),
    "faqs": ("question and answer", "questions and answers"),
    "rules": ("draft-checker rule", "draft-checker rules"),
    "scenarios": ("quiz scenario", "quiz scenarios"),
    "quizzes": ("quiz scenario", "quiz scenarios"),
}
# Sections members read, in the order a summary lists them; others follow.
MEMBER_FACING = ("topics", "faqs", "scenarios", "quizzes")
# Sections that only tune the checker: a broadcast counts them rather than naming them.
INTERNAL = ("rules", "training")

FIELD_WORDS = {
    "title": "title",
    "summary": "summary",
    "why": "why it matters",
    "law": "what the law says",
    "risky": "risky wording",
    "safer": "safer wording",
    "instead": "what to do instead",
    "ask": "who to ask",
    "keywords": "search words",
    "related": "related topics",
    "source": "source",
    "question": "question",
    "answer": "answer",
    "variants": "other phrasings",
    "category": "category",
    "topic": "topic",
    "severity": "severity",
    "message": "explanation",
    "suggestion": "suggestion",
    "patterns": "what it looks for",
    "also": "what it looks for",
    "unless": "exceptions",
    "when": "when it applies",
    "detector": "what it looks for",
    "situation": "situation",
    "options": "answer options",
    "difficulty": "difficulty",
}
NAME_FIELDS = ("title", "situation", "question", "message")
REVIEW_FIELDS = {"reviewed_on"}


@dataclass(frozen=True)
class RecordChange:
    section: str
    kind: str  # added | removed | changed | reviewed
    id: str
    name: str
    fields: tuple[str, ...] = ()  # for changed: what changed, in words


@dataclass(frozen=True)
class KbDiff:
    changes: tuple[RecordChange, ...]
    council: tuple[str, ...]  # sentences about council settings
    other: tuple[str, ...]  # sentences about sections without ids (training data, wording)

    @property
    def is_empty(self) -> bool:
        return not (self.changes or self.council or self.other)

    def of(self, section: str, kind: str) -> list[RecordChange]:
        return [c for c in self.changes if c.section == section and c.kind == kind]

    def sections(self) -> list[str]:
        seen = list(dict.fromkeys(c.section for c in self.changes))
        return [s for s in MEMBER_FACING if s in seen] + [s for s in seen if s not in MEMBER_FACING]

    def counts(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for c in self.changes:
            result.setdefault(c.section, {}).setdefault(c.kind, 0)
            result[c.section][c.kind] += 1
        return result

    def text(self) -> str:
        """Everything that changed, for the officer who runs `coach kb diff`."""
        if self.is_empty:
            return "No changes: the two knowledge bases say the same."
        lines: list[str] = []
        for section in self.sections():
            lines += _section_lines(self, section, detailed=True)
        if self.council:
            lines += ["", "Council settings:"] + [f"- {s}" for s in self.council]
        if self.other:
            lines += ["", "Other:"] + [f"- {s}" for s in self.other]
        return "\n".join(lines).strip()

    def broadcast_body(self) -> str:
        """The summary for members: what they can read now, not how the checker is tuned."""
        lines: list[str] = []
        for section in self.sections():
            if section in INTERNAL:
                continue
            lines += _section_lines(self, section, detailed=False)
        checker = self.counts().get("rules", {})
        touched = sum(n for kind, n in checker.items() if kind != "reviewed")
        if touched:
            lines += ["", f"The draft checker has been updated ({_count_words(checker)}): "
                          "try 'check' on your next post."]
        if self.council:
            lines += ["", "Council settings:"] + [f"- {s}" for s in self.council]
        if not lines:
            return "The guidance has been reviewed; nothing you need to read has changed."
        return "Here is what has changed in the guidance.\n" + "\n".join(lines)


def _section_lines(diff: KbDiff, section: str, *, detailed: bool) -> list[str]:
    one, many = SECTION_WORDS.get(section, (section, section))
    lines: list[str] = []
    groups = (("added", "New"), ("changed", "Updated"), ("removed", "Removed"))
    if detailed:
        groups += (("reviewed", "Reviewed, no other change"),)
    for kind, heading in groups:
        items = diff.of(section, kind)
        if not items:
            continue
        lines += ["", f"{heading} {one if len(items) == 1 else many} ({len(items)}):"]
        for item in items:
            label = f"{item.name} ({item.id})" if detailed and item.name != item.id else item.name
            if kind == "changed" and item.fields:
                label += ": " + ", ".join(item.fields)
            lines.append(f"- {label}")
    return lines


def _count_words(counts: dict[str, int]) -> str:
    words = {"added": "new", "changed": "updated", "removed": "removed"}
    return ", ".join(f"{counts[k]} {w}" for k, w in words.items() if counts.get(k))


# -- comparing ------------------------------------------------------------------
def diff_knowledge(old: Knowledge, new: Knowledge) -> KbDiff:
    changes: list[RecordChange] = []
    other: list[str] = []
    for section in dict.fromkeys([*old.sections, *new.sections]):
        before, after = old.sections.get(section), new.sections.get(section)
        before_records, after_records = _records(before), _records(after)
        if before_records is not None and after_records is not None:
            changes += _diff_records(section, before_records, after_records)
            continue
        inner = _record_field(before) or _record_field(after)
        if inner and section != "training":
            # A bank of records plus settings (quizzes: scenarios and the course).
            changes += _diff_records(section, _records(getattr(before, inner, None)) or {},
                                     _records(getattr(after, inner, None)) or {})
            for name in _changed_fields(before, after):
                if name != inner:
                    other.append(f"{section.replace('_', ' ').capitalize()}: the {name.replace('_', ' ')} changed.")
            continue
        sentence = _other_change(section, before, after)
        if sentence:
            other.append(sentence)
    return KbDiff(tuple(changes), tuple(_diff_council(old.council, new.council)), tuple(other))


def _record_field(value: Any) -> str:
    """The field of a dataclass section that holds its records by id, if it has one."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return ""
    for f in dataclasses.fields(value):
        inner = getattr(value, f.name)
        if isinstance(inner, (dict, list, tuple)) and inner and _records(inner) is not None:
            return f.name
    return ""


def _records(value: Any) -> dict[str, Any] | None:
    """A section's records by id, or None when the section is not a set of records."""
    if value is None:
        return {}
    if isinstance(value, dict) and all(hasattr(v, "id") for v in value.values()):
        return {str(v.id): v for v in value.values()}
    if isinstance(value, (list, tuple)) and all(hasattr(v, "id") for v in value):
        return {str(v.id): v for v in value}
    return None


def _diff_records(section: str, before: dict[str, Any], after: dict[str, Any]) -> list[RecordChange]:
    changes = [RecordChange(section, "added", i, _name(after[i])) for i in after if i not in before]
    for ident in after:
        if ident not in before:
            continue
        fields = _changed_fields(before[ident], after[ident])
        if not fields:
            continue
        if set(fields) <= REVIEW_FIELDS:
            changes.append(RecordChange(section, "reviewed", ident, _name(after[ident])))
        else:
            words = tuple(dict.fromkeys(FIELD_WORDS.get(f, f.replace("_", " ")) for f in fields
                                        if f not in REVIEW_FIELDS))
            changes.append(RecordChange(section, "changed", ident, _name(after[ident]), words))
    changes += [RecordChange(section, "removed", i, _name(before[i])) for i in before if i not in after]
    return changes


def _changed_fields(a: Any, b: Any) -> list[str]:
    if not (dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b)):
        return [] if _plain(a) == _plain(b) else ["content"]
    return [
        f.name
        for f in dataclasses.fields(a)
        if f.compare and f.name != "id" and _plain(getattr(a, f.name, None)) != _plain(getattr(b, f.name, None))
    ]


def _plain(value: Any) -> Any:
    """A comparable form: compiled patterns by their text, dataclasses by their compared fields."""
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple((f.name, _plain(getattr(value, f.name))) for f in dataclasses.fields(value) if f.compare)
    return value


def _name(record: Any) -> str:
    for field in NAME_FIELDS:
        value = getattr(record, field, "")
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= 90 else text[:87].rstrip() + "..."
    return str(record.id)


def _other_change(section: str, before: Any, after: Any) -> str:
    if _plain(before) == _plain(after):
        return ""
    if section == "training":
        parts = []
        for attr, word in (("drafts", "example drafts"), ("questions", "example questions")):
            old_n, new_n = len(getattr(before, attr, ()) or ()), len(getattr(after, attr, ()) or ())
            if old_n != new_n:
                parts.append(f"{word} {old_n} -> {new_n}")
        detail = ", ".join(parts) if parts else "examples edited"
        return f"The checker's training examples changed ({detail}); retrain with 'coach kb train'."
    return f"{section.replace('_', ' ').capitalize()}: changed."


# -- the council ---------------------------------------------------------------------
def _diff_council(a: Council, b: Council) -> list[str]:
    sentences: list[str] = []
    if a.name != b.name:
        sentences.append(f"The council's name is now {b.name}.")
    if (a.monitoring_officer, a.monitoring_officer_contact) != (b.monitoring_officer, b.monitoring_officer_contact):
        sentences.append(f"Questions now go to {b.ask_line}.")
    if a.protocol_url != b.protocol_url and b.protocol_url:
        sentences.append(f"The council's social media protocol is now at {b.protocol_url}")
    if a.timezone != b.timezone:
        sentences.append(f"Times are now in {b.timezone}.")
    if a.nation != b.nation:
        sentences.append(f"The rules followed are now those for {b.nation.title()}.")
    old_periods, new_periods = set(a.pre_election_periods), set(b.pre_election_periods)
    for period in sorted(new_periods - old_periods, key=lambda p: p.start):
        sentences.append(f"Pre-election period: {_period(period)}.")
    for period in sorted(old_periods - new_periods, key=lambda p: p.start):
        if not any(p.label == period.label for p in new_periods):
            sentences.append(f"No longer a pre-election period: {_period(period)}.")
    return sentences


def _period(p: Period) -> str:
    return f"{p.label}, {_day(p.start)} to {_day(p.end)}"


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"
