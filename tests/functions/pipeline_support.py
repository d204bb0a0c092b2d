"""Helpers for the payment-pipeline tests: signed webhook events, and the outbox driven by hand.

``signed_event`` builds the API Gateway proxy event a provider's signed delivery becomes.
``StreamReader`` reads the transactions table's stream from moto (every shard, from
``TRIM_HORIZON`` once, then on from each shard's ``NextShardIterator``, so a poll costs what it
returns, not the stream's length), and ``drain_outbox`` hands those records to
forward-transactions in batches as Lambda's event source mapping would, retrying from a reported
failure. This is a plain module (not a conftest), imported by the tests and by
``bench/bench_webhooks.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
from payments_common.signatures import sign

SECRETS = {"stripe": b"whsec-stripe-test-secret", "adyen": b"whsec-adyen-test-secret"}
#: Each delivery is signed at its own second (a provider re-signs every attempt); identical
#: signed requests are replays and refused. 250 distinct seconds stay inside a 300 s window.
_WINDOW_S = 250
_last_stamp: list[int] = []
_stamp_lock = threading.Lock()


def fresh_stamp() -> int:
    """A signing second one before the last one given, or now after 250 of them.

    Consecutive stamps always differ, however the clock moves between calls (counting seconds
    back from a clock that ticks in between could give the same second twice)."""
    now = int(time.time())
    with _stamp_lock:
        stamp = _last_stamp[0] - 1 if _last_stamp else now
        if not now - _WINDOW_S < stamp <= now:
            stamp = now
        _last_stamp[:] = [stamp]
    return stamp


def webhook(**overrides: Any) -> dict[str, Any]:
    """A valid webhook payload (overrides replace or add fields)."""
    payload = {
        "transaction_id": "txn_0001",
        "provider": "stripe",
        "amount": 19.99,
        "currency": "USD",
        "status": "succeeded",
        "timestamp": "2024-05-01T12:00:00Z",
        "metadata": {"order_id": "A-17"},
    }
    payload.update(overrides)
    return payload


def signed_event(
    body: Any,
    *,
    raw: bool = False,
    provider: str = "stripe",
    timestamp: int | None = None,
    secret: bytes | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The proxy event of a delivery signed by ``provider`` (or as overridden).

    Without ``timestamp`` each call signs at a different second of the last 250."""
    text = body if raw else json.dumps(body, ensure_ascii=False)
    stamp = fresh_stamp() if timestamp is None else timestamp
    key = SECRETS.get(provider, b"unknown") if secret is None else secret
    value = (
        sign(key, stamp, text.encode("utf-8", "surrogatepass")) if signature is None else signature
    )
    base = {
        "Content-Type": "application/json",
        "X-Webhook-Provider": provider,
        "X-Webhook-Timestamp": str(stamp),
        "X-Webhook-Signature": value,
    }
    return {
        "resource": "/webhooks",
        "path": "/webhooks",
        "httpMethod": "POST",
        "headers": {**base, **(headers or {})},
        "requestContext": {"requestId": "req-1", "stage": "test"},
        "body": text,
        "isBase64Encoded": False,
    }


def call(module: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Invoke a handler; return the status code and the decoded body."""
    response = module.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


class StreamReader:
    """Reads a table's stream from moto, remembering where each shard was left."""

    def __init__(self, url: str, stream_arn: str, region: str = "us-east-1") -> None:
        self.client = boto3.client("dynamodbstreams", endpoint_url=url, region_name=region)
        self.stream_arn = stream_arn
        self.iterators: dict[str, str] = {}

    def read(self, max_records: int | None = None) -> list[dict[str, Any]]:
        """The records written since the last read, in shard order: all of them, or about
        ``max_records`` (whole pages of at most 1,000; the rest stays for the next read)."""
        description = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        records: list[dict[str, Any]] = []
        limit = 1000 if max_records is None else max(1, min(1000, max_records))
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            iterator = (
                self.iterators.get(shard_id)
                or self.client.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while iterator:
                page = self.client.get_records(ShardIterator=iterator, Limit=limit)
                records.extend(page["Records"])
                iterator = page.get("NextShardIterator")
                self.iterators[shard_id] = iterator
                if not page["Records"] or (max_records is not None and len(records) >= max_records):
                    break
        return records


def inserts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The event source mapping's filter: ``{"eventName": ["INSERT"]}``."""
    return [r for r in records if r.get("eventName") == "INSERT"]


def drain_outbox(
    forwarder: Any,
    records: list[dict[str, Any]],
    *,
    batch_size: int = 100,
    max_attempts: int = 20,
    between: Callable[[], None] | None = None,
) -> int:
    """Hand ``records`` to forward-transactions as Lambda would; return the invocations made.

    A reported failure makes the next invocation start at the failed record (what
    ``ReportBatchItemFailures`` does on a stream); after ``max_attempts`` for one batch the
    records are given up (Lambda's on-failure destination), which the tests treat as an error.
    """
    position, invocations = 0, 0
    attempts = 0
    while position < len(records):
        batch = records[position : position + batch_size]
        result = forwarder.handler({"Records": batch}, None)
        invocations += 1
        failures = result["batchItemFailures"]
        if not failures:
            position += len(batch)
            attempts = 0
            continue
        failed = failures[0]["itemIdentifier"]
        index = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] == failed)
        position += index
        attempts += 1
        if attempts >= max_attempts:
            raise AssertionError(f"the outbox gave up on record {failed}")
        if between:
            between()
    return invocations


def sqs_records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SQS messages received with boto3 as the records of a Lambda SQS event."""
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {"ApproximateReceiveCount": "1"},
            "eventSource": "aws:sqs",
        }
        for m in messages
    ]


def create_pipeline_tables(dynamodb: Any, table: str, replays: str) -> str:
    """Create the transactions table (with its NEW_IMAGE stream) and the replay-claims table as
    the Payments stack declares them; returns the stream's ARN."""
    dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "transaction_id", "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "transaction_id", "AttributeType": "S"},
            {"AttributeName": "timestamp", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    dynamodb.create_table(
        TableName=replays,
        KeySchema=[{"AttributeName": "signature_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "signature_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def create_signing_secrets(secretsmanager: Any, secrets: dict[str, bytes], suffix: str) -> dict:
    """One signing secret per provider, named as the stack names them; returns name by provider."""
    names = {}
    for provider, value in secrets.items():
        names[provider] = f"payments-webhook-signing-{provider}-{suffix}"
        secretsmanager.create_secret(Name=names[provider], SecretString=value.decode())
    return names
