"""forward-transactions: the outbox relay from the transactions table's stream to the queue.

Triggered by the ``payment-transactions`` table's DynamoDB stream (``NEW_IMAGE``, filtered to
``INSERT``: one record per stored transaction, ever), with ``ReportBatchItemFailures``. For each
record, in shard order:

1. a consistent ``GetItem`` of the ``queued`` marker: already ``true`` means this record was
   forwarded by an earlier, interrupted invocation - nothing is sent again;
2. ``SendMessage`` of the *stored image* (``transaction_id``, ``timestamp``, ``provider``,
   ``amount``, ``currency``, ``status``: what was stored, never a request), with a
   ``dedup_id`` message attribute (the SHA-256 of the key; also ``MessageDeduplicationId`` and
   ``MessageGroupId`` if the queue is FIFO);
3. a conditional ``UpdateItem`` ``SET queued = true ... IF queued = false``, retried
   ``MARKER_ATTEMPTS`` times with exponential backoff from ``MARKER_BACKOFF_MS`` on throttling
   or other transient errors. If it still fails the message has been sent, so the record is
   *not* reported failed (that would send it twice); the stale marker is logged as an error.

A failed ``SendMessage`` stops the batch: that record's sequence number is the one
``batchItemFailures`` entry, and Lambda retries from it (the records after it come again with
it). A record that can never be forwarded (not an insert, or an image without the fields) is
sent to the dead-letter queue at once with the reason, so it does not hold up its shard.
After ``retry_attempts`` or ``max_record_age`` Lambda sends the batch's description to the same
dead-letter queue (the event source's on-failure destination), where notify-failures reports it.

Environment: ``TABLE_NAME``, ``QUEUE_URL``, ``DEAD_LETTER_QUEUE_URL``, ``MARKER_ATTEMPTS``,
``MARKER_BACKOFF_MS`` (required); ``LOG_LEVEL`` (optional).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from payments_common import client, get_logger, log_event, safe_fields

logger = get_logger("forward_transactions")

#: The stored attributes a queue message carries, with their DynamoDB type.
MESSAGE_FIELDS = {
    "transaction_id": "S",
    "timestamp": "S",
    "provider": "S",
    "amount": "N",
    "currency": "S",
    "status": "S",
}


class Unforwardable(ValueError):
    """The stream record can never become a message (not an insert, or fields missing)."""


def message_from_image(record: dict[str, Any]) -> dict[str, str]:
    """The queue message of one stream record: the stored image's fields, as strings."""
    if record.get("eventName") != "INSERT":
        raise Unforwardable(f"event {record.get('eventName')!r} is not an insert")
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    message: dict[str, str] = {}
    for name, kind in MESSAGE_FIELDS.items():
        value = (image.get(name) or {}).get(kind)
        if not isinstance(value, str) or not value:
            raise Unforwardable(f"the stored image has no {kind} attribute {name}")
        message[name] = value
    return message


def dedup_id(message: dict[str, str]) -> str:
    """One id per stored transaction record: the SHA-256 of its key."""
    return hashlib.sha256(
        f"{message['transaction_id']}\n{message['timestamp']}".encode()
    ).hexdigest()


def _key(message: dict[str, str]) -> dict[str, dict[str, str]]:
    return {
        "transaction_id": {"S": message["transaction_id"]},
        "timestamp": {"S": message["timestamp"]},
    }


def already_queued(message: dict[str, str]) -> bool:
    """True if the stored item's marker says it was forwarded (or the item is gone)."""
    item = (
        client("dynamodb")
        .get_item(
            TableName=os.environ["TABLE_NAME"],
            Key=_key(message),
            ConsistentRead=True,
            ProjectionExpression="queued",
        )
        .get("Item")
    )
    return item is None or item.get("queued", {}).get("BOOL") is True


def send(message: dict[str, str]) -> str:
    """Send the stored image to the processing queue; return the SQS message id."""
    queue_url = os.environ["QUEUE_URL"]
    ident = dedup_id(message)
    extra: dict[str, Any] = {}
    if queue_url.endswith(".fifo"):
        extra = {"MessageGroupId": message["transaction_id"], "MessageDeduplicationId": ident}
    response = client("sqs").send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(message, separators=(",", ":")),
        MessageAttributes={"dedup_id": {"DataType": "String", "StringValue": ident}},
        **extra,
    )
    return response["MessageId"]


def mark_queued(message: dict[str, str], message_id: str) -> bool:
    """Set the marker (``queued = true``) with retries; False if every attempt failed."""
    attempts = int(os.environ["MARKER_ATTEMPTS"])
    backoff_s = int(os.environ["MARKER_BACKOFF_MS"]) / 1000
    for attempt in range(attempts):
        try:
            client("dynamodb").update_item(
                TableName=os.environ["TABLE_NAME"],
                Key=_key(message),
                UpdateExpression="SET queued = :true, queued_at = :now, queue_message_id = :id",
                ConditionExpression="queued = :false",
                ExpressionAttributeValues={
                    ":true": {"BOOL": True},
                    ":false": {"BOOL": False},
                    ":now": {"S": datetime.now(UTC).isoformat()},
                    ":id": {"S": message_id},
                },
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return True  # marked already (or the item is gone): nothing to do
            error = exc.response["Error"]["Code"]
        except BotoCoreError as exc:
            error = type(exc).__name__
        if attempt + 1 < attempts:
            time.sleep(backoff_s * (2**attempt) * (0.5 + random.random() / 2))
    log_event(
        logger,
        "queued marker not set",
        logging.ERROR,
        error=error,
        attempts=attempts,
        **safe_fields(message),
    )
    return False


def dead_letter(record: dict[str, Any], reason: str) -> None:
    """Send an unforwardable record's description to the dead-letter queue."""
    body = {
        "source": "forward-transactions",
        "reason": reason,
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "sequence_number": (record.get("dynamodb") or {}).get("SequenceNumber"),
    }
    client("sqs").send_message(
        QueueUrl=os.environ["DEAD_LETTER_QUEUE_URL"], MessageBody=json.dumps(body)
    )


def forward(record: dict[str, Any]) -> str:
    """Forward one record; return what happened (``sent``, ``skipped``, ``dead-lettered``)."""
    try:
        message = message_from_image(record)
    except Unforwardable as exc:
        dead_letter(record, str(exc))
        log_event(logger, "record dead-lettered", logging.WARNING, reason=str(exc))
        return "dead-lettered"
    if already_queued(message):
        log_event(logger, "already forwarded", **safe_fields(message))
        return "skipped"
    message_id = send(message)
    mark_queued(message, message_id)
    log_event(logger, "transaction forwarded", **safe_fields(message))
    return "sent"


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Lambda entry point for DynamoDB stream events; returns the partial batch failure report."""
    for record in (event or {}).get("Records", []):
        sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
        try:
            forward(record)
        except Exception as exc:  # noqa: BLE001 - any failure: retry from this record
            code = (
                exc.response["Error"]["Code"]
                if isinstance(exc, ClientError)
                else type(exc).__name__
            )
            log_event(logger, "forward failed", logging.ERROR, error=code, sequence_number=sequence)
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
    return {"batchItemFailures": []}
