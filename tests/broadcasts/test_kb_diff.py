"""`coach kb diff`: what changed between two knowledge bases, and broadcasting it in one step."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.cli import main
from bot.config import packaged_knowledge_dir
from bot.guidance import load_knowledge
from bot.kb_diff import diff_knowledge


def edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """The packaged knowledge base, and a copy with known edits."""
    root = tmp_path_factory.mktemp("kb")
    old, new = root / "old", root / "new"
    ignore = shutil.ignore_patterns("model", "__pycache__")
    shutil.copytree(packaged_knowledge_dir(), old, ignore=ignore)
    shutil.copytree(packaged_knowledge_dir(), new, ignore=ignore)
    facts: dict[str, str] = {}

    def topics(data: dict[str, Any]) -> None:
        topic = data["topics"][0]
        facts["topic"] = topic["title"]
        topic["safer"] = [*topic["safer"], "I have asked the council to check the figures before I comment."]
        topic["reviewed_on"] = date(2027, 1, 5)

    def faqs(data: dict[str, Any]) -> None:
        gone = data["faqs"].pop(0)
        facts["removed_faq"] = gone["question"]
        reviewed = data["faqs"][0]
        reviewed["reviewed_on"] = date(2027, 1, 5)
        facts["reviewed_faq"] = reviewed["id"]
        data["faqs"].append({
            "id": "faq-filming-meetings",
            "question": "Can I film a council meeting and post it?",
            "variants": ["Am I allowed to record the committee?", "Can I live-stream a meeting?"],
            "category": reviewed["category"],
            "topic": reviewed["topic"],
            "answer": "Yes: public meetings may be filmed. Follow the chair's guidance and do not film the public "
                      "gallery without consent.",
            "keywords": ["film", "record", "stream"],
            "source": "Openness of Local Government Bodies Regulations 2014",
            "reviewed_on": date(2027, 1, 5),
        })

    def council(data: dict[str, Any]) -> None:
        data["council"]["pre_election_periods"].append(
            {"start": date(2028, 3, 30), "end": date(2028, 5, 4), "label": "Local elections 2028"})

    edit(next(iter(sorted((new / "topics").glob("*.yaml")))), topics)
    edit(next(iter(sorted((new / "faqs").glob("*.yaml")))), faqs)
    edit(new / "council.yaml", council)
    quiz_files = sorted(p for p in (new / "quizzes").glob("*.yaml") if p.name != "course.yaml")
    if quiz_files:
        def quiz(data: dict[str, Any]) -> None:
            scenario = data["scenarios"][0]
            scenario["situation"] = scenario["situation"] + " It is late on a Friday."
            facts["scenario"] = scenario["id"]

        edit(quiz_files[0], quiz)
    rule_files = sorted((new / "rules").glob("*.yaml"))
    if rule_files:
        def rule(data: dict[str, Any]) -> None:
            data["rules"][0]["message"] = data["rules"][0]["message"] + " Check with the Monitoring Officer."
            facts["rule"] = data["rules"][0]["id"]

        edit(rule_files[0], rule)
    return old, new, facts


def test_the_summary_names_what_changed_and_how(bases: tuple[Path, Path, dict[str, str]]) -> None:
    old, new, facts = bases
    diff = diff_knowledge(load_knowledge(old), load_knowledge(new))
    text = diff.text()
    assert f"Updated guidance topic (1):\n- {facts['topic']}" in text
    assert ": safer wording" in text  # which part changed, in words
    assert "New question and answer (1):\n- Can I film a council meeting and post it? (faq-filming-meetings)" in text
    assert f"Removed question and answer (1):\n- {facts['removed_faq']}" in text
    assert f"({facts['reviewed_faq']})" in text.split("Reviewed, no other change")[1]
    assert "Pre-election period: Local elections 2028, 30 March 2028 to 4 May 2028." in text
    if "scenario" in facts:
        assert f"({facts['scenario']}): situation" in text
    if "rule" in facts:
        assert f"({facts['rule']}): explanation" in text
    body = diff.broadcast_body()
    assert body.startswith("Here is what has changed in the guidance.")
    assert "- Can I film a council meeting and post it?" in body and "faq-filming-meetings" not in body
    assert "Reviewed" not in body  # a new review date alone is not news to members
    if "rule" in facts:
        assert "The draft checker has been updated (1 updated)" in body and facts["rule"] not in body


def test_the_same_knowledge_base_has_no_changes(bases: tuple[Path, Path, dict[str, str]]) -> None:
    old, _, _ = bases
    diff = diff_knowledge(load_knowledge(old), load_knowledge(old))
    assert diff.is_empty and diff.text() == "No changes: the two knowledge bases say the same."


def test_kb_diff_on_the_command_line_and_broadcast_in_one_step(
    bases: tuple[Path, Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new, _ = bases
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.delenv("COACH_KNOWLEDGE_DIR", raising=False)
    assert main(["kb", "diff", str(old), str(new)]) == 0
    assert "New question and answer (1):" in capsys.readouterr().out
    roster = tmp_path / "roster.csv"
    roster.write_text("platform,user_id,name,tags\nconsole,alice,Alice,cabinet\nconsole,bob,Bob,\n")
    assert main(["members", "import", str(roster)]) == 0
    assert main(["kb", "diff", str(old), str(new), "--broadcast", "--audience", "cabinet", "--ack", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "broadcast #1 queued for 1 members" in out
    assert "WHAT'S NEW IN THE GUIDANCE" in out  # the preview, as members will see it
    assert main(["broadcast", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "Broadcast #1: What's new in the guidance" in shown and "console:alice" in shown
    assert "console:bob" not in shown
    assert main(["kb", "diff", str(old), str(old), "--broadcast", "--yes"]) == 1
    assert "nothing changed" in capsys.readouterr().err
