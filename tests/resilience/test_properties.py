"""Property-based tests: no input, however odd, crashes the router or the checker."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.checker import build
from bot.coach import Coach
from bot.config import packaged_knowledge_dir
from bot.guidance import load_knowledge
from bot.messages import Incoming
from bot.replies import Reply

KNOWLEDGE = load_knowledge(packaged_knowledge_dir())
ENGINES = build(KNOWLEDGE)

WEIRD = st.sampled_from([
    "\u200b", "\u200d", "\ufeff", "\u202e", "\x00", "\x1b[31m", "\r\n", "\t", "🤡", "👍🏽", "🇬🇧",
    "Сllr", "ｃｒｏｏｋ", "1d10t", "f*ck", "\ud7ff", "ℌ", "ß", "ǅ", "\u0301", "👨‍👩‍👧", "<script>", "{{x}}", "%s%n",
])
TEXT = st.lists(st.one_of(st.text(max_size=40), WEIRD), max_size=12).map("".join)
ACTIONS = st.one_of(st.none(), st.sampled_from([
    "quiz.answer", "quiz.start", "quiz.category", "quiz.next", "checkin.done", "checkin.snooze",
    "reminders.cancel", "settings.toggle", "broadcast.ack", "broadcast.draft", "ask.followup", "ask.faq",
    "no.such", "", ".", "quiz",
]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, action=ACTIONS, value=st.one_of(st.none(), TEXT), user=st.sampled_from(["alice", "bob", "o"]))
def test_the_router_answers_every_turn(coach: Coach, text: str, action: str | None, value: str | None, user: str) -> None:
    incoming = Incoming(platform="console", user_id=user, text=text, action=action, value=value)
    replies = coach.handle(incoming)
    assert replies and all(isinstance(r, Reply) and r.summary for r in replies)
    text_out = " ".join(r.summary for r in replies)
    assert "Traceback" not in text_out and "Sorry, something went wrong" not in text_out


@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_the_checker_judges_any_text(text: str) -> None:
    result = ENGINES.checker.check(text)
    assert result.verdict in ("ok", "caution", "stop")
    for finding in result.findings:
        assert 0 <= finding.start <= finding.end <= len(text)
        assert finding.category in KNOWLEDGE.vocabulary.risk


@settings(max_examples=100, deadline=None)
@given(text=TEXT)
def test_the_answerer_answers_any_question(text: str) -> None:
    answer = ENGINES.answerer.ask(text)
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.answer


def test_obfuscation_does_not_hide_abuse() -> None:
    plain = ENGINES.checker.check("Cllr Fenton is an idiot and a liar")
    sneaky = ENGINES.checker.check("Cllr Fenton is an 1d\u200b10t and a l\u0456ar")  # zero-width + Cyrillic i
    assert plain.verdict != "ok"
    assert sneaky.verdict == plain.verdict
    assert set(sneaky.categories) == set(plain.categories)


def test_a_huge_paste_is_capped_and_says_so() -> None:
    text = ("Lovely day at the allotments. " * 2000)[:50_000]
    result = ENGINES.checker.check(text)
    assert result.verdict in ("ok", "caution", "stop")
    assert result.truncated and result.notes
