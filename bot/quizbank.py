"""The quiz bank: scenario questions and the core course, loaded from knowledge/quizzes/.

Registers the `quizzes` knowledge-base section. Every problem is reported as
`file:line: message`; references to guidance topics are resolved once the
`topics` section has loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
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
)

COURSE_FILE = "quizzes/course.yaml"
MIN_OPTIONS, MAX_OPTIONS = 3, 4
DIFFICULTIES = (1, 2, 3)
LETTERS = "ABCD"

# Category ids read oddly when only the underscore is replaced.
_LABELS = {"pre_election": "Pre-election period", "council_resources": "Council resources"}


def category_label(category: str) -> str:
    """'personal_data' -> 'Personal data', for people to read."""
    return _LABELS.get(category) or category.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Option:
    text: str
    is_correct: bool
    feedback: str


@dataclass(frozen=True)
class Scenario:
    id: str
    category: str
    difficulty: int
    topic: str
    situation: str
    question: str
    options: tuple[Option, ...]
    source: str = ""
    reviewed_on: date | None = None
    path: Path = field(default=Path(), compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)
    topic_line: int = field(default=0, compare=False, repr=False)

    @property
    def correct_indexes(self) -> tuple[int, ...]:
        return tuple(i for i, o in enumerate(self.options) if o.is_correct)


@dataclass(frozen=True)
class Course:
    title: str
    categories: tuple[str, ...]
    pass_correct: int
    path: Path = field(default=Path(), compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class QuizBank:
    scenarios: dict[str, Scenario]
    course: Course | None = None

    def by_category(self, category: str) -> list[Scenario]:
        return [s for s in self.scenarios.values() if s.category == category]

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories that have at least one scenario, in first-seen order."""
        return tuple(dict.fromkeys(s.category for s in self.scenarios.values()))

    def find_category(self, words: str) -> str | None:
        """A category named the way people type it: 'personal data', 'pre-election', 'defamation'."""
        wanted = "_".join(words.lower().replace("-", " ").replace("_", " ").split())
        if not wanted:
            return None
        if wanted in self.categories:
            return wanted
        labels = {c: "_".join(category_label(c).lower().replace("-", " ").split()) for c in self.categories}
        exact = [c for c, label in labels.items() if label == wanted]
        if exact:
            return exact[0]
        partial = [c for c, label in labels.items() if wanted in c or wanted in label]
        return partial[0] if len(partial) == 1 else None


# -- loading ----------------------------------------------------------------
def _difficulty(node: Node, file: YamlFile, problems: Problems) -> int:
    raw = node.get("difficulty")
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in DIFFICULTIES:
        problems.add(file.path, node.line_of("difficulty"), "difficulty must be 1, 2 or 3")
        return 1
    return raw


def _options(node: Node, file: YamlFile, problems: Problems) -> tuple[Option, ...]:
    raw = node.get("options")
    line = node.line_of("options")
    if not isinstance(raw, list):
        problems.add(file.path, line, f"'options' must be a list of {MIN_OPTIONS} or {MAX_OPTIONS} options")
        return ()
    if not MIN_OPTIONS <= len(raw) <= MAX_OPTIONS:
        problems.add(file.path, line, f"a scenario needs {MIN_OPTIONS} or {MAX_OPTIONS} options, not {len(raw)}")
    options: list[Option] = []
    for item in raw:
        if not isinstance(item, Node):
            problems.add(file.path, getattr(raw, "line", line), "each option must be a mapping with text and feedback")
            continue
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            problems.add(file.path, item.line_of("correct"), "'correct' must be true or false")
            correct = False
        options.append(
            Option(
                text=text_field(item, "text", file, problems),
                is_correct=correct,
                feedback=text_field(item, "feedback", file, problems),
            )
        )
    if options and not any(o.is_correct for o in options):
        problems.add(file.path, line, "at least one option must be marked 'correct: true'")
    return tuple(options[:MAX_OPTIONS])


def _reviewed(node: Node, file: YamlFile, problems: Problems) -> date | None:
    value = node.get("reviewed_on")
    if value is None:
        return None
    if not isinstance(value, date):
        problems.add(file.path, node.line_of("reviewed_on"), "'reviewed_on' must be a date (YYYY-MM-DD)")
        return None
    return value


def _course(files: Files, vocabulary: Vocabulary, problems: Problems) -> Course | None:
    file = files.read(COURSE_FILE)
    if file is None or file.data is None:
        return None
    node = file.data.get("core_course") if isinstance(file.data, Node) else None
    if not isinstance(node, Node):
        problems.add(file.path, getattr(file.data, "line", 1), "expected a top-level 'core_course:' mapping")
        return None
    title = text_field(node, "title", file, problems)
    raw = node.get("categories")
    categories: list[str] = []
    if not isinstance(raw, list) or not raw:
        problems.add(file.path, node.line_of("categories"), "'categories' must be a non-empty list of categories")
    else:
        for category in map(str, raw):
            if vocabulary.all and category not in vocabulary.all:
                problems.add(file.path, node.line_of("categories"), f"unknown category {category!r} (see categories.yaml)")
            elif category in categories:
                problems.add(file.path, node.line_of("categories"), f"category {category!r} is listed twice")
            else:
                categories.append(category)
    pass_correct = node.get("pass_correct")
    if isinstance(pass_correct, bool) or not isinstance(pass_correct, int) or pass_correct < 1:
        problems.add(file.path, node.line_of("pass_correct"), "'pass_correct' must be a whole number, 1 or more")
        pass_correct = 1
    return Course(title, tuple(categories), pass_correct, file.path, node.line_of("pass_correct"))


def load_quizzes(files: Files, vocabulary: Vocabulary, problems: Problems) -> QuizBank:
    seen: dict[str, str] = {}
    scenarios: dict[str, Scenario] = {}
    for file in files.glob("quizzes/*.yaml"):
        if file.path.name == Path(COURSE_FILE).name:
            continue
        for node in records(file, "scenarios", problems):
            ident = check_id(node, file, problems, seen)
            scenario = Scenario(
                id=ident,
                category=check_category(node, file, problems, vocabulary),
                difficulty=_difficulty(node, file, problems),
                topic=text_field(node, "topic", file, problems),
                situation=text_field(node, "situation", file, problems),
                question=text_field(node, "question", file, problems),
                options=_options(node, file, problems),
                source=text_field(node, "source", file, problems, required=False),
                reviewed_on=_reviewed(node, file, problems),
                path=file.path,
                line=node.line,
                topic_line=node.line_of("topic"),
            )
            if ident and ident not in scenarios:
                scenarios[ident] = scenario
    return QuizBank(scenarios, _course(files, vocabulary, problems))


def _record_ids(section: Any) -> Iterable[tuple[str, Path, int]]:
    """(id, path, line) of another section's records, whatever its container."""
    values = section.values() if isinstance(section, dict) else section if isinstance(section, (list, tuple)) else ()
    for record in values:
        ident = getattr(record, "id", None)
        if isinstance(ident, str) and ident:
            yield ident, getattr(record, "path", Path()), int(getattr(record, "line", 0) or 0)


def check_quizzes(knowledge: Knowledge, problems: Problems) -> None:
    bank: QuizBank = knowledge.sections["quizzes"]
    topics = knowledge.sections.get("topics")
    if isinstance(topics, dict):
        for scenario in bank.scenarios.values():
            if scenario.topic and scenario.topic not in topics:
                problems.add(scenario.path, scenario.topic_line, f"topic {scenario.topic!r} does not exist")
    # Ids are unique across the whole knowledge base, not just among scenarios.
    elsewhere: dict[str, tuple[Path, int]] = {}
    for name, section in knowledge.sections.items():
        if name != "quizzes":
            for ident, path, line in _record_ids(section):
                elsewhere.setdefault(ident, (path, line))
    for scenario in bank.scenarios.values():
        if scenario.id in elsewhere:
            path, line = elsewhere[scenario.id]
            problems.add(scenario.path, scenario.line, f"duplicate id {scenario.id!r} (also at {path.name}:{line})")
    course = bank.course
    if course is not None:
        for category in course.categories:
            have = len(bank.by_category(category))
            if have < course.pass_correct:
                problems.add(
                    course.path,
                    course.line,
                    f"the core course needs {course.pass_correct} scenarios in {category!r} to be passable; "
                    f"there are {have}",
                )


register_section(Section("quizzes", load_quizzes, check_quizzes))
