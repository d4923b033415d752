"""The checker end to end: rules with their guards, the model, context and limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.checker import MAX_CHARS, Built, CheckContext

OWN = Path(__file__).parent / "data" / "own_drafts.yaml"


def verdict(engines: Built, text: str, **context: object) -> tuple[str, list[str]]:
    a = engines.checker.check(text, CheckContext(**context))  # type: ignore[arg-type]
    return a.verdict, a.categories


@pytest.mark.parametrize(
    "text",
    [
        "Planning committee meets on Tuesday at 7pm.",
        "Huge thanks to our officers for the gritting last night.",
        "Password tips for residents: three random words and two-step verification.",
        "I'm declaring an interest in the tennis club lease, so I won't take part in that item.",
        "Corrected: the bus leaves at 8.20, not 8.10. Thanks for spotting it.",
    ],
)
def test_harmless_uses_of_sensitive_words_stay_ok(engines: Built, text: str) -> None:
    assert verdict(engines, text) == ("ok", [])


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Everyone knows the parish clerk has been fiddling the books.", "defamation"),
        ("Visited the family at 3 Tarn View - mum's on chemo and they're in arrears.", "personal_data"),
        ("Her NI number is JT 48 22 91 C if the benefits team want it.", "personal_data"),
        ("My mind's made up on the Mill Lane application: I'll be voting against it at committee.", "predetermination"),
        ("Agreed behind closed doors tonight: the depot sells for £850k.", "confidential"),
        ("For the team: the page password is Kettleby2024!", "security"),
        ("@JamalOtt with a name like that I'm not surprised you don't get British values.", "disrespect"),
    ],
)
def test_clear_risks_are_stopped_with_the_right_category(engines: Built, text: str, category: str) -> None:
    v, categories = verdict(engines, text)
    assert v == "stop"
    assert category in categories


@pytest.mark.parametrize(
    "text",
    [
        "Another f*cking pothole on Carr Lane.",
        "Another f***ing pothole on Carr Lane.",
        "Another fμcking pothole on Carr Lane.",  # Greek mu
        "Another fu\u200bcking pothole on Carr Lane.",  # zero-width space
    ],
)
def test_obfuscated_swearing_is_caught(engines: Built, text: str) -> None:
    v, categories = verdict(engines, text)
    assert v != "ok" and "inappropriate" in categories


def test_leetspeak_insult_is_caught_and_evidence_quotes_the_original(engines: Built) -> None:
    a = engines.checker.check("Three hours of the 1d10t from Netherbrook ward again.", CheckContext())
    assert a.verdict != "ok" and "disrespect" in a.categories
    finding = next(f for f in a.findings if f.category == "disrespect")
    assert finding.evidence == "1d10t"
    assert "Three hours of the 1d10t"[finding.start : finding.end] == "1d10t"


def test_unless_guard_lets_consent_through(rules_only: Built) -> None:
    risky = "Here's the email Mr Adeyemi sent me about his neighbour."
    fine = "Here's the email Mr Adeyemi sent me about his neighbour, shared with his permission."
    assert verdict(rules_only, risky)[0] == "stop"
    assert verdict(rules_only, fine)[0] == "ok"


def test_pre_election_rules_only_apply_in_the_period(rules_only: Built) -> None:
    text = "Asked the council press office to share my re-election leaflet this week."
    during = verdict(rules_only, text, pre_election=True)
    assert during[0] == "stop" and "pre_election" in during[1]
    assert "pre_election" not in verdict(rules_only, text, pre_election=False)[1]


def test_official_accounts_must_not_campaign(rules_only: Built) -> None:
    text = "Vote for me on polling day, Hollybank!"
    assert verdict(rules_only, text, pre_election=True, account="official")[0] == "stop"
    assert verdict(rules_only, text, pre_election=True, account="personal")[0] == "ok"


def test_findings_carry_evidence_message_suggestion_and_topic(engines: Built) -> None:
    text = "Great day. Everyone knows the clerk has been fiddling the books."
    a = engines.checker.check(text, CheckContext())
    f = a.findings[0]
    assert f.category == "defamation" and f.rule.startswith("def-")
    assert text[f.start : f.end] == f.evidence
    assert f.message and f.suggestion and f.topic in engines.knowledge.section("topics")


def test_long_drafts_are_capped_and_say_so(engines: Built) -> None:
    text = "Lovely walk today. " * 400 + "Everyone knows the clerk is a crook."
    a = engines.checker.check(text, CheckContext())
    assert a.truncated and a.checked_chars == MAX_CHARS
    assert any("5,000" in n for n in a.notes)


def test_empty_and_odd_input(engines: Built) -> None:
    assert engines.checker.check("", CheckContext()).verdict == "ok"
    assert engines.checker.check("🙂🙂🙂", CheckContext()).verdict in ("ok", "caution")
    assert engines.checker.check("\x00\ufffd" * 50, CheckContext()).verdict in ("ok", "caution")


def test_own_cases_meet_the_targets(engines: Built) -> None:
    items = yaml.safe_load(OWN.read_text(encoding="utf-8"))["drafts"]
    stops = [i for i in items if i["verdict"] == "stop"]
    risky = [i for i in items if i["verdict"] != "ok"]
    oks = [i for i in items if i["verdict"] == "ok"]

    def run(i: dict) -> str:  # type: ignore[type-arg]
        return engines.checker.check(i["text"], CheckContext(**(i.get("context") or {}))).verdict

    assert sum(run(i) == "stop" for i in stops) / len(stops) >= 0.95
    assert sum(run(i) == "ok" for i in risky) / len(risky) <= 0.03
    assert sum(run(i) != "ok" for i in oks) / len(oks) <= 0.05


def test_checking_is_fast_enough(engines: Built) -> None:
    import time

    text = ("Great turnout at the litter pick on Mill Lane this morning, thanks all! " * 4)[:280]
    engines.checker.check(text, CheckContext())
    start = time.perf_counter()
    for _ in range(50):
        engines.checker.check(text, CheckContext())
    assert (time.perf_counter() - start) / 50 < 0.02  # generous here; `coach bench` measures properly
