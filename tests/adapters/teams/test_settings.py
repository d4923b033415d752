"""Teams settings under botbuilder's own names, and what "authentication off" allows."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from adapters.teams.settings import DEFAULT_PORT, TeamsSettings, auth_is_off, is_disabled, is_loopback_host, is_loopback_url
from bot.coach import Coach
from bot.errors import ConfigError
from tests.adapters.teams import activities as act
from tests.adapters.teams.conftest import start_endpoint
from tests.adapters.teams.connector import StandInConnector

APP = "00000000-0000-4000-8000-000000000abc"


def test_the_names_botbuilder_uses_are_read_and_checked_together() -> None:
    settings = TeamsSettings.from_env({
        "MicrosoftAppId": APP, "MicrosoftAppPassword": "s3cret", "MicrosoftAppType": "singletenant",
        "MicrosoftAppTenantId": "tenant-1",
    })
    assert (settings.APP_ID, settings.APP_PASSWORD, settings.APP_TYPE, settings.APP_TENANTID) == (APP, "s3cret", "SingleTenant", "tenant-1")
    assert "s3cret" not in settings.describe() and APP in settings.describe()
    with pytest.raises(ConfigError) as problem:
        TeamsSettings.from_env({"MicrosoftAppId": APP, "MicrosoftAppType": "SingleTenant"})
    assert "MicrosoftAppPassword" in str(problem.value) and "MicrosoftAppTenantId" in str(problem.value)
    with pytest.raises(ConfigError, match="MicrosoftAppType"):
        TeamsSettings.from_env({"MicrosoftAppType": "Everyone"})
    with pytest.raises(ConfigError, match="MicrosoftAppId is not"):
        TeamsSettings.from_env({"MicrosoftAppPassword": "orphan"})
    managed = TeamsSettings.from_env({"MicrosoftAppId": APP, "MicrosoftAppType": "UserAssignedMSI", "MicrosoftAppTenantId": "t"})
    assert managed.app_type == "UserAssignedMSI"


def test_what_the_serve_command_needs_to_know() -> None:
    assert DEFAULT_PORT == 3978
    assert auth_is_off({}) and auth_is_off({"MicrosoftAppId": "  "}) and not auth_is_off({"MicrosoftAppId": APP})
    assert TeamsSettings.from_env({}).is_auth_off
    assert is_disabled({"COACH_TEAMS_ENABLED": "false"}) and not is_disabled({}) and not is_disabled({"COACH_TEAMS_ENABLED": "yes"})


def test_loopback_means_this_machine_only() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"):
        assert is_loopback_host(host), host
    for host in ("10.0.0.5", "192.0.2.2", "fd00::2", "example.gov.uk", "", "127.0.0.1.nip.io"):
        assert not is_loopback_host(host), host
    assert is_loopback_url("http://127.0.0.1:5000/") and is_loopback_url("https://localhost/x")
    assert not is_loopback_url("https://smba.trafficmanager.net/uk/") and not is_loopback_url("file:///etc/passwd")


def outward_address() -> str | None:
    """This machine's own non-loopback IPv4 address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if is_loopback_host(address) else address


async def test_without_an_app_id_callers_from_other_machines_are_refused(coach: Coach, connector: StandInConnector) -> None:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to call from")
    runner, url = await start_endpoint(coach, connector, {}, host="0.0.0.0")
    port = url.rsplit(":", 1)[1]
    try:
        async with aiohttp.ClientSession() as session:
            activity = act.personal_message(connector.url, "help")
            async with session.post(f"http://{address}:{port}/api/messages", json=activity) as response:
                assert response.status == 403
                assert "only clients on this machine" in (await response.json())["error"]
            async with session.post(f"http://127.0.0.1:{port}/api/messages", json=activity) as response:
                assert response.status in (200, 201)
    finally:
        await runner.cleanup()
    assert len(connector.sent()) == 1  # only the loopback caller was answered
