"""`coach kb validate` and the knowledge-base sections: every problem as file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.cli import main
from bot.config import packaged_knowledge_dir
from bot.errors import KnowledgeError
from bot.guidance import KnowledgeStore, load_knowledge

PACKAGED = packaged_knowledge_dir()

TOPICS = """\
topics:
  - id: t-libel
    title: Defamation and libel
    category: defamation
    summary: Criticise decisions, not people's honesty.
    keywords: [libel, sue]
    related: [t-respect]
  - id: t-respect
    title: Respect
    category: disrespect
    summary: Challenge ideas, not people.
"""

FAQS = """\
faqs:
  - id: t-faq-liar
    question: Can I call a councillor a liar?
    variants: ["Is it ok to say he lied?"]
    category: defamation
    topic: t-libel
    answer: No. Say what you disagree with and why.
"""

RULES = """\
rules:
  - id: t-def-liar
    category: defamation
    severity: stop
    patterns: ['\\bliar\\b']
    unless: ['\\bnot a liar\\b']
    message: Calling someone a liar can be libel.
    suggestion: Say what you disagree with instead.
    topic: t-libel
"""


def write_kb(root: Path, **files: str) -> Path:
    """A copy of the shipped knowledge base (without its model) plus the given files."""
    shutil.copytree(PACKAGED, root, ignore=shutil.ignore_patterns("model", "__pycache__"))
    defaults = {"topics/main.yaml": TOPICS, "faqs/main.yaml": FAQS, "rules/main.yaml": RULES}
    defaults.update({k.replace("__", "/").replace("_yaml", ".yaml"): v for k, v in files.items()})
    for rel, text in defaults.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    return caught.value.problems


def test_a_small_good_knowledge_base_loads(tmp_path: Path) -> None:
    kb = load_knowledge(write_kb(tmp_path / "kb"))
    assert {"t-libel", "t-respect"} <= set(kb.section("topics"))
    assert kb.section("faqs")["t-faq-liar"].topic == "t-libel"
    rule = next(r for r in kb.section("rules") if r.id == "t-def-liar")
    assert rule.patterns[0].search("what a liar") and rule.unless[0].search("he is not a liar")


def test_bad_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    broken = TOPICS.replace("    keywords: [libel, sue]\n", "    keywords: [libel, sue\n")
    problems = problems_of(write_kb(tmp_path / "kb", topics__main_yaml=broken))
    assert len(problems) >= 1
    assert problems[0].startswith("topics/main.yaml:")
    line = int(problems[0].split(":")[1])
    assert 7 <= line <= 8 and "not valid YAML" in problems[0]


def test_unknown_category_names_file_and_line(tmp_path: Path) -> None:
    bad = RULES.replace("category: defamation", "category: slander")
    assert problems_of(write_kb(tmp_path / "kb", rules__main_yaml=bad)) == [
        "rules/main.yaml:3: unknown category 'slander' (see categories.yaml)"
    ]


def test_a_pattern_that_does_not_compile(tmp_path: Path) -> None:
    bad = RULES.replace("unless: ['\\bnot a liar\\b']", "unless: ['(not a liar']")
    problems = problems_of(write_kb(tmp_path / "kb", rules__main_yaml=bad))
    assert len(problems) == 1
    assert problems[0].startswith("rules/main.yaml:6: pattern '(not a liar' in 'unless' does not compile")


def test_block_list_patterns_report_the_pattern_line(tmp_path: Path) -> None:
    bad = RULES.replace("    patterns: ['\\bliar\\b']\n", "    patterns:\n      - '\\bliar\\b'\n      - '[unclosed'\n")
    problems = problems_of(write_kb(tmp_path / "kb", rules__main_yaml=bad))
    assert len(problems) == 1 and problems[0].startswith("rules/main.yaml:7: pattern '[unclosed'")


def test_dangling_references_are_reported(tmp_path: Path) -> None:
    topics = TOPICS.replace("related: [t-respect]", "related: [no-such-topic]")
    faqs = FAQS.replace("topic: t-libel", "topic: missing-topic")
    rules = RULES.replace("topic: t-libel", "topic: ghost")
    problems = problems_of(write_kb(tmp_path / "kb", topics__main_yaml=topics, faqs__main_yaml=faqs, rules__main_yaml=rules))
    assert sorted(problems) == sorted(
        [
            "topics/main.yaml:7: related topic 'no-such-topic' does not exist",
            "faqs/main.yaml:6: topic 'missing-topic' does not exist",
            "rules/main.yaml:9: topic 'ghost' does not exist",
        ]
    )


def test_duplicate_ids_within_and_across_sections(tmp_path: Path) -> None:
    topics = TOPICS + TOPICS.split("topics:\n", 1)[1].split("  - id: t-respect")[0]
    rules = RULES.replace("id: t-def-liar", "id: t-libel")
    faqs = FAQS.replace("id: t-faq-liar", "id: libel-basics")
    problems = problems_of(
        write_kb(tmp_path / "kb", topics__main_yaml=topics, rules__main_yaml=rules, faqs__main_yaml=faqs)
    )
    assert "topics/main.yaml:12: duplicate id 't-libel' (also at main.yaml:2)" in problems
    assert "rules/main.yaml:2: duplicate id 't-libel' (also at main.yaml:2)" in problems
    assert "faqs/main.yaml:2: duplicate id 'libel-basics' (also at legal.yaml:6)" in problems


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    rules = RULES.replace("severity: stop", "severity: fatal").replace("category: defamation", "category: nope")
    faqs = FAQS.replace("    answer: No. Say what you disagree with and why.\n", "")
    problems = problems_of(write_kb(tmp_path / "kb", rules__main_yaml=rules, faqs__main_yaml=faqs))
    assert "rules/main.yaml:4: severity must be caution or stop" in problems
    assert "rules/main.yaml:3: unknown category 'nope' (see categories.yaml)" in problems
    assert "faqs/main.yaml:2: 'answer' is required" in problems


def test_training_labels_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    training = (
        "drafts:\n"
        "  - id: tr-1\n    text: fine\n    verdict: ok\n    categories: []\n"
        "  - id: tr-2\n    text: hmm\n    verdict: maybe\n    categories: []\n"
        "  - id: tr-3\n    text: bad\n    verdict: stop\n    categories: [gossip]\n"
    )
    root = write_kb(tmp_path / "kb", training__t_yaml=training)
    # Training data is not needed to serve, so start-up does not parse it; validate and train do.
    problems = load_knowledge(root).section("training").problems
    assert main(["kb", "validate", str(root)]) == 1
    assert "training/t.yaml:8: verdict must be ok, caution or stop" in capsys.readouterr().err
    assert problems == [
        "training/t.yaml:8: verdict must be ok, caution or stop",
        "training/t.yaml:13: unknown risk category 'gossip'",
    ]


def test_cli_validate_prints_problems_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = RULES.replace("category: defamation", "category: slander")
    root = write_kb(tmp_path / "kb", rules__main_yaml=bad)
    assert main(["kb", "validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert "rules/main.yaml:3: unknown category 'slander' (see categories.yaml)" in err


def test_cli_validate_accepts_a_good_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_kb(tmp_path / "kb")
    assert main(["kb", "validate", str(root)]) == 0
    assert ": valid (" in capsys.readouterr().out


def test_the_shipped_knowledge_base_is_valid() -> None:
    kb = load_knowledge(PACKAGED)
    assert len(kb.section("topics")) + len(kb.section("faqs")) >= 40
    categories = {t.category for t in kb.section("topics").values()}
    assert set(kb.vocabulary.risk) <= categories
    assert {r.category for r in kb.section("rules") if r.detector == "model"} == set(kb.vocabulary.risk)


def test_the_shipped_model_matches_the_training_data(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["kb", "validate", str(PACKAGED)])
    assert code == 0, "the training data changed: run 'coach kb train' and commit knowledge/model/\n" + capsys.readouterr().out


def test_reload_keeps_the_last_good_knowledge_base(tmp_path: Path) -> None:
    root = write_kb(tmp_path / "kb")
    store = KnowledgeStore(root)
    good = store.current
    (root / "rules" / "main.yaml").write_text(RULES.replace("severity: stop", "severity: maybe"), encoding="utf-8")
    problems = store.reload()
    assert problems == ["rules/main.yaml:4: severity must be caution or stop"]
    assert store.current is good
    (root / "rules" / "main.yaml").write_text(RULES, encoding="utf-8")
    assert store.reload() == [] and store.current is not good


def test_a_stale_model_is_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = "drafts:\n  - id: t-new-1\n    text: A brand new labelled draft\n    verdict: ok\n    categories: []\n"
    root = write_kb(tmp_path / "kb", training__zz_yaml=extra)
    shutil.copytree(PACKAGED / "model", root / "model")  # trained before the new draft was added
    assert main(["kb", "validate", str(root)]) == 1
    assert "model/meta.json:1: the model is stale" in capsys.readouterr().out
