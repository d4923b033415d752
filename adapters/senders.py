"""Proactive senders for every platform whose credentials are configured.

Each platform package offers `sender_from_env(env) -> Sender | None` in its
`sender` module. This is the one place that knows them all.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping

from bot.ports import Sender

log = logging.getLogger(__name__)

PLATFORM_SENDERS = {"slack": "adapters.slack.sender", "teams": "adapters.teams.sender"}


def configured_senders(env: Mapping[str, str], only: str | None = None) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    for platform, module_name in PLATFORM_SENDERS.items():
        if only and platform != only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            log.warning("no sender module for %s", platform)
            continue
        factory = getattr(module, "sender_from_env", None)
        sender = factory(env) if factory else None
        if sender is not None:
            senders[platform] = sender
    return senders
