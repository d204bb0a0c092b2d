"""The global data processor (seed 004) against a moto server: valid, invalid, failure, retry."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
PROCESSOR = ROOT / "stacks" / "global_data" / "functions" / "processor" / "index.py"
_MODULES: dict[str, ModuleType] = {}


def load_module(path: Path, name: str) -> ModuleType:
    """Import the function's file once under ``name`` (function folders are not packages)."""
    if name not in _MODULES:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _MODULES[name] = module
    return _MODULES[name]


TABLE = "global-data-payments-test"
BUCKET = "global-data-audit-us-east-1-test"
REGION = "us-east-1"


@dataclass
class World:
    module: ModuleType
    dynamodb: Any
    s3: Any

    def items(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]

    def payments(self) -> list[dict[str, Any]]:
        return [i for i in self.items() if i["timestamp"]["S"] != self.module.CLAIM]

    def objects(self, prefix: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return [o["Key"] for o in listed.get("Contents", [])]


@pytest.fixture
def world(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    kwargs = {"endpoint_url": moto_url, "region_name": REGION}
    dynamodb, s3, kms = (boto3.client(s, **kwargs) for s in ("dynamodb", "s3", "kms"))
    string = "S"
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "payment_id", "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": string}
            for name in ("payment_id", "timestamp", "status", "customer_id")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": attribute, "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, attribute in (("status-index", "status"), ("customer-index", "customer_id"))
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    s3.create_bucket(Bucket=BUCKET)
    key_id = kms.create_key(Description="audit")["KeyMetadata"]["Arn"]
    for name, value in {
        "TABLE_NAME": TABLE,
        "BUCKET_NAME": BUCKET,
        "AUDIT_KEY_ID": key_id,
        "CURRENCIES": "USD,EUR",
        "MAX_AMOUNT": "10000",
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    module = load_module(PROCESSOR, "lambda_fn_global_data_processor")
    module._CLIENTS.clear()
    yield World(module, dynamodb, s3)
    module._CLIENTS.clear()


class Context:
    def __init__(self, request_id: str = "req-1") -> None:
        self.aws_request_id = request_id


def post(world: World, body: Any, request_id: str = "req-1") -> tuple[int, dict[str, Any]]:
    event = {
        "httpMethod": "POST",
        "resource": "/process",
        "body": body if isinstance(body, str) else json.dumps(body),
    }
    result = world.module.handler(event, Context(request_id))
    assert result["headers"]["Content-Type"] == "application/json"
    return result["statusCode"], json.loads(result["body"])


VALID = {
    "payment_id": "pay_00000001",
    "amount": "125.50",
    "currency": "USD",
    "customer_id": "cust-42",
    "payment_method": "card",
}


def test_a_valid_payment_is_written_with_its_audit_object(world: World) -> None:
    status, body = post(world, VALID)
    assert status == 201
    assert body["status"] == "processed" and body["region"] == REGION
    (item,) = world.payments()
    assert item["payment_id"]["S"] == "pay_00000001"
    assert item["amount"]["N"] == "125.50"
    assert item["customer_id"]["S"] == "cust-42"
    assert item["status"]["S"] == "processed"
    (key,) = world.objects("payments/")
    assert key == body["audit_key"] and key.endswith("/pay_00000001.json")
    head = world.s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert json.loads(world.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())["amount"] == (
        "125.50"
    )
    assert world.objects("errors/") == []
    by_customer = world.dynamodb.query(
        TableName=TABLE,
        IndexName="customer-index",
        KeyConditionExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"S": "cust-42"}},
    )["Items"]
    assert [i["payment_id"]["S"] for i in by_customer] == ["pay_00000001"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": 0}, "amount must be greater than 0"),
        ({"amount": -5}, "amount must be greater than 0"),
        ({"amount": "ten"}, "amount must be a number"),
        ({"amount": True}, "amount must be a number"),
        ({"amount": 10001}, "amount must be at most 10000"),
        ({"amount": "1.005"}, "amount must have at most two decimal places"),
        ({"currency": "JPY"}, "currency must be one of USD, EUR"),
        ({"customer_id": "x"}, "customer_id must be 3-64 letters, digits, '-' or '_'"),
        ({"payment_method": "cash"}, "payment_method must be one of card, bank_transfer, wallet"),
        ({"payment_id": "short"}, "payment_id must be 8-64 letters, digits, '-' or '_'"),
        ({"note": "4111 1111 1111 1111"}, "the request must not carry a card number"),
    ],
)
def test_an_invalid_payment_is_refused_and_kept_under_errors(
    world: World, change: dict[str, Any], message: str
) -> None:
    status, body = post(world, {**VALID, **change})
    assert status == 400
    assert body["errors"] == [message]
    assert world.items() == []
    (key,) = world.objects("errors/")
    record = json.loads(world.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert record["status"] == 400 and record["errors"] == [message]


def test_a_body_that_is_not_json_is_refused(world: World) -> None:
    status, body = post(world, "{not json")
    assert status == 400 and body["errors"] == ["body is not JSON"]
    assert len(world.objects("errors/")) == 1


def test_a_retry_replays_the_stored_answer_without_writing_twice(world: World) -> None:
    first_status, first = post(world, VALID, "req-1")
    again_status, again = post(world, {**VALID, "amount": "125.5"}, "req-2")  # same amount
    assert (first_status, again_status) == (201, 200)
    assert again["replayed"] is True
    assert again["timestamp"] == first["timestamp"]
    assert len(world.payments()) == 1
    assert len(world.objects("payments/")) == 1


def test_a_different_payment_under_a_used_id_is_a_conflict(world: World) -> None:
    assert post(world, VALID)[0] == 201
    status, body = post(world, {**VALID, "amount": "99.00"}, "req-2")
    assert status == 409 and body["error"] == "conflict"
    assert len(world.payments()) == 1


def test_a_failed_write_is_reported_and_the_retry_succeeds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUCKET_NAME", "no-such-bucket-for-audit")
    status, body = post(world, VALID, "req-1")
    assert status == 500 and body["error"] == "processing_failed"
    claims = [i for i in world.items() if i["timestamp"]["S"] == world.module.CLAIM]
    assert claims == []  # released, so the retry can run
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    status, body = post(world, VALID, "req-2")
    assert status == 201
    assert len(world.objects("payments/")) == 1


def test_an_unavailable_table_answers_503(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    status, body = post(world, VALID)
    assert status == 503 and body["error"] == "unavailable"
    assert len(world.objects("errors/")) == 1


def test_health_reports_the_local_replica(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    result = world.module.handler({"httpMethod": "GET", "resource": "/health"}, Context())
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"status": "ok", "region": REGION}
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    result = world.module.handler({"httpMethod": "GET", "resource": "/health"}, Context())
    assert result["statusCode"] == 503


def test_other_routes_are_not_found(world: World) -> None:
    result = world.module.handler({"httpMethod": "GET", "resource": "/process"}, Context())
    assert result["statusCode"] == 404


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.one_of(st.none(), st.integers(), st.text())))
def test_validation_never_raises_and_never_accepts_garbage(payment: dict[str, Any]) -> None:
    module = load_module(PROCESSOR, "lambda_fn_global_data_processor")
    _, errors = module.validate(payment)
    assert errors  # a random mapping never has every field right
