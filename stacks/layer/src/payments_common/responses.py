"""API Gateway (REST, Lambda proxy integration) response helper."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(
    status_code: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return a proxy-integration response with a JSON body (Decimals become strings)."""
    return {
        "statusCode": status_code,
        "headers": {**_HEADERS, **(headers or {})},
        "body": json.dumps(body, default=_default),
    }
