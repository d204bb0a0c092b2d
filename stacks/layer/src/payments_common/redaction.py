"""Redaction of cardholder data and secrets before anything leaves a function in a log line.

PCI DSS forbids writing a primary account number (PAN), CVV or track data to logs. Every
log call in the handlers goes through :func:`redact` (via :mod:`payments_common.jsonlog`):

* values under sensitive keys (card fields, secrets, tokens, signatures) become ``[REDACTED]``;
* any run of 13-19 digits inside a string (optionally split by spaces or dashes) is masked,
  whether or not it passes the Luhn check - masking a harmless number is cheaper than
  leaking a real one;
* integers of 13-19 digits are masked for the same reason.

:func:`find_card_data` is the stricter, Luhn-checked detector used to *reject* payloads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

REDACTED = "[REDACTED]"
PAN_MASK = "[PAN REDACTED]"

# Normalised (lower case, alphanumerics only) key names that carry card data.
CARD_DATA_KEYS = frozenset(
    {
        "cardnumber",
        "cardno",
        "cardnum",
        "ccnumber",
        "ccnum",
        "creditcardnumber",
        "pan",
        "primaryaccountnumber",
        "accountnumber",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "securitycode",
        "cardsecuritycode",
        "track1",
        "track2",
        "trackdata",
        "magstripe",
        "pin",
        "pinblock",
    }
)
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

_PAN_CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")


def _normalise_key(key: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def is_card_data_key(key: object) -> bool:
    """Return True if a field name denotes card data (PAN, CVV, track data, PIN)."""
    return _normalise_key(key) in CARD_DATA_KEYS


def is_sensitive_key(key: object) -> bool:
    """Return True if the value under this field name must never be logged."""
    norm = _normalise_key(key)
    return norm in CARD_DATA_KEYS or any(part in norm for part in SECRET_KEY_PARTS)


def luhn_valid(digits: str) -> bool:
    """Return True if ``digits`` (digits only) passes the Luhn checksum used by card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _pan_candidates(text: str) -> Iterator[re.Match[str]]:
    for match in _PAN_CANDIDATE.finditer(text):
        digits = re.sub(r"[^0-9]", "", match.group())
        if 13 <= len(digits) <= 19:
            yield match


def redact_text(text: str) -> str:
    """Mask every 13-19 digit run in ``text`` (card-number shaped, Luhn or not)."""
    return _PAN_CANDIDATE.sub(
        lambda m: PAN_MASK if 13 <= len(re.sub(r"[^0-9]", "", m.group())) <= 19 else m.group(),
        text,
    )


def contains_pan(text: str) -> bool:
    """Return True if ``text`` contains a Luhn-valid 13-19 digit number."""
    return any(luhn_valid(re.sub(r"[^0-9]", "", m.group())) for m in _pan_candidates(text))


def redact(value: Any) -> Any:
    """Return a deep copy of ``value`` that is safe to log (see module docstring)."""
    if isinstance(value, Mapping):
        return {k: REDACTED if is_sensitive_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and 13 <= len(str(abs(value))) <= 19:
        return PAN_MASK
    return value


def json_path(parts: Iterable[object]) -> str:
    """Format path components as ``metadata.items[0].note`` (``$`` for the document root)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def find_card_data(value: Any, skip_keys: frozenset[str] = frozenset()) -> list[tuple]:
    """Return the paths (tuples of keys/indexes) of card data anywhere in ``value``.

    Flags fields whose *name* denotes card data (``card_number``, ``cvv``, ...) and values
    holding a Luhn-valid 13-19 digit number (inside strings, or whole integers). Top-level
    keys in ``skip_keys`` (fields with their own strict format, e.g. ``transaction_id``)
    are not scanned, to avoid rejecting numeric identifiers that happen to pass Luhn.
    """
    found: list[tuple] = []
    _scan(value, (), skip_keys, found)
    return found


def _scan(value: Any, path: tuple, skip_keys: frozenset[str], found: list[tuple]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not path and key in skip_keys:
                continue
            if is_card_data_key(key):
                found.append((*path, key))
            else:
                _scan(item, (*path, key), skip_keys, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _scan(item, (*path, index), skip_keys, found)
    elif isinstance(value, str):
        if contains_pan(value):
            found.append(path)
    elif isinstance(value, int) and not isinstance(value, bool):
        digits = str(abs(value))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(path)


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
