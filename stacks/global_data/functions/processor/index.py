"""The payment processor of one region: ``POST /process`` and ``GET /health`` (proxy integration).

``POST /process`` validates the payment (amount, currency, customer id, payment method, the
caller's ``payment_id``), writes it to the region's replica of the global table and an audit
object under ``payments/`` (SSE-KMS with the audit key), and answers JSON: 201 created, 200 for a
retry of a payment already processed (the stored answer, ``"replayed": true``), 400 invalid,
409 a different payment under a used ``payment_id`` (or one still in progress), 500/503 failure.
Every rejection and failure is written under ``errors/``.

Idempotency: the first request of a ``payment_id`` takes a claim item (sort key ``#claim``) with a
conditional put, so a retry - Lambda's, API Gateway's or the caller's - never writes the payment
twice in this region; a failed attempt releases its claim so the retry can run. Global tables
resolve concurrent writes in two regions by last writer wins, so a payment submitted to both
regions at the same instant is guarded per region only (docs/global-data.md).

``GET /health`` describes the local replica: 200 when it is ``ACTIVE``, 503 otherwise; the
Route 53 health check reads it without an API key.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

CLAIM = "#claim"
PAYMENT_METHODS = ("card", "bank_transfer", "wallet")
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
CUSTOMER_PATTERN = re.compile(r"[A-Za-z0-9_-]{3,64}")
#: 13-19 digits, possibly spaced: a card number never belongs in a request to this API.
PAN_PATTERN = re.compile(r"(?:\d[ -]?){13,19}")
_CLIENTS: dict[str, Any] = {}


def client(service: str) -> Any:
    """One boto3 client per service (endpoint and region from the environment)."""
    if service not in _CLIENTS:
        _CLIENTS[service] = boto3.client(
            service, config=Config(retries={"max_attempts": 3, "mode": "standard"})
        )
    return _CLIENTS[service]


def response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, default=str),
    }


def currencies() -> tuple[str, ...]:
    return tuple(c for c in os.environ.get("CURRENCIES", "USD").split(",") if c)


def validate(payment: Any) -> tuple[dict[str, Any], list[str]]:
    """The normalised payment and the list of what is wrong with it (empty when valid)."""
    if not isinstance(payment, dict):
        return {}, ["body must be a JSON object"]
    errors: list[str] = []
    clean: dict[str, Any] = {}
    payment_id = payment.get("payment_id")
    if not isinstance(payment_id, str) or not ID_PATTERN.fullmatch(payment_id):
        errors.append("payment_id must be 8-64 letters, digits, '-' or '_'")
    clean["payment_id"] = payment_id
    amount = payment.get("amount")
    try:
        if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
            raise InvalidOperation
        value = Decimal(str(amount))
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors.append("amount must be a number")
    else:
        maximum = Decimal(os.environ.get("MAX_AMOUNT", "1000000"))
        if value <= 0:
            errors.append("amount must be greater than 0")
        elif value > maximum:
            errors.append(f"amount must be at most {maximum}")
        elif value.as_tuple().exponent < -2:  # type: ignore[operator]
            errors.append("amount must have at most two decimal places")
        clean["amount"] = value
    currency = payment.get("currency")
    if currency not in currencies():
        errors.append(f"currency must be one of {', '.join(currencies())}")
    clean["currency"] = currency
    customer = payment.get("customer_id")
    if not isinstance(customer, str) or not CUSTOMER_PATTERN.fullmatch(customer):
        errors.append("customer_id must be 3-64 letters, digits, '-' or '_'")
    clean["customer_id"] = customer
    method = payment.get("payment_method")
    if method not in PAYMENT_METHODS:
        errors.append(f"payment_method must be one of {', '.join(PAYMENT_METHODS)}")
    clean["payment_method"] = method
    if any(isinstance(v, str) and PAN_PATTERN.search(v) for v in payment.values()):
        errors.append("the request must not carry a card number")
    return clean, errors


def fingerprint(payment: dict[str, Any]) -> str:
    """What makes two requests the same payment (amount normalised: 10 == 10.00)."""
    canonical = {**payment, "amount": str(Decimal(payment["amount"]).normalize())}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def put_audit(prefix: str, name: str, record: dict[str, Any]) -> str:
    """Write ``record`` as ``<prefix>/<yyyy>/<mm>/<dd>/<name>.json``, SSE-KMS with the audit key."""
    day = now().strftime("%Y/%m/%d")
    key = f"{prefix}/{day}/{name}.json"
    client("s3").put_object(
        Bucket=os.environ["BUCKET_NAME"],
        Key=key,
        Body=json.dumps(record, default=str).encode(),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=os.environ["AUDIT_KEY_ID"],
    )
    return key


def record_error(request_id: str, status: int, errors: list[str], body: Any) -> None:
    """Keep a rejected or failed request under ``errors/`` (never fails the response)."""
    record = {
        "request_id": request_id,
        "region": os.environ.get("AWS_REGION"),
        "status": status,
        "errors": errors,
        "received_at": now().isoformat(),
        "request": body if isinstance(body, dict) else None,
    }
    try:
        put_audit("errors", request_id, record)
    except (ClientError, BotoCoreError):
        LOG.exception("could not write the error record of %s", request_id)


def health() -> dict[str, Any]:
    region = os.environ.get("AWS_REGION")
    try:
        table = client("dynamodb").describe_table(TableName=os.environ["TABLE_NAME"])["Table"]
    except (ClientError, BotoCoreError) as exc:
        LOG.warning("health: table not readable: %s", exc)
        return response(503, {"status": "unhealthy", "region": region})
    status = table.get("TableStatus")
    if status != "ACTIVE":
        return response(503, {"status": "unhealthy", "region": region, "table": status})
    return response(200, {"status": "ok", "region": region})


def _claim(payment: dict[str, Any], digest: str, request_id: str) -> dict[str, Any] | None:
    """Take the claim on ``payment_id``; the answer to return instead when it is taken."""
    table = os.environ["TABLE_NAME"]
    ddb = client("dynamodb")
    try:
        ddb.put_item(
            TableName=table,
            Item={
                "payment_id": {"S": payment["payment_id"]},
                "timestamp": {"S": CLAIM},
                "fingerprint": {"S": digest},
                "state": {"S": "in_progress"},
                "request_id": {"S": request_id},
            },
            ConditionExpression="attribute_not_exists(payment_id)",
        )
        return None
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    claim = ddb.get_item(
        TableName=table,
        Key={"payment_id": {"S": payment["payment_id"]}, "timestamp": {"S": CLAIM}},
        ConsistentRead=True,
    ).get("Item", {})
    if claim.get("fingerprint", {}).get("S") != digest:
        return response(
            409, {"error": "conflict", "message": "payment_id is used by another payment"}
        )
    if claim.get("state", {}).get("S") != "completed":
        return response(409, {"error": "in_progress", "message": "retry in a few seconds"})
    stored = json.loads(claim["answer"]["S"])
    return response(200, {**stored, "replayed": True})


def process(event: dict[str, Any], request_id: str) -> dict[str, Any]:
    try:
        body = json.loads(event.get("body") or "")
    except (TypeError, ValueError):
        record_error(request_id, 400, ["body is not JSON"], None)
        return response(400, {"error": "invalid_request", "errors": ["body is not JSON"]})
    payment, errors = validate(body)
    if errors:
        record_error(request_id, 400, errors, body)
        return response(400, {"error": "invalid_request", "errors": errors})
    digest = fingerprint(payment)
    table = os.environ["TABLE_NAME"]
    ddb = client("dynamodb")
    try:
        taken = _claim(payment, digest, request_id)
    except (ClientError, BotoCoreError) as exc:
        LOG.exception("claim failed")
        record_error(request_id, 503, [f"table unavailable: {type(exc).__name__}"], body)
        return response(503, {"error": "unavailable", "message": "retry later"})
    if taken is not None:
        return taken
    stamp = now().isoformat()
    region = os.environ.get("AWS_REGION", "")
    answer = {
        "payment_id": payment["payment_id"],
        "timestamp": stamp,
        "status": "processed",
        "region": region,
    }
    try:
        ddb.put_item(
            TableName=table,
            Item={
                "payment_id": {"S": payment["payment_id"]},
                "timestamp": {"S": stamp},
                "amount": {"N": str(payment["amount"])},
                "currency": {"S": payment["currency"]},
                "customer_id": {"S": payment["customer_id"]},
                "payment_method": {"S": payment["payment_method"]},
                "status": {"S": "processed"},
                "region": {"S": region},
                "request_id": {"S": request_id},
            },
        )
        audit_key = put_audit(
            "payments",
            payment["payment_id"],
            {**payment, "timestamp": stamp, "region": region, "request_id": request_id},
        )
        ddb.update_item(
            TableName=table,
            Key={"payment_id": {"S": payment["payment_id"]}, "timestamp": {"S": CLAIM}},
            UpdateExpression="SET #s = :done, answer = :answer",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":done": {"S": "completed"},
                ":answer": {"S": json.dumps({**answer, "audit_key": audit_key})},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        LOG.exception("processing %s failed", payment["payment_id"])
        _release(payment["payment_id"])
        record_error(request_id, 500, [f"processing failed: {type(exc).__name__}"], body)
        return response(500, {"error": "processing_failed", "message": "retry later"})
    return response(201, {**answer, "audit_key": audit_key})


def _release(payment_id: str) -> None:
    """Give the claim back after a failure, so that the caller's retry processes the payment."""
    try:
        client("dynamodb").delete_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"payment_id": {"S": payment_id}, "timestamp": {"S": CLAIM}},
            ConditionExpression="#s = :busy",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":busy": {"S": "in_progress"}},
        )
    except (ClientError, BotoCoreError):
        LOG.exception("could not release the claim of %s", payment_id)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy event -> proxy response."""
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    method = event.get("httpMethod")
    path = event.get("resource") or event.get("path")
    if method == "GET" and path == "/health":
        return health()
    if method == "POST" and path == "/process":
        return process(event, request_id)
    return response(404, {"error": "not_found"})
