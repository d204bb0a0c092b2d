"""process-payment handler against moto: storage, queueing, idempotency, validation, logging."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

PAN = "4111111111111111"  # Visa test number (Luhn-valid)


def webhook(**overrides: Any) -> dict[str, Any]:
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


def api_event(body: Any, raw: bool = False) -> dict[str, Any]:
    return {
        "resource": "/webhooks",
        "path": "/webhooks",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"requestId": "req-1", "stage": "prod"},
        "body": body if raw else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(module: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = module.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_valid_webhook_stores_one_item_and_one_message(process_payment, aws):
    status, body = call(process_payment, api_event(webhook()))

    assert status == 200
    assert body == {
        "status": "accepted",
        "duplicate": False,
        "transaction_id": "txn_0001",
        "timestamp": "2024-05-01T12:00:00Z",
    }
    [item] = aws.items()
    assert item["amount"] == {"N": "19.99"}  # exact decimal string, never a float
    assert item["queued"] == {"BOOL": True}
    assert item["status"] == {"S": "succeeded"}
    [message] = aws.drain(aws.queue_url)
    assert json.loads(message["Body"]) == {
        "transaction_id": "txn_0001",
        "timestamp": "2024-05-01T12:00:00Z",
        "provider": "stripe",
        "amount": "19.99",
        "currency": "USD",
        "status": "succeeded",
    }


def test_same_webhook_twice_gives_one_item_and_one_message(process_payment, aws):
    first = call(process_payment, api_event(webhook()))
    second = call(process_payment, api_event(webhook()))

    assert first[0] == second[0] == 200
    assert first[1]["duplicate"] is False
    assert second[1]["duplicate"] is True
    assert len(aws.items()) == 1
    assert len(aws.drain(aws.queue_url)) == 1


def test_new_status_for_same_transaction_is_a_new_record(process_payment, aws):
    call(process_payment, api_event(webhook()))
    status, body = call(
        process_payment, api_event(webhook(status="refunded", timestamp="2024-05-02T08:00:00Z"))
    )

    assert (status, body["duplicate"]) == (200, False)
    assert len(aws.items()) == 2
    assert len(aws.drain(aws.queue_url)) == 2


def test_epoch_timestamp_and_base64_body(process_payment, aws):
    event = api_event(webhook(timestamp=1714564800, amount=10))
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True

    status, body = call(process_payment, event)

    assert status == 200
    assert body["timestamp"] == "2024-05-01T12:00:00.000Z"
    [item] = aws.items()
    assert item["timestamp"] == {"S": "2024-05-01T12:00:00.000Z"}
    assert item["amount"] == {"N": "10"}


@pytest.mark.parametrize(
    "body",
    ['{"transaction_id": "txn_0001", "amount": ', "not json", "", '{"amount": NaN}'],
    ids=["truncated", "text", "empty", "nan"],
)
def test_invalid_json_is_400_and_nothing_written(process_payment, aws, body):
    status, response = call(process_payment, api_event(body, raw=True))

    assert status == 400
    assert response["error"] == "invalid_json"
    assert response["message"]  # says what is wrong
    assert aws.items() == []
    assert aws.drain(aws.queue_url) == []


def test_invalid_json_message_points_at_the_problem(process_payment, aws):
    _, response = call(process_payment, api_event('{"amount": 1,,}', raw=True))
    assert "not valid JSON" in response["message"]
    assert "line 1 column" in response["message"]


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        (webhook(amount=-5), "amount", "greater than 0"),
        (webhook(amount=0), "amount", "greater than 0"),
        (webhook(amount="12.00"), "amount", "type number"),
        (webhook(amount=1.1234567), "amount", "6 decimal places"),
        (webhook(card_number=PAN), "card_number", "card data"),
        (webhook(cardNumber="4111 1111 1111 1111"), "cardNumber", "card data"),
        (webhook(metadata={"cvv": "123"}), "metadata.cvv", "card data"),
        (webhook(metadata={"note": f"paid with {PAN}"}), "metadata.note", "card data"),
        (webhook(metadata={"cards": [4012888888881881]}), "metadata.cards[0]", "card data"),
        (webhook(currency="usd"), "currency", "ISO 4217"),
        (webhook(timestamp="yesterday"), "timestamp", "ISO 8601"),
        (webhook(timestamp="2024-05-01T12:00:00"), "timestamp", "ISO 8601"),
        (webhook(transaction_id="bad id; drop"), "transaction_id", "transaction id"),
        ({k: v for k, v in webhook().items() if k != "currency"}, "currency", "is required"),
        ([webhook()], "$", "type object"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_schema_violation_is_400_naming_the_field(process_payment, aws, payload, field, fragment):
    status, response = call(process_payment, api_event(payload))

    assert status == 400
    assert response["error"] == "validation_failed"
    details = {d["field"]: d["message"] for d in response["details"]}
    assert field in details, details
    assert fragment in details[field]
    assert PAN not in json.dumps(response) and "4012888888881881" not in json.dumps(response)
    assert aws.items() == []
    assert aws.drain(aws.queue_url) == []


def test_numeric_transaction_id_passing_luhn_is_accepted(process_payment, aws):
    status, _ = call(process_payment, api_event(webhook(transaction_id="4111111111111111")))
    assert status == 200


def test_queue_failure_is_5xx_and_retry_sends_exactly_once(process_payment, aws, monkeypatch):
    monkeypatch.setenv("QUEUE_URL", f"{aws.url}/123456789012/no-such-queue")
    status, body = call(process_payment, api_event(webhook()))

    assert status == 503
    assert body["error"] == "queue_unavailable"
    [item] = aws.items()  # stored, but not yet queued
    assert item["queued"] == {"BOOL": False}

    monkeypatch.setenv("QUEUE_URL", aws.queue_url)
    status, body = call(process_payment, api_event(webhook()))  # provider retries
    assert (status, body["duplicate"]) == (200, True)
    assert aws.items()[0]["queued"] == {"BOOL": True}

    call(process_payment, api_event(webhook()))  # and once more: nothing new
    assert len(aws.drain(aws.queue_url)) == 1
    assert len(aws.items()) == 1


def test_storage_failure_is_5xx_and_nothing_queued(process_payment, aws, monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    status, body = call(process_payment, api_event(webhook()))

    assert status == 503
    assert body["error"] == "storage_unavailable"
    assert aws.drain(aws.queue_url) == []


def test_secrets_in_payload_are_not_stored_in_clear(process_payment, aws):
    call(process_payment, api_event(webhook(metadata={"client_secret": "pi_secret_abc"})))
    [item] = aws.items()
    assert "pi_secret_abc" not in item["payload"]["S"]
    assert "[REDACTED]" in item["payload"]["S"]


@pytest.mark.parametrize(
    "payload",
    [
        webhook(card_number=PAN, cvv="737"),
        webhook(metadata={"note": "card 4111-1111-1111-1111 exp 03/30"}),
        webhook(pan=PAN, amount=-1, currency="usd"),
    ],
)
def test_logs_never_contain_card_data(process_payment, aws, caplog, capsys, payload):
    caplog.set_level(logging.DEBUG)
    call(process_payment, api_event(webhook()))  # a valid one too, so logging is exercised
    response = process_payment.handler(api_event(payload), None)

    assert response["statusCode"] == 400
    captured = capsys.readouterr()
    output = caplog.text + captured.out + captured.err + response["body"]
    assert "txn_0001" in caplog.text  # logging works; only safe fields are logged
    for secret in (PAN, "4111-1111-1111-1111", "4111 1111 1111 1111", '"737"'):
        assert secret not in output


def test_fifo_queue_gets_group_and_deduplication_ids(process_payment, aws, monkeypatch):
    fifo_url = aws.sqs.create_queue(
        QueueName="payment-processing-queue.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    monkeypatch.setenv("QUEUE_URL", fifo_url)

    assert call(process_payment, api_event(webhook()))[0] == 200
    [message] = aws.sqs.receive_message(
        QueueUrl=fifo_url, MessageSystemAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "txn_0001"
    assert len(message["Attributes"]["MessageDeduplicationId"]) == 64


def test_duplicate_key_with_different_content_is_flagged(process_payment, aws, caplog):
    caplog.set_level(logging.INFO)
    call(process_payment, api_event(webhook()))
    status, body = call(process_payment, api_event(webhook(amount=20.00)))

    assert (status, body["duplicate"]) == (200, True)
    assert "duplicate key, different content" in caplog.text
    assert aws.items()[0]["amount"] == {"N": "19.99"}  # first write wins
    assert len(aws.drain(aws.queue_url)) == 1


def test_oversized_body_is_413(process_payment, aws):
    big = webhook(metadata={"blob": "x" * (300 * 1024)})
    assert call(process_payment, api_event(big))[0] == 413
    assert aws.items() == []
