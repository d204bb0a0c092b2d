"""Lazily created, cached boto3 clients.

Clients are built on first use, not at import time, so that configuration from the
environment (region, and ``AWS_ENDPOINT_URL`` in tests) is read when the handler runs. The
cache key includes the region and endpoint so a changed environment gets a fresh client.
Timeouts are short because webhook providers expect sub-second answers; retries use the
SDK's ``standard`` mode.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
)
_CLIENTS: dict[tuple[str, str | None, str | None], Any] = {}


def client(service: str) -> Any:
    """Return a cached boto3 client for ``service`` (e.g. ``"dynamodb"``, ``"sqs"``)."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    key = (service, region, os.environ.get("AWS_ENDPOINT_URL"))
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.client(service, config=_CONFIG)
    return _CLIENTS[key]
