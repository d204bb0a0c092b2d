"""process-payment against moto: one conditional put, duplicates and conflicts, validation.

The handler never sends to SQS; what reaches the queue is the outbox's work
(test_fn_forward_transactions.py, test_fn_pipeline_concurrency.py). Signatures have their own
file (test_fn_webhook_signatures.py), card data too (test_fn_card_data.py).
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from pipeline_support import call, signed_event, webhook

PAN = "4111111111111111"  # Visa test number (Luhn-valid)


def test_valid_webhook_stores_one_item_and_sends_nothing(process_payment, aws):
    status, body = call(process_payment, signed_event(webhook()))

    assert status == 200
    assert body == {
        "status": "accepted",
        "duplicate": False,
        "transaction_id": "txn_0001",
        "timestamp": "2024-05-01T12:00:00.000Z",
    }
    [item] = aws.items()
    assert item["amount"] == {"N": "19.99"}  # exact decimal string, never a float
    assert item["queued"] == {"BOOL": False}  # the outbox sets it when it has sent
    assert item["status"] == {"S": "succeeded"}
    assert json.loads(item["payload"]["S"])["timestamp"] == "2024-05-01T12:00:00.000Z"
    assert aws.drain(aws.queue_url) == []  # never SQS from the webhook handler


def test_same_webhook_twice_is_a_duplicate(process_payment, aws):
    first = call(process_payment, signed_event(webhook()))
    second = call(process_payment, signed_event(webhook(), timestamp=None))

    assert first[0] == second[0] == 200
    assert first[1]["duplicate"] is False
    assert second[1]["duplicate"] is True
    assert len(aws.items()) == 1


@pytest.mark.parametrize(
    "same",
    [
        webhook(amount=19.990),
        webhook(timestamp="2024-05-01T12:00:00.000+00:00"),
        webhook(timestamp="2024-05-01T14:00:00+02:00"),
        webhook(timestamp=1714564800),
        webhook(metadata={"order_id": "A-17"}, amount=1.999e1),
    ],
    ids=["trailing-zero", "offset-zero", "other-offset", "epoch", "exponent"],
)
def test_same_canonical_body_is_a_duplicate(process_payment, aws, same):
    call(process_payment, signed_event(webhook()))
    status, body = call(process_payment, signed_event(same))
    assert (status, body["duplicate"]) == (200, True)
    assert len(aws.items()) == 1


@pytest.mark.parametrize(
    "different",
    [webhook(amount=99), webhook(status="failed"), webhook(metadata={"order_id": "B-1"})],
    ids=["amount", "status", "metadata"],
)
def test_different_body_for_the_same_key_is_409_and_changes_nothing(
    process_payment, aws, caplog, different
):
    caplog.set_level(logging.INFO)
    call(process_payment, signed_event(webhook()))
    before = aws.items()
    status, body = call(process_payment, signed_event(different))

    assert status == 409
    assert body["error"] == "conflict"
    assert (body["transaction_id"], body["timestamp"]) == ("txn_0001", "2024-05-01T12:00:00.000Z")
    assert "webhook conflict" in caplog.text
    assert aws.items() == before  # first write wins, untouched


def test_new_status_for_same_transaction_is_a_new_record(process_payment, aws):
    call(process_payment, signed_event(webhook()))
    status, body = call(
        process_payment,
        signed_event(webhook(status="refunded", timestamp="2024-05-02T08:00:00Z")),
    )
    assert (status, body["duplicate"]) == (200, False)
    assert len(aws.items()) == 2


def test_epoch_timestamp_and_base64_body(process_payment, aws):
    event = signed_event(webhook(timestamp=1714564800, amount=10))
    event["body"] = base64.b64encode(event["body"].encode()).decode()  # signed over the raw bytes
    event["isBase64Encoded"] = True

    status, body = call(process_payment, event)

    assert status == 200
    assert body["timestamp"] == "2024-05-01T12:00:00.000Z"
    [item] = aws.items()
    assert item["timestamp"] == {"S": "2024-05-01T12:00:00.000Z"}
    assert item["amount"] == {"N": "10"}


@pytest.mark.parametrize(
    "body",
    ['{"transaction_id": "txn_0001", "amount": ', "not json", '{"amount": NaN}', "\ud800"],
    ids=["truncated", "text", "nan", "lone-surrogate"],
)
def test_invalid_json_is_400_and_nothing_written(process_payment, aws, body):
    status, response = call(process_payment, signed_event(body, raw=True))

    assert status == 400
    assert response["error"] in ("invalid_json", "invalid_body")
    assert response["message"]  # says what is wrong
    assert aws.items() == []


def test_empty_body_is_400(process_payment, aws):
    event = signed_event("", raw=True)
    assert call(process_payment, event)[0] == 400


def test_invalid_json_message_points_at_the_problem(process_payment, aws):
    _, response = call(process_payment, signed_event('{"amount": 1,,}', raw=True))
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
        (webhook(currency="USD\n"), "currency", "ISO 4217"),
        (webhook(transaction_id="t1\n"), "transaction_id", "transaction id"),
        (webhook(provider="stripe\n"), "provider", "provider name"),
        (webhook(status="succeeded\n"), "status", "provider status"),
        (webhook(timestamp="yesterday"), "timestamp", "ISO 8601"),
        (webhook(timestamp="2024-05-01T12:00:00"), "timestamp", "ISO 8601"),
        (webhook(timestamp="2024-05-01T12:00:00Z\n"), "timestamp", "ISO 8601"),
        (webhook(timestamp="0001-01-01T00:00:00+01:00"), "timestamp", "ISO 8601"),
        (webhook(timestamp=4111111111111), "timestamp", "ISO 8601"),
        (webhook(transaction_id="bad id; drop"), "transaction_id", "transaction id"),
        ({k: v for k, v in webhook().items() if k != "currency"}, "currency", "is required"),
        ([webhook()], "$", "type object"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_schema_violation_is_400_naming_the_field(process_payment, aws, payload, field, fragment):
    status, response = call(process_payment, signed_event(payload))

    assert status == 400, response
    assert response["error"] == "validation_failed"
    details = {d["field"]: d["message"] for d in response["details"]}
    assert field in details, details
    assert fragment in details[field]
    assert PAN not in json.dumps(response) and "4012888888881881" not in json.dumps(response)
    assert aws.items() == []


def test_storage_failure_is_503_and_the_retry_is_accepted(process_payment, aws, monkeypatch):
    event = signed_event(webhook())
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    status, body = call(process_payment, event)
    assert status == 503
    assert body["error"] == "storage_unavailable"

    monkeypatch.setenv("TABLE_NAME", "payment-transactions")
    status, body = call(process_payment, event)  # the provider retries the same delivery
    assert (status, body["duplicate"]) == (200, False)  # the replay claim was released
    assert len(aws.items()) == 1


def test_secrets_in_payload_are_not_stored_in_clear(process_payment, aws):
    call(process_payment, signed_event(webhook(metadata={"client_secret": "pi_secret_abc"})))
    [item] = aws.items()
    assert "pi_secret_abc" not in item["payload"]["S"]
    assert "[REDACTED]" in item["payload"]["S"]


def test_non_ascii_is_stored_as_characters_not_escapes(process_payment, aws):
    call(process_payment, signed_event(webhook(metadata={"note": "café ünïcødé"})))
    [item] = aws.items()
    assert "café ünïcødé" in item["payload"]["S"]


@pytest.mark.parametrize(
    "payload",
    [
        webhook(card_number=PAN, cvv="737"),
        webhook(metadata={"note": "card 4111-1111-1111-1111 exp 03/30"}),
        webhook(pan=PAN, amount=-1, currency="usd"),
        webhook(transaction_id=PAN),
        webhook(metadata={PAN: "key"}),
    ],
)
def test_logs_never_contain_card_data(process_payment, aws, caplog, capsys, payload):
    caplog.set_level(logging.DEBUG)
    call(process_payment, signed_event(webhook()))  # a valid one too, so logging is exercised
    response = process_payment.handler(signed_event(payload), None)

    assert response["statusCode"] == 400
    captured = capsys.readouterr()
    output = caplog.text + captured.out + captured.err + response["body"]
    assert "txn_0001" in caplog.text  # logging works; only safe fields are logged
    for secret in (PAN, "4111-1111-1111-1111", "4111 1111 1111 1111", '"737"'):
        assert secret not in output
