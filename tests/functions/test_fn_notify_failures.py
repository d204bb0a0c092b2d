"""notify-failures handler against moto: one SNS publish per dead-lettered message."""

from __future__ import annotations

import json
from typing import Any

PAN = "4111111111111111"


def dlq_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "5"},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:payment-processing-dlq",
    }


FAILED = {
    "transaction_id": "txn_0042",
    "timestamp": "2024-05-01T12:00:00Z",
    "provider": "adyen",
    "amount": "250.00",
    "currency": "EUR",
    "status": "succeeded",
}


def test_dead_letter_message_is_published_exactly_once(notify_failures, aws):
    inbox = aws.subscribe_queue(aws.topics["payment-notifications"])

    result = notify_failures.handler({"Records": [dlq_record("d-1", json.dumps(FAILED))]}, None)

    assert result == {"batchItemFailures": []}
    [note] = aws.notifications(inbox)
    assert note["Subject"] == "Payment processing failed: txn_0042"
    for expected in ("transaction_id: txn_0042", "amount: 250.00", "currency: EUR", "d-1"):
        assert expected in note["Message"]


def test_unparseable_body_is_summarised_redacted(notify_failures, aws):
    inbox = aws.subscribe_queue(aws.topics["payment-notifications"])
    body = f"garbage card={PAN} token"

    notify_failures.handler({"Records": [dlq_record("d-2", body)]}, None)

    [note] = aws.notifications(inbox)
    assert note["Subject"] == "Payment processing failed: unparseable message"
    assert PAN not in note["Message"]
    assert "[PAN REDACTED]" in note["Message"]


def test_failed_publish_is_reported_for_retry(notify_failures, aws, monkeypatch):
    monkeypatch.setenv("TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:no-such-topic")
    records = [dlq_record("d-1", json.dumps(FAILED)), dlq_record("d-2", "{}")]

    result = notify_failures.handler({"Records": records}, None)

    assert result == {"batchItemFailures": [{"itemIdentifier": "d-1"}, {"itemIdentifier": "d-2"}]}
