"""Structured logs: one JSON object per line, never message text.

Log calls across the code carry ids, counts and outcomes only; this formatter
adds time, level and logger so a council's log tooling can index them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in RESERVED and not key.startswith("_"):
                data[key] = value if isinstance(value, (int, float, bool, str)) or value is None else str(value)
        if record.exc_info:
            data["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "error"
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party libraries log request bodies at DEBUG; keep them at WARNING whatever our level.
    for noisy in ("slack_bolt", "slack_sdk", "botbuilder", "aiohttp.access", "msrest", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
