"""validate-transaction: checks the transactions the web tier queued, once each.

SQS event source with ``ReportBatchItemFailures``: the handler returns the ids of the messages
to retry, so one bad message never sends its whole batch back.

* **valid** - a JSON object with ``transaction_id`` (1-64 of ``[A-Za-z0-9_-]``), ``account_id``,
  ``amount`` (a decimal string, > 0 and <= ``MAX_AMOUNT``, at most 2 places), ``currency`` (three
  upper-case letters) and ``created_at`` (ISO 8601): verdict ``accepted``.
* **invalid** - well-formed JSON whose fields break a check: verdict ``rejected`` with the
  reasons. Retrying cannot change a verdict, so the message is done (not a batch failure).
* **poison** - not JSON, not an object, or no usable ``transaction_id``: nothing can be recorded,
  so the message is reported as a failure; after ``maxReceiveCount`` receives SQS moves it to the
  dead-letter queue.
* **duplicate** - a redelivery (or a second send) of a transaction already judged: the verdict is
  written with a conditional put (``attribute_not_exists``), so the first verdict stands and the
  duplicate is logged and acknowledged. A throttled or failed write is a batch failure, retried.

Logs are one JSON object per line (``level``, ``message``, ``transaction_id``, ...), never the
message body. Verdicts expire after ``VERDICT_TTL_DAYS`` (TTL attribute ``expires_at``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
CURRENCY = re.compile(r"[A-Z]{3}")
REQUIRED = ("transaction_id", "account_id", "amount", "currency", "created_at")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"level": record.levelname, "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, sort_keys=True, default=str)


LOG = logging.getLogger("validate_transaction")
if not LOG.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(_JsonFormatter())
    LOG.addHandler(_handler)
    LOG.propagate = False
LOG.setLevel(logging.INFO)


def log(level: int, message: str, **fields: Any) -> None:
    LOG.log(level, message, extra={"fields": fields})


def _table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["VERDICTS_TABLE"])


def problems(body: dict[str, Any], max_amount: Decimal) -> list[str]:
    """Why ``body`` is not a valid transaction (empty when it is)."""
    found = [f"missing {key}" for key in REQUIRED if key not in body]
    account = body.get("account_id")
    if "account_id" in body and not (isinstance(account, str) and ID.fullmatch(account)):
        found.append("account_id must be 1-64 letters, digits, '_' or '-'")
    if "amount" in body:
        raw = body["amount"]
        try:
            amount = Decimal(raw) if isinstance(raw, str) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            found.append("amount must be a decimal string")
        elif amount <= 0 or amount > max_amount:
            found.append(f"amount must be > 0 and <= {max_amount}")
        elif -amount.as_tuple().exponent > 2:  # type: ignore[operator]
            found.append("amount has more than 2 decimal places")
    currency = body.get("currency")
    if "currency" in body and not (isinstance(currency, str) and CURRENCY.fullmatch(currency)):
        found.append("currency must be three upper-case letters")
    created = body.get("created_at")
    if "created_at" in body:
        try:
            dt.datetime.fromisoformat(str(created).replace("Z", "+00:00"))
        except ValueError:
            found.append("created_at must be an ISO 8601 timestamp")
    return found


def _parse(record: dict[str, Any]) -> dict[str, Any] | None:
    try:
        body = json.loads(record.get("body") or "")
    except (TypeError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    tid = body.get("transaction_id")
    if not (isinstance(tid, str) and ID.fullmatch(tid)):
        return None
    return body


def handle(record: dict[str, Any], table: Any, max_amount: Decimal, ttl_days: int) -> str:
    """Judge one record; returns ``accepted``, ``rejected``, ``duplicate`` or ``poison``.

    Raises on a failed write (the record is then retried)."""
    body = _parse(record)
    if body is None:
        return "poison"
    reasons = problems(body, max_amount)
    verdict = "rejected" if reasons else "accepted"
    item = {
        "transaction_id": body["transaction_id"],
        "verdict": verdict,
        "reasons": reasons,
        "message_id": record.get("messageId", ""),
        "judged_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "expires_at": int(time.time()) + ttl_days * 86400,
    }
    try:
        table.put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(transaction_id)",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return "duplicate"
        raise
    return verdict


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = _table()
    max_amount = Decimal(os.environ.get("MAX_AMOUNT", "1000000"))
    ttl_days = int(os.environ.get("VERDICT_TTL_DAYS", "14"))
    failures: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    for record in event.get("Records", []):
        message_id = record.get("messageId", "")
        try:
            outcome = handle(record, table, max_amount, ttl_days)
        except (ClientError, BotoCoreError) as exc:
            outcome = "error"
            log(
                logging.ERROR,
                "verdict not recorded",
                message_id=message_id,
                error=type(exc).__name__,
            )
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome in ("poison", "error"):
            failures.append({"itemIdentifier": message_id})
        if outcome == "poison":
            receives = record.get("attributes", {}).get("ApproximateReceiveCount")
            log(logging.WARNING, "unreadable message", message_id=message_id, receives=receives)
        elif outcome == "duplicate":
            log(logging.INFO, "already judged", message_id=message_id)
    log(logging.INFO, "batch done", **counts, failures=len(failures))
    return {"batchItemFailures": failures}
