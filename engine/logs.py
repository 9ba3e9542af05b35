"""Logging for the `marquee.*` loggers, configured once when a command starts.

One line per event with time, level and logger; with `log_json` one JSON object per line instead, for log
collectors. Only the `marquee` logger tree is configured: libraries keep their own handlers.
"""

from __future__ import annotations

import json
import logging
import sys

ROOT = "marquee"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message"} (and "error" with a traceback) on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> logging.Logger:
    """Send `marquee.*` records at `level` or above to stderr; calling again replaces the handler."""
    logger = logging.getLogger(ROOT)
    for handler in list(logger.handlers):
        if getattr(handler, "marquee", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.marquee = True  # type: ignore[attr-defined]  # ours to replace, unlike a test's capture handler
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # one line per event, not a second copy from a root handler
    return logger
