"""GET /payments/{id} against moto: latest record, public fields only, 400/404/503."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, TABLE, Aws, load_module


@pytest.fixture
def status(aws: Aws) -> ModuleType:
    return load_module(
        ROOT / "stacks" / "payments" / "functions" / "payment_status" / "index.py", "fn_status"
    )


def _put(aws: Aws, transaction_id: str, timestamp: str, status: str) -> None:
    aws.dynamodb.put_item(
        TableName=TABLE,
        Item={
            "transaction_id": {"S": transaction_id},
            "timestamp": {"S": timestamp},
            "provider": {"S": "stripe"},
            "amount": {"N": "12.50"},
            "currency": {"S": "EUR"},
            "status": {"S": status},
            "payload": {"S": '{"card_number": "[REDACTED]"}'},
            "payload_sha256": {"S": "ab" * 32},
        },
    )


def _get(module: ModuleType, transaction_id: Any) -> tuple[int, dict[str, Any]]:
    response = module.handler({"pathParameters": {"id": transaction_id}}, None)
    return response["statusCode"], json.loads(response["body"])


def test_returns_the_latest_record_without_the_payload(aws: Aws, status: ModuleType) -> None:
    _put(aws, "tx-1", "2024-05-01T12:00:00.000Z", "pending")
    _put(aws, "tx-1", "2024-05-01T12:00:05.000Z", "succeeded")
    _put(aws, "tx-2", "2024-05-01T13:00:00.000Z", "failed")
    code, body = _get(status, "tx-1")
    assert code == 200
    assert body == {
        "transaction_id": "tx-1",
        "timestamp": "2024-05-01T12:00:05.000Z",
        "provider": "stripe",
        "amount": "12.50",
        "currency": "EUR",
        "status": "succeeded",
    }


def test_unknown_id_is_404(aws: Aws, status: ModuleType) -> None:
    assert _get(status, "tx-unknown") == (
        404,
        {"error": "not_found", "transaction_id": "tx-unknown"},
    )


@pytest.mark.parametrize(
    "bad", ["", "-starts-with-dash", "a" * 129, "spaces are bad", None, "t1\n", "t1\r\n"]
)
def test_malformed_id_is_400_before_dynamodb(
    aws: Aws, status: ModuleType, bad: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")  # a DynamoDB call would fail with 503
    code, body = _get(status, bad)
    assert code == 400
    assert body["error"] == "invalid_transaction_id"


def test_storage_failure_is_503(
    aws: Aws, status: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    assert _get(status, "tx-1") == (503, {"error": "unavailable", "message": "try again later"})


def test_the_id_pattern_is_the_webhook_schemas(status: ModuleType) -> None:
    """One pattern for the id everywhere; matched whole (``$`` would let ``t1\\n`` through)."""
    import json
    from pathlib import Path

    schema = Path(status.__file__).parents[1] / "process_payment" / "schema.json"
    pattern = json.loads(schema.read_text())["properties"]["transaction_id"]["pattern"]
    assert status.TRANSACTION_ID.pattern == pattern
