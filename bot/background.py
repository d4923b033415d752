"""The delivery loop every long-running process shares: schedule what is due, then deliver it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .outbox import Outbox
from .ports import Sender
from .worker import DeliveryWorker, WorkerStats

log = logging.getLogger(__name__)

RETENTION_EVERY = timedelta(hours=6)


class DeliveryLoop:
    """Reminders -> outbox -> platforms, one pass at a time. Built by the entry points."""

    def __init__(self, coach: Any, senders: Mapping[str, Sender], *, member_id: int | None = None, **worker_options: Any):
        self.coach = coach
        reminders = coach.services.get("reminders")
        self.worker = DeliveryWorker(
            coach.engine, senders, coach.clock, policy=reminders, member_id=member_id, **worker_options
        )
        self._last_purge = None

    async def run_once(self) -> WorkerStats:
        reminders = self.coach.services.get("reminders")
        if reminders is not None:
            await asyncio.to_thread(reminders.scheduler_pass, self.coach.clock.now())
        self._retention()
        return await self.worker.run_once()

    def _retention(self) -> None:
        now = self.coach.clock.now()
        if self._last_purge is not None and now - self._last_purge < RETENTION_EVERY:
            return
        self._last_purge = now
        cutoff = now - timedelta(days=self.coach.settings.retention_days)
        removed = Outbox(self.coach.engine).purge(cutoff)
        stats = self.coach.stats.purge(cutoff)
        if removed or stats:
            log.info("retention: removed %s finished outbox rows and %s statistics rows", removed, stats)

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        while not stop.is_set():
            try:
                stats = await self.run_once()
            except Exception:
                log.exception("delivery pass failed; trying again shortly")
                stats = WorkerStats()
            if stats.claimed == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=interval)
                except asyncio.TimeoutError:
                    pass
