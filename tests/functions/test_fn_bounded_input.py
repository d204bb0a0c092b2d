"""Bounded input: what can never succeed is a 4xx before parsing, and poison stays in its record.

The issue's cases: ~1,000 levels of nesting (was RecursionError, a 502 retried forever), a
~140 KB body of non-ASCII characters (was an item over DynamoDB's 400 KB limit, answered 503),
and one nested message failing a whole SQS batch in accounting and notification.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payments_common.bounds import Limits, Malformed, TooLarge, check_json_text
from pipeline_support import call, signed_event, webhook

LIMITS = Limits(max_bytes=65536, max_depth=16, max_string_chars=4096, max_number_chars=40)


def _with_metadata_text(text: str) -> str:
    base = json.dumps({k: v for k, v in webhook().items() if k != "metadata"})
    return base[:-1] + ', "metadata": ' + text + "}"


@pytest.mark.parametrize("depth", [17, 1000, 100_000])
def test_deep_nesting_is_400_before_parsing(process_payment, aws, depth):
    body = _with_metadata_text('{"a":' * depth + "1" + "}" * depth)
    if len(body) > 65536:
        status, response = call(process_payment, signed_event(body, raw=True))
        assert status == 413
        return
    status, response = call(process_payment, signed_event(body, raw=True))
    assert status == 400
    assert "nests deeper than 16" in response["message"]
    assert aws.items() == []


def test_nesting_within_the_limit_is_accepted(process_payment, aws):
    body = _with_metadata_text('{"a":' * 14 + "1" + "}" * 14)  # 15 levels with the root
    assert call(process_payment, signed_event(body, raw=True))[0] == 200


def test_large_non_ascii_body_is_413_not_503(process_payment, aws):
    """~140 KB of non-ASCII characters: refused by size, never a retryable 5xx."""
    payload = webhook(metadata={f"k{i}": "é" * 2000 for i in range(35)})
    status, response = call(process_payment, signed_event(payload))
    assert status == 413
    assert response["error"] == "payload_too_large"
    assert aws.items() == []


def test_an_item_dynamodb_would_refuse_is_413(process_payment, aws, monkeypatch):
    monkeypatch.setenv("MAX_BODY_BYTES", "1000000")
    payload = webhook(metadata={f"k{i}": "ü" * 4000 for i in range(60)})  # ~480 KB of UTF-8
    status, response = call(process_payment, signed_event(payload))
    assert status == 413
    assert "stored item would be too large" in response["message"]
    assert aws.items() == []


def test_a_body_just_under_the_limit_is_stored(process_payment, aws):
    payload = webhook(metadata={f"k{i}": "é" * 2000 for i in range(15)})  # ~60 KB
    assert call(process_payment, signed_event(payload))[0] == 200
    [item] = aws.items()
    assert len(item["payload"]["S"].encode()) < 65536 + 1024


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ('"' + "x" * 4097 + '"', "string is longer"),
        ('{"' + "k" * 4097 + '": 1}', "string is longer"),
        ("1" + "0" * 40, "number is longer"),
        ("1." + "0" * 40, "number is longer"),
    ],
    ids=["value", "key", "integer", "decimal"],
)
def test_long_strings_and_numbers_are_400(process_payment, aws, fragment, message):
    status, response = call(process_payment, signed_event(_with_metadata_text(fragment), raw=True))
    assert status == 400
    assert message in response["message"]


def test_huge_exponent_is_harmless(process_payment, aws):
    body = _with_metadata_text('{"n": 1e999999, "m": 1.5e-999999}')
    assert call(process_payment, signed_event(body, raw=True))[0] == 200
    [item] = aws.items()
    assert len(item["payload"]["S"]) < 1000
    assert (
        len(
            process_payment.canonical_text(
                process_payment.canonical_payload(
                    json.loads(body, parse_float=__import__("decimal").Decimal)
                )
            )
        )
        < 1000
    )


def test_base64_body_over_the_limit_is_413_before_decoding(process_payment, aws):
    event = signed_event(webhook())
    event["body"] = "A" * (65536 * 2)
    event["isBase64Encoded"] = True
    assert call(process_payment, event)[0] == 413


# -- the tokenizer ------------------------------------------------------------------------------


def test_strings_hide_brackets_and_escapes():
    check_json_text('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[", "b": "\\"[[[[[[[[[[[[[[[[[[[[[["}', LIMITS)


def test_unterminated_string_is_left_to_the_parser():
    check_json_text('{"a": "unterminated', LIMITS)  # no error here: json.loads reports it


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
))  # fmt: skip
def test_depth_measured_equals_the_real_depth(value):
    def depth(v):
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        return 0

    text = json.dumps(value)
    real = depth(value)
    check_json_text(text, Limits(10**6, max(real, 1), 10**6, 10**6))
    if real > 1:
        with pytest.raises(Malformed):
            check_json_text(text, Limits(10**6, real - 1, 10**6, 10**6))


def test_size_counts_utf8_bytes():
    with pytest.raises(TooLarge):
        check_json_text('"' + "é" * 40000 + '"', Limits(65536, 16, 10**6, 40))


# -- poison messages in the queue consumers ----------------------------------------------------


def _sqs(message_id: str, body: str) -> dict:
    return {"messageId": message_id, "body": body, "attributes": {"ApproximateReceiveCount": "1"}}


DEEP = "[" * 5000 + "]" * 5000


def test_accounting_isolates_a_deeply_nested_message(process_accounting, process_payment, aws):
    call(process_payment, signed_event(webhook()))
    good = json.dumps(
        {
            "transaction_id": "txn_0001",
            "timestamp": "2024-05-01T12:00:00.000Z",
            "amount": "19.99",
            "currency": "USD",
        }
    )
    event = {"Records": [_sqs("m-1", DEEP), _sqs("m-2", good), _sqs("m-3", "\x00"), {"bogus": 1}]}
    result = process_accounting.handler(event, None)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "m-1"},
            {"itemIdentifier": "m-3"},
            {"itemIdentifier": ""},
        ]
    }
    assert aws.items()[0]["accounting_status"] == {"S": "accounted"}


def test_notify_failures_isolates_a_deeply_nested_message(notify_failures, aws):
    queue = aws.subscribe_queue(aws.topics["payment-notifications"])
    event = {"Records": [_sqs("m-1", DEEP), _sqs("m-2", '{"transaction_id": "t"}')]}
    assert notify_failures.handler(event, None) == {"batchItemFailures": []}
    assert len(aws.notifications(queue)) == 2
