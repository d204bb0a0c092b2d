"""Card data is refused in every form (PCI DSS 3.3-3.5): unit cases, the handler, and properties.

The detector (``payments_common.card_data``) is tried with every form the issue found stored
(numbers written as floats or with an exponent, PANs as keys, dots or double spaces between
groups, CVV under variant keys, the transaction id itself) and more; Hypothesis generates PANs
of every length, separators and nesting.
"""

from __future__ import annotations

import json
import random
import string
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payments_common.card_data import (
    KEY_MARKER,
    contains_pan,
    find_card_data,
    is_card_data_key,
    luhn_valid,
)
from pipeline_support import call, signed_event, webhook

PAN = "4111111111111111"


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the check digit that makes it Luhn-valid."""
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")


# -- the handler: every form of the issue, and more -------------------------------------------

RAW_FORMS = {
    "number-dot-zero": '"metadata": {"n": 4111111111111111.0}',
    "number-exponent": '"metadata": {"n": 4111111111111111e0}',
    "number-scaled": '"metadata": {"n": 4.111111111111111e15}',
    "number-big-exponent": '"metadata": {"n": 41111111111111110e-1}',
    "number-positive-exponent": '"metadata": {"n": 4111111111111111e3}',
    "number-trailing-zeros": '"metadata": {"n": 4111111111111111000}',
    "integer-in-list": '"metadata": {"n": [1, 4111111111111111]}',
    "number-negative": '"metadata": {"n": -4111111111111111}',
    "key": '"metadata": {"4111111111111111": "x"}',
    "key-with-spaces": '"metadata": {"4111 1111 1111 1111": "x"}',
    "dots": '"metadata": {"n": "4111.1111.1111.1111"}',
    "double-spaces": '"metadata": {"n": "4111  1111  1111  1111"}',
    "slashes": '"metadata": {"n": "4111/1111/1111/1111"}',
    "underscores": '"metadata": {"n": "4111_1111_1111_1111"}',
    "mixed": '"metadata": {"n": "4111 -1111. 1111/1111"}',
    "fullwidth": '"metadata": {"n": "\\uff14\\uff11\\uff11\\uff11111111111111"}',
    "track1": '"metadata": {"t": "%B4111111111111111^DOE/JOHN^2512101?"}',
    "track2": '"metadata": {"t": ";4111111111111111=25121010000000000000?"}',
    "embedded": '"metadata": {"n": "ref 12 4111 1111 1111 1111 ok"}',
    "deep": '"metadata": {"a": {"b": [{"c": [[{"d": "4111111111111111"}]]}]}}',
    "card_cvv": '"metadata": {"card_cvv": "123"}',
    "cardCvv": '"metadata": {"cardCvv": "123"}',
    "CVV2": '"metadata": {"CVV2": "123"}',
    "card-security-code": '"metadata": {"card-security-code": "123"}',
    "cvc": '"metadata": {"x": {"Cvc": 123}}',
    "track_2_data": '"metadata": {"track_2_data": "x"}',
    "magstripe": '"metadata": {"MagStripe": "x"}',
    "pan-word": '"metadata": {"card_pan": "x"}',
    "pin-block": '"metadata": {"pinBlock": "x"}',
}


@pytest.mark.parametrize("fragment", list(RAW_FORMS.values()), ids=list(RAW_FORMS))
def test_every_form_is_refused_naming_the_path_never_the_value(process_payment, aws, fragment):
    base = json.dumps({k: v for k, v in webhook().items() if k != "metadata"})
    body = base[:-1] + ", " + fragment + "}"
    status, response = call(process_payment, signed_event(body, raw=True))

    assert status == 400, response
    assert response["error"] == "validation_failed"
    fields = [d["field"] for d in response["details"]]
    assert any(f.startswith("metadata") for f in fields), fields
    assert all("card data" in d["message"] for d in response["details"])
    text = json.dumps(response)
    for secret in (PAN, "1111 1111", "1111.1111", "123"):
        assert secret not in text
    assert aws.items() == []


@pytest.mark.parametrize(
    "transaction_id", [PAN, f"txn_{PAN}", "4111-1111-1111-1111", "id.4111.1111.1111.1111"]
)
def test_pan_as_the_transaction_id_is_refused(process_payment, aws, transaction_id):
    status, response = call(process_payment, signed_event(webhook(transaction_id=transaction_id)))
    assert status == 400
    assert "transaction_id" in [d["field"] for d in response["details"]]
    assert aws.items() == []


def test_a_key_holding_a_pan_is_reported_without_the_key():
    assert find_card_data({"metadata": {PAN: 1}}) == [("metadata", KEY_MARKER)]


def test_ordinary_webhooks_pass(process_payment, aws):
    payload = webhook(
        metadata={
            "order_id": "A-17",
            "items": [{"sku": "X-1", "qty": 2, "price": 9.99}],
            "customer": "cus_92",
            "amount_minor": 1999,
            "created": "2024-05-01T12:00:00Z",
            "phone": "+44 20 7946 0958",
        },
        amount=999999999999.99,
    )
    assert call(process_payment, signed_event(payload))[0] == 200


# -- unit cases --------------------------------------------------------------------------------


def test_luhn():
    assert luhn_valid("4111111111111111")
    assert luhn_valid("5555555555554444")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("4111-1111")
    assert not luhn_valid("٤١١١")  # Arabic-Indic digits are read by the runs, not here


@pytest.mark.parametrize(
    "key",
    ["card_cvv", "cardCvv", "CVV2", "cvc2", "card-security-code", "SecurityCode", "csc",
     "card_number", "CardNo", "ccnum", "PAN", "card_pan", "primaryAccountNumber", "track1",
     "track_2", "Track2Data", "magstripe", "pin", "PINBlock", "cid"],
)  # fmt: skip
def test_card_data_key_variants(key):
    assert is_card_data_key(key)


@pytest.mark.parametrize(
    "key", ["company", "spin", "expand", "panel", "order_id", "tracking_number", "amount", "pine"]
)
def test_ordinary_keys_are_not_card_data(key):
    assert not is_card_data_key(key)


def test_numbers_without_pan_windows_pass():
    assert find_card_data({"a": 999999999999.99, "b": 12, "c": Decimal("1e999999")}) == []


# -- properties (Hypothesis) ------------------------------------------------------------------

_PREFIXES = st.sampled_from(["4", "51", "55", "2221", "34", "37", "6011", "65", "35", "36"])


@st.composite
def pans(draw) -> str:
    prefix = draw(_PREFIXES)
    length = draw(st.integers(13, 19))
    body = draw(
        st.text("0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1)
    )
    return luhn_complete(prefix + body)


_SEPARATOR = st.text(" .-/_:,|\t\u00a0*#", min_size=0, max_size=3)


@st.composite
def written(draw, pan: str) -> str:
    """``pan`` with up to 3 separator characters between any two digits."""
    return "".join(c + (draw(_SEPARATOR) if i < len(pan) - 1 else "") for i, c in enumerate(pan))


_WORDS = st.text(string.ascii_letters + " ", max_size=20)


@st.composite
def hidden_in_document(draw):
    """A document with a PAN somewhere (as a value, a key or a number); returns (doc, path)."""
    pan = draw(pans())
    form = draw(st.sampled_from(["text", "key", "number"]))
    if form == "text":
        leaf: object = draw(_WORDS) + " " + draw(written(pan)) + " " + draw(_WORDS)
    elif form == "number":
        leaf = Decimal(pan) if draw(st.booleans()) else Decimal(pan + ".0")
    else:
        leaf = {draw(written(pan)): "x"}
    path: list[object] = []
    doc: object = leaf
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            index = draw(st.integers(0, 2))
            doc = [f"filler {i}" for i in range(index)] + [doc]
            path.insert(0, index)
        else:
            key = draw(st.sampled_from(["meta", "data", "x", "items", "note"]))
            doc = {key: doc, "other": draw(_WORDS)}
            path.insert(0, key)
    expected = tuple(path) + ((KEY_MARKER,) if form == "key" else ())
    return doc, expected


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(pans().flatmap(lambda p: st.tuples(st.just(p), written(p))))
def test_any_pan_with_any_separators_is_found(case):
    pan, text = case
    assert contains_pan(text)
    assert contains_pan(f"note: {text} thanks")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(hidden_in_document())
def test_a_pan_at_any_depth_is_found_at_its_path(case):
    doc, path = case
    assert path in find_card_data(doc)


@given(st.text(string.ascii_letters + " .,-", max_size=200))
def test_text_without_digits_never_has_card_data(text):
    assert not contains_pan(text)
    assert find_card_data({"note": text}) == []


@given(st.text("0123456789", min_size=1, max_size=12), st.text("0123456789", max_size=12))
def test_short_digit_runs_are_never_pans(a, b):
    assert not contains_pan(a + " x " + b)


def test_a_random_long_digit_string_is_refused_about_as_often_as_luhn_predicts():
    """Documented trade-off: a 16-digit run that is not a PAN is refused about 1 time in 10."""
    rng = random.Random(7)
    runs = ["".join(rng.choice("0123456789") for _ in range(16)) for _ in range(4000)]
    share = sum(contains_pan(r) for r in runs) / len(runs)
    assert 0.07 < share < 0.12  # Luhn: 1 in 10; minus the runs starting with 0
