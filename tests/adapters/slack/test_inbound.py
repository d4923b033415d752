"""Slack payloads -> Incoming, including payloads with pieces missing."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack import inbound

from . import payloads


def test_slack_markup_becomes_plain_text() -> None:
    text = "Hi <@U123|sam> see <#C42|planning> &amp; <https://example.org|this> or <https://x.org> <!here> 3 &lt; 4"
    assert inbound.plain_text(text) == "Hi @sam see #planning & this or https://x.org @here 3 < 4"
    assert inbound.plain_text("<mailto:a@b.org|a@b.org>") == "a@b.org"
    assert inbound.plain_text(None) == ""


def test_a_direct_message_becomes_text_with_a_route() -> None:
    body = payloads.event_callback(payloads.direct_message("can I post this?", user="U1", channel="D1"))
    incoming = inbound.from_direct_message(body)
    assert incoming is not None
    assert (incoming.platform, incoming.user_id, incoming.conversation_id, incoming.text) == ("slack", "U1", "D1", "can I post this?")
    assert incoming.is_private and json.loads(incoming.route) == {"team": payloads.TEAM_ID, "channel": "D1"}


def test_a_mention_loses_the_mention_and_keeps_its_thread() -> None:
    event = payloads.app_mention("check   this", thread_ts="1.2")
    incoming = inbound.from_mention(payloads.event_callback(event), "UBOTCOACH")
    assert incoming is not None and incoming.text == "check this"
    assert incoming.extras["thread_ts"] == "1.2" and not incoming.is_private and incoming.route == ""


def test_slash_command_text_and_privacy() -> None:
    incoming = inbound.from_command(payloads.slash_command("ask  can I?", response_url="http://x", channel="C1"))
    assert incoming is not None and incoming.text == "ask  can I?" and not incoming.is_private
    assert incoming.display_name == "alice" and incoming.route == ""
    bare = inbound.from_command(payloads.slash_command("  ", response_url="http://x", channel="D1"))
    assert bare is not None and bare.text == "help" and bare.is_private


def test_a_button_press_loses_the_render_suffix() -> None:
    body = payloads.block_actions("quiz.answer#3", "q1:b", response_url="http://x", channel="D1")
    incoming = inbound.from_block_action(body)
    assert incoming is not None and (incoming.action, incoming.value) == ("quiz.answer", "q1:b")
    assert incoming.route  # a message the coach posted in its own DM
    ephemeral = inbound.from_block_action(
        payloads.block_actions("quiz.answer#3", "q1:b", response_url="http://x", channel="D9", is_ephemeral=True)
    )
    assert ephemeral is not None and ephemeral.route == ""


def test_the_shortcut_checks_the_message_text() -> None:
    incoming = inbound.from_message_shortcut(payloads.message_action("Vote for me &amp; win", response_url="http://x"))
    assert incoming is not None and incoming.text == "check Vote for me & win" and not incoming.is_private


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from(["event", "user", "team", "actions", "container", "message", "channel", "text", "user_id", "team_id"]), junk))
def test_broken_payloads_never_raise(body: dict[str, object]) -> None:
    for convert in (
        inbound.from_direct_message,
        inbound.from_command,
        inbound.from_block_action,
        inbound.from_message_shortcut,
        inbound.for_home,
    ):
        convert(body)  # returns an Incoming or None; never raises
    inbound.from_mention(body, "UBOT")
    assert inbound.parse_route("not json") == {} and inbound.parse_route("[1]") == {}
