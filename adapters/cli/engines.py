"""Shared by `coach check`, `ask`, `eval` and `bench`: the knowledge base and its engines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from bot.checker import Built, CheckContext, build
from bot.config import Settings
from bot.errors import BadInput
from bot.guidance import Council, load_knowledge


def load_engines() -> Built:
    return build(load_knowledge(Settings.from_env().knowledge_dir))


def pre_election_today(council: Council, now: datetime | None = None) -> bool:
    now = now or datetime.now(timezone.utc)
    return council.is_pre_election(now.astimezone(council.tz).date())


def make_context(raw: Any, default_pre_election: bool) -> CheckContext:
    """A CheckContext from a JSON object: {"pre_election": true, "account": "official", ...}."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadInput("'context' must be an object")
    pre = raw.get("pre_election", default_pre_election)
    if not isinstance(pre, bool):
        raise BadInput("'context.pre_election' must be true or false")
    account = raw.get("account", "personal")
    if account not in ("personal", "official", "campaign"):
        raise BadInput("'context.account' must be personal, official or campaign")
    platform = raw.get("platform", "")
    return CheckContext(pre_election=pre, account=account, platform=str(platform or ""))


def jsonl(handle: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """Read one JSON object a line from stdin, write one result a line, same order.

    A bad line gives an error object for that line and processing goes on.
    """
    for number, line in enumerate(_lines(), start=1):
        if not line.strip():
            continue
        item_id: Any = None
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise BadInput("each line must be a JSON object")
            item_id = item.get("id")
            result = {"id": item_id, **handle(item)}
        except json.JSONDecodeError as exc:
            result = {"id": None, "line": number, "error": f"not valid JSON: {exc.msg}"}
        except BadInput as exc:
            result = {"id": item_id, "line": number, "error": str(exc)}
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def _lines() -> Iterator[str]:
    for raw in sys.stdin.buffer:
        yield raw.decode("utf-8", errors="replace")
