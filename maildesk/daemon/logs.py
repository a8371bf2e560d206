"""How `maildesk run` logs: one line per event on stderr, as text or as JSON objects, with
the SMTP conversation (aiosmtpd logs every verb at INFO) kept for DEBUG.

A log call gives its structured fields as `extra={"fields": {...}}`: the JSON format writes
them beside `time`, `level`, `logger` and `message`; the text format has them in its message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO

SMTP_CHATTER = "mail.log"  # aiosmtpd's logger: a line per SMTP command and reply
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RESERVED = ("time", "level", "logger", "message")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601 UTC), level, logger, message, the fields."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, object] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry |= {key: value for key, value in fields.items() if key not in RESERVED}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def text_formatter() -> logging.Formatter:
    """Text lines stamped in UTC, like every time maildesk prints."""
    formatter = logging.Formatter(TEXT_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    return formatter


@contextmanager
def logging_to(level: str, style: str, stream: IO[str] | None = None) -> Iterator[None]:
    """Log at `level` (DEBUG, INFO, WARNING, ERROR) to `stream` (stderr) in `style` (text,
    json) inside the block; the SMTP conversation only when the level is DEBUG. The loggers
    are as they were after it."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if style == "json" else text_formatter())
    root, chatter = logging.getLogger(), logging.getLogger(SMTP_CHATTER)
    levels = root.level, chatter.level
    root.addHandler(handler)
    root.setLevel(level)
    chatter.setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        chatter.setLevel(levels[1])
