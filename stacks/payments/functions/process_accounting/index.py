"""process-accounting: SQS-triggered handler that applies accounting to stored transactions.

Each message (sent by process-payment) names a transaction by ``transaction_id`` and
``timestamp``. The handler marks that item in the transactions table as accounted:
``accounting_status = "accounted"``, plus ``accounted_at`` and the accounted amount and
currency on first application only. The provider's own ``status`` is left untouched.

The update is idempotent (``if_not_exists``), so a redelivered message is harmless, and
conditional on the item existing, so a message for an unknown transaction fails.

The event source mapping uses ``ReportBatchItemFailures``: the handler returns
``{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}`` for the records that failed
(unparseable JSON, missing or malformed fields, unknown transaction, DynamoDB errors), so
only those are retried and, after ``maxReceiveCount``, moved to the dead-letter queue.

Environment: ``TABLE_NAME`` (required); ``LOG_LEVEL`` (optional).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from payments_common import client, get_logger, log_event, safe_fields

logger = get_logger("process_accounting")

REQUIRED_FIELDS = ("transaction_id", "timestamp", "amount", "currency")


class PoisonMessage(ValueError):
    """The message can never be processed (bad JSON or missing/malformed fields)."""


def parse_message(body: str) -> dict[str, Any]:
    """Parse and check one queue message. Raises :class:`PoisonMessage`."""
    try:
        message = json.loads(body)
    except (json.JSONDecodeError, TypeError) as exc:
        raise PoisonMessage("body is not valid JSON") from exc
    if not isinstance(message, dict):
        raise PoisonMessage("body is not a JSON object")
    missing = [f for f in REQUIRED_FIELDS if not isinstance(message.get(f), str) or not message[f]]
    if missing:
        raise PoisonMessage(f"missing or non-string fields: {', '.join(missing)}")
    try:
        amount = Decimal(message["amount"])
    except InvalidOperation as exc:
        raise PoisonMessage("amount is not a decimal number") from exc
    if not amount.is_finite() or amount <= 0:
        raise PoisonMessage("amount must be a positive number")
    return message


def apply_accounting(message: dict[str, Any]) -> None:
    """Mark the transaction as accounted (idempotent; fails if the item does not exist)."""
    client("dynamodb").update_item(
        TableName=os.environ["TABLE_NAME"],
        Key={
            "transaction_id": {"S": message["transaction_id"]},
            "timestamp": {"S": message["timestamp"]},
        },
        UpdateExpression=(
            "SET accounting_status = :accounted, "
            "accounted_at = if_not_exists(accounted_at, :now), "
            "accounted_amount = if_not_exists(accounted_amount, :amount), "
            "accounted_currency = if_not_exists(accounted_currency, :currency)"
        ),
        ConditionExpression="attribute_exists(transaction_id)",
        ExpressionAttributeValues={
            ":accounted": {"S": "accounted"},
            ":now": {"S": datetime.now(UTC).isoformat()},
            ":amount": {"N": message["amount"]},
            ":currency": {"S": message["currency"]},
        },
    )


def _process(record: dict[str, Any]) -> str | None:
    """Process one SQS record; return None on success or a short failure reason."""
    try:
        message = parse_message(record.get("body"))
    except PoisonMessage as exc:
        return f"poison: {exc}"
    try:
        apply_accounting(message)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        return "unknown transaction" if code == "ConditionalCheckFailedException" else code
    except BotoCoreError as exc:
        return type(exc).__name__
    log_event(logger, "transaction accounted", **safe_fields(message))
    return None


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Lambda entry point for SQS events; returns the partial batch failure report."""
    failures = []
    for record in event.get("Records", []):
        reason = _process(record)
        if reason is not None:
            message_id = record.get("messageId", "")
            log_event(
                logger, "record failed", logging.WARNING, message_id=message_id, reason=reason
            )
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
