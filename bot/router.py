"""From commands, free text and pressed choices to handlers.

Every feature registers its handlers here; the router checks officer powers
before any officer-only handler runs, on every platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .errors import NotAllowed
from .messages import Incoming
from .replies import Fact, Facts, Heading, Paragraph, Reply, text_reply
from .storage.repositories import Member


@dataclass(frozen=True)
class Turn:
    """One turn as a handler sees it: who, what and when."""

    incoming: Incoming
    member: Member
    now: datetime

    @property
    def is_officer(self) -> bool:
        return self.member.is_officer


Replies = list[Reply]
CommandHandler = Callable[[Turn, str], Replies]
ActionHandler = Callable[[Turn, str, str], Replies]
# A multi-step conversation (e.g. an officer composing a broadcast) sees typed
# text before commands do; it returns None to let the text through.
ConversationHandler = Callable[[Turn], "Replies | None"]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    officer_only: bool = False


# The commands `help` lists, in the order it lists them. Features bind handlers.
COMMANDS: tuple[Command, ...] = (
    Command("help", "help", "what I can do"),
    Command("check", "check <draft>", 'check a draft post: "can I post this?"'),
    Command("ask", "ask <question>", "ask a question about social media and the rules"),
    Command("quiz", "quiz [topic]", "a two-minute scenario quiz"),
    Command("progress", "progress", "your training progress"),
    Command("remind", "remind me <when> to <what>", "set a reminder; 'reminders' lists them"),
    Command("reminders", "reminders", "list your reminders, with a way to cancel each"),
    Command("accounts", "accounts [add|remove] <network> <handle>", "the accounts you run, for check-ins"),
    Command("away", "away <date> to <date>", "tell me when you are away"),
    Command("settings", "settings", "reminder cadence, quiet hours, timezone and opt-outs"),
    Command("broadcast", "broadcast", "send a guidance update to members (officers)", officer_only=True),
    Command("report", "report [training]", "training and broadcast reports (officers)", officer_only=True),
)

ALIASES = {"?": "help", "hi": "help", "hello": "help", "start": "help", "menu": "help"}

QUESTION_START = re.compile(
    r"^(can|could|should|shall|is|isn't|isnt|am|are|aren't|do|does|did|don't|what|what's|whats|how|"
    r"when|where|who|whom|why|which|may|must|will|would|have|has|any|help me)\b",
    re.IGNORECASE,
)

DRAFT_HINT = "I read that as a draft to check. To ask a question instead, start with 'ask'."
QUESTION_HINT = "I read that as a question. To check it as a draft instead, start with 'check'."


def looks_like_question(text: str) -> bool:
    stripped = text.strip()
    return stripped.endswith("?") or bool(QUESTION_START.match(stripped))


class Router:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {c.name: c for c in COMMANDS}
        self._handlers: dict[str, CommandHandler] = {"help": self._help}
        self._actions: dict[str, ActionHandler] = {}
        self._conversations: list[ConversationHandler] = []

    # -- registration -------------------------------------------------------
    def command(self, name: str, handler: CommandHandler) -> None:
        if name not in self._commands:
            raise KeyError(f"unknown command {name!r}: add it to COMMANDS first")
        self._handlers[name] = handler

    def action(self, prefix: str, handler: ActionHandler) -> None:
        """Handle choices whose action id is `prefix` or starts with `prefix.`."""
        self._actions[prefix] = handler

    def conversation(self, handler: ConversationHandler) -> None:
        """Give a multi-step conversation first look at typed text (not at pressed choices)."""
        self._conversations.append(handler)

    def command_info(self, name: str) -> Command:
        return self._commands[name]

    # -- dispatch -----------------------------------------------------------
    def route(self, turn: Turn) -> Replies:
        incoming = turn.incoming
        if incoming.action is not None:
            return self._route_action(turn, incoming.action, incoming.value or "")
        text = incoming.text.strip()
        if not text:
            return [text_reply("Send me a draft to check, a question, or 'help' to see what I can do.")]
        for conversation in self._conversations:
            taken = conversation(turn)
            if taken is not None:
                return taken
        word, _, rest = text.partition(" ")
        name = ALIASES.get(word.lower(), word.lower())
        if name in self._commands:
            return self._run(turn, name, rest.strip())
        if looks_like_question(text):
            return self._run(turn, "ask", text, hint=QUESTION_HINT)
        return self._run(turn, "check", text, hint=DRAFT_HINT)

    def run_command(self, turn: Turn, name: str, args: str) -> Replies:
        """Run a command as if typed (officer checks included), for handlers that hand on."""
        return self._run(turn, name, args)

    def _run(self, turn: Turn, name: str, args: str, hint: str | None = None) -> Replies:
        command = self._commands[name]
        if command.officer_only and not turn.is_officer:
            raise NotAllowed(f"'{name}' is for council officers only.")
        handler = self._handlers.get(name)
        if handler is None:
            return [
                text_reply(
                    f"'{name}' is not available yet in this version of the coach. "
                    "Type 'help' to see what works today."
                )
            ]
        replies = handler(turn, args)
        if hint and replies:
            first = replies[0]
            replies = [
                Reply(first.summary, first.parts + (Paragraph(hint),), first.replaces_prompt, first.kind),
                *replies[1:],
            ]
        return replies

    def _route_action(self, turn: Turn, action: str, value: str) -> Replies:
        prefix = action
        while prefix:
            handler = self._actions.get(prefix)
            if handler is not None:
                return handler(turn, action, value)
            prefix = prefix.rpartition(".")[0]
        return [text_reply("That button is no longer in use. Type 'help' to see what I can do.")]

    # -- help ---------------------------------------------------------------
    def _help(self, turn: Turn, args: str) -> Replies:
        visible = [c for c in COMMANDS if turn.is_officer or not c.officer_only]
        officer_only = [c for c in COMMANDS if c.officer_only]
        facts = tuple(Fact(c.usage, c.summary) for c in visible)
        parts = [
            Heading("Councillor Coach: what I can do"),
            Paragraph(
                "Paste a draft post and I will tell you whether it is ok to post, what to watch "
                "and a safer way to say it. Ask me anything about social media and the rules."
            ),
            Facts(facts),
        ]
        if not turn.is_officer:
            names = ", ".join(c.name for c in officer_only)
            parts.append(Paragraph(f"Officers also have: {names}."))
        parts.append(
            Paragraph(
                "Anything else you type is treated as a draft to check; a message ending in '?' "
                "is treated as a question. I never store the text of your drafts or questions."
            )
        )
        return [Reply(summary="Councillor Coach: what I can do", parts=tuple(parts), kind="help")]
