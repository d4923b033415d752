"""Where bot tokens come from: one configured token, or each workspace's installation.

Multi-workspace installs keep Bolt's installation records in the coach's own
database (tables from migration 0004), through slack_sdk's SQLAlchemy stores.
Those stores are synchronous; the wrappers here run them in a worker thread so
the async Bolt app can use them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import Engine

from bot.errors import BadInput, ConfigError, NotFound

from .settings import SlackSettings

log = logging.getLogger(__name__)

STATE_SECONDS = 600  # how long an install link stays valid


class DatabaseInstallations(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store, used from async code."""

    def __init__(self, client_id: str, engine: Engine):
        # Imported here: the module needs greenlet, which only multi-workspace installs use.
        from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

        self.store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=log)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.store.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        return await asyncio.to_thread(
            self.store.find_bot, enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            self.store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.store.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self.store.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.store.delete_all, enterprise_id=enterprise_id, team_id=team_id)


class DatabaseOAuthStates(AsyncOAuthStateStore):
    """One-time `state` values for the OAuth flow, in the coach's database."""

    def __init__(self, engine: Engine, expiration_seconds: int = STATE_SECONDS):
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

        self.store = SQLAlchemyOAuthStateStore(expiration_seconds=expiration_seconds, engine=engine, logger=log)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.store.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.store.consume, state)


class InstalledTokens:
    """A workspace's bot token from its installation (sender.TokenSource)."""

    def __init__(self, installations: AsyncInstallationStore):
        self.installations = installations

    async def token_for(self, team_id: str, enterprise_id: str | None) -> str | None:
        bot = await self.installations.async_find_bot(enterprise_id=enterprise_id, team_id=team_id or None)
        return bot.bot_token if bot is not None else None


async def bot_token_for(settings: SlackSettings, engine: Engine, team_id: str | None) -> str:
    """The token for command-line work: the configured one, or the named workspace's."""
    if not settings.is_oauth:
        if not settings.bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is not set")
        return settings.bot_token
    if not team_id:
        if settings.bot_token:
            return settings.bot_token
        raise BadInput("the coach serves several Slack workspaces: name one with --team T0123ABCD")
    assert settings.client_id
    token = await InstalledTokens(DatabaseInstallations(settings.client_id, engine)).token_for(team_id, None)
    if not token:
        raise NotFound(f"the coach is not installed in Slack workspace {team_id}")
    return token
