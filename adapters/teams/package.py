"""The Teams app package: manifest.json plus the two icons, zipped for the Teams admin centre.

The manifest follows schema 1.17 (https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json):
one bot, in personal, team and group-chat scopes, with command lists built from the
router's own commands, so the menu Teams shows always matches what the coach does.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot import __version__
from bot.errors import BadInput
from bot.router import COMMANDS

from . import icons

SCHEMA_VERSION = "1.17"
SCHEMA_URL = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{SCHEMA_VERSION}/MicrosoftTeams.schema.json"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
DOMAIN = re.compile(r"^(\*\.)?([a-zA-Z0-9-]{1,63}\.)+[a-zA-Z]{2,63}(:[0-9]{1,5})?$")
MAX_COMMANDS = 10  # per command list, a Teams limit
CHANNEL_COMMANDS = ("help", "check", "ask")  # safe to use where everyone can see the answer

SHORT_DESCRIPTION = "Check a draft post, ask about the rules, and keep your training up to date."
FULL_DESCRIPTION = (
    "Councillor Coach helps councillors use social media well and safely. Paste a draft post and it "
    "tells you whether it is ok to post, what to watch and a safer way to say it. Ask it about the "
    "Code of Conduct, defamation, personal data, the pre-election period and more, with the source "
    "of every answer. Short scenario quizzes keep your training up to date, reminders help you keep "
    "an eye on your accounts, and council officers can send guidance updates to every member. "
    "The coach never stores the text of your drafts or questions."
)


@dataclass(frozen=True)
class PackageOptions:
    app_id: str  # the bot's Microsoft App ID (MicrosoftAppId)
    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str
    teams_app_id: str = ""  # the Teams app's own id; defaults to the bot's
    version: str = __version__
    domains: tuple[str, ...] = ()
    accent: str = icons.ACCENT


def manifest(options: PackageOptions) -> dict[str, Any]:
    """The manifest as a dict; BadInput names every problem with the options."""
    _check(options)
    personal = [c for c in COMMANDS if not c.officer_only][:MAX_COMMANDS]
    shared = [c for c in COMMANDS if c.name in CHANNEL_COMMANDS]
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": SCHEMA_VERSION,
        "version": options.version,
        "id": (options.teams_app_id or options.app_id).lower(),
        "developer": {
            "name": options.developer_name,
            "websiteUrl": options.website_url,
            "privacyUrl": options.privacy_url,
            "termsOfUseUrl": options.terms_url,
        },
        "name": {"short": "Councillor Coach", "full": "Councillor Coach: social media guidance for councillors"},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": options.accent,
        "bots": [
            {
                "botId": options.app_id.lower(),
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": [_command(c.name, c.summary) for c in personal]},
                    {"scopes": ["team", "groupChat"], "commands": [_command(c.name, c.summary) for c in shared]},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": list(options.domains),
        "defaultInstallScope": "personal",
    }


def write_package(options: PackageOptions, out: Path) -> dict[str, Any]:
    """Write the zip (manifest.json, color.png, outline.png at its root); returns the manifest."""
    data = manifest(options)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {
        "manifest.json": json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n",
        "color.png": icons.color_icon(options.accent),
        "outline.png": icons.outline_icon(),
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # same bytes for the same input
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return data


def default_urls(website: str) -> tuple[str, str]:
    """Privacy and terms pages assumed under the council's website when not given."""
    base = website.rstrip("/")
    return f"{base}/privacy", f"{base}/terms"


def site_of(url: str) -> str:
    """https://www.example.gov.uk/some/page -> https://www.example.gov.uk"""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _command(name: str, summary: str) -> dict[str, str]:
    return {"title": name[:32], "description": summary[:128]}


def _check(options: PackageOptions) -> None:
    problems: list[str] = []
    if not GUID.match(options.app_id):
        problems.append(f"--app-id {options.app_id!r} is not a Microsoft App ID (a GUID such as 1b2c3d4e-...)")
    if options.teams_app_id and not GUID.match(options.teams_app_id):
        problems.append("--teams-app-id must be a GUID")
    if not SEMVER.match(options.version):
        problems.append(f"--version {options.version!r}: use MAJOR.MINOR.PATCH, e.g. 1.0.0")
    name = options.developer_name.strip()
    if not name or len(name) > 32:
        problems.append("--developer: the publisher's name, 1 to 32 characters")
    for flag, url in (("--website", options.website_url), ("--privacy-url", options.privacy_url),
                      ("--terms-url", options.terms_url)):
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or len(url) > 2048:
            problems.append(f"{flag} must be an https:// address")
    for domain in options.domains:
        if not DOMAIN.match(domain):
            problems.append(f"--domain {domain!r}: a host name such as coach.anytown.gov.uk, without https://")
    if len(options.domains) > 16:
        problems.append("at most 16 --domain values")
    if not re.match(r"^#[0-9a-fA-F]{6}$", options.accent):
        problems.append("the accent colour must look like #00607A")
    if problems:
        raise BadInput("; ".join(problems))
