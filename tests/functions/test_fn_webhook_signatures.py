"""Webhook authenticity: valid, tampered, stale, future, replayed and mis-attributed deliveries.

Each failure is 401 with one fixed body that echoes nothing of the request.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from payments_common import signatures
from pipeline_support import SECRETS, call, signed_event, webhook

UNAUTHORIZED = {"error": "unauthorized", "message": "the webhook signature could not be verified"}


def _assert_refused(module, aws, event):
    status, body = call(module, event)
    assert (status, body) == (401, UNAUTHORIZED)
    assert aws.items() == []
    return body


def test_valid_signature_is_accepted(process_payment, aws):
    assert call(process_payment, signed_event(webhook()))[0] == 200


def test_each_provider_signs_with_its_own_secret(process_payment, aws):
    adyen = webhook(provider="adyen", transaction_id="txn_ad")
    assert call(process_payment, signed_event(adyen, provider="adyen"))[0] == 200
    forged = signed_event(
        webhook(provider="adyen", transaction_id="txn_ad2"),
        provider="adyen",
        secret=SECRETS["stripe"],
    )
    assert call(process_payment, forged) == (401, UNAUTHORIZED)
    assert len(aws.items()) == 1


def test_tampered_body_is_refused(process_payment, aws):
    event = signed_event(webhook())
    event["body"] = event["body"].replace("19.99", "1999")
    _assert_refused(process_payment, aws, event)


def test_tampered_timestamp_is_refused(process_payment, aws):
    event = signed_event(webhook())
    event["headers"]["X-Webhook-Timestamp"] = str(int(event["headers"]["X-Webhook-Timestamp"]) - 1)
    _assert_refused(process_payment, aws, event)


@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_stale_or_future_timestamp_is_refused(process_payment, aws, offset):
    _assert_refused(
        process_payment, aws, signed_event(webhook(), timestamp=int(time.time()) + offset)
    )


def test_replayed_delivery_is_refused(process_payment, aws):
    event = signed_event(webhook())
    assert call(process_payment, event)[0] == 200
    status, body = call(process_payment, event)  # the same signed request, again
    assert (status, body) == (401, UNAUTHORIZED)
    assert len(aws.items()) == 1


def test_replay_record_expires_with_the_window(process_payment, aws):
    event = signed_event(webhook())
    call(process_payment, event)
    [claim] = aws.dynamodb.scan(TableName="payment-webhook-replays")["Items"]
    stamp = int(event["headers"]["X-Webhook-Timestamp"])
    assert claim["expires_at"] == {"N": str(stamp + 300)}  # DynamoDB TTL attribute


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Webhook-Signature": ""},
        {"X-Webhook-Signature": "v1=zz"},
        {"X-Webhook-Signature": "v0=" + "0" * 64},
        {"X-Webhook-Signature": "v1=" + "0" * 64},
        {"X-Webhook-Timestamp": "soon"},
        {"X-Webhook-Timestamp": "1e9"},
        {"X-Webhook-Provider": "mallory"},
        {"X-Webhook-Provider": ""},
    ],
    ids=lambda h: f"{next(iter(h))}={next(iter(h.values()))[:8]}",
)
def test_missing_or_malformed_headers_are_refused(process_payment, aws, headers):
    _assert_refused(process_payment, aws, signed_event(webhook(), headers=headers))


def test_missing_headers_are_refused(process_payment, aws):
    event = signed_event(webhook())
    event["headers"] = {"Content-Type": "application/json"}
    _assert_refused(process_payment, aws, event)
    event["headers"] = None
    _assert_refused(process_payment, aws, event)


def test_header_names_are_case_insensitive(process_payment, aws):
    event = signed_event(webhook())
    event["headers"] = {k.lower(): v for k, v in event["headers"].items()}
    assert call(process_payment, event)[0] == 200


def test_body_naming_another_provider_is_refused(process_payment, aws):
    """Signed by adyen, claiming to be stripe's notification."""
    _assert_refused(
        process_payment, aws, signed_event(webhook(provider="stripe"), provider="adyen")
    )


def test_two_signatures_during_secret_rotation(process_payment, aws):
    stamp = int(time.time())
    event = signed_event(webhook(), timestamp=stamp)
    good = event["headers"]["X-Webhook-Signature"]
    old = signatures.sign(b"the-old-secret", stamp, event["body"].encode())
    event["headers"]["X-Webhook-Signature"] = f"{old}, {good}"
    assert call(process_payment, event)[0] == 200


def test_nothing_of_the_request_is_echoed(process_payment, aws, caplog):
    marker = "ECHO-ME-PLEASE"
    event = signed_event(webhook(metadata={"note": marker}), headers={"X-Webhook-Provider": marker})
    response = process_payment.handler(event, None)
    assert response["statusCode"] == 401
    assert marker not in response["body"] and marker not in json.dumps(response["headers"])
    assert marker not in caplog.text


def test_secret_is_read_from_secrets_manager_and_cached(process_payment, aws, monkeypatch):
    assert call(process_payment, signed_event(webhook()))[0] == 200
    secrets = boto3.client("secretsmanager", endpoint_url=aws.url, region_name="us-east-1")
    secrets.put_secret_value(
        SecretId="payments-webhook-signing-stripe-test", SecretString="rotated"
    )
    # cached: the old secret still verifies until SECRET_CACHE_S has passed
    assert call(process_payment, signed_event(webhook(transaction_id="t2")))[0] == 200
    signatures.clear_cache()
    assert call(process_payment, signed_event(webhook(transaction_id="t3")))[0] == 401
    event = signed_event(webhook(transaction_id="t3"), secret=b"rotated")
    assert call(process_payment, event)[0] == 200


def test_secrets_manager_failure_is_503(process_payment, aws, monkeypatch):
    monkeypatch.setenv("WEBHOOK_PROVIDERS", json.dumps({"stripe": "no-such-secret"}))
    status, body = call(process_payment, signed_event(webhook()))
    assert status == 503
    assert body["error"] == "secret_unavailable"


def test_verify_is_constant_time_compare(monkeypatch):
    """The comparison goes through hmac.compare_digest (not ==)."""
    calls = []
    real = signatures.hmac.compare_digest
    monkeypatch.setattr(
        signatures.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b)
    )
    stamp = int(time.time())
    body = b"{}"
    headers = {
        "x-webhook-provider": "p",
        "x-webhook-timestamp": str(stamp),
        "x-webhook-signature": signatures.sign(b"s", stamp, body),
    }
    assert (
        signatures.verify(
            headers, body, providers={"p": "n"}, secret=lambda n: b"s", tolerance_s=5
        )[0]
        == "p"
    )
    assert calls
