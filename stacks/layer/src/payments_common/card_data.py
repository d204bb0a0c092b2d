"""Detection of cardholder data (PCI DSS 3.3-3.5) in a parsed webhook, before anything is stored.

A primary account number (PAN) is found by the Luhn check over *digit runs*: digits joined by at
most :data:`MAX_SEPARATOR` characters that are neither letters nor digits (spaces, dots, dashes,
slashes, underscores, colons, several of them in a row), Unicode decimal digits included
(full-width ``４１１１`` is read as ``4111``). A run is checked whole and as every sequence of its
consecutive digit groups of 13 to 19 digits, so a PAN inside a longer run
(``order 12 4111 1111 1111 1111``) is found too; digits written without separators are one group.
Numbers starting with 0 are not PANs (no scheme issues them), which also spares runs of zeros. The
scan covers, at any depth:

* string values;
* numbers, whatever their spelling: ``4111111111111111``, ``4111111111111111.0`` and
  ``4111111111111111e0`` are one integer part of 16 digits (the integer and fractional parts of a
  number are separate runs, so an amount such as ``999999999999.99`` is not one run);
* object keys (a PAN used as a key);
* key *names* that denote card data: card number, PAN, CVV/CVC/CSC/CID-style security codes,
  track 1/2 data, magnetic stripe, PIN blocks, under any spelling (``card_cvv``, ``cardCvv``,
  ``CVV2``, ``card-security-code``, ``track_2_data``).

A finding is a *path* (tuple of keys and indexes); a key that itself holds a PAN is reported as
the path of its object plus :data:`KEY_MARKER`, so the path never contains the number. Random
13-19 digit windows pass Luhn one time in ten, so a long digit run that is not card data can be
refused (about one 16-digit order number in ten): that is the price of refusing every PAN
(docs/payments.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

#: Shortest and longest PAN (ISO/IEC 7812).
PAN_MIN, PAN_MAX = 13, 19
#: Most consecutive non-alphanumeric characters that still join two digits into one run.
MAX_SEPARATOR = 3
#: The path component reported for an object key that holds a PAN (the key itself is not shown).
KEY_MARKER = "<key>"

#: A digit run: Unicode decimal digits joined by up to MAX_SEPARATOR non-alphanumerics.
DIGIT_RUN = re.compile(rf"\d(?:[\W_]{{0,{MAX_SEPARATOR}}}\d)*")

#: Substrings of a normalised key name (lower case, letters and digits only) that denote card data.
CARD_KEY_PARTS = (
    "cardnumber",
    "cardnum",
    "cardno",
    "ccnumber",
    "ccnum",
    "ccno",
    "creditcard",
    "debitcard",
    "primaryaccountnumber",
    "accountnumber",
    "cvv",
    "cvc",
    "cvn",
    "cav2",
    "cvd",
    "securitycode",
    "cardcode",
    "verificationcode",
    "verificationvalue",
    "track1",
    "track2",
    "trackdata",
    "trackone",
    "tracktwo",
    "magstripe",
    "magneticstripe",
    "pinblock",
    "pincode",
)
#: Whole words of a key name (split at non-alphanumerics and camelCase) that denote card data.
CARD_KEY_WORDS = frozenset({"pan", "csc", "cid", "pin", "track"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def normalise_key(key: object) -> str:
    """``"Card-CVV_2"`` -> ``"cardcvv2"``: lower case, letters and digits only."""
    return "".join(c for c in str(key).lower() if c.isalnum())


def is_card_data_key(key: object) -> bool:
    """True if a field name denotes card data (PAN, security code, track data, PIN)."""
    norm = normalise_key(key)
    if any(part in norm for part in CARD_KEY_PARTS):
        return True
    words = {w.lower() for w in _WORD.findall(str(key))}
    return bool(words & CARD_KEY_WORDS)


def luhn_valid(digits: str) -> bool:
    """True if ``digits`` (ASCII digits only) passes the Luhn checksum used by card numbers."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


_GROUP = re.compile(r"\d+")


def digit_runs(text: str) -> Iterator[tuple[re.Match[str], list[str]]]:
    """Each digit run of ``text`` with its digit groups (between separators), in ASCII."""
    for match in DIGIT_RUN.finditer(text):
        yield match, [_ascii_digits(g) for g in _GROUP.findall(match.group())]


def is_pan(digits: str) -> bool:
    """A 13-19 digit, Luhn-valid number not starting with 0 (no card scheme issues those)."""
    return PAN_MIN <= len(digits) <= PAN_MAX and digits[0] != "0" and luhn_valid(digits)


def has_pan_window(groups: list[str]) -> bool:
    """True if consecutive groups of a run spell a PAN (the whole run, or part of it).

    Windows start and end at group boundaries: ``12 4111 1111 1111 1111`` holds the PAN of its
    last four groups; digits written without separators are one group, checked whole."""
    for start in range(len(groups)):
        digits = ""
        for group in groups[start:]:
            digits += group
            if len(digits) > PAN_MAX:
                break
            if is_pan(digits):
                return True
    return False


def contains_pan(text: str) -> bool:
    """True if a digit run of ``text`` (or consecutive groups of it) is a Luhn-valid PAN."""
    return any(has_pan_window(groups) for _, groups in digit_runs(text))


def number_runs(value: int | float | Decimal) -> tuple[str, ...]:
    """The digit runs of a number: its integer part and its fractional part, in plain digits.

    ``Decimal("4111111111111111e0")`` and ``Decimal("4111111111111111.0")`` both give
    ``("4111111111111111", ...)``. Exponents are applied without writing out more zeros than a
    PAN window can use, so ``1e999999`` costs nothing.
    """
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        return ()
    _, digits, exponent = number.as_tuple()
    mantissa = "".join(map(str, digits))
    assert isinstance(exponent, int)
    if exponent >= 0:
        return (mantissa + "0" * min(exponent, PAN_MAX),)
    point = len(mantissa) + exponent
    if point <= 0:
        return ("0", "0" * min(-point, PAN_MAX) + mantissa)
    return (mantissa[:point], mantissa[point:])


def is_pan_number(value: int | float | Decimal) -> bool:
    """True if a number's integer part, fractional part or digits without trailing zeros are a PAN.

    ``4111111111111111e3`` is caught by its mantissa, ``4111111111111111.0`` by its integer part."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        return False
    mantissa = "".join(map(str, number.as_tuple().digits)).rstrip("0")
    return any(is_pan(run) or is_pan(run.rstrip("0")) for run in (*number_runs(number), mantissa))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def find_card_data(value: Any, skip: frozenset[tuple] = frozenset()) -> list[tuple]:
    """The paths of card data anywhere in ``value`` (see the module docstring).

    ``skip`` lists paths whose *value* is not scanned because its format makes a PAN
    impossible and is checked elsewhere (the webhook's normalised ``timestamp``).
    """
    found: list[tuple] = []
    stack: list[tuple[tuple, Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if path in skip:
            continue
        if isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and contains_pan(key):
                    found.append((*path, KEY_MARKER))
                elif is_card_data_key(key):
                    found.append((*path, key))
                else:
                    stack.append(((*path, key), child))
        elif isinstance(item, list | tuple):
            stack.extend(((*path, index), child) for index, child in enumerate(item))
        elif isinstance(item, str):
            if contains_pan(item):
                found.append(path)
        elif _is_number(item) and is_pan_number(item):
            found.append(path)
    return sorted(found, key=lambda p: [str(part) for part in p])
