"""Knowledge-base sections: guidance topics, FAQs, detection rules and training data.

Each section turns YAML records into frozen dataclasses and reports every
problem as `file:line: message`. References between sections (topic.related,
faq.topic, rule.topic) are resolved after everything has loaded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .guidance import (
    Files,
    Knowledge,
    Node,
    Problems,
    Section,
    Vocabulary,
    YamlFile,
    check_category,
    check_id,
    records,
    register_section,
    text_field,
    text_list,
)

VERDICTS = ("ok", "caution", "stop")
SEVERITIES = ("caution", "stop")
ACCOUNTS = ("personal", "official", "campaign")
# Built-in detectors a rule may name instead of (or as well as) patterns.
DETECTORS = (
    "postcode",
    "phone",
    "mobile",
    "email",
    "ni_number",
    "vehicle_reg",
    "house_address",
    "credential",
    "model",
)
# Cap on each pattern's length: a council's copy is edited by hand and a runaway
# pattern is more likely a paste mistake than a real rule.
MAX_PATTERN = 1000


# -- records --------------------------------------------------------------
@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    category: str
    summary: str
    why: str = ""
    law: str = ""
    risky: tuple[str, ...] = ()
    safer: tuple[str, ...] = ()
    instead: str = ""
    ask: str = ""
    keywords: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    source: str = ""
    reviewed_on: date | None = None
    path: Path = field(default=Path(), compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)
    related_line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Faq:
    id: str
    question: str
    category: str
    topic: str
    answer: str
    variants: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    source: str = ""
    reviewed_on: date | None = None
    path: Path = field(default=Path(), compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)
    topic_line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class RuleWhen:
    """Conditions on the context; None means 'any'."""

    pre_election: bool | None = None
    accounts: tuple[str, ...] = ()

    def holds(self, pre_election: bool, account: str) -> bool:
        if self.pre_election is not None and self.pre_election != pre_election:
            return False
        return not self.accounts or account in self.accounts


@dataclass(frozen=True)
class Rule:
    """A detection rule.

    Fires when its detector or any pattern matches, at least one `also` pattern
    matches somewhere in the draft (when given), no `unless` pattern matches, and
    `when` holds.
    """

    id: str
    category: str
    severity: str
    message: str
    suggestion: str
    topic: str
    detector: str = ""
    patterns: tuple[re.Pattern[str], ...] = ()
    also: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()
    when: RuleWhen = RuleWhen()
    path: Path = field(default=Path(), compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)
    topic_line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class TrainingDraft:
    id: str
    text: str
    verdict: str
    categories: tuple[str, ...]
    pre_election: bool = False
    account: str = "personal"


@dataclass(frozen=True)
class TrainingQuestion:
    id: str
    question: str
    topic: str


class TrainingSet:
    """The labelled drafts and questions under training/.

    Only the model-training and validation commands read these, so they are
    parsed on first use rather than at every start-up; `digest` fingerprints the
    files so a stale model can be spotted without parsing them.
    """

    def __init__(self, root: Path, paths: tuple[Path, ...], vocabulary: Vocabulary):
        self.root = root
        self.paths = paths
        self.vocabulary = vocabulary
        h = hashlib.sha256()
        for path in paths:
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
        self.digest = h.hexdigest()[:20]
        self._parsed: tuple[tuple[TrainingDraft, ...], tuple[TrainingQuestion, ...], list[str]] | None = None

    def _parse(self) -> tuple[tuple[TrainingDraft, ...], tuple[TrainingQuestion, ...], list[str]]:
        if self._parsed is None:
            problems = Problems(self.root)
            drafts, questions = _parse_training(Files(self.root, problems), self.vocabulary, problems)
            self._parsed = (drafts, questions, problems.items)
        return self._parsed

    def __eq__(self, other: object) -> bool:
        """Two training sets are the same when their files are byte for byte the same."""
        if not isinstance(other, TrainingSet):
            return NotImplemented
        return self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    @property
    def problems(self) -> list[str]:
        return list(self._parse()[2])

    @property
    def drafts(self) -> tuple[TrainingDraft, ...]:
        return self._parse()[0]

    @property
    def questions(self) -> tuple[TrainingQuestion, ...]:
        return self._parse()[1]


# -- helpers --------------------------------------------------------------
def _reviewed(node: Node, file: YamlFile, problems: Problems) -> date | None:
    value = node.get("reviewed_on")
    if value is None:
        return None
    if not isinstance(value, date):
        problems.add(file.path, node.line_of("reviewed_on"), "'reviewed_on' must be a date (YYYY-MM-DD)")
        return None
    return value


def compile_patterns(
    node: Node, key: str, file: YamlFile, problems: Problems
) -> tuple[re.Pattern[str], ...]:
    """Compile a list of regular expressions, reporting each one that fails."""
    raw = node.get(key)
    if raw is None:
        return ()
    line = node.line_of(key)
    if not isinstance(raw, list):
        problems.add(file.path, line, f"'{key}' must be a list of patterns")
        return ()
    compiled: list[re.Pattern[str]] = []
    for offset, pattern in enumerate(raw):
        # A flow list sits on the key's line; a block list has one item a line.
        start = getattr(raw, "line", line)
        item_line = start if start == line else start + offset
        if not isinstance(pattern, str) or not pattern.strip():
            problems.add(file.path, item_line, f"'{key}' entries must be non-empty text")
            continue
        if len(pattern) > MAX_PATTERN:
            problems.add(file.path, item_line, f"pattern in '{key}' is longer than {MAX_PATTERN} characters")
            continue
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            problems.add(file.path, item_line, f"pattern {pattern!r} in '{key}' does not compile: {exc}")
    return tuple(compiled)


# -- topics -----------------------------------------------------------------
def load_topics(files: Files, vocabulary: Vocabulary, problems: Problems) -> dict[str, Topic]:
    seen: dict[str, str] = {}
    topics: dict[str, Topic] = {}
    for file in files.glob("topics/*.yaml"):
        for node in records(file, "topics", problems):
            ident = check_id(node, file, problems, seen)
            category = check_category(node, file, problems, vocabulary)
            topic = Topic(
                id=ident,
                title=text_field(node, "title", file, problems),
                category=category,
                summary=text_field(node, "summary", file, problems),
                why=text_field(node, "why", file, problems, required=False),
                law=text_field(node, "law", file, problems, required=False),
                risky=text_list(node, "risky", file, problems),
                safer=text_list(node, "safer", file, problems),
                instead=text_field(node, "instead", file, problems, required=False),
                ask=text_field(node, "ask", file, problems, required=False),
                keywords=text_list(node, "keywords", file, problems),
                related=text_list(node, "related", file, problems),
                source=text_field(node, "source", file, problems, required=False),
                reviewed_on=_reviewed(node, file, problems),
                path=file.path,
                line=node.line,
                related_line=node.line_of("related"),
            )
            if ident and ident not in topics:
                topics[ident] = topic
    return topics


def check_topics(knowledge: Knowledge, problems: Problems) -> None:
    topics: dict[str, Topic] = knowledge.section("topics")
    for topic in topics.values():
        for ref in topic.related:
            if ref not in topics:
                problems.add(topic.path, topic.related_line, f"related topic {ref!r} does not exist")
            elif ref == topic.id:
                problems.add(topic.path, topic.related_line, "a topic cannot be related to itself")


# -- faqs -------------------------------------------------------------------
def load_faqs(files: Files, vocabulary: Vocabulary, problems: Problems) -> dict[str, Faq]:
    seen: dict[str, str] = {}
    faqs: dict[str, Faq] = {}
    for file in files.glob("faqs/*.yaml"):
        for node in records(file, "faqs", problems):
            ident = check_id(node, file, problems, seen)
            faq = Faq(
                id=ident,
                question=text_field(node, "question", file, problems),
                category=check_category(node, file, problems, vocabulary),
                topic=text_field(node, "topic", file, problems),
                answer=text_field(node, "answer", file, problems),
                variants=text_list(node, "variants", file, problems),
                keywords=text_list(node, "keywords", file, problems),
                source=text_field(node, "source", file, problems, required=False),
                reviewed_on=_reviewed(node, file, problems),
                path=file.path,
                line=node.line,
                topic_line=node.line_of("topic"),
            )
            if ident and ident not in faqs:
                faqs[ident] = faq
    return faqs


def check_faqs(knowledge: Knowledge, problems: Problems) -> None:
    topics: dict[str, Topic] = knowledge.section("topics")
    for faq in knowledge.section("faqs").values():
        if faq.topic and faq.topic not in topics:
            problems.add(faq.path, faq.topic_line, f"topic {faq.topic!r} does not exist")


# -- rules ------------------------------------------------------------------
def _when(node: Node, file: YamlFile, problems: Problems) -> RuleWhen:
    raw = node.get("when")
    if raw is None:
        return RuleWhen()
    line = node.line_of("when")
    if not isinstance(raw, Node):
        problems.add(file.path, line, "'when' must be a mapping, e.g. {pre_election: true}")
        return RuleWhen()
    unknown = sorted(set(raw) - {"pre_election", "account"})
    if unknown:
        problems.add(file.path, line, f"'when' has unknown condition(s): {', '.join(map(str, unknown))}")
    pre = raw.get("pre_election")
    if pre is not None and not isinstance(pre, bool):
        problems.add(file.path, line, "'when.pre_election' must be true or false")
        pre = None
    accounts_raw = raw.get("account") or []
    if isinstance(accounts_raw, str):
        accounts_raw = [accounts_raw]
    accounts = tuple(str(a) for a in accounts_raw) if isinstance(accounts_raw, list) else ()
    for account in accounts:
        if account not in ACCOUNTS:
            problems.add(file.path, line, f"unknown account type {account!r} (use {', '.join(ACCOUNTS)})")
    return RuleWhen(pre if isinstance(pre, bool) else None, accounts)


def load_rules(files: Files, vocabulary: Vocabulary, problems: Problems) -> tuple[Rule, ...]:
    seen: dict[str, str] = {}
    rules: list[Rule] = []
    for file in files.glob("rules/*.yaml"):
        for node in records(file, "rules", problems):
            ident = check_id(node, file, problems, seen)
            category = check_category(node, file, problems, vocabulary)
            if category and vocabulary.risk and category not in vocabulary.risk and category in vocabulary.all:
                problems.add(file.path, node.line_of("category"), f"rules need a risk category, not the practice topic {category!r}")
            severity = str(node.get("severity") or "")
            if severity not in SEVERITIES:
                problems.add(file.path, node.line_of("severity"), "severity must be caution or stop")
            detector = str(node.get("detector") or "")
            if detector and detector not in DETECTORS:
                problems.add(file.path, node.line_of("detector"), f"unknown detector {detector!r} (use {', '.join(DETECTORS)})")
            patterns = compile_patterns(node, "patterns", file, problems)
            if not detector and not patterns and node.get("patterns") in (None, []):
                problems.add(file.path, node.line, "a rule needs a detector or at least one pattern")
            rules.append(
                Rule(
                    id=ident,
                    category=category,
                    severity=severity,
                    message=text_field(node, "message", file, problems),
                    suggestion=text_field(node, "suggestion", file, problems),
                    topic=text_field(node, "topic", file, problems),
                    detector=detector,
                    patterns=patterns,
                    also=compile_patterns(node, "also", file, problems),
                    unless=compile_patterns(node, "unless", file, problems),
                    when=_when(node, file, problems),
                    path=file.path,
                    line=node.line,
                    topic_line=node.line_of("topic"),
                )
            )
    return tuple(rules)


def check_rules(knowledge: Knowledge, problems: Problems) -> None:
    topics: dict[str, Topic] = knowledge.section("topics")
    for rule in knowledge.section("rules"):
        if rule.topic and rule.topic not in topics:
            problems.add(rule.path, rule.topic_line, f"topic {rule.topic!r} does not exist")
    _check_ids_across_sections(knowledge, problems)


def _check_ids_across_sections(knowledge: Knowledge, problems: Problems) -> None:
    """Ids are unique across the whole knowledge base, not just within a section."""
    first: dict[str, tuple[Path, int]] = {}
    groups: list[Any] = [
        knowledge.section("topics").values(),
        knowledge.section("faqs").values(),
        knowledge.section("rules"),
    ]
    for group in groups:
        local: set[str] = set()
        for record in group:
            if not record.id or record.id in local:
                continue
            local.add(record.id)
            if record.id in first:
                path, line = first[record.id]
                problems.add(record.path, record.line, f"duplicate id {record.id!r} (also at {path.name}:{line})")
            else:
                first[record.id] = (record.path, record.line)


# -- training data -----------------------------------------------------------
def load_training(files: Files, vocabulary: Vocabulary, problems: Problems) -> TrainingSet:
    paths = tuple(sorted(p for p in (files.root / "training").glob("*.yaml") if p.is_file()))
    return TrainingSet(files.root, paths, vocabulary)


def _parse_training(
    files: Files, vocabulary: Vocabulary, problems: Problems
) -> tuple[tuple[TrainingDraft, ...], tuple[TrainingQuestion, ...]]:
    drafts: list[TrainingDraft] = []
    questions: list[TrainingQuestion] = []
    seen: dict[str, str] = {}
    for file in files.glob("training/*.yaml"):
        if file.data is None:
            continue
        if not isinstance(file.data, Node) or not ({"drafts", "questions"} & set(file.data)):
            problems.add(file.path, getattr(file.data, "line", 1), "expected a top-level 'drafts:' or 'questions:' list")
            continue
        if "drafts" in file.data:
            for node in records(file, "drafts", problems):
                draft = _training_draft(node, file, vocabulary, problems, seen)
                if draft is not None:
                    drafts.append(draft)
        if "questions" in file.data:
            for node in records(file, "questions", problems):
                ident = check_id(node, file, problems, seen)
                question = text_field(node, "question", file, problems)
                topic = check_category(node, file, problems, vocabulary, key="topic")
                if ident and question and topic:
                    questions.append(TrainingQuestion(ident, question, topic))
    return tuple(drafts), tuple(questions)


def _training_draft(
    node: Node, file: YamlFile, vocabulary: Vocabulary, problems: Problems, seen: dict[str, str]
) -> TrainingDraft | None:
    ident = check_id(node, file, problems, seen)
    text = node.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.add(file.path, node.line_of("text"), "'text' is required")
        return None
    verdict = str(node.get("verdict") or "")
    if verdict not in VERDICTS:
        problems.add(file.path, node.line_of("verdict"), "verdict must be ok, caution or stop")
        return None
    raw = node.get("categories") or []
    if not isinstance(raw, list):
        problems.add(file.path, node.line_of("categories"), "'categories' must be a list")
        return None
    categories = tuple(str(c) for c in raw)
    for category in categories:
        if vocabulary.risk and category not in vocabulary.risk:
            problems.add(file.path, node.line_of("categories"), f"unknown risk category {category!r}")
            return None
    if verdict == "ok" and categories:
        problems.add(file.path, node.line_of("categories"), "an ok draft has no categories")
    if verdict != "ok" and not categories:
        problems.add(file.path, node.line_of("categories"), f"a {verdict} draft needs at least one category")
    context = node.get("context") or {}
    pre = bool(context.get("pre_election")) if isinstance(context, dict) else False
    account = str(context.get("account") or "personal") if isinstance(context, dict) else "personal"
    if account not in ACCOUNTS:
        problems.add(file.path, node.line_of("context"), f"unknown account type {account!r}")
        account = "personal"
    return TrainingDraft(ident, text, verdict, tuple(sorted(set(categories))), pre, account)


register_section(Section("topics", load_topics, check_topics))
register_section(Section("faqs", load_faqs, check_faqs))
register_section(Section("rules", load_rules, check_rules))
register_section(Section("training", load_training))
