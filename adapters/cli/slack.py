"""`coach slack manifest` and `coach slack sync-members`: setting Slack up."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

import yaml

from bot.errors import ConfigError
from bot.services.broadcasts import normalise_tags

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("slack", help="set up Slack: the app manifest and the member roster")
    s = p.add_subparsers(dest="slack_command", metavar="ACTION", required=True)

    m = s.add_parser(
        "manifest",
        help="print a Slack app manifest to paste into api.slack.com/apps > Create New App > From a manifest",
    )
    m.add_argument("--url", help="the coach's public https address, e.g. https://coach.anytown.gov.uk")
    m.add_argument("--socket", action="store_true", help="Socket Mode: no public address needed")
    m.add_argument("--oauth", action="store_true", help="install into many workspaces (needs SLACK_CLIENT_ID/SECRET)")
    m.add_argument("--name", default=None, help="the app's name in Slack (default Councillor Coach)")
    m.add_argument("--command", default=None, help="the slash command (default /coach, or SLACK_COMMAND)")
    m.add_argument("--format", choices=("json", "yaml"), default="json")
    m.set_defaults(func=_manifest)

    sm = s.add_parser("sync-members", help="import a channel's members (e.g. #members) into the member directory")
    sm.add_argument("channel", help="#channel-name or channel id")
    sm.add_argument("--tag", action="append", default=[], help="also give everyone this tag (repeatable)")
    sm.add_argument("--team", default=None, help="workspace id (T0123...) when the coach serves several")
    sm.set_defaults(func=_sync_members)


def _manifest(args: argparse.Namespace) -> int:
    from adapters.slack.manifest import APP_NAME, build_manifest

    command = args.command or os.environ.get("SLACK_COMMAND") or "/coach"
    manifest = build_manifest(
        args.url, socket_mode=args.socket, oauth=args.oauth, name=args.name or APP_NAME, command=command
    )
    if args.format == "yaml":
        print(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), end="")
    else:
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
    return 0


def _sync_members(args: argparse.Namespace) -> int:
    from adapters.slack.roster import sync_members
    from adapters.slack.settings import SlackSettings
    from adapters.slack.tokens import bot_token_for

    settings = SlackSettings.from_env(os.environ)
    if settings is None:
        raise ConfigError("Slack is not configured: set SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET)")
    tags = normalise_tags(args.tag)
    coach = coach_from_env()

    async def run() -> Any:
        from slack_sdk.web.async_client import AsyncWebClient

        token = await bot_token_for(settings, coach.engine, args.team)
        client = AsyncWebClient(token=token, base_url=settings.api_url)
        return await sync_members(coach, client, args.channel, tags=tags, team_id=args.team or "")

    result = asyncio.run(run())
    print(
        f"#{result.channel}: {result.total} members ({result.added} new); tagged {result.tag}"
        + (f" and {', '.join(tags)}" if tags else "")
        + (f"; {result.left} who left lost the tag" if result.left else "")
        + (f"; skipped {result.skipped} bots or deactivated accounts" if result.skipped else "")
    )
    return 0
