"""Unit tests for the shared layer package payments_common (redaction, logging, responses)."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from payments_common import (
    find_card_data,
    is_sensitive_key,
    json_response,
    log_event,
    luhn_valid,
    redact,
    redact_text,
    safe_fields,
)


def test_luhn():
    assert luhn_valid("4111111111111111")
    assert luhn_valid("5555555555554444")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("4111-1111")


def test_redact_text_masks_card_shaped_numbers():
    text = "pan 4111 1111 1111 1111 and 4111-1111-1111-1111 and 1234567890123 ok 12345"
    assert redact_text(text) == (
        "pan [PAN REDACTED] and [PAN REDACTED] and [PAN REDACTED] ok 12345"
    )
    assert redact_text("2024-05-01T12:00:00Z") == "2024-05-01T12:00:00Z"


def test_redact_masks_sensitive_keys_recursively():
    value = {
        "transaction_id": "txn_1",
        "Card-Number": "x",
        "nested": [{"cvv": "123", "api_key": "k", "client_secret": "s", "note": 4111111111111111}],
    }
    assert redact(value) == {
        "transaction_id": "txn_1",
        "Card-Number": "[REDACTED]",
        "nested": [
            {
                "cvv": "[REDACTED]",
                "api_key": "[REDACTED]",
                "client_secret": "[REDACTED]",
                "note": "[PAN REDACTED]",
            }
        ],
    }
    assert is_sensitive_key("Authorization") and not is_sensitive_key("amount")


def test_find_card_data_paths():
    payload = {
        "transaction_id": "4111111111111111",
        "metadata": {"items": [{"note": "4111111111111111"}], "cardNumber": "tok_1"},
        "ref": "4111111111111112",
    }
    # every field is scanned (the transaction id too); ``skip`` names exact paths only
    assert find_card_data(payload) == [
        ("metadata", "cardNumber"),
        ("metadata", "items", 0, "note"),
        ("transaction_id",),
    ]
    assert find_card_data(payload, frozenset({("transaction_id",)})) == [
        ("metadata", "cardNumber"),
        ("metadata", "items", 0, "note"),
    ]


def test_safe_fields_picks_only_allowed_scalars():
    assert safe_fields({"transaction_id": "t", "status": "ok", "cvv": "1", "provider": {}}) == {
        "transaction_id": "t",
        "status": "ok",
    }


def test_log_event_is_json_and_redacted(caplog):
    caplog.set_level(logging.INFO)
    log_event(logging.getLogger("t"), "hello 4111111111111111", card={"pan": "x"}, n=1)
    record = json.loads(caplog.records[0].getMessage())
    assert record == {
        "level": "INFO",
        "message": "hello [PAN REDACTED]",
        "card": {"pan": "[REDACTED]"},
        "n": 1,
    }


def test_json_response_serialises_decimal():
    response = json_response(503, {"amount": Decimal("1.10")}, {"Retry-After": "5"})
    assert response["statusCode"] == 503
    assert json.loads(response["body"]) == {"amount": "1.10"}
    assert response["headers"]["Retry-After"] == "5"
    assert response["headers"]["Content-Type"] == "application/json"
