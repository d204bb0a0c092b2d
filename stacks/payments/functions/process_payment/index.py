"""process-payment: API Gateway (REST, proxy integration) handler for ``POST /webhooks``.

Flow, each step refusing what can never succeed with a 4xx before the next one runs:

1. **size** - a body over ``MAX_BODY_BYTES`` is 413;
2. **authenticity** - the provider's HMAC-SHA256 signature over the timestamp and the raw body,
   within the tolerance window (:mod:`payments_common.signatures`); anything wrong is 401 with
   a fixed body that echoes nothing;
3. **shape** - nesting depth, string and number lengths checked on the text before it is parsed
   (:mod:`payments_common.bounds`): 400;
4. **JSON and schema** - ``schema.json`` (patterns matched against the whole value), the signed
   provider equal to the body's ``provider`` (else 401), and no card data anywhere
   (:mod:`payments_common.card_data`): 400 naming the field path, never the value;
5. **replay** - a signed delivery is accepted once (conditional put in the replay table): 401;
6. **store** - one conditional ``PutItem`` (``attribute_not_exists``). On
   ``ConditionalCheckFailed`` a consistent ``GetItem``: the same canonical body is a duplicate
   (200, ``"duplicate": true``), a different one is a conflict (409 with the stored id, logged
   as ``webhook conflict``) and changes nothing.

The handler never sends to SQS. The stored item is the single source of truth: the table's
stream feeds ``forward-transactions``, which queues the *stored* image exactly once
(docs/payments.md). An item too large for DynamoDB is 413; only a failing DynamoDB or Secrets
Manager call is 503 with ``Retry-After`` (then the replay claim is released so the provider's
retry is accepted).

The idempotency key is ``(transaction_id, timestamp)``; the timestamp is normalised to ISO 8601
UTC (``2024-05-01T12:00:00.000Z``), so the same instant written two ways is one key, and the
stored form never holds a digit run of card-number length.

Environment: ``TABLE_NAME``, ``REPLAY_TABLE_NAME``, ``WEBHOOK_PROVIDERS`` (JSON: provider ->
signing secret name), ``SIGNATURE_TOLERANCE_S``, ``SECRET_CACHE_S``, ``MAX_BODY_BYTES``,
``MAX_DEPTH``, ``MAX_STRING_CHARS``, ``MAX_NUMBER_CHARS`` (all required; cdk.json
``payments.webhooks``); ``LOG_LEVEL`` (optional). Only ``transaction_id``, ``provider`` and
``status`` (via ``safe_fields``), field paths and error codes are logged, redacted.
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
from functools import partial
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
    redact_text,
    safe_fields,
)
from payments_common import signatures as sig
from payments_common.bounds import InputRejected, Limits, check_json_text

logger = get_logger("process_payment")

RETRY_HEADERS = {"Retry-After": "5"}
#: DynamoDB's item size limit is 400 KB; refuse (413) well before it.
MAX_ITEM_BYTES = 350 * 1024
#: The normalised timestamp is a key; its value cannot hold a PAN (see normalise_timestamp).
CARD_SCAN_SKIP = frozenset({("timestamp",)})
UNAUTHORIZED = {"error": "unauthorized", "message": "the webhook signature could not be verified"}


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


def _full_pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Any:
    """``pattern``, matched against the whole string: ``$`` would accept a trailing newline."""
    if isinstance(instance, str) and re.fullmatch(pattern, instance) is None:
        yield ValidationError("does not match the pattern")


_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime_with_zone(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9:.,]+([Zz]|[+-][0-9:]+)", value):
        return False
    moment = datetime.fromisoformat(value)
    try:
        moment.astimezone(UTC)  # 0001-01-01T00:00:00+01:00 has no UTC time
    except OverflowError as exc:
        raise ValueError("out of range") from exc
    return moment.tzinfo is not None


_SCHEMA = json.loads(Path(__file__).with_name("schema.json").read_text(encoding="utf-8"))
_Validator = validators.extend(
    validators.validator_for(_SCHEMA),
    {
        "noCardData": _no_card_data,
        "maxDecimalPlaces": _max_decimal_places,
        "pattern": _full_pattern,
    },
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
        match = re.fullmatch(r"'(.+)' is a required property", error.message)
        return {
            "field": redact_text(json_path([*path, match.group(1) if match else "?"])),
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
    return {"field": redact_text(json_path(path)), "message": message}


def validation_errors(payload: Any) -> list[dict[str, str]]:
    """Return schema violations as ``[{"field": "amount", "message": ...}]`` (max 20)."""
    errors = sorted(_VALIDATOR.iter_errors(payload), key=lambda e: [str(p) for p in e.path])
    described = [_describe(error) for error in errors]
    unique = list({(d["field"], d["message"]): d for d in described}.values())
    return unique[:20]


# --- request handling -----------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def raw_body(event: dict[str, Any]) -> bytes:
    """The body as the provider sent it (bytes: what the signature covers). Raises ValueError."""
    body = event.get("body")
    if body is None or body == "":
        raise ValueError("request body is empty")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise ValueError("request body is not valid base64") from exc
    return body.encode("utf-8", "surrogatepass")


def parse_text(text: str) -> Any:
    """Parse JSON text; numbers become Decimal (ints stay int). Raises ValueError."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc


def normalise_timestamp(value: str | int | Decimal) -> str:
    """ISO 8601 in UTC with milliseconds (microseconds when they are not whole milliseconds).

    Epoch values above 10^11 are milliseconds, others seconds. The result has at most 8 digits
    before the ``T`` and 12 after it, so it never holds a card-number length digit run.
    """
    if isinstance(value, str):
        moment = datetime.fromisoformat(value).astimezone(UTC)
    else:
        number = Decimal(value)
        seconds = number / 1000 if number > 100_000_000_000 else number
        moment = datetime.fromtimestamp(float(seconds), tz=UTC)
    spec = "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def canonical_number(value: int | Decimal) -> str:
    """One spelling per number: ``19.990``, ``1.999E+1`` and ``19.99`` are all ``19.99``."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def canonical_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as stored and compared: normalised timestamp, numbers in one spelling."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            # one spelling per value; plain digits unless the exponent is extreme (1e999999)
            number = Decimal(value).normalize()
            exponent = number.as_tuple().exponent
            if isinstance(exponent, int) and -40 <= exponent <= 40:
                return Decimal(canonical_number(number))
            return number
        return value

    normalised = walk(payload)
    normalised["timestamp"] = normalise_timestamp(payload["timestamp"])
    return normalised


def canonical_text(payload: Any) -> str:
    """Compact, key-sorted JSON (UTF-8 characters kept, Decimals as their digits)."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def fingerprint(payload: dict[str, Any]) -> str:
    """The SHA-256 of the canonical payload: equal for bodies that mean the same thing."""
    return hashlib.sha256(canonical_text(canonical_payload(payload)).encode()).hexdigest()


def build_item(payload: dict[str, Any], received_at: str) -> dict[str, dict[str, Any]]:
    """The DynamoDB item of a valid webhook (the single source of truth)."""
    canonical = canonical_payload(payload)
    return {
        "transaction_id": {"S": payload["transaction_id"]},
        "timestamp": {"S": canonical["timestamp"]},
        "provider": {"S": payload["provider"]},
        "amount": {"N": canonical_number(payload["amount"])},
        "currency": {"S": payload["currency"]},
        "status": {"S": payload["status"]},
        "received_at": {"S": received_at},
        "queued": {"BOOL": False},
        "payload": {"S": canonical_text(redact(canonical))},
        "payload_sha256": {"S": fingerprint(payload)},
    }


def item_bytes(item: dict[str, dict[str, Any]]) -> int:
    """DynamoDB's size of an item: attribute names plus values, in UTF-8 bytes."""
    size = 0
    for name, attribute in item.items():
        ((_, value),) = attribute.items()
        size += len(name.encode()) + len(str(value).encode("utf-8", "surrogatepass"))
    return size


def _key(item: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {"transaction_id": item["transaction_id"], "timestamp": item["timestamp"]}


def store(table: str, item: dict[str, dict[str, Any]]) -> str:
    """Store the item once; return ``"accepted"``, ``"duplicate"`` or ``"conflict"``.

    A conflict leaves the stored item unchanged. Raises ClientError/BotoCoreError when
    DynamoDB fails (not for the condition)."""
    dynamodb = client("dynamodb")
    try:
        dynamodb.put_item(
            TableName=table, Item=item, ConditionExpression="attribute_not_exists(transaction_id)"
        )
        return "accepted"
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    stored = dynamodb.get_item(
        TableName=table,
        Key=_key(item),
        ConsistentRead=True,
        ProjectionExpression="payload_sha256",
    ).get("Item", {})
    same = stored.get("payload_sha256", {}).get("S") == item["payload_sha256"]["S"]
    return "duplicate" if same else "conflict"


def _settings() -> dict[str, Any]:
    env = os.environ
    return {
        "table": env["TABLE_NAME"],
        "replay_table": env["REPLAY_TABLE_NAME"],
        "providers": json.loads(env["WEBHOOK_PROVIDERS"]),
        "tolerance_s": int(env["SIGNATURE_TOLERANCE_S"]),
        "cache_s": int(env["SECRET_CACHE_S"]),
        "limits": Limits(
            max_bytes=int(env["MAX_BODY_BYTES"]),
            max_depth=int(env["MAX_DEPTH"]),
            max_string_chars=int(env["MAX_STRING_CHARS"]),
            max_number_chars=int(env["MAX_NUMBER_CHARS"]),
        ),
    }


def _error_code(exc: Exception) -> str:
    return exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__


def _unavailable(stage: str, exc: Exception, fields: dict[str, str]) -> dict[str, Any]:
    log_event(logger, f"{stage} failed", logging.ERROR, error=_error_code(exc), **fields)
    body = {"error": f"{stage}_unavailable", "message": "temporary failure, please retry"}
    return json_response(503, body, RETRY_HEADERS)


def _rejected(
    http_status: int, reason: str, body: dict[str, Any], /, **fields: Any
) -> dict[str, Any]:
    log_event(logger, "webhook rejected", logging.WARNING, reason=reason, **fields)
    return json_response(http_status, body)


def _unauthorized(reason: str) -> dict[str, Any]:
    return _rejected(401, "signature", UNAUTHORIZED, detail=reason)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for API Gateway proxy events."""
    conf = _settings()
    limits: Limits = conf["limits"]
    event = event if isinstance(event, dict) else {}
    encoded = event.get("body") or ""
    if not isinstance(encoded, str) or len(encoded) > limits.max_bytes * 4 // 3 + 4:
        return _rejected(
            413, "too_large", {"error": "payload_too_large", "max_bytes": limits.max_bytes}
        )
    try:
        body = raw_body(event)
    except ValueError as exc:
        return _rejected(400, "invalid_body", {"error": "invalid_json", "message": str(exc)})
    if len(body) > limits.max_bytes:
        return _rejected(
            413, "too_large", {"error": "payload_too_large", "max_bytes": limits.max_bytes}
        )

    headers = sig.lower_headers(event.get("headers"))
    try:
        provider, timestamp, digest = sig.verify(
            headers,
            body,
            providers=conf["providers"],
            secret=partial(sig.secret_for, cache_s=conf["cache_s"]),
            tolerance_s=conf["tolerance_s"],
        )
    except sig.Unauthorized as exc:
        return _unauthorized(exc.reason)
    except (ClientError, BotoCoreError) as exc:
        return _unavailable("secret", exc, {"provider": headers.get(sig.PROVIDER_HEADER, "")})

    try:
        text = body.decode("utf-8")
        check_json_text(text, limits)
        payload = parse_text(text)
    except InputRejected as exc:
        body_out = {"error": exc.error, "message": str(exc)}
        if exc.status == 413:
            body_out["max_bytes"] = limits.max_bytes
        return _rejected(exc.status, exc.error, body_out)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        message = "body is not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
        return _rejected(400, "invalid_json", {"error": "invalid_json", "message": message})

    errors = validation_errors(payload)
    if errors:
        fields = [error["field"] for error in errors]
        return _rejected(
            400,
            "schema",
            {"error": "validation_failed", "details": errors},
            fields=fields,
            **safe_fields(payload),
        )
    if payload["provider"] != provider:
        return _unauthorized("body provider differs from the signed provider")

    item = build_item(payload, datetime.now(UTC).isoformat())
    key_body = {"transaction_id": item["transaction_id"]["S"], "timestamp": item["timestamp"]["S"]}
    if item_bytes(item) > MAX_ITEM_BYTES:
        return _rejected(
            413,
            "item_too_large",
            {"error": "payload_too_large", "message": "the stored item would be too large"},
            **safe_fields(payload),
        )

    replay_key = sig.replay_id(provider, timestamp, digest)
    try:
        fresh = sig.claim(conf["replay_table"], replay_key, timestamp + conf["tolerance_s"])
    except (ClientError, BotoCoreError) as exc:
        return _unavailable("storage", exc, safe_fields(payload))
    if not fresh:
        return _unauthorized("replayed delivery")

    try:
        outcome = store(conf["table"], item)
    except (ClientError, BotoCoreError) as exc:
        sig.release(conf["replay_table"], replay_key)
        return _unavailable("storage", exc, safe_fields(payload))

    if outcome == "conflict":
        log_event(logger, "webhook conflict", logging.WARNING, **safe_fields(payload))
        return json_response(
            409,
            {
                "error": "conflict",
                "message": "a different webhook with this transaction id and timestamp was "
                "already accepted; the stored one is kept",
                **key_body,
            },
        )
    duplicate = outcome == "duplicate"
    log_event(logger, "webhook accepted", duplicate=duplicate, **safe_fields(payload))
    return json_response(200, {"status": "accepted", "duplicate": duplicate, **key_body})
