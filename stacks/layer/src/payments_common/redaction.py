"""Redaction of cardholder data and secrets before anything leaves a function in a log line.

PCI DSS forbids writing a primary account number (PAN), CVV or track data to logs. Every
log call in the handlers goes through :func:`redact` (via :mod:`payments_common.jsonlog`):

* values under sensitive keys (card fields, secrets, tokens, signatures) become ``[REDACTED]``;
* any digit run of 13 or more digits inside a string (digits joined by any separators, see
  :mod:`payments_common.card_data`) is masked, whether or not it passes the Luhn check -
  masking a harmless number is cheaper than leaking a real one;
* numbers with 13 or more digits in their integer or fractional part are masked likewise.

:func:`find_card_data` (:mod:`payments_common.card_data`) is the stricter, Luhn-checked
detector used to *reject* payloads; it is re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from payments_common.card_data import (
    DIGIT_RUN,
    PAN_MIN,
    contains_pan,
    find_card_data,
    is_card_data_key,
    luhn_valid,
    normalise_key,
    number_runs,
)

REDACTED = "[REDACTED]"
PAN_MASK = "[PAN REDACTED]"

# Substrings of normalised key names that carry secrets.
SECRET_KEY_PARTS = (
    "secret",
    "password",
    "passwd",
    "token",
    "apikey",
    "authorization",
    "signature",
    "privatekey",
    "credential",
    "cookie",
)


def is_sensitive_key(key: object) -> bool:
    """Return True if the value under this field name must never be logged."""
    norm = normalise_key(key)
    return is_card_data_key(key) or any(part in norm for part in SECRET_KEY_PARTS)


def _mask(match: re.Match[str]) -> str:
    return PAN_MASK if len(_digits(match.group())) >= PAN_MIN else match.group()


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdecimal())


def redact_text(text: str) -> str:
    """Mask every digit run of 13 or more digits in ``text`` (card-number shaped, Luhn or not)."""
    return DIGIT_RUN.sub(_mask, text)


def redact(value: Any) -> Any:
    """Return a deep copy of ``value`` that is safe to log (see module docstring)."""
    if isinstance(value, Mapping):
        return {
            redact_text(k) if isinstance(k, str) else k: REDACTED
            if is_sensitive_key(k)
            else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if (
        isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
        and any(len(run) >= PAN_MIN for run in number_runs(value))
    ):
        return PAN_MASK
    return value


def json_path(parts: Iterable[object]) -> str:
    """Format path components as ``metadata.items[0].note`` (``$`` for the document root)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def safe_fields(
    payload: Any, fields: Iterable[str] = ("transaction_id", "provider", "status")
) -> dict[str, str]:
    """Pick the few scalar fields that may be logged, masked and truncated to 128 characters."""
    if not isinstance(payload, Mapping):
        return {}
    picked: dict[str, str] = {}
    for name in fields:
        value = payload.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            picked[name] = redact_text(str(value))[:128]
    return picked


__all__ = [
    "PAN_MASK",
    "REDACTED",
    "contains_pan",
    "find_card_data",
    "is_card_data_key",
    "is_sensitive_key",
    "json_path",
    "luhn_valid",
    "redact",
    "redact_text",
    "safe_fields",
]
