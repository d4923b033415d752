"""`coach teams package|sync-members`: the Teams app package and the team roster."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import KnowledgeError

from .base import coach_from_env


def register(sub: Any) -> None:
    p = sub.add_parser("teams", help="Microsoft Teams: the app package and the team roster")
    s = p.add_subparsers(dest="teams_command", metavar="ACTION", required=True)

    pkg = s.add_parser("package", help="write the Teams app package (manifest and icons) to upload in Teams")
    pkg.add_argument("--app-id", required=True, help="the bot's Microsoft App ID (MicrosoftAppId), a GUID")
    pkg.add_argument("--out", default="coach-teams.zip", help="where to write the zip (default: coach-teams.zip)")
    pkg.add_argument("--teams-app-id", default="", help="the Teams app's own id, if not the bot's App ID")
    pkg.add_argument("--domain", action="append", default=[], metavar="HOST",
                     help="a host the app uses, e.g. coach.anytown.gov.uk (repeatable)")
    pkg.add_argument("--developer", default="", help="publisher name shown in Teams (default: the council's name)")
    pkg.add_argument("--website", default="", help="publisher website (default: the council's site)")
    pkg.add_argument("--privacy-url", default="", help="privacy notice (default: WEBSITE/privacy)")
    pkg.add_argument("--terms-url", default="", help="terms of use (default: WEBSITE/terms)")
    pkg.add_argument("--version", dest="app_version", default="", help="app version, MAJOR.MINOR.PATCH")
    pkg.set_defaults(func=_package)

    sync = s.add_parser("sync-members", help="import the members of a team the coach is installed in")
    sync.add_argument("--team", default=None, help="team id or name (needed when the coach is in several teams)")
    sync.add_argument("--tag", action="append", default=[], help="also give every member this tag (repeatable)")
    sync.set_defaults(func=_sync)


def _package(args: argparse.Namespace) -> int:
    from adapters.teams.package import PackageOptions, default_urls, write_package
    from bot import __version__

    council_name, council_site = _council()
    website = args.website or council_site
    privacy_default, terms_default = default_urls(website)
    assumed = [flag for flag, given in (("--website", args.website), ("--privacy-url", args.privacy_url),
                                        ("--terms-url", args.terms_url)) if not given]
    options = PackageOptions(
        app_id=args.app_id.strip(),
        teams_app_id=args.teams_app_id.strip(),
        developer_name=(args.developer or council_name)[:32].strip(),
        website_url=website,
        privacy_url=args.privacy_url or privacy_default,
        terms_url=args.terms_url or terms_default,
        version=args.app_version or __version__,
        domains=tuple(d.strip() for d in args.domain if d.strip()),
    )
    out = Path(args.out)
    manifest = write_package(options, out)
    print(f"wrote {out} (Teams manifest {manifest['manifestVersion']}, bot {manifest['bots'][0]['botId']}, "
          f"scopes {', '.join(manifest['bots'][0]['scopes'])})")
    if assumed:
        print(f"check before uploading: not given, so assumed ({', '.join(assumed)}): website "
              f"{options.website_url}, privacy {options.privacy_url}, terms {options.terms_url}")
    return 0


def _council() -> tuple[str, str]:
    """The council's name and website from the knowledge base, for the publisher details."""
    from adapters.teams.package import site_of
    from bot.guidance import KnowledgeStore

    try:
        council = KnowledgeStore(Settings.from_env().knowledge_dir).current.council
    except KnowledgeError:
        return "Councillor Coach", ""
    return council.name, site_of(council.protocol_url)


def _sync(args: argparse.Namespace) -> int:
    from adapters.teams.roster import sync_members
    from adapters.teams.server import make_adapter
    from adapters.teams.settings import TeamsSettings

    settings = TeamsSettings.from_env(os.environ)
    coach = coach_from_env()
    adapter = make_adapter(settings)
    result = asyncio.run(sync_members(coach, adapter, settings.app_id, team=args.team, tags=args.tag))
    print(f"{result.team}: {result.total} members ({result.added} new), tagged {result.tag}"
          + (f"; {result.left} no longer in the team lost that tag" if result.left else ""))
    return 0
