"""The service's logs: one JSON object per line on standard error, for verdict and uvicorn.

The access log is the service's own (``verdict.serving.access``, with the request id); uvicorn's
is switched off. :func:`log_config` is what :func:`verdict.serving._run.run` hands uvicorn.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: the access log's own fields, or time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        base = {"ts": f"{stamp}.{int(record.msecs):03d}Z", "level": record.levelname.lower()}
        if message.startswith("{") and record.name == "verdict.serving.access":
            return json.dumps(base)[:-1] + ", " + message[1:]
        line: dict[str, Any] = {**base, "logger": record.name, "message": message}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line)


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: JSON lines on stderr for verdict and uvicorn; no access log
    from uvicorn (the service writes its own, with the request id)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"json": handler},
        "loggers": {
            "verdict": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
