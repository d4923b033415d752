"""A worker process for the crash test: delivers through FlakyFileSender until killed."""

from __future__ import annotations

import asyncio
import sys

from bot.clock import SystemClock
from bot.storage.database import make_engine
from bot.worker import DeliveryWorker
from tests.support.senders import FlakyFileSender


async def main(url: str, path: str, seed: int) -> None:
    engine = make_engine(url)
    worker = DeliveryWorker(engine, {"slack": FlakyFileSender(path, seed=seed)}, SystemClock(), batch=20)
    while True:
        stats = await worker.run_once()
        if stats.claimed == 0:
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
