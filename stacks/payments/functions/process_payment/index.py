"""process-payment: API Gateway (REST, proxy integration) handler for ``POST /webhooks``.

Flow: parse the JSON body -> validate it against ``schema.json`` (which also rejects card
data) -> write the transaction to DynamoDB with a conditional put -> send it to the
processing queue -> mark the item ``queued``.

Responses: 200 accepted (``"duplicate": false``) or already seen (``"duplicate": true``);
400 invalid JSON / schema violation (field path + message, never the offending value);
413 body too large; 503 when DynamoDB or SQS fails, so that the provider retries.

Idempotency and exactly-once-ish queueing
-----------------------------------------
The idempotency key is the item key ``(transaction_id, timestamp)``: a redelivered webhook
has the same key, a later status change of the same transaction has a new timestamp and
is a new record. Each item carries ``queued`` (false when written):

1. ``PutItem`` with ``attribute_not_exists(transaction_id)`` creates the record once.
2. The message is sent, then ``queued`` is set with ``UpdateItem ... IF queued = false``.
3. A redelivery hits ``ConditionalCheckFailed``; the handler reads the item (consistent
   read). ``queued = true`` -> 200 duplicate, nothing sent. ``queued = false`` means the
   earlier attempt stored the record but failed to enqueue (and answered 5xx), so the
   message is sent now and the flag set - the "retry after a queue outage" path.

What remains is at-least-once, never at-most-once: two *concurrent* redeliveries of an
unqueued item, or a crash between ``SendMessage`` and the flag update, can send the message
twice. We accept that rather than add a lease/claim protocol, because SQS standard queues
are at-least-once anyway and process-accounting applies messages idempotently. If the
queue is FIFO (``QUEUE_URL`` ends in ``.fifo``) a deduplication id derived from the key is
sent as well, which closes that gap within SQS's 5-minute window. If the flag update fails
after a successful send we still answer 200: a 5xx would make the provider retry and send
again. A redelivery whose content differs from the stored record (same key, different
``payload_sha256``) keeps the first write and is logged as a warning.

Environment: ``TABLE_NAME``, ``QUEUE_URL`` (required); ``LOG_LEVEL`` (optional).
Logging: only ``transaction_id``, ``provider`` and ``status`` (via ``safe_fields``) and
error codes are logged; every log line goes through ``payments_common`` redaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from jsonschema import FormatChecker, ValidationError, validators
from payments_common import (
    client,
    find_card_data,
    get_logger,
    json_path,
    json_response,
    log_event,
    redact,
    safe_fields,
)

logger = get_logger("process_payment")

MAX_BODY_BYTES = 256 * 1024
# Fields with their own strict format; not scanned for card numbers (numeric ids can pass Luhn).
CARD_SCAN_SKIP = frozenset({"transaction_id", "timestamp"})
RETRY_HEADERS = {"Retry-After": "5"}


# --- validation -------------------------------------------------------------------------


def _no_card_data(validator: Any, enabled: bool, instance: Any, schema: dict) -> Any:
    if enabled:
        for path in find_card_data(instance, CARD_SCAN_SKIP):
            yield ValidationError(
                "card data is not accepted (PAN, CVV, track data); send a token instead",
                path=path,
            )


def _max_decimal_places(validator: Any, places: int, instance: Any, schema: dict) -> Any:
    if isinstance(instance, Decimal) and instance.as_tuple().exponent < -places:
        yield ValidationError(f"must have at most {places} decimal places")


_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime_with_zone(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


_SCHEMA = json.loads(Path(__file__).with_name("schema.json").read_text(encoding="utf-8"))
_Validator = validators.extend(
    validators.validator_for(_SCHEMA),
    {"noCardData": _no_card_data, "maxDecimalPlaces": _max_decimal_places},
)
_VALIDATOR = _Validator(_SCHEMA, format_checker=_FORMATS)

_MESSAGES = {
    "type": lambda e: f"must be of type {' or '.join(_as_list(e.validator_value))}",
    "exclusiveMinimum": lambda e: f"must be greater than {e.validator_value}",
    "minimum": lambda e: f"must be at least {e.validator_value}",
    "maximum": lambda e: f"must be at most {e.validator_value}",
    "minLength": lambda e: f"must be at least {e.validator_value} characters long",
    "maxLength": lambda e: f"must be at most {e.validator_value} characters long",
    "enum": lambda e: f"must be one of {', '.join(map(str, e.validator_value))}",
}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _describe(error: ValidationError) -> dict[str, str]:
    """Turn a jsonschema error into ``{field, message}`` without echoing the bad value."""
    path = list(error.absolute_path)
    if error.validator == "required":
        match = re.match(r"^'(.+)' is a required property$", error.message)
        return {
            "field": json_path([*path, match.group(1) if match else "?"]),
            "message": "is required",
        }
    if error.validator in ("noCardData", "maxDecimalPlaces"):
        message = error.message
    elif error.validator in _MESSAGES:
        message = _MESSAGES[error.validator](error)
    else:  # pattern, format, oneOf: explain with the field's description from the schema
        parent = error.parent.schema if error.parent is not None else {}
        described = error.schema.get("description") or parent.get("description")
        message = f"must be {described}" if described else f"failed the '{error.validator}' check"
    return {"field": json_path(path), "message": message}


def validation_errors(payload: Any) -> list[dict[str, str]]:
    """Return schema violations as ``[{"field": "amount", "message": ...}]`` (max 20)."""
    errors = sorted(_VALIDATOR.iter_errors(payload), key=lambda e: [str(p) for p in e.path])
    described = [_describe(error) for error in errors]
    unique = list({(d["field"], d["message"]): d for d in described}.values())
    return unique[:20]


# --- request handling -----------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def parse_body(event: dict[str, Any]) -> Any:
    """Decode the proxy event body as JSON; numbers become Decimal. Raises ValueError."""
    body = event.get("body")
    if body is None or body == "":
        raise ValueError("request body is empty")
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("request body is not valid base64-encoded UTF-8") from exc
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc


def normalise_timestamp(value: str | int | Decimal) -> str:
    """Keep ISO strings as sent; turn epoch seconds/milliseconds into ISO 8601 UTC."""
    if isinstance(value, str):
        return value
    seconds = Decimal(value) / 1000 if value > 100_000_000_000 else Decimal(value)
    moment = datetime.fromtimestamp(float(seconds), tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_message(payload: dict[str, Any]) -> dict[str, str]:
    """The queue message (and the core of the stored record); amount as an exact string."""
    return {
        "transaction_id": payload["transaction_id"],
        "timestamp": normalise_timestamp(payload["timestamp"]),
        "provider": payload["provider"],
        "amount": format(Decimal(payload["amount"]), "f"),
        "currency": payload["currency"],
        "status": payload["status"],
    }


def _canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def _sha256(payload: Any) -> str:
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def _put_new(message: dict[str, str], payload: dict[str, Any]) -> bool:
    """Write the record unless it exists. Returns False for a duplicate."""
    item = {
        "transaction_id": {"S": message["transaction_id"]},
        "timestamp": {"S": message["timestamp"]},
        "provider": {"S": message["provider"]},
        "amount": {"N": message["amount"]},
        "currency": {"S": message["currency"]},
        "status": {"S": message["status"]},
        "received_at": {"S": datetime.now(UTC).isoformat()},
        "queued": {"BOOL": False},
        "payload": {"S": _canonical(redact(payload))},
        "payload_sha256": {"S": _sha256(payload)},
    }
    try:
        client("dynamodb").put_item(
            TableName=os.environ["TABLE_NAME"],
            Item=item,
            ConditionExpression="attribute_not_exists(transaction_id)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _key(message: dict[str, str]) -> dict[str, dict[str, str]]:
    return {
        "transaction_id": {"S": message["transaction_id"]},
        "timestamp": {"S": message["timestamp"]},
    }


def _existing(message: dict[str, str]) -> dict[str, Any]:
    response = client("dynamodb").get_item(
        TableName=os.environ["TABLE_NAME"], Key=_key(message), ConsistentRead=True
    )
    return response.get("Item", {})


def _enqueue(message: dict[str, str]) -> None:
    queue_url = os.environ["QUEUE_URL"]
    extra: dict[str, str] = {}
    if queue_url.endswith(".fifo"):
        dedup = hashlib.sha256(f"{message['transaction_id']}#{message['timestamp']}".encode())
        extra = {
            "MessageGroupId": message["transaction_id"],
            "MessageDeduplicationId": dedup.hexdigest(),
        }
    client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(message), **extra)


def _mark_queued(message: dict[str, str]) -> None:
    """Set ``queued = true``; failures are logged, not raised (the message is already sent)."""
    try:
        client("dynamodb").update_item(
            TableName=os.environ["TABLE_NAME"],
            Key=_key(message),
            UpdateExpression="SET queued = :true, queued_at = :now",
            ConditionExpression="queued = :false",
            ExpressionAttributeValues={
                ":true": {"BOOL": True},
                ":false": {"BOOL": False},
                ":now": {"S": datetime.now(UTC).isoformat()},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        if code != "ConditionalCheckFailedException":
            log_event(
                logger, "could not mark queued", logging.WARNING, error=code, **safe_fields(message)
            )


def _store(message: dict[str, str], payload: dict[str, Any]) -> tuple[bool, bool]:
    """Store the record once. Returns ``(duplicate, already_queued)``."""
    if _put_new(message, payload):
        return False, False
    existing = _existing(message)
    if existing.get("payload_sha256", {}).get("S") != _sha256(payload):
        log_event(
            logger, "duplicate key, different content", logging.WARNING, **safe_fields(message)
        )
    return True, existing.get("queued", {}).get("BOOL", False)


def _unavailable(stage: str, exc: Exception, message: dict[str, str]) -> dict[str, Any]:
    code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
    log_event(logger, f"{stage} failed", logging.ERROR, error=code, **safe_fields(message))
    body = {"error": f"{stage}_unavailable", "message": "temporary failure, please retry"}
    return json_response(503, body, RETRY_HEADERS)


def _key_body(message: dict[str, str]) -> dict[str, str]:
    return {"transaction_id": message["transaction_id"], "timestamp": message["timestamp"]}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for API Gateway proxy events."""
    if len(event.get("body") or "") > MAX_BODY_BYTES:
        return json_response(413, {"error": "payload_too_large", "max_bytes": MAX_BODY_BYTES})
    try:
        payload = parse_body(event)
    except ValueError as exc:
        log_event(logger, "webhook rejected", logging.WARNING, reason="invalid_json")
        return json_response(400, {"error": "invalid_json", "message": str(exc)})

    errors = validation_errors(payload)
    if errors:
        fields = [error["field"] for error in errors]
        log_event(
            logger,
            "webhook rejected",
            logging.WARNING,
            reason="schema",
            fields=fields,
            **safe_fields(payload),
        )
        return json_response(400, {"error": "validation_failed", "details": errors})

    message = build_message(payload)
    stage = "storage"
    try:
        duplicate, queued = _store(message, payload)
        if not queued:
            stage = "queue"
            _enqueue(message)
    except (ClientError, BotoCoreError) as exc:
        return _unavailable(stage, exc, message)
    if not queued:
        _mark_queued(message)
    log_event(
        logger, "webhook accepted", duplicate=duplicate, sent=not queued, **safe_fields(message)
    )
    return json_response(200, {"status": "accepted", "duplicate": duplicate, **_key_body(message)})
