"""Typed errors the core raises; adapters turn them into friendly replies."""

from __future__ import annotations


class CoachError(Exception):
    """Base class: the message is safe to show to the person who caused it."""


class NotAllowed(CoachError):
    """The person lacks the role this needs (for example, officer-only commands)."""


class NotFound(CoachError):
    """A record the person named does not exist."""


class BadInput(CoachError):
    """The person's input could not be understood; the message says what works."""


class ConfigError(CoachError):
    """Settings are missing or wrong; the message names every problem."""


class KnowledgeError(CoachError):
    """The knowledge base failed validation.

    `problems` holds every problem as `file:line: message`.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"the knowledge base has {len(problems)} problem(s)")
