"""Reply -> Block Kit: native look, plain fallback, and never a message Slack would refuse."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.inbound import core_action
from adapters.slack.render import (
    MAX_BLOCKS,
    escape,
    fallback_text,
    render_home,
    render_reply,
    split_text,
)
from bot.replies import Badge, Choice, Choices, Divider, Fact, Facts, Heading, Link, Paragraph, Reply

VERDICT_CARD = Reply(
    summary="Stop: this could be defamatory",
    parts=(
        Badge("stop", "Do not post this"),
        Heading("What to watch"),
        Facts((Fact("Defamation", "Calling someone a liar & a crook <in public> is risky."),)),
        Paragraph("A safer way: say what you disagree with and why."),
        Link("Guidance on defamation", "https://example.org/defamation?a=1&b=2"),
        Divider(),
        Choices((Choice("Check another", "check.again", "", "primary"), Choice("Ask a question", "ask.start"))),
    ),
    kind="verdict",
)


def test_a_verdict_card_renders_natively() -> None:
    (message,) = render_reply(VERDICT_CARD)
    types = [b["type"] for b in message.blocks]
    assert types == ["section", "header", "section", "section", "section", "divider", "actions"]
    badge = message.blocks[0]["text"]["text"]
    assert badge.startswith(":no_entry: *Stop*") and "Do not post this" in badge
    assert message.blocks[2]["text"]["text"] == "• *Defamation*: Calling someone a liar &amp; a crook &lt;in public&gt; is risky."
    assert message.blocks[4]["text"]["text"] == "<https://example.org/defamation?a=1&b=2|Guidance on defamation>"
    buttons = message.blocks[6]["elements"]
    assert [b["action_id"] for b in buttons] == ["check.again#0", "ask.start#1"]
    assert buttons[0]["style"] == "primary" and "style" not in buttons[1]
    assert "value" not in buttons[0]  # Slack refuses an empty value


def test_fallback_text_names_the_verdict() -> None:
    assert fallback_text(VERDICT_CARD) == "Stop: this could be defamatory"
    quiet = Reply("Looks fine to post", (Badge("ok", "Fine"),))
    assert fallback_text(quiet) == "OK: Looks fine to post"
    careful = Reply("Think twice <before> posting", (Badge("caution", "Take care"),))
    assert fallback_text(careful) == "Caution: Think twice &lt;before&gt; posting"
    assert fallback_text(Reply("Hello")) == "Hello"


def test_badges_are_emoji_and_a_word() -> None:
    texts = {v: render_reply(Reply("x", (Badge(v, ""),)))[0].blocks[0]["text"]["text"] for v in ("ok", "caution", "stop")}
    assert texts == {"ok": ":white_check_mark: *OK*", "caution": ":warning: *Caution*", "stop": ":no_entry: *Stop*"}


def test_escape_only_the_three_markup_characters() -> None:
    assert escape("Fish & chips <b> *bold* > 3") == "Fish &amp; chips &lt;b&gt; *bold* &gt; 3"


def test_split_text_prefers_gentle_boundaries_and_never_cuts_an_entity() -> None:
    text = "First paragraph.\n\nSecond one is here."
    assert split_text(text, 25) == ["First paragraph.", "Second one is here."]
    escaped = escape("&" * 50)
    pieces = split_text(escaped, 12)
    assert "".join(pieces) == escaped
    assert all(re.fullmatch(r"(&amp;)+", p) for p in pieces)
    assert split_text("   ", 10) == []


def test_short_facts_become_fields_in_sections_of_ten() -> None:
    facts = Facts(tuple(Fact(f"Topic {i}", f"{i} of 5") for i in range(23)))
    blocks = render_reply(Reply("Progress", (facts,)))[0].blocks
    assert [len(b["fields"]) for b in blocks] == [10, 10, 3]
    assert blocks[0]["fields"][0] == {"type": "mrkdwn", "text": "*Topic 0*\n0 of 5"}


def test_a_long_heading_becomes_bold_text_not_a_refused_header() -> None:
    blocks = render_reply(Reply("x", (Heading("word " * 60),)))[0].blocks
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["text"].startswith("*word")


def test_many_choices_fill_several_action_blocks_with_unique_ids() -> None:
    choices = Choices(tuple(Choice(f"Option {i} " + "x" * 100, "quiz.answer", str(i)) for i in range(60)))
    (message,) = render_reply(Reply("Pick", (choices,)))
    sizes = [len(b["elements"]) for b in message.blocks]
    assert sizes == [25, 25, 10]
    ids = [e["action_id"] for b in message.blocks for e in b["elements"]]
    assert len(set(ids)) == 60 and {core_action(i) for i in ids} == {"quiz.answer"}
    assert all(len(e["text"]["text"]) <= 75 for b in message.blocks for e in b["elements"])


def test_home_view_stays_within_a_hundred_blocks() -> None:
    many = [Reply(f"r{i}", tuple(Paragraph(f"line {j}") for j in range(30))) for i in range(5)]
    view = render_home(many)
    assert view["type"] == "home" and len(view["blocks"]) == 100
    assert "message me *progress*" in json.dumps(view["blocks"][-1])
    empty = render_home([])
    assert empty["blocks"][0]["type"] == "header" and len(empty["blocks"]) == 2


# -- property: whatever the core says, Slack would accept the messages -------------------
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4000)
short = st.text(max_size=300)
parts = st.one_of(
    st.builds(Heading, short),
    st.builds(Paragraph, texts),
    st.builds(Badge, st.sampled_from(["ok", "caution", "stop"]), short),
    st.builds(Facts, st.lists(st.builds(Fact, short, texts), max_size=25).map(tuple)),
    st.builds(Link, short, st.just("https://example.org/a|b>c")),
    st.just(Divider()),
    st.builds(
        Choices,
        st.lists(
            st.builds(Choice, short, st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,10}){0,2}", fullmatch=True), st.text(max_size=2500), st.sampled_from(["", "primary", "danger", "odd"])),
            max_size=40,
        ).map(tuple),
    ),
)
replies = st.builds(Reply, summary=short, parts=st.lists(parts, max_size=80).map(tuple))


def assert_block_is_valid(block: dict[str, Any]) -> None:
    kind = block["type"]
    if kind == "section":
        if "text" in block:
            assert 0 < len(block["text"]["text"]) <= 3000
        if "fields" in block:
            assert 0 < len(block["fields"]) <= 10
            assert all(0 < len(f["text"]) <= 2000 for f in block["fields"])
    elif kind == "header":
        assert 0 < len(block["text"]["text"]) <= 150
    elif kind == "actions":
        assert 0 < len(block["elements"]) <= 25
        for button in block["elements"]:
            assert 0 < len(button["text"]["text"]) <= 75
            assert len(button.get("value", "")) <= 2000
            assert 0 < len(button["action_id"]) <= 255
            assert button.get("style", "primary") in ("primary", "danger")
    else:
        assert kind in ("divider", "context")


@settings(max_examples=150, deadline=None)
@given(replies)
def test_every_rendered_message_is_within_slacks_limits(reply: Reply) -> None:
    messages = render_reply(reply)
    assert messages
    for message in messages:
        assert 0 < len(message.blocks) <= MAX_BLOCKS
        assert len(message.text) <= 3000
        ids = [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
        assert len(ids) == len(set(ids))
        for block in message.blocks:
            assert_block_is_valid(block)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=9000).filter(str.strip),
        min_size=1,
        max_size=6,
    )
)
def test_no_paragraph_text_is_lost_when_split(paragraphs: list[str]) -> None:
    reply = Reply("Long", tuple(Paragraph(p) for p in paragraphs))
    shown = "".join(b["text"]["text"] for m in render_reply(reply) for b in m.blocks)
    expected = "".join(escape(p) for p in paragraphs)
    assert re.sub(r"\s", "", shown) == re.sub(r"\s", "", expected)
