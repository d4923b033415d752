"""Loads the YAML knowledge base into typed records and validates it.

Every problem is collected (not just the first) and reported as
`file:line: message`, relative to the knowledge directory. Each part of the
knowledge base is a *section* with its own loader; feature modules register
their sections in `SECTIONS` so this module stays small.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, ScalarNode

from .errors import KnowledgeError

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


# -- YAML with line numbers ---------------------------------------------------
class Node(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it was written."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class NodeList(list):  # type: ignore[type-arg]
    line: int = 0


# libyaml's parser (when present) is ~10x faster and keeps the same marks, so
# line numbers are unchanged; start-up must load the whole knowledge base quickly.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _mapping(loader: _Loader, node: MappingNode) -> Node:
    loader.flatten_mapping(node)
    result = Node()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key_node, ScalarNode) and str(key) in result.key_lines:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result.key_lines[str(key)] = key_node.start_mark.line + 1
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> NodeList:
    result = NodeList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)  # type: ignore[arg-type]
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)  # type: ignore[arg-type]


# -- problems -----------------------------------------------------------------
@dataclass
class Problems:
    root: Path
    items: list[str] = field(default_factory=list)

    def add(self, path: Path, line: int, message: str) -> None:
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            rel = path
        self.items.append(f"{rel}:{line}: {message}")

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class YamlFile:
    path: Path
    data: Any  # Node / NodeList / scalar; None when the file is empty or broken


class Files:
    """Reads YAML files under the knowledge directory, reporting parse errors once."""

    def __init__(self, root: Path, problems: Problems):
        self.root = root
        self.problems = problems

    def read(self, relative: str) -> YamlFile | None:
        path = self.root / relative
        if not path.is_file():
            return None
        return self._parse(path)

    def glob(self, pattern: str) -> Iterator[YamlFile]:
        for path in sorted(self.root.glob(pattern)):
            if path.is_file():
                yield self._parse(path)

    def _parse(self, path: Path) -> YamlFile:
        try:
            text = path.read_text(encoding="utf-8")
            return YamlFile(path, yaml.load(text, Loader=_Loader))  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            self.problems.add(path, line, f"not valid YAML: {exc.problem or exc}")
        except UnicodeDecodeError:
            self.problems.add(path, 1, "not UTF-8 text")
        except yaml.YAMLError as exc:
            self.problems.add(path, 1, f"not valid YAML: {exc}")
        return YamlFile(path, None)


# -- helpers for section loaders ---------------------------------------------
def records(file: YamlFile, key: str, problems: Problems) -> list[Node]:
    """The list of mappings under `key` in a file, reporting shape problems."""
    if file.data is None:
        return []
    if not isinstance(file.data, Node) or key not in file.data:
        problems.add(file.path, getattr(file.data, "line", 1), f"expected a top-level '{key}:' list")
        return []
    items = file.data[key]
    if not isinstance(items, list):
        problems.add(file.path, file.data.line_of(key), f"'{key}' must be a list")
        return []
    good: list[Node] = []
    for item in items:
        if isinstance(item, Node):
            good.append(item)
        else:
            problems.add(file.path, getattr(items, "line", 1), f"each entry under '{key}' must be a mapping")
    return good


def text_field(
    node: Node, key: str, file: YamlFile, problems: Problems, *, required: bool = True
) -> str:
    value = node.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.add(file.path, node.line, f"'{key}' is required")
        return ""
    if isinstance(value, (dict, list)):
        problems.add(file.path, node.line_of(key), f"'{key}' must be text")
        return ""
    return str(value).strip()


def text_list(node: Node, key: str, file: YamlFile, problems: Problems, *, required: bool = False) -> tuple[str, ...]:
    value = node.get(key)
    if value is None:
        if required:
            problems.add(file.path, node.line, f"'{key}' is required")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        problems.add(file.path, node.line_of(key), f"'{key}' must be a list of text")
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())


# -- the vocabulary and the council ------------------------------------------
@dataclass(frozen=True)
class Vocabulary:
    risk: dict[str, str]
    practice: dict[str, str]

    @property
    def all(self) -> dict[str, str]:
        return {**self.risk, **self.practice}


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Council:
    name: str = "your council"
    monitoring_officer: str = "your Monitoring Officer"
    monitoring_officer_contact: str = ""
    protocol_url: str = ""
    timezone: str = "Europe/London"
    nation: str = "england"
    pre_election_periods: tuple[Period, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_pre_election(self, day: date) -> bool:
        return any(p.contains(day) for p in self.pre_election_periods)

    @property
    def ask_line(self) -> str:
        contact = f" ({self.monitoring_officer_contact})" if self.monitoring_officer_contact else ""
        return f"{self.monitoring_officer}{contact}"


def load_vocabulary(files: Files, problems: Problems) -> Vocabulary:
    file = files.read("categories.yaml")
    if file is None:
        problems.add(files.root / "categories.yaml", 1, "missing: the category vocabulary is required")
        return Vocabulary({}, {})
    data = file.data if isinstance(file.data, Node) else Node()
    risk = data.get("risk_categories") or {}
    practice = data.get("practice_topics") or {}
    if not isinstance(risk, dict) or not isinstance(practice, dict) or not risk:
        problems.add(file.path, getattr(file.data, "line", 1), "needs 'risk_categories' and 'practice_topics' mappings")
        return Vocabulary({}, {})
    return Vocabulary({str(k): str(v) for k, v in risk.items()}, {str(k): str(v) for k, v in practice.items()})


def load_council(files: Files, problems: Problems) -> Council:
    file = files.read("council.yaml")
    if file is None or file.data is None:
        return Council()
    root = file.data
    node = root.get("council") if isinstance(root, Node) else None
    if not isinstance(node, Node):
        problems.add(file.path, getattr(root, "line", 1), "expected a top-level 'council:' mapping")
        return Council()
    mo = node.get("monitoring_officer")
    mo_name, mo_contact = "your Monitoring Officer", ""
    if isinstance(mo, Node):
        mo_name = str(mo.get("name") or mo_name)
        mo_contact = ", ".join(str(mo[k]) for k in ("email", "phone") if mo.get(k))
    elif isinstance(mo, str):
        mo_name = mo
    tz = str(node.get("timezone") or "Europe/London")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(file.path, node.line_of("timezone"), f"unknown timezone {tz!r} (use e.g. Europe/London)")
        tz = "Europe/London"
    nation = str(node.get("nation") or "england").lower()
    if nation not in ("england", "wales", "scotland"):
        problems.add(file.path, node.line_of("nation"), "nation must be england, wales or scotland")
    periods: list[Period] = []
    raw_periods = node.get("pre_election_periods") or []
    if not isinstance(raw_periods, list):
        problems.add(file.path, node.line_of("pre_election_periods"), "pre_election_periods must be a list")
        raw_periods = []
    for item in raw_periods:
        line = getattr(item, "line", node.line_of("pre_election_periods"))
        if not isinstance(item, Node) or not isinstance(item.get("start"), date) or not isinstance(item.get("end"), date):
            problems.add(file.path, line, "each pre-election period needs start and end dates (YYYY-MM-DD)")
            continue
        if item["end"] < item["start"]:
            problems.add(file.path, line, "a pre-election period ends before it starts")
            continue
        periods.append(Period(item["start"], item["end"], str(item.get("label") or "pre-election period")))
    return Council(
        name=str(node.get("name") or "your council"),
        monitoring_officer=mo_name,
        monitoring_officer_contact=mo_contact,
        protocol_url=str(node.get("protocol_url") or ""),
        timezone=tz,
        nation=nation,
        pre_election_periods=tuple(periods),
    )


# -- the whole knowledge base -------------------------------------------------
@dataclass(frozen=True)
class Knowledge:
    root: Path
    vocabulary: Vocabulary
    council: Council
    sections: dict[str, Any]  # section name -> what its loader returned

    def section(self, name: str) -> Any:
        return self.sections[name]


@dataclass(frozen=True)
class Section:
    """One part of the knowledge base.

    `load` reads files and returns typed records; `check` runs after every
    section has loaded, to resolve references between sections.
    """

    name: str
    load: Callable[[Files, Vocabulary, Problems], Any]
    check: Callable[[Knowledge, Problems], None] | None = None


SECTIONS: list[Section] = []


def register_section(section: Section) -> None:
    SECTIONS[:] = [s for s in SECTIONS if s.name != section.name] + [section]


def check_id(node: Node, file: YamlFile, problems: Problems, seen: dict[str, str]) -> str:
    """Validate a record id and its uniqueness across the whole knowledge base."""
    raw = node.get("id")
    if raw is None:
        problems.add(file.path, node.line, "'id' is required")
        return ""
    ident = str(raw)
    if not ID_PATTERN.match(ident):
        problems.add(file.path, node.line_of("id"), f"id {ident!r} must be lower case letters, digits and hyphens")
    where = f"{file.path.name}:{node.line_of('id')}"
    if ident in seen:
        problems.add(file.path, node.line_of("id"), f"duplicate id {ident!r} (also at {seen[ident]})")
    else:
        seen[ident] = where
    return ident


def check_category(node: Node, file: YamlFile, problems: Problems, vocabulary: Vocabulary, key: str = "category") -> str:
    category = str(node.get(key) or "")
    if not category:
        problems.add(file.path, node.line, f"'{key}' is required")
    elif vocabulary.all and category not in vocabulary.all:
        problems.add(
            file.path, node.line_of(key), f"unknown category {category!r} (see categories.yaml)"
        )
    return category


def load_knowledge(root: Path) -> Knowledge:
    """Load and validate everything; raise KnowledgeError listing every problem."""
    _register_builtin_sections()
    root = Path(root)
    problems = Problems(root)
    if not root.is_dir():
        raise KnowledgeError([f"{root}:0: not a directory"])
    files = Files(root, problems)
    vocabulary = load_vocabulary(files, problems)
    council = load_council(files, problems)
    loaded: dict[str, Any] = {}
    for section in list(SECTIONS):
        loaded[section.name] = section.load(files, vocabulary, problems)
    knowledge = Knowledge(root, vocabulary, council, loaded)
    for section in list(SECTIONS):
        if section.check is not None:
            section.check(knowledge, problems)
    if problems:
        raise KnowledgeError(problems.items)
    return knowledge


def _register_builtin_sections() -> None:
    """Import the modules that register sections (kept lazy to avoid import cycles)."""
    for module in BUILTIN_SECTION_MODULES:
        __import__(module)


# Modules whose import registers a section. Add yours here.
BUILTIN_SECTION_MODULES: list[str] = ["bot.kb_sections", "bot.reminders_kb", "bot.quizbank"]


class KnowledgeStore:
    """Holds the knowledge base in use; a reload keeps the last good one if the new one is broken."""

    def __init__(self, root: Path, knowledge: Knowledge | None = None):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._current = knowledge or load_knowledge(self.root)

    @property
    def current(self) -> Knowledge:
        return self._current

    def reload(self) -> list[str]:
        """Reload from disk. Returns the problems; on problems the old knowledge stays."""
        try:
            fresh = load_knowledge(self.root)
        except KnowledgeError as exc:
            return exc.problems
        with self._lock:
            self._current = fresh
        return []
