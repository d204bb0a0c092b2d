"""notify-failures: dead-letter-queue handler that alerts on failed payment processing.

Triggered by the DLQ of the processing queue (SQS event, ``ReportBatchItemFailures``). For
each record it publishes one message to the ``payment-notifications`` SNS topic: a subject
naming the transaction and a body summarising it - transaction id, provider, amount,
currency, status, receive count, source queue. Everything is redacted; a body that is not
the expected JSON is summarised as an excerpt of at most 500 characters, with card-number
shaped digit runs masked.

The dead-letter queue also receives the on-failure descriptions of the outbox (the stream
event source of forward-transactions: ``DDBStreamBatchInfo``) and records forward-transactions
could never forward (``"source": "forward-transactions"``); those are summarised as such.

Every record is handled on its own: a body that is not JSON, or is nested too deeply to parse
safely (checked before parsing, :mod:`payments_common.bounds`), is summarised as an excerpt;
a record whose publish fails, or that fails in any unexpected way, is its own entry in
``batchItemFailures``, so SQS redelivers only those.

Environment: ``TOPIC_ARN`` (required); ``LOG_LEVEL`` (optional).
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any

from botocore.exceptions import ClientError
from payments_common import client, get_logger, log_event, redact, redact_text
from payments_common.bounds import MESSAGE_LIMITS, InputRejected, check_json_text

logger = get_logger("notify_failures")

SUMMARY_FIELDS = ("transaction_id", "timestamp", "provider", "amount", "currency", "status")
MAX_EXCERPT = 500


def _subject(text: str) -> str:
    """SNS subjects: printable ASCII, no newlines, at most 100 characters."""
    return re.sub(r"[^\x20-\x7e]", "?", text)[:100]


def summarise(record: dict[str, Any]) -> tuple[str, str]:
    """Return ``(subject, message)`` for one dead-lettered SQS record (redacted)."""
    body = record.get("body") or ""
    if not isinstance(body, str):
        body = str(body)
    try:
        check_json_text(body, MESSAGE_LIMITS)
        parsed = json.loads(body)
    except (InputRejected, ValueError, RecursionError):
        parsed = None
    lines = ["A payment message could not be processed and was moved to the dead-letter queue."]
    if isinstance(parsed, dict) and "DDBStreamBatchInfo" in parsed:
        info = (
            parsed["DDBStreamBatchInfo"] if isinstance(parsed["DDBStreamBatchInfo"], dict) else {}
        )
        lines = ["The transaction outbox (forward-transactions) gave up on a stream batch."]
        lines += [
            f"{name}: {redact_text(str(info.get(name, '?')))}"
            for name in ("shardId", "startSequenceNumber", "endSequenceNumber", "batchSize")
        ]
        transaction = "outbox stream batch"
    elif isinstance(parsed, dict) and parsed.get("source") == "forward-transactions":
        lines = ["The transaction outbox (forward-transactions) could not forward a record."]
        lines.append(f"reason: {redact_text(str(parsed.get('reason', '?')))[:MAX_EXCERPT]}")
        transaction = "outbox record"
    elif isinstance(parsed, dict):
        fields = redact({k: parsed[k] for k in SUMMARY_FIELDS if k in parsed})
        lines += [f"{key}: {value}" for key, value in fields.items()]
        transaction = str(fields.get("transaction_id", "unknown transaction"))
    else:
        lines.append(f"Unparseable message body (excerpt): {redact_text(body[:MAX_EXCERPT])}")
        transaction = "unparseable message"
    attributes = record.get("attributes", {})
    lines += [
        f"message_id: {record.get('messageId', '?')}",
        f"receive_count: {attributes.get('ApproximateReceiveCount', '?')}",
        f"dead_letter_queue: {record.get('eventSourceARN', '?')}",
    ]
    return _subject(f"Payment processing failed: {transaction}"), "\n".join(lines)


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Lambda entry point for DLQ (SQS) events; returns the partial batch failure report."""
    failures = []
    for record in (event or {}).get("Records", []):
        message_id = str(record.get("messageId", "")) if isinstance(record, dict) else ""
        try:
            subject, message = summarise(record)
            client("sns").publish(
                TopicArn=os.environ["TOPIC_ARN"], Subject=subject, Message=message
            )
        except Exception as exc:  # noqa: BLE001 - confine any failure to its own record
            code = (
                exc.response["Error"]["Code"]
                if isinstance(exc, ClientError)
                else type(exc).__name__
            )
            log_event(logger, "publish failed", logging.ERROR, message_id=message_id, error=code)
            failures.append({"itemIdentifier": message_id})
            continue
        log_event(logger, "failure notified", message_id=message_id, subject=subject)
    return {"batchItemFailures": failures}
