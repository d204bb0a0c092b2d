"""validate-transaction (the web application's queue consumer) against a moto server: valid,
invalid, poison and duplicate messages, a failed write, and the amount checks as properties."""

from __future__ import annotations

import io
import json
import logging
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest
import requests
from conftest import REGION, ROOT, load_module
from hypothesis import given
from hypothesis import strategies as st

VERDICTS = "webapp-transaction-verdicts-test"
CODE = ROOT / "stacks" / "webapp" / "functions" / "validate_transaction" / "index.py"


@pytest.fixture
def verdicts(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh moto with the verdicts table; the handler's environment pointed at it."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    client = boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION)
    client.create_table(
        TableName=VERDICTS,
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("VERDICTS_TABLE", VERDICTS)
    monkeypatch.setenv("MAX_AMOUNT", "10000")
    monkeypatch.setenv("VERDICT_TTL_DAYS", "14")
    return client


@pytest.fixture
def fn(verdicts: Any) -> ModuleType:
    module = load_module(CODE, "lambda_fn_validate_transaction")
    assert boto3.client("dynamodb").meta.endpoint_url.startswith("http://127.0.0.1:")
    return module


def transaction(tid: str, **changes: Any) -> dict[str, Any]:
    body = {
        "transaction_id": tid,
        "account_id": "acct_42",
        "amount": "125.50",
        "currency": "EUR",
        "created_at": "2026-12-01T10:00:00Z",
    }
    body.update(changes)
    return body


def record(message_id: str, body: Any, receives: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": str(receives)},
        "eventSource": "aws:sqs",
    }


def verdict(client: Any, tid: str) -> dict[str, Any] | None:
    item = client.get_item(
        TableName=VERDICTS, Key={"transaction_id": {"S": tid}}, ConsistentRead=True
    ).get("Item")
    return item


def count(client: Any) -> int:
    return len(client.scan(TableName=VERDICTS, ConsistentRead=True)["Items"])


def test_a_valid_transaction_is_accepted_once(fn: ModuleType, verdicts: Any) -> None:
    result = fn.handler({"Records": [record("m-1", transaction("txn_1"))]}, None)
    assert result == {"batchItemFailures": []}
    item = verdict(verdicts, "txn_1")
    assert item is not None
    assert item["verdict"] == {"S": "accepted"}
    assert item["reasons"] == {"L": []}
    assert item["message_id"] == {"S": "m-1"}
    assert int(item["expires_at"]["N"]) > 0


def test_an_invalid_transaction_is_rejected_with_reasons_and_not_retried(
    fn: ModuleType, verdicts: Any
) -> None:
    body = transaction("txn_2", amount="-3", currency="euro")
    del body["account_id"]
    result = fn.handler({"Records": [record("m-2", body)]}, None)
    assert result == {"batchItemFailures": []}  # a verdict is final: retrying cannot change it
    item = verdict(verdicts, "txn_2")
    assert item is not None and item["verdict"] == {"S": "rejected"}
    reasons = {r["S"] for r in item["reasons"]["L"]}
    assert reasons == {
        "missing account_id",
        "amount must be > 0 and <= 10000",
        "currency must be three upper-case letters",
    }


def test_poison_messages_are_the_only_batch_failures(fn: ModuleType, verdicts: Any) -> None:
    event = {
        "Records": [
            record("ok", transaction("txn_3")),
            record("truncated", '{"transaction_id": "txn_4", '),
            record("array", [1, 2, 3]),
            record("no-id", {"amount": "1.00"}),
            record("bad-id", transaction("txn 5; DROP TABLE")),
            record("ok-2", transaction("txn_6", amount="10000.00")),
        ]
    }
    result = fn.handler(event, None)
    assert {f["itemIdentifier"] for f in result["batchItemFailures"]} == {
        "truncated",
        "array",
        "no-id",
        "bad-id",
    }
    assert count(verdicts) == 2  # nothing recorded for the unreadable ones


def test_a_duplicate_keeps_the_first_verdict(fn: ModuleType, verdicts: Any) -> None:
    first = fn.handler({"Records": [record("m-7", transaction("txn_7"))]}, None)
    # the same transaction redelivered, and sent again (with a changed body) under a new id
    again = fn.handler(
        {
            "Records": [
                record("m-7", transaction("txn_7"), receives=2),
                record("m-8", transaction("txn_7", amount="0")),
            ]
        },
        None,
    )
    assert first == again == {"batchItemFailures": []}
    item = verdict(verdicts, "txn_7")
    assert item is not None
    assert (item["verdict"], item["message_id"]) == ({"S": "accepted"}, {"S": "m-7"})
    assert count(verdicts) == 1


def test_a_failed_write_is_retried_not_lost(fn: ModuleType, verdicts: Any) -> None:
    verdicts.delete_table(TableName=VERDICTS)
    result = fn.handler({"Records": [record("m-9", transaction("txn_9"))]}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-9"}]}


def test_logs_are_json_lines_without_the_message_body(fn: ModuleType, verdicts: Any) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(fn._JsonFormatter())
    fn.LOG.addHandler(handler)
    try:
        fn.handler(
            {
                "Records": [
                    record("m-10", "not json, account 4111111111111111"),
                    record("m-11", transaction("txn_11")),
                ]
            },
            None,
        )
    finally:
        fn.LOG.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["unreadable message", "batch done"]
    assert lines[0] == {
        "level": "WARNING",
        "message": "unreadable message",
        "message_id": "m-10",
        "receives": "1",
    }
    assert lines[1]["accepted"] == 1 and lines[1]["poison"] == 1 and lines[1]["failures"] == 1
    assert "4111111111111111" not in stream.getvalue()


MAX = Decimal("10000")


@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX, places=2))
def test_every_amount_in_range_with_two_places_is_valid(amount: Decimal) -> None:
    module = load_module(CODE, "lambda_fn_validate_transaction")
    assert module.problems(transaction("t", amount=str(amount)), MAX) == []


@given(st.decimals(allow_nan=True, allow_infinity=True, places=None))
def test_amounts_out_of_range_or_too_precise_are_refused(amount: Decimal) -> None:
    module = load_module(CODE, "lambda_fn_validate_transaction")
    found = module.problems(transaction("t", amount=str(amount)), MAX)
    ok = amount.is_finite() and 0 < amount <= MAX and -amount.as_tuple().exponent <= 2
    assert (found == []) == ok
