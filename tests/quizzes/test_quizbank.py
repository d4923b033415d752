"""The quiz bank: the shipped scenarios and course load cleanly; mistakes are reported as file:line."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bot.config import packaged_knowledge_dir
from bot.guidance import Council, Files, Knowledge, Problems, Vocabulary, load_knowledge
from bot.quizbank import QuizBank, category_label, check_quizzes, load_quizzes

VOCABULARY = Vocabulary({"defamation": "d", "copyright": "c"}, {"moderation": "m"})


def test_the_shipped_quiz_bank_covers_every_category_and_the_course_is_passable() -> None:
    knowledge = load_knowledge(packaged_knowledge_dir())
    bank: QuizBank = knowledge.section("quizzes")
    assert len(bank.scenarios) >= 48
    for category in knowledge.vocabulary.all:
        assert len(bank.by_category(category)) >= 3, category
    course = bank.course
    assert course is not None and course.title and course.pass_correct >= 1
    assert set(course.categories) <= set(knowledge.vocabulary.all)
    for scenario in bank.scenarios.values():
        assert 3 <= len(scenario.options) <= 4 and scenario.correct_indexes
        assert all(o.feedback for o in scenario.options)
    topics = knowledge.sections.get("topics")
    if isinstance(topics, dict):
        assert {s.topic for s in bank.scenarios.values()} <= set(topics)


GOOD = """\
scenarios:
  - id: quiz-good-1
    category: defamation
    difficulty: 2
    topic: libel-basics
    situation: A resident accuses a neighbour of theft in your comments.
    question: What should you do?
    options:
      - {text: Remove it, correct: true, feedback: Right.}
      - {text: Leave it, feedback: No.}
      - {text: Like it, feedback: No.}
"""

BROKEN = """\
scenarios:
  - id: quiz-broken-1
    category: knitting
    difficulty: 5
    topic: no-such-topic
    situation: Something happens.
    question: What now?
    options:
      - {text: One, feedback: No.}
      - {text: Two}
  - id: Bad_Id
    category: copyright
    difficulty: 1
    topic: libel-basics
    question: What now?
    options:
      - {text: One, correct: "perhaps", feedback: x}
      - {text: Two, feedback: x}
      - {text: Three, feedback: x}
      - {text: Four, feedback: x}
      - {text: Five, correct: true, feedback: x}
"""

COURSE = """\
core_course:
  title: Essentials
  categories: [defamation, copyright, basket_weaving, defamation]
  pass_correct: 2
"""


def _check(tmp_path: Path, files: dict[str, str], topics: dict[str, object] | None = None) -> list[str]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    problems = Problems(tmp_path)
    bank = load_quizzes(Files(tmp_path, problems), VOCABULARY, problems)
    sections: dict[str, object] = {"quizzes": bank}
    if topics is not None:
        sections["topics"] = topics
    check_quizzes(Knowledge(tmp_path, VOCABULARY, Council(), sections), problems)
    return problems.items


def test_a_good_file_has_no_problems(tmp_path: Path) -> None:
    topics = {"libel-basics": SimpleNamespace(id="libel-basics", title="Libel")}
    assert _check(tmp_path, {"quizzes/good.yaml": GOOD}, topics) == []


def test_every_mistake_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    topics = {"libel-basics": SimpleNamespace(id="libel-basics", title="Libel", path=Path("t.yaml"), line=1)}
    problems = _check(
        tmp_path,
        {"quizzes/a.yaml": GOOD, "quizzes/b.yaml": BROKEN, "quizzes/course.yaml": COURSE},
        topics,
    )
    expected = [
        "quizzes/b.yaml:3: unknown category 'knitting' (see categories.yaml)",
        "quizzes/b.yaml:4: difficulty must be 1, 2 or 3",
        "quizzes/b.yaml:8: a scenario needs 3 or 4 options, not 2",
        "quizzes/b.yaml:10: 'feedback' is required",
        "quizzes/b.yaml:8: at least one option must be marked 'correct: true'",
        "quizzes/b.yaml:11: id 'Bad_Id' must be lower case letters, digits and hyphens",
        "quizzes/b.yaml:11: 'situation' is required",
        "quizzes/b.yaml:16: a scenario needs 3 or 4 options, not 5",
        "quizzes/b.yaml:17: 'correct' must be true or false",
        "quizzes/course.yaml:3: unknown category 'basket_weaving' (see categories.yaml)",
        "quizzes/course.yaml:3: category 'defamation' is listed twice",
        "quizzes/b.yaml:5: topic 'no-such-topic' does not exist",
        "quizzes/course.yaml:4: the core course needs 2 scenarios in 'defamation' to be passable; there are 1",
        "quizzes/course.yaml:4: the core course needs 2 scenarios in 'copyright' to be passable; there are 1",
    ]
    assert sorted(problems) == sorted(expected)


def test_topics_are_only_checked_when_the_topics_section_is_loaded(tmp_path: Path) -> None:
    assert _check(tmp_path, {"quizzes/good.yaml": GOOD}) == []


def test_ids_clash_with_other_sections(tmp_path: Path) -> None:
    topics = {"quiz-good-1": SimpleNamespace(id="quiz-good-1", title="x", path=tmp_path / "topics/t.yaml", line=7)}
    problems = _check(tmp_path, {"quizzes/good.yaml": GOOD.replace("libel-basics", "quiz-good-1")}, topics)
    assert problems == ["quizzes/good.yaml:2: duplicate id 'quiz-good-1' (also at t.yaml:7)"]
    again = _check(tmp_path, {"quizzes/again.yaml": GOOD})
    assert again == ["quizzes/good.yaml:2: duplicate id 'quiz-good-1' (also at again.yaml:2)"]


def test_categories_are_found_the_way_people_type_them(tmp_path: Path) -> None:
    bank = load_knowledge(packaged_knowledge_dir()).section("quizzes")
    assert bank.find_category("personal data") == "personal_data"
    assert bank.find_category("Pre-election") == "pre_election"
    assert bank.find_category("council resources") == "council_resources"
    assert bank.find_category("data") == "personal_data"
    assert bank.find_category("knitting") is None
    assert category_label("pre_election") == "Pre-election period"
