"""Teams settings, under the environment names botbuilder itself uses.

`MicrosoftAppId`, `MicrosoftAppPassword`, `MicrosoftAppType` and
`MicrosoftAppTenantId` are the names in every Bot Framework sample and in the
Azure portal, so operators can copy them across unchanged. With no app id,
authentication is off: fine for a Bot Framework client on this machine, never
for a public address (`coach serve` warns when bound beyond loopback that way).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.errors import ConfigError

# `coach serve teams` listens here when Teams is served alone: the Bot Framework default.
DEFAULT_PORT = 3978

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
ENABLED_ENV = "COACH_TEAMS_ENABLED"
_FALSE = {"0", "false", "no", "off", "disabled"}


def auth_is_off(env: Mapping[str, str]) -> bool:
    """True when no MicrosoftAppId is set, so /api/messages accepts unsigned requests."""
    return not (env.get("MicrosoftAppId") or "").strip()


def is_disabled(env: Mapping[str, str]) -> bool:
    """True only when the operator turned Teams off explicitly (COACH_TEAMS_ENABLED=false)."""
    return (env.get(ENABLED_ENV) or "").strip().lower() in _FALSE


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (also as an IPv4-mapped IPv6 address)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs whose host is this machine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback_host(host)


@dataclass(frozen=True)
class TeamsSettings:
    """The bot's Microsoft Entra registration. Attribute names in capitals are the ones
    botbuilder's ConfigurationServiceClientCredentialFactory reads."""

    app_id: str = ""
    app_password: str = ""
    app_type: str = "MultiTenant"
    tenant_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings:
        """Read and check every value; name all the problems together."""
        app_id = (env.get("MicrosoftAppId") or "").strip()
        password = env.get("MicrosoftAppPassword") or ""
        raw_type = (env.get("MicrosoftAppType") or "MultiTenant").strip()
        tenant = (env.get("MicrosoftAppTenantId") or "").strip()
        problems: list[str] = []
        app_type = next((t for t in APP_TYPES if t.lower() == raw_type.lower()), "")
        if not app_type:
            problems.append(f"MicrosoftAppType: use one of {', '.join(APP_TYPES)}")
        if not app_id:
            if password:
                problems.append("MicrosoftAppPassword is set but MicrosoftAppId is not")
        elif app_type == "MultiTenant" and not password:
            problems.append("MicrosoftAppPassword: needed with MicrosoftAppId for a MultiTenant bot")
        elif app_type == "SingleTenant":
            if not password:
                problems.append("MicrosoftAppPassword: needed for a SingleTenant bot")
            if not tenant:
                problems.append("MicrosoftAppTenantId: needed for a SingleTenant bot")
        elif app_type == "UserAssignedMSI" and not tenant:
            problems.append("MicrosoftAppTenantId: needed for a UserAssignedMSI bot")
        if not app_id and app_type in ("SingleTenant", "UserAssignedMSI"):
            problems.append(f"MicrosoftAppId: needed for a {app_type} bot")
        if problems:
            raise ConfigError("Teams settings: " + "; ".join(problems))
        return cls(app_id=app_id, app_password=password, app_type=app_type, tenant_id=tenant)

    @property
    def is_auth_off(self) -> bool:
        return not self.app_id

    # The names botbuilder's configuration object must carry.
    @property
    def APP_ID(self) -> str:  # noqa: N802
        return self.app_id

    @property
    def APP_PASSWORD(self) -> str:  # noqa: N802
        return self.app_password

    @property
    def APP_TYPE(self) -> str:  # noqa: N802
        return self.app_type

    @property
    def APP_TENANTID(self) -> str:  # noqa: N802
        return self.tenant_id

    def describe(self) -> str:
        """One line for logs and `coach serve`: never the password."""
        if self.is_auth_off:
            return "authentication OFF (no MicrosoftAppId): loopback use only"
        tenant = f", tenant {self.tenant_id}" if self.tenant_id else ""
        return f"app {self.app_id} ({self.app_type}{tenant})"
