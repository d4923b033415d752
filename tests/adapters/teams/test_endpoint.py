"""POST /api/messages end to end: real aiohttp app, real CloudAdapter, a stand-in Bot Connector."""

from __future__ import annotations

import json

from adapters.teams import inbound, render
from adapters.teams.installations import TeamInstallations
from bot.coach import Coach
from bot.messages import Incoming
from bot.replies import Badge, Choice, Choices, Paragraph, Reply
from bot.router import Turn
from tests.adapters.teams import activities as act
from tests.adapters.teams.conftest import TeamsEndpoint, start_endpoint
from tests.adapters.teams.connector import StandInConnector

DRAFT = "Delighted to open the new play area on Mill Lane today with residents and the ward team"


def expected_cards(coach: Coach, text: str, *, user_id: str, scope_private: bool = True) -> list[dict]:
    """The cards the render of the core's own answer gives, whatever the checker says today."""
    replies = coach.handle(Incoming(platform="teams", user_id=user_id, text=text, is_private=scope_private))
    return [card for reply in replies for card in render.cards(reply)]


def register_pick(coach: Coach) -> list[tuple[str, str, str]]:
    """A small feature with a prompt whose answer replaces it, as quizzes do."""
    pressed: list[tuple[str, str, str]] = []

    def pick(turn: Turn, action: str, value: str) -> list[Reply]:
        pressed.append((turn.member.user_id, action, value))
        return [
            Reply(f"You chose {value}", (Badge("ok", f"You chose {value}"),), replaces_prompt=True),
            Reply("Next question", (Paragraph("Next question"), Choices((Choice("A", "test.pick", "a"),)))),
        ]

    coach.router.action("test.pick", pick)
    return pressed


async def test_a_draft_in_personal_chat_gets_a_card_reply_in_the_same_conversation(teams: TeamsEndpoint) -> None:
    activity = act.personal_message(teams.connector.url, DRAFT)
    response = await teams.post(activity)

    assert response.status in (200, 201)
    (call,) = teams.connector.sent()
    assert call.conversation_id == activity["conversation"]["id"]
    assert call.activity_id == activity["id"]  # a reply to the message
    assert call.body["summary"]
    assert call.body["from"]["id"] == act.BOT["id"] and call.body["recipient"]["id"] == activity["from"]["id"]
    assert call.cards == expected_cards(teams.coach, DRAFT, user_id=activity["from"]["id"])
    assert call.card["version"] == "1.5" and call.card["type"] == "AdaptiveCard"


async def test_a_personal_message_stores_the_members_conversation_reference(teams: TeamsEndpoint) -> None:
    activity = act.personal_message(teams.connector.url, "help")
    await teams.post(activity)

    member = teams.coach.members.find("teams", activity["from"]["id"])
    assert member is not None and member.display_name == "Alice Ward" and member.workspace == act.TENANT
    stored = teams.coach.refs.get(member.id)
    assert stored is not None
    conversation_id, route = stored
    assert conversation_id == activity["conversation"]["id"]
    reference = inbound.from_json(route)
    assert reference.service_url == teams.connector.url
    assert reference.user.id == activity["from"]["id"] and reference.bot.id == act.BOT["id"]
    assert reference.activity_id is None  # stable from turn to turn

    # A second turn with the same address leaves it as it was; a new service URL refreshes it.
    await teams.post(act.personal_message(teams.connector.url, "help"))
    assert teams.coach.refs.get(member.id) == stored
    moved = act.personal_message(teams.connector.url.replace("127.0.0.1", "localhost"), "help")
    await teams.post(moved)
    assert inbound.from_json(teams.coach.refs.get(member.id)[1]).service_url.startswith("http://localhost")


async def test_a_channel_mention_is_stripped_and_answered_in_the_thread(teams: TeamsEndpoint) -> None:
    activity = act.channel_mention(teams.connector.url, "help")
    await teams.post(activity)

    (call,) = teams.connector.sent()
    assert call.conversation_id == activity["conversation"]["id"]  # "...;messageid=...": the thread
    assert call.activity_id == activity["id"]
    # "help" reached the router without the mention, so the answer is the help card.
    assert "what I can do" in call.body["summary"]
    assert call.cards == expected_cards(teams.coach, "help", user_id=activity["from"]["id"], scope_private=False)


async def test_a_channel_conversation_is_not_kept_as_the_members_address(teams: TeamsEndpoint) -> None:
    activity = act.channel_mention(teams.connector.url, "help", name="Carol Channel")
    await teams.post(activity)

    member = teams.coach.members.find("teams", activity["from"]["id"])
    assert member is not None
    conversation_id, route = teams.coach.refs.get(member.id)
    # Not the channel: a seed from which the sender opens a personal chat.
    assert conversation_id == ""
    seed = inbound.from_json(route)
    assert seed.conversation.id == "" and seed.conversation.tenant_id == act.TENANT
    assert seed.user.id == activity["from"]["id"]
    # And the team is remembered for roster sync, without any person in its reference.
    (installed,) = TeamInstallations(teams.coach.engine).list()
    assert installed.team_id == act.TEAM["id"] and installed.name == act.TEAM["name"]
    assert inbound.from_json(installed.reference).user is None


async def test_channel_chatter_without_a_mention_is_ignored(teams: TeamsEndpoint) -> None:
    response = await teams.post(act.channel_mention(teams.connector.url, "lunch at one?", mention=False))
    assert response.status in (200, 201)
    assert teams.connector.calls == []


async def test_a_card_submit_routes_to_the_action_and_updates_the_card_in_place(teams: TeamsEndpoint) -> None:
    pressed = register_pick(teams.coach)
    activity = act.card_submit(teams.connector.url, "test.pick", "b", card_activity_id="activity-prompt-7")
    await teams.post(activity)

    assert pressed == [(activity["from"]["id"], "test.pick", "b")]
    (update,) = teams.connector.updates()
    assert update.path.endswith("/activities/activity-prompt-7")
    assert update.conversation_id == activity["conversation"]["id"]
    assert update.card["body"][0]["items"][0]["text"] == "You chose b"
    (follow_up,) = teams.connector.sent()
    assert follow_up.card["body"][-1]["actions"][0]["data"] == {"action": "test.pick", "value": "a"}


async def test_an_invoke_card_action_is_routed_too(teams: TeamsEndpoint) -> None:
    pressed = register_pick(teams.coach)
    activity = act.invoke_submit(teams.connector.url, "test.pick", "c", card_activity_id="activity-prompt-9")
    response = await teams.post(activity)

    assert response.status == 200
    assert pressed == [(activity["from"]["id"], "test.pick", "c")]
    assert [u.activity_id for u in teams.connector.updates()] == ["activity-prompt-9"]


async def test_a_stale_or_unknown_button_gets_a_clear_answer(teams: TeamsEndpoint) -> None:
    await teams.post(act.card_submit(teams.connector.url, "nothing.here", "x", card_activity_id="old"))
    bad = act.card_submit(teams.connector.url, "x", "y", card_activity_id="old")
    bad["value"] = {"action": 42, "value": [1, 2]}
    await teams.post(bad)
    odd = act.card_submit(teams.connector.url, "x", "y", card_activity_id="old")
    odd["value"] = {"action": {"not": "ours"}}
    await teams.post(odd)

    sent = teams.connector.sent()
    assert len(sent) == 3
    assert all("no longer in use" in json.dumps(call.card) for call in sent[:2])
    assert "Send me a draft" in json.dumps(sent[2].card)  # not a button press at all: the usual prompt
    assert teams.connector.updates() == []


async def test_when_the_card_cannot_be_updated_the_answer_is_posted_instead(teams: TeamsEndpoint) -> None:
    register_pick(teams.coach)
    teams.connector.fail(404, match=lambda call: call.method == "PUT")
    await teams.post(act.card_submit(teams.connector.url, "test.pick", "d", card_activity_id="gone"))

    assert teams.connector.updates() == []
    texts = [json.dumps(call.card) for call in teams.connector.sent()]
    assert len(texts) == 2 and "You chose d" in texts[0]


async def test_installing_in_personal_scope_stores_the_reference_and_says_hello(teams: TeamsEndpoint) -> None:
    activity = act.installed_personal(teams.connector.url, name="Dee Newcomer")
    await teams.post(activity)

    (call,) = teams.connector.sent()
    assert call.conversation_id == activity["conversation"]["id"]
    assert "Councillor Coach" in call.body["summary"]
    member = teams.coach.members.find("teams", activity["from"]["id"])
    assert member is not None
    assert teams.coach.refs.get(member.id)[0] == activity["conversation"]["id"]


async def test_installing_in_a_team_records_the_team_and_welcomes_the_channel(teams: TeamsEndpoint) -> None:
    activity = act.installed_in_team(teams.connector.url)
    await teams.post(activity)

    (call,) = teams.connector.sent()
    assert call.conversation_id == act.TEAM["id"]
    assert "mention me" in json.dumps(call.card)
    (installed,) = TeamInstallations(teams.coach.engine).list()
    assert installed.team_id == act.TEAM["id"] and installed.tenant_id == act.TENANT


async def test_a_refused_card_falls_back_to_plain_text(teams: TeamsEndpoint) -> None:
    teams.connector.fail(400, match=lambda call: bool(call.cards))
    await teams.post(act.personal_message(teams.connector.url, "help"))

    (plain,) = teams.connector.sent()
    assert plain.body.get("attachments") in (None, [])
    assert plain.body["textFormat"] == "plain" and "help" in plain.body["text"]


async def test_a_configured_app_id_rejects_a_request_without_a_token(coach: Coach, connector: StandInConnector) -> None:
    import aiohttp

    env = {"MicrosoftAppId": "00000000-0000-4000-8000-000000000abc", "MicrosoftAppPassword": "not-a-real-secret"}
    runner, url = await start_endpoint(coach, connector, env)
    try:
        async with aiohttp.ClientSession() as session:
            activity = act.personal_message(connector.url, "help")
            async with session.post(url + "/api/messages", json=activity) as response:
                assert response.status == 401
            async with session.post(url + "/api/messages", json=activity, headers={"Authorization": "Bearer not.a.jwt"}) as response:
                assert response.status == 401
    finally:
        await runner.cleanup()
    assert connector.calls == []
    assert coach.members.find("teams", activity["from"]["id"]) is None


async def test_without_an_app_id_only_a_loopback_connector_is_answered(teams: TeamsEndpoint) -> None:
    response = await teams.post(act.personal_message("https://smba.trafficmanager.net/uk/", "help"))
    assert response.status == 403
    assert teams.connector.calls == []
