"""process-accounting handler against moto: partial batch failures and idempotent updates."""

from __future__ import annotations

import json
from typing import Any

TABLE = "payment-transactions"


def seed(aws: Any, transaction_id: str, timestamp: str = "2024-05-01T12:00:00Z") -> None:
    aws.dynamodb.put_item(
        TableName=TABLE,
        Item={
            "transaction_id": {"S": transaction_id},
            "timestamp": {"S": timestamp},
            "amount": {"N": "19.99"},
            "currency": {"S": "USD"},
            "status": {"S": "succeeded"},
            "queued": {"BOOL": True},
        },
    )


def record(message_id: str, body: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:payment-processing-queue",
    }


def message(transaction_id: str) -> dict[str, str]:
    return {
        "transaction_id": transaction_id,
        "timestamp": "2024-05-01T12:00:00Z",
        "provider": "stripe",
        "amount": "19.99",
        "currency": "USD",
        "status": "succeeded",
    }


def item(aws: Any, transaction_id: str) -> dict[str, Any]:
    key = {"transaction_id": {"S": transaction_id}, "timestamp": {"S": "2024-05-01T12:00:00Z"}}
    return aws.dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]


def test_batch_with_one_poison_message_reports_only_that_one(process_accounting, aws):
    seed(aws, "txn_a")
    seed(aws, "txn_b")
    event = {
        "Records": [
            record("m-1", message("txn_a")),
            record("m-2", '{"transaction_id": "txn_c", '),  # poison: truncated JSON
            record("m-3", message("txn_b")),
        ]
    }

    result = process_accounting.handler(event, None)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    for transaction_id in ("txn_a", "txn_b"):
        stored = item(aws, transaction_id)
        assert stored["accounting_status"] == {"S": "accounted"}
        assert stored["accounted_amount"] == {"N": "19.99"}
        assert stored["status"] == {"S": "succeeded"}  # provider status untouched


def test_missing_fields_and_unknown_transaction_fail(process_accounting, aws):
    incomplete = {k: v for k, v in message("txn_x").items() if k != "timestamp"}
    event = {
        "Records": [
            record("m-1", incomplete),
            record("m-2", message("txn_unknown")),
            record("m-3", ["not", "an", "object"]),
            record("m-4", {**message("txn_y"), "amount": "-3"}),
        ]
    }

    result = process_accounting.handler(event, None)

    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        "m-1",
        "m-2",
        "m-3",
        "m-4",
    ]
    assert aws.items() == []  # the unknown transaction was not created by the update


def test_redelivered_message_is_idempotent(process_accounting, aws):
    seed(aws, "txn_a")
    event = {"Records": [record("m-1", message("txn_a"))]}

    assert process_accounting.handler(event, None) == {"batchItemFailures": []}
    first = item(aws, "txn_a")["accounted_at"]
    assert process_accounting.handler(event, None) == {"batchItemFailures": []}
    assert item(aws, "txn_a")["accounted_at"] == first


def test_empty_event(process_accounting, aws):
    assert process_accounting.handler({"Records": []}, None) == {"batchItemFailures": []}


def test_a_message_disagreeing_with_the_table_books_nothing(process_accounting, aws, caplog):
    seed(aws, "txn_a")
    event = {"Records": [record("m-1", {**message("txn_a"), "amount": "99"})]}
    assert process_accounting.handler(event, None) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}]
    }
    stored = item(aws, "txn_a")
    assert "accounted_amount" not in stored and "accounting_status" not in stored
    assert "accounting conflict" in caplog.text


def test_a_redelivery_after_booking_with_another_amount_fails_and_keeps_the_booking(
    process_accounting, aws
):
    seed(aws, "txn_a")
    process_accounting.handler({"Records": [record("m-1", message("txn_a"))]}, None)
    event = {"Records": [record("m-2", {**message("txn_a"), "amount": "20"})]}
    assert process_accounting.handler(event, None) == {
        "batchItemFailures": [{"itemIdentifier": "m-2"}]
    }
    assert item(aws, "txn_a")["accounted_amount"] == {"N": "19.99"}


def test_the_stored_amount_is_booked_in_its_stored_spelling(process_accounting, aws):
    seed(aws, "txn_a")
    event = {"Records": [record("m-1", {**message("txn_a"), "amount": "19.990"})]}
    assert process_accounting.handler(event, None) == {"batchItemFailures": []}
    assert item(aws, "txn_a")["accounted_amount"] == {"N": "19.99"}


def test_a_throttled_update_fails_only_its_record(process_accounting, aws, monkeypatch):
    from botocore.exceptions import ClientError

    seed(aws, "txn_a")
    seed(aws, "txn_b")
    real = process_accounting.client("dynamodb")

    class Throttled:
        def __getattr__(self, name):
            return getattr(real, name)

        def update_item(self, **kwargs):
            if kwargs["Key"]["transaction_id"]["S"] == "txn_a":
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "x"}}, "UpdateItem"
                )
            return real.update_item(**kwargs)

    monkeypatch.setattr(process_accounting, "client", lambda service: Throttled())
    event = {"Records": [record("m-1", message("txn_a")), record("m-2", message("txn_b"))]}
    assert process_accounting.handler(event, None) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}]
    }
    assert item(aws, "txn_b")["accounting_status"] == {"S": "accounted"}
