"""process-accounting: SQS-triggered handler that books each stored transaction exactly once.

Each message (sent by forward-transactions from the stored item) names a transaction by
``transaction_id`` and ``timestamp`` and repeats its ``amount`` and ``currency``. The booking is
one conditional ``UpdateItem`` that copies the *stored* amount and currency
(``SET accounted_amount = amount``) and sets ``accounting_status = "accounted"`` and
``accounted_at``, on condition that the item exists, is not accounted yet, and that the message's
amount and currency are the stored ones. So a redelivered message books nothing twice, and a
message that disagrees with the table books nothing at all.

On ``ConditionalCheckFailed`` a consistent read tells the cases apart: already accounted with
this amount is success (idempotent redelivery); an unknown transaction, or a message whose amount
or currency is not the stored one, is a failure (logged as a conflict), retried and then
dead-lettered.

Every record is handled on its own: a message that can never be processed (bad or too deeply
nested JSON, missing or malformed fields) is its own ``batchItemFailures`` entry, and any
unexpected error is confined to its record; the rest of the batch is processed.

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
from payments_common.bounds import MESSAGE_LIMITS, InputRejected, check_json_text

logger = get_logger("process_accounting")

REQUIRED_FIELDS = ("transaction_id", "timestamp", "amount", "currency")


class PoisonMessage(ValueError):
    """The message can never be processed (bad JSON or missing/malformed fields)."""


def parse_message(body: Any) -> dict[str, Any]:
    """Parse and check one queue message. Raises :class:`PoisonMessage`."""
    if not isinstance(body, str):
        raise PoisonMessage("body is not a string")
    try:
        check_json_text(body, MESSAGE_LIMITS)
        message = json.loads(body)
    except InputRejected as exc:
        raise PoisonMessage(str(exc)) from exc
    except (ValueError, RecursionError) as exc:
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


def _key(message: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        "transaction_id": {"S": message["transaction_id"]},
        "timestamp": {"S": message["timestamp"]},
    }


def apply_accounting(message: dict[str, Any]) -> str:
    """Book the transaction once; return ``"accounted"`` or ``"already accounted"``.

    Raises :class:`PoisonMessage` for an unknown transaction or one whose stored amount or
    currency differs from the message's, and ClientError/BotoCoreError when DynamoDB fails."""
    dynamodb = client("dynamodb")
    table = os.environ["TABLE_NAME"]
    try:
        dynamodb.update_item(
            TableName=table,
            Key=_key(message),
            UpdateExpression=(
                "SET accounting_status = :accounted, accounted_at = :now, "
                "accounted_amount = amount, accounted_currency = currency"
            ),
            ConditionExpression=(
                "attribute_exists(transaction_id) AND attribute_not_exists(accounted_at) "
                "AND amount = :amount AND currency = :currency"
            ),
            ExpressionAttributeValues={
                ":accounted": {"S": "accounted"},
                ":now": {"S": datetime.now(UTC).isoformat()},
                ":amount": {"N": message["amount"]},
                ":currency": {"S": message["currency"]},
            },
        )
        return "accounted"
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    stored = dynamodb.get_item(TableName=table, Key=_key(message), ConsistentRead=True).get("Item")
    if stored is None:
        raise PoisonMessage("unknown transaction")
    same = Decimal(stored["amount"]["N"]) == Decimal(message["amount"]) and (
        stored["currency"]["S"] == message["currency"]
    )
    if not same:
        log_event(logger, "accounting conflict", logging.WARNING, **safe_fields(message))
        raise PoisonMessage("the message's amount or currency is not the stored one")
    if "accounted_at" in stored:
        return "already accounted"
    raise PoisonMessage("the condition failed for an unknown reason")


def _process(record: dict[str, Any]) -> str | None:
    """Process one SQS record; return None on success or a short failure reason."""
    try:
        message = parse_message(record.get("body"))
        outcome = apply_accounting(message)
    except PoisonMessage as exc:
        return f"poison: {exc}"
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    except BotoCoreError as exc:
        return type(exc).__name__
    log_event(logger, f"transaction {outcome}", **safe_fields(message))
    return None


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Lambda entry point for SQS events; returns the partial batch failure report."""
    failures = []
    for record in (event or {}).get("Records", []):
        message_id = str(record.get("messageId", "")) if isinstance(record, dict) else ""
        try:
            reason = _process(record)
        except Exception as exc:  # noqa: BLE001 - confine anything unexpected to its record
            reason = f"unexpected: {type(exc).__name__}"
        if reason is not None:
            log_event(
                logger, "record failed", logging.WARNING, message_id=message_id, reason=reason
            )
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
