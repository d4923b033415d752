"""Slack settings, read once from the environment when the server starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_COMMAND = "/coach"
TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SlackSettings:
    """How this deployment talks to Slack.

    Either one workspace (a bot token) or many (OAuth client id and secret, with
    installations kept in the coach's database). HTTP mode needs the signing
    secret; Socket Mode needs the app-level token instead of a public URL.
    """

    bot_token: str | None = None
    signing_secret: str = ""
    app_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = DEFAULT_API_URL
    socket_mode: bool = False
    command: str = DEFAULT_COMMAND
    rate_per_second: float = 1.0

    @property
    def is_oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings | None:
        """Settings, or None when Slack is not configured at all.

        Partly configured Slack is an error that names every missing value, so a
        deployment never starts half-working.
        """
        get = lambda name: (env.get(name) or "").strip()  # noqa: E731
        bot_token, secret, app_token = get("SLACK_BOT_TOKEN"), get("SLACK_SIGNING_SECRET"), get("SLACK_APP_TOKEN")
        client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
        socket_mode = get("SLACK_SOCKET_MODE").lower() in TRUE_WORDS
        if not (bot_token or secret or client_id or client_secret or (socket_mode and app_token)):
            return None
        problems: list[str] = []
        if bool(client_id) != bool(client_secret):
            problems.append("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together: set both or neither")
        is_oauth = bool(client_id and client_secret)
        if socket_mode:
            if not app_token:
                problems.append("SLACK_APP_TOKEN is needed for Socket Mode (an xapp- token)")
            if is_oauth:
                problems.append("Socket Mode serves one workspace: unset SLACK_CLIENT_ID/SECRET or use HTTP mode")
            elif not bot_token:
                problems.append("SLACK_BOT_TOKEN is needed (the xoxb- token from OAuth & Permissions)")
        else:
            if not secret:
                problems.append("SLACK_SIGNING_SECRET is needed (Basic Information > App Credentials)")
            if not bot_token and not is_oauth:
                problems.append(
                    "SLACK_BOT_TOKEN is needed (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for many workspaces)"
                )
        api_url = get("SLACK_API_URL") or DEFAULT_API_URL
        if not api_url.startswith(("http://", "https://")):
            problems.append("SLACK_API_URL must start with http:// or https://")
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        if not api_url.endswith("/"):
            api_url += "/"
        command = get("SLACK_COMMAND") or DEFAULT_COMMAND
        if not command.startswith("/") or " " in command:
            problems.append("SLACK_COMMAND must be one word starting with /, for example /coach")
        rate_raw = get("SLACK_RATE_PER_SECOND") or "1"
        try:
            rate = float(rate_raw)
            if not 0 < rate <= 1000:
                raise ValueError
        except ValueError:
            problems.append("SLACK_RATE_PER_SECOND: a number of messages a second above 0, for example 1")
            rate = 1.0
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(
            bot_token=bot_token or None,
            signing_secret=secret,
            app_token=app_token or None,
            client_id=client_id or None,
            client_secret=client_secret or None,
            api_url=api_url,
            socket_mode=socket_mode,
            command=command,
            rate_per_second=rate,
        )
