"""Reply -> Adaptive Card: structure, buttons, badges, limits and the plain-text fallback."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.teams import render
from bot.replies import Badge, Choice, Choices, Divider, Fact, Facts, Heading, Link, Paragraph, Reply


def verdict_reply() -> Reply:
    return Reply(
        summary="Caution: check the facts before posting",
        parts=(
            Badge("caution", "Caution: check before posting"),
            Heading("What to watch"),
            Paragraph("Naming a resident could breach their privacy.\nTalk about the issue instead."),
            Facts((Fact("Risk", "Personal data"), Fact("Ask", "The Monitoring Officer"))),
            Divider(),
            Link("Members' social media protocol", "https://www.example.gov.uk/protocol"),
            Choices((Choice("Check another", "check.again", "", "primary"), Choice("Why?", "check.why", "r1"))),
        ),
        kind="verdict",
    )


def test_a_verdict_becomes_one_card_with_badge_facts_and_buttons() -> None:
    (card,) = render.cards(verdict_reply())
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["fallbackText"] == "Caution: check the facts before posting"
    badge, heading, paragraph, facts, link, buttons = card["body"]
    assert badge["type"] == "Container" and badge["style"] == "warning"
    assert badge["items"][0]["color"] == "Warning" and badge["items"][0]["text"] == "Caution: check before posting"
    assert heading["style"] == "heading" and heading["wrap"] is True
    assert paragraph["text"] == "Naming a resident could breach their privacy.\n\nTalk about the issue instead."
    assert facts["facts"] == [{"title": "Risk", "value": "Personal data"}, {"title": "Ask", "value": "The Monitoring Officer"}]
    assert link["separator"] is True and link["text"] == "[Members' social media protocol](https://www.example.gov.uk/protocol)"
    assert buttons["type"] == "ActionSet"
    assert buttons["actions"] == [
        {"type": "Action.Submit", "title": "Check another", "data": {"action": "check.again", "value": ""}, "style": "positive"},
        {"type": "Action.Submit", "title": "Why?", "data": {"action": "check.why", "value": "r1"}},
    ]


def test_each_verdict_has_its_own_colour() -> None:
    styles = {
        verdict: render.cards(Reply(verdict, (Badge(verdict, verdict),)))[0]["body"][0]["style"]
        for verdict in ("ok", "caution", "stop")
    }
    assert styles == {"ok": "good", "caution": "warning", "stop": "attention"}


def test_the_activity_carries_the_summary_for_notifications() -> None:
    (activity,) = render.activities(verdict_reply())
    assert activity.summary == "Caution: check the facts before posting"
    assert activity.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"
    assert render.card_of(activity) == render.cards(verdict_reply())[0]


def test_a_long_reply_is_split_across_cards_under_the_size_limit_and_nothing_is_lost() -> None:
    words = [f"word{i}" for i in range(12_000)]
    reply = Reply(
        "A long answer",
        (Heading("Long"), Paragraph(" ".join(words)), Facts(tuple(Fact(f"k{i}", "v" * 200) for i in range(60))),
         Choices((Choice("Done", "x.done"),))),
    )
    found = render.cards(reply)
    assert len(found) > 2
    assert all(len(json.dumps(card).encode()) <= render.MAX_CARD_BYTES for card in found)
    text = " ".join(b["text"] for card in found for b in card["body"] if b["type"] == "TextBlock")
    assert text.split()[1:] == words  # after the heading, every word in order
    facts = [f["title"] for card in found for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]]
    assert facts == [f"k{i}" for i in range(60)]
    assert found[-1]["body"][-1]["type"] == "ActionSet"  # buttons stay at the end
    numbered = render.activities(reply)
    assert numbered[1].summary.endswith(f"(part 2 of {len(found)})")


def test_emoji_and_control_characters_do_not_break_the_size_budget() -> None:
    reply = Reply("Emoji", (Paragraph("🙂\u0001" * 20_000),))
    found = render.cards(reply)
    assert all(len(json.dumps(card).encode()) <= render.MAX_CARD_BYTES for card in found)
    assert "".join(b["text"] for card in found for b in card["body"]) == "🙂\u0001" * 20_000


def test_many_choices_are_grouped_in_small_button_sets() -> None:
    choices = tuple(Choice(f"Option {i}", "quiz.answer", str(i)) for i in range(12))
    (card,) = render.cards(Reply("Pick one", (Choices(choices),)))
    sets = [b for b in card["body"] if b["type"] == "ActionSet"]
    assert [len(s["actions"]) for s in sets] == [5, 5, 2]
    assert [a["data"]["value"] for s in sets for a in s["actions"]] == [str(i) for i in range(12)]


def test_plain_text_fallback_keeps_every_word() -> None:
    (activity,) = render.activities(verdict_reply(), use_cards=False)
    assert activity.attachments is None and activity.text_format == "plain"
    for words in ("[CAUTION] Caution: check before posting", "What to watch", "- Risk: Personal data",
                  "Members' social media protocol: https://www.example.gov.uk/protocol", "'Check another'"):
        assert words in activity.text
    assert not render.supports_cards("sms") and render.supports_cards("msteams")


def test_an_empty_reply_still_says_something() -> None:
    (card,) = render.cards(Reply("Nothing to add"))
    assert card["body"] == [{"type": "TextBlock", "text": "Nothing to add", "wrap": True}]


texts = st.text(max_size=400)


@settings(max_examples=60, deadline=None)
@given(
    summary=texts,
    paragraphs=st.lists(texts, max_size=5),
    facts=st.lists(st.tuples(texts, texts), max_size=20),
    labels=st.lists(texts, max_size=8),
)
def test_any_reply_renders_to_cards_within_the_limit(summary: str, paragraphs: list[str], facts: list[tuple[str, str]], labels: list[str]) -> None:
    reply = Reply(
        summary or "s",
        (*(Paragraph(p) for p in paragraphs), Facts(tuple(Fact(a, b) for a, b in facts)),
         Choices(tuple(Choice(label or "x", "a.b", label) for label in labels))),
    )
    found = render.cards(reply)
    assert found and all(len(json.dumps(card).encode()) <= render.MAX_CARD_BYTES for card in found)
    buttons = [a for card in found for b in card["body"] if b["type"] == "ActionSet" for a in b["actions"]]
    assert [a["data"]["value"] for a in buttons] == labels
    assert all(render.activities(reply, use_cards=False))
