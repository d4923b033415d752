"""An async line loop: type to the coach, pick a choice by number or label."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.coach import Coach
from bot.messages import Incoming
from bot.replies import Choice, Reply

from .render import render

QUIT_WORDS = {"quit", "exit", "bye", ":q"}

Background = Callable[["ConsoleChat"], Awaitable[None]]


class ConsoleChat:
    """One person's chat in the terminal."""

    def __init__(
        self,
        coach: Coach,
        user: str,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ):
        self.coach = coach
        self.user = user
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.choices: list[Choice] = []
        self._print_lock = asyncio.Lock()

    @property
    def interactive(self) -> bool:
        return self.stdin.isatty()

    def incoming_for(self, line: str) -> Incoming:
        """A typed line becomes text, or a choice when it names one on screen."""
        choice = self._match_choice(line)
        base = dict(
            platform="console",
            user_id=self.user,
            display_name=self.user,
            conversation_id=f"console:{self.user}",
            route='{"console": true}',
        )
        if choice is not None:
            return Incoming(**base, action=choice.action, value=choice.value)
        return Incoming(**base, text=line)

    def _match_choice(self, line: str) -> Choice | None:
        text = line.strip()
        if not self.choices or not text:
            return None
        if text.isdigit():
            index = int(text) - 1
            return self.choices[index] if 0 <= index < len(self.choices) else None
        for choice in self.choices:
            if choice.label.strip().lower() == text.lower():
                return choice
        return None

    async def show(self, replies: list[Reply], *, proactive: bool = False) -> None:
        async with self._print_lock:
            for reply in replies:
                if proactive:
                    self.stdout.write("\n[message from the coach]\n")
                    choices = list(reply.choices)
                    self.stdout.write(render(reply, first_number=len(self.choices) + 1) + "\n")
                    self.choices.extend(choices)
                else:
                    self.stdout.write(render(reply) + "\n")
                self.stdout.write("\n")
            if not proactive:
                self.choices = [c for r in replies for c in r.choices]
            self.stdout.flush()

    def _start_reader(self) -> asyncio.Queue[str]:
        """Read stdin on a daemon thread, so Ctrl-C or EOF never waits on a blocked read."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str] = asyncio.Queue()

        def pump() -> None:
            while True:
                try:
                    line = self.stdin.readline()
                except (OSError, ValueError, UnicodeDecodeError):
                    line = ""
                try:
                    loop.call_soon_threadsafe(queue.put_nowait, line)
                except RuntimeError:  # the chat has already closed
                    return
                if not line:
                    return

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        return queue

    async def run(self, background: list[Background] | None = None) -> int:
        """Read lines until EOF or a quit word. Returns the exit code."""
        tasks = [asyncio.create_task(job(self)) for job in (background or [])]
        lines = self._start_reader()
        try:
            if self.interactive:
                self.stdout.write("Councillor Coach. Type 'help' to start, 'quit' to leave.\n\n")
            while True:
                if self.interactive:
                    self.stdout.write("you> ")
                    self.stdout.flush()
                line = await lines.get()
                if not line:
                    break
                line = line.rstrip("\r\n")
                if line.strip().lower() in QUIT_WORDS:
                    break
                if not line.strip():
                    continue
                incoming = self.incoming_for(line)
                replies = await asyncio.to_thread(self.coach.handle, incoming)
                await self.show(replies)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return 0
