"""What arrives from a platform: who sent it, where, and what they said or pressed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Incoming:
    """One turn from a person, platform-neutral.

    `route` is adapter-owned JSON (for Teams, the conversation reference) that the
    core stores so proactive messages can reach the person later; it never parses it.
    """

    platform: str  # "console" | "slack" | "teams"
    user_id: str
    display_name: str = ""
    workspace: str = ""  # Slack team id or Teams tenant id
    conversation_id: str = ""
    text: str = ""
    action: str | None = None  # set when a choice was pressed, e.g. "quiz.answer"
    value: str | None = None
    route: str = ""
    is_private: bool = True  # a one-to-one conversation rather than a channel
    extras: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_action(self) -> bool:
        return self.action is not None
