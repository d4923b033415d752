from __future__ import annotations

import pytest

from bot.coach import Coach
from bot.replies import Choice, Choices, Reply
from bot.router import COMMANDS, looks_like_question
from tests.support.chat import all_text, press, say


@pytest.mark.parametrize(
    "text",
    [
        "Can I block a resident who keeps abusing me?",
        "should I reply to trolls",
        "What is purdah",
        "how do I turn on two-step verification",
        "When does the pre-election period start",
        "Is it ok to share a newspaper story?",
        "am I allowed to use the council logo",
        "do I have to declare an interest",
        "anything I should know before posting?",
    ],
)
def test_questions_are_recognised(text: str) -> None:
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "Great turnout at the Oakfield litter pick this morning!",
        "Planning committee meets on Tuesday at 7pm.",
        "Huge thanks to our officers for the gritting last night",
        "Cantering horses on Mill Lane again, please slow down",  # 'can' inside a word
        "Island Road closed until Friday.",  # 'is' inside a word
    ],
)
def test_statements_are_drafts(text: str) -> None:
    assert not looks_like_question(text)


def test_help_lists_every_command(coach: Coach) -> None:
    text = all_text(say(coach, "help", user="officer1"))
    member_commands = [c for c in COMMANDS if not c.officer_only]
    for command in member_commands:
        assert command.usage in text
    assert "Officers also have: broadcast, report." in text


def test_help_for_an_officer_lists_officer_commands(coach: Coach) -> None:
    coach.directory.add_officer("console:olive", actor="test")
    text = all_text(say(coach, "help", user="olive"))
    assert "broadcast" in text and "report [training]" in text
    assert "Officers also have" not in text


@pytest.mark.parametrize("command", ["broadcast", "report", "report training", "broadcast send now"])
def test_members_cannot_reach_officer_commands(coach: Coach, command: str) -> None:
    replies = say(coach, command, user="bob")
    assert replies[0].summary == "Not allowed"
    assert "for council officers only" in all_text(replies)


def test_officers_pass_the_role_check(coach: Coach) -> None:
    coach.directory.add_officer("console:olive", actor="test")
    assert say(coach, "broadcast", user="olive")[0].summary != "Not allowed"


def test_free_text_goes_to_check_or_ask_with_a_hint(coach: Coach) -> None:
    seen: list[tuple[str, str]] = []

    def check(turn, args):  # type: ignore[no-untyped-def]
        seen.append(("check", args))
        return [Reply("checked")]

    def ask(turn, args):  # type: ignore[no-untyped-def]
        seen.append(("ask", args))
        return [Reply("answered")]

    coach.router.command("check", check)
    coach.router.command("ask", ask)
    draft = say(coach, "Lovely morning at the Oakfield fun run")
    question = say(coach, "Can I block a troll?")
    forced = say(coach, "check Can I block a troll?")
    assert seen == [
        ("check", "Lovely morning at the Oakfield fun run"),
        ("ask", "Can I block a troll?"),
        ("check", "Can I block a troll?"),
    ]
    assert "start with 'ask'" in all_text(draft)
    assert "start with 'check'" in all_text(question)
    assert "start with" not in all_text(forced)


def test_unknown_and_stale_actions_get_a_polite_answer(coach: Coach) -> None:
    text = all_text(press(coach, "no.such.action", "x"))
    assert "no longer in use" in text


def test_actions_route_by_dotted_prefix(coach: Coach) -> None:
    got: list[tuple[str, str]] = []
    coach.router.action("quiz", lambda turn, action, value: got.append((action, value)) or [Reply("ok")])
    press(coach, "quiz.answer", "3:1")
    assert got == [("quiz.answer", "3:1")]


def test_an_unexpected_failure_is_an_apology_not_a_traceback(coach: Coach, caplog: pytest.LogCaptureFixture) -> None:
    def boom(turn, args):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    coach.router.command("progress", boom)
    text = all_text(say(coach, "progress"))
    assert "Sorry, something went wrong" in text
    assert "secret internals" not in text


def test_empty_message_gets_guidance(coach: Coach) -> None:
    assert "help" in all_text(say(coach, "   "))


def test_reply_round_trips_through_json() -> None:
    from bot.replies import Badge, Divider, Fact, Facts, Heading, Link, Paragraph

    reply = Reply(
        "s",
        (
            Heading("h"),
            Paragraph("p"),
            Facts((Fact("a", "b"),)),
            Badge("caution", "Think twice"),
            Choices((Choice("Yes", "x.y", "1", "primary"),)),
            Link("Read", "https://example.gov.uk"),
            Divider(),
        ),
        replaces_prompt=True,
        kind="quiz",
    )
    assert Reply.from_dict(reply.to_dict()) == reply
