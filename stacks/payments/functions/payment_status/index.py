"""payment_status: ``GET /payments/{id}`` - the latest known state of one transaction.

Reads the ``payment-transactions`` table (partition ``transaction_id``, sort ``timestamp``)
with one strongly consistent ``Query`` for the newest record of the id, and answers with a
fixed set of non-sensitive fields (never the stored payload). An id that does not match the
webhook schema's pattern is refused with 400 before DynamoDB is called; an unknown id is 404;
a storage failure is 503 so that callers retry.

Environment: ``TABLE_NAME`` (required), ``LOG_LEVEL`` (optional).
"""

from __future__ import annotations

import os
import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from payments_common import client, get_logger, json_response, log_event

logger = get_logger("payment_status")

#: The webhook schema's ``transaction_id`` pattern, matched against the whole id (``fullmatch``:
#: ``$`` would let ``t1\n`` through).
TRANSACTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
#: Fields returned to the caller; the stored payload and its hash stay private.
PUBLIC_FIELDS = ("transaction_id", "timestamp", "provider", "amount", "currency", "status")


def _value(attribute: dict[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    return value if kind in ("S", "N") else str(value)


def latest(transaction_id: str) -> dict[str, Any] | None:
    """The newest record of ``transaction_id`` (public fields only), or None."""
    response = client("dynamodb").query(
        TableName=os.environ["TABLE_NAME"],
        KeyConditionExpression="transaction_id = :id",
        ExpressionAttributeValues={":id": {"S": transaction_id}},
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    )
    items = response.get("Items", [])
    if not items:
        return None
    item = items[0]
    return {name: _value(item[name]) for name in PUBLIC_FIELDS if name in item}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway (Lambda proxy) handler."""
    transaction_id = ((event or {}).get("pathParameters") or {}).get("id")
    if not isinstance(transaction_id, str) or not TRANSACTION_ID.fullmatch(transaction_id):
        log_event(logger, "status request rejected", reason="invalid transaction id")
        return json_response(
            400,
            {
                "error": "invalid_transaction_id",
                "message": "id must be 1-128 letters, digits, '.', '_', ':' or '-'",
            },
        )
    try:
        record = latest(transaction_id)
    except (ClientError, BotoCoreError) as exc:
        log_event(
            logger,
            "status lookup failed",
            level=40,
            transaction_id=transaction_id,
            error=type(exc).__name__,
        )
        return json_response(503, {"error": "unavailable", "message": "try again later"})
    if record is None:
        log_event(logger, "status not found", transaction_id=transaction_id)
        return json_response(404, {"error": "not_found", "transaction_id": transaction_id})
    log_event(logger, "status returned", transaction_id=transaction_id, status=record.get("status"))
    return json_response(200, record)
