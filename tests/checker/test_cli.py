"""`coach check`, `ask`, `eval` and `bench` as a person (or an officer's script) runs them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from adapters.cli import main

DEV = Path(__file__).parent / "data" / "own_drafts.yaml"


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8"))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_check_text(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, monkeypatch, ["check", "Everyone knows the clerk has been fiddling the books."])
    assert code == 0
    assert out.startswith("STOP") and "defamation" in out and "fiddling the books" in out


def test_check_json_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, monkeypatch, ["check", "-", "--json"], stdin="Password is Kettleby2024! for the page")
    data = json.loads(out)
    assert code == 0 and data["verdict"] == "stop" and data["categories"] == ["security"]
    f = data["findings"][0]
    assert {"category", "rule", "severity", "start", "end", "message", "suggestion"} <= set(f)


def test_check_flags(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Vote for me on polling day, Hollybank!"
    _, out, _ = run(capsys, monkeypatch, ["check", text, "--json", "--pre-election", "--account", "official"])
    assert json.loads(out)["verdict"] == "stop"


def test_check_jsonl_keeps_order_ids_and_survives_bad_lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        json.dumps({"id": "a", "text": "Huge thanks to our officers"}),
        "{not json",
        json.dumps({"id": "c", "text": "Vote for me!", "context": {"pre_election": True, "account": "official"}}),
        json.dumps({"id": "d"}),
        json.dumps({"id": 5, "text": "Everyone knows the clerk is a crook"}),
    ]
    code, out, _ = run(capsys, monkeypatch, ["check", "--jsonl"], stdin="\n".join(lines) + "\n")
    results = [json.loads(l) for l in out.splitlines()]
    assert code == 0 and [r["id"] for r in results] == ["a", None, "c", "d", 5]
    assert results[0]["verdict"] == "ok" and results[0]["categories"] == []
    assert "error" in results[1] and "error" in results[3]
    assert results[2]["verdict"] == "stop"
    assert results[4]["verdict"] == "stop" and results[4]["categories"] == sorted(set(results[4]["categories"]))


def test_ask_and_ask_jsonl(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, monkeypatch, ["ask", "Can I block a resident who keeps abusing me?", "--json"])
    data = json.loads(out)
    assert code == 0 and data["topic"] == "moderation" and 0 <= data["confidence"] <= 1 and data["sources"]
    lines = json.dumps({"id": 1, "question": "What is purdah?"}) + "\n" + "[]\n" + json.dumps({"id": 3, "question": "Should I use a password manager?"}) + "\n"
    code, out, _ = run(capsys, monkeypatch, ["ask", "--jsonl"], stdin=lines)
    results = [json.loads(l) for l in out.splitlines()]
    assert [r.get("id") for r in results] == [1, None, 3]
    assert results[0]["topic"] == "pre_election" and "error" in results[1] and results[2]["topic"] == "security"
    assert {"id", "topic", "title", "answer", "confidence", "sources"} <= set(results[0])


def test_ask_admits_uncertainty(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, out, _ = run(capsys, monkeypatch, ["ask", "What's the best recipe for lemon drizzle cake?"])
    assert "I'm not sure" in out and "Monitoring Officer" in out


def test_eval_prints_every_figure(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, monkeypatch, ["eval", str(DEV)])
    assert code == 0
    for label in ("verdict accuracy", "stop-recall", "missed-risk rate", "false-alarm rate", "macro-F1", "personal_data"):
        assert label in out


def test_eval_questions_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    q = tmp_path / "q.yaml"
    q.write_text(
        "- {id: q1, question: 'Can I use the council logo on my campaign leaflet?', topic: council_resources, must_mention_any: [logo, resources]}\n"
        "- {id: q2, question: 'Should I switch on two-step verification?', topic: security, must_mention_any: [two-step, verification]}\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, monkeypatch, ["eval", str(DEV), str(q), "--json"])
    data = json.loads(out)
    assert code == 0 and data["questions"]["items"] == 2
    assert {"topic_accuracy", "must_mention_share"} <= set(data["questions"])
    assert {"stop_recall", "missed_risk_rate", "false_alarm_rate", "macro_f1", "per_category"} <= set(data["drafts"])


def test_bench_prints_rates_latencies_and_load_time(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, monkeypatch, ["bench", "--items", "30", "--json"])
    data = json.loads(out)
    assert code == 0 and data["knowledge_load_ms"]["median"] > 0
    assert {"280", "2000"} == set(data["check"]) and data["check"]["280"]["p99_ms"] > 0
    assert data["ask"]["per_second"] > 0


def test_unknown_bench_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, monkeypatch, ["bench", "nope"])
    assert code == 1 and "no bench called 'nope'" in err
