"""Structured (one JSON object per line) logging that redacts every field it is given.

Handlers call ``log_event(logger, "webhook accepted", transaction_id=..., status=...)``.
Fields pass through :func:`payments_common.redaction.redact` first, so a card number or a
secret that slips into a field is masked before the line is written. Records propagate to
the root logger, which the Lambda runtime attaches to CloudWatch Logs. ``LOG_LEVEL``
(default ``INFO``) sets the level of loggers created by :func:`get_logger`.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from payments_common.redaction import redact, redact_text


def get_logger(name: str) -> logging.Logger:
    """Return the named logger with its level taken from the ``LOG_LEVEL`` variable."""
    logger = logging.getLogger(name)
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    return logger


def log_event(
    logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any
) -> None:
    """Log ``message`` and ``fields`` as one redacted JSON object."""
    if not logger.isEnabledFor(level):
        return
    record = {"level": logging.getLevelName(level), "message": redact_text(message)}
    record.update(redact(fields))
    logger.log(level, json.dumps(record, default=str, separators=(",", ":")))
