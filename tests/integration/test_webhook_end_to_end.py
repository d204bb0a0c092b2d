"""The webhook end to end through the names of ``cfn-outputs/flat-outputs.json``.

API -> table -> (stream, outbox) -> queue -> accounting, and a poison message -> dead-letter queue
-> notify-failures -> payment-notifications. Every resource is found through ``outputs``; the
same test runs against a deployment or the local stand-in (tests/integration/conftest.py).
"""

from __future__ import annotations

import json
import time
import uuid

import boto3
from payments_common.signatures import sign


def _client(service: str):
    return boto3.client(service)  # AWS_ENDPOINT_URL points at the stand-in when there is one


def _signed(secrets: dict, body: dict, provider: str = "stripe") -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    stamp = int(time.time())
    return raw, {
        "X-Webhook-Provider": provider,
        "X-Webhook-Timestamp": str(stamp),
        "X-Webhook-Signature": sign(secrets[provider].encode(), stamp, raw),
    }


def _webhook(transaction_id: str, amount: float = 42.5) -> dict:
    return {
        "transaction_id": transaction_id,
        "provider": "stripe",
        "amount": amount,
        "currency": "EUR",
        "status": "succeeded",
        "timestamp": "2024-06-01T09:30:00Z",
    }


def _item(outputs, transaction_id: str) -> dict | None:
    return (
        _client("dynamodb")
        .get_item(
            TableName=outputs["TransactionsTableName"],
            Key={
                "transaction_id": {"S": transaction_id},
                "timestamp": {"S": "2024-06-01T09:30:00.000Z"},
            },
            ConsistentRead=True,
        )
        .get("Item")
    )


def _wait(pipeline, condition, rounds: int = 12):
    for _ in range(rounds):
        pipeline.pump()
        value = condition()
        if value:
            return value
    return condition()


def test_outputs_name_this_environments_resources(outputs):
    for key in (
        "TransactionsTableName",
        "ProcessingQueueUrl",
        "DeadLetterQueueUrl",
        "NotificationsTopicArn",
    ):
        assert key in outputs
    assert outputs["WebhookUrl"].endswith("/webhooks")
    names = json.loads(outputs["SigningSecretNames"])
    assert names and all(n.startswith("payments-webhook-signing-") for n in names.values())


def test_a_signed_webhook_is_stored_queued_once_and_accounted(
    outputs, pipeline, environment, api_headers
):
    tid = f"it-{uuid.uuid4().hex[:12]}"
    raw, headers = _signed(environment["secrets"], _webhook(tid))
    status, body = pipeline.post(outputs["WebhookUrl"], raw, {**api_headers, **headers})
    assert (status, body["duplicate"]) == (200, False)

    raw, headers = _signed(environment["secrets"], _webhook(tid, amount=99))
    status, body = pipeline.post(outputs["WebhookUrl"], raw, {**api_headers, **headers})
    assert status == 409 and body["transaction_id"] == tid

    item = _wait(pipeline, lambda: (i := _item(outputs, tid)) and "accounted_at" in i and i)
    assert item, "the transaction was not accounted"
    assert item["queued"] == {"BOOL": True}
    assert item["amount"] == {"N": "42.5"}
    assert item["accounted_amount"] == {"N": "42.5"}  # what was stored, not the 99 redelivery


def test_unsigned_and_keyless_requests_are_refused(outputs, pipeline, environment, api_headers):
    raw, headers = _signed(environment["secrets"], _webhook("it-unsigned"))
    status, _ = pipeline.post(
        outputs["WebhookUrl"], raw, {**api_headers, "X-Webhook-Provider": "stripe"}
    )
    assert status == 401
    status, _ = pipeline.post(outputs["WebhookUrl"], raw, {**headers, "x-api-key": "wrong"})
    assert status == 403


def test_a_poison_message_reaches_the_notification_topic(outputs, pipeline, environment):
    sqs, sns = _client("sqs"), _client("sns")
    # a subscriber of our own, as an operator's e-mail would be
    observer = sqs.create_queue(QueueName=f"it-observer-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=observer, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    subscription = sns.subscribe(
        TopicArn=outputs["NotificationsTopicArn"],
        Protocol="sqs",
        Endpoint=arn,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    try:
        sqs.send_message(
            QueueUrl=outputs["ProcessingQueueUrl"], MessageBody='{"transaction_id": "it-poison",'
        )

        def notified():
            messages = sqs.receive_message(QueueUrl=observer, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            return [json.loads(m["Body"]) for m in messages]

        notes = _wait(pipeline, notified, rounds=20)
        assert notes, "no notification for the dead-lettered message"
        assert any("Payment processing failed" in n.get("Subject", "") for n in notes)
        dlq = outputs["DeadLetterQueueUrl"]
        left = sqs.get_queue_attributes(
            QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
        )
        assert (
            left["Attributes"]["ApproximateNumberOfMessages"] == "0"
        )  # notify-failures consumed it
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=observer)
