"""forward-transactions (the outbox) against moto: the stored image, once, whatever happens.

Stream records are read from moto's DynamoDB stream of the table process-payment wrote, and
handed to the handler as Lambda's event source mapping would (pipeline_support.drain_outbox).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pipeline_support import StreamReader, call, drain_outbox, inserts, signed_event, webhook


def _stored(process_payment, aws, *payloads) -> list[dict[str, Any]]:
    for payload in payloads:
        assert call(process_payment, signed_event(payload))[0] == 200
    return inserts(StreamReader(aws.url, aws.stream_arn).read())


def _bodies(aws) -> list[dict[str, str]]:
    return [json.loads(m["Body"]) for m in aws.drain(aws.queue_url)]


def test_the_stored_image_is_queued_once_and_marked(process_payment, forward_transactions, aws):
    records = _stored(process_payment, aws, webhook())
    drain_outbox(forward_transactions, records)

    assert _bodies(aws) == [
        {
            "transaction_id": "txn_0001",
            "timestamp": "2024-05-01T12:00:00.000Z",
            "provider": "stripe",
            "amount": "19.99",
            "currency": "USD",
            "status": "succeeded",
        }
    ]
    [item] = aws.items()
    assert item["queued"] == {"BOOL": True}
    assert "queue_message_id" in item


def test_a_redelivered_stream_batch_sends_nothing_again(process_payment, forward_transactions, aws):
    records = _stored(process_payment, aws, webhook(), webhook(transaction_id="t2"))
    drain_outbox(forward_transactions, records)
    drain_outbox(forward_transactions, records)  # Lambda retries a batch it thinks failed
    assert len(_bodies(aws)) == 2


def test_only_inserts_are_forwarded_even_unfiltered(process_payment, forward_transactions, aws):
    """The marker update is a MODIFY record; the filter drops it, the handler refuses it too."""
    reader = StreamReader(aws.url, aws.stream_arn)
    call(process_payment, signed_event(webhook()))
    drain_outbox(forward_transactions, inserts(reader.read()))
    modifies = [r for r in reader.read() if r["eventName"] == "MODIFY"]
    assert modifies
    assert forward_transactions.handler({"Records": modifies}, None) == {"batchItemFailures": []}
    assert len(_bodies(aws)) == 1
    dead = [json.loads(m["Body"]) for m in aws.drain(aws.dlq_url)]
    assert {d["reason"] for d in dead} == {"event 'MODIFY' is not an insert"}


def test_an_image_without_the_fields_is_dead_lettered_not_retried(forward_transactions, aws):
    record = {
        "eventID": "e1",
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "1", "NewImage": {"transaction_id": {"S": "t"}}},
    }
    assert forward_transactions.handler({"Records": [record]}, None) == {"batchItemFailures": []}
    [dead] = [json.loads(m["Body"]) for m in aws.drain(aws.dlq_url)]
    assert dead["source"] == "forward-transactions"
    assert "has no S attribute timestamp" in dead["reason"]
    assert aws.drain(aws.queue_url) == []


class FlakyDynamoDB:
    """A DynamoDB client whose UpdateItem is throttled ``failures`` times first."""

    def __init__(self, real: Any, failures: int) -> None:
        self.real, self.failures, self.calls = real, failures, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def update_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "UpdateItem",
            )
        return self.real.update_item(**kwargs)


def _patch_dynamodb(monkeypatch, module, failures: int) -> FlakyDynamoDB:
    real_client = module.client
    flaky = FlakyDynamoDB(real_client("dynamodb"), failures)
    monkeypatch.setattr(
        module, "client", lambda service: flaky if service == "dynamodb" else real_client(service)
    )
    return flaky


def test_throttled_marker_is_retried_and_nothing_is_sent_twice(
    process_payment, forward_transactions, aws, monkeypatch
):
    records = _stored(process_payment, aws, webhook())
    flaky = _patch_dynamodb(monkeypatch, forward_transactions, failures=3)
    drain_outbox(forward_transactions, records)
    assert flaky.calls == 4
    assert aws.items()[0]["queued"] == {"BOOL": True}
    drain_outbox(forward_transactions, records)  # a later redelivery of the batch
    assert len(_bodies(aws)) == 1


def test_a_marker_that_cannot_be_set_does_not_resend(
    process_payment, forward_transactions, aws, monkeypatch, caplog
):
    """Every attempt throttled: the message is out, so the record is not failed (no resend)."""
    caplog.set_level(logging.ERROR)
    records = _stored(process_payment, aws, webhook())
    _patch_dynamodb(monkeypatch, forward_transactions, failures=100)
    result = forward_transactions.handler({"Records": records}, None)
    assert result == {"batchItemFailures": []}
    assert "queued marker not set" in caplog.text
    assert len(_bodies(aws)) == 1


def test_a_send_failure_stops_the_batch_at_that_record(
    process_payment, forward_transactions, aws, monkeypatch
):
    records = _stored(process_payment, aws, *(webhook(transaction_id=f"t{i}") for i in range(5)))
    monkeypatch.setenv("QUEUE_URL", f"{aws.url}/123456789012/no-such-queue")
    result = forward_transactions.handler({"Records": records}, None)
    assert result == {
        "batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
    }
    monkeypatch.setenv("QUEUE_URL", aws.queue_url)
    drain_outbox(forward_transactions, records)
    assert sorted(b["transaction_id"] for b in _bodies(aws)) == [f"t{i}" for i in range(5)]


def test_queue_outage_then_a_different_redelivery_queues_the_stored_amount(
    process_payment, forward_transactions, process_accounting, aws, monkeypatch
):
    """The issue's case: 10 stored, the queue down, the provider redelivers 99."""
    reader = StreamReader(aws.url, aws.stream_arn)
    assert call(process_payment, signed_event(webhook(amount=10)))[0] == 200
    monkeypatch.setenv("QUEUE_URL", f"{aws.url}/123456789012/no-such-queue")
    records = inserts(reader.read())
    assert forward_transactions.handler({"Records": records}, None)["batchItemFailures"]

    assert call(process_payment, signed_event(webhook(amount=99)))[0] == 409
    monkeypatch.setenv("QUEUE_URL", aws.queue_url)
    drain_outbox(forward_transactions, records + inserts(reader.read()))
    messages = aws.drain(aws.queue_url)
    assert [json.loads(m["Body"])["amount"] for m in messages] == ["10"]

    from pipeline_support import sqs_records

    assert process_accounting.handler({"Records": sqs_records(messages)}, None) == {
        "batchItemFailures": []
    }
    [item] = aws.items()
    assert item["accounted_amount"] == {"N": "10"}


def test_fifo_queue_gets_group_and_deduplication_ids(
    process_payment, forward_transactions, aws, monkeypatch
):
    fifo_url = aws.sqs.create_queue(
        QueueName="payment-processing-queue.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    monkeypatch.setenv("QUEUE_URL", fifo_url)
    drain_outbox(forward_transactions, _stored(process_payment, aws, webhook()))
    [message] = aws.sqs.receive_message(
        QueueUrl=fifo_url, MessageSystemAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "txn_0001"
    assert len(message["Attributes"]["MessageDeduplicationId"]) == 64


@pytest.mark.parametrize("batch_size", [1, 3, 100])
def test_any_batch_size_forwards_each_record_once(
    process_payment, forward_transactions, aws, batch_size
):
    records = _stored(process_payment, aws, *(webhook(transaction_id=f"t{i}") for i in range(7)))
    drain_outbox(forward_transactions, records, batch_size=batch_size)
    assert sorted(b["transaction_id"] for b in _bodies(aws)) == [f"t{i}" for i in range(7)]
