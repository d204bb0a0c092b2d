"""What a naming suffix, an AWS account id and an AWS region look like: one definition each.

The policy (``-c suffix=``), the platform's configuration reader and the ``govern`` command all
check these values here, so they cannot disagree. Every check matches the *whole* value
(``re.fullmatch``): ``$`` in a pattern also matches before a trailing newline, which would let
``"dev\\n"`` through.

Regions are the ones botocore's endpoint data lists (a well-kept list that moves with AWS), so
``xx-mars-1`` is refused although it has the shape of a region.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

#: 1-20 lower-case letters, digits or hyphens, starting and ending with a letter or digit.
SUFFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?")
ACCOUNT = re.compile(r"[0-9]{12}")
#: The shape of a region name, used when botocore's endpoint data cannot be read.
REGION_SHAPE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]")

SUFFIX_RULE = (
    "1-20 lower-case letters, digits or hyphens, starting and ending with a letter or digit"
)


def is_suffix(value: object) -> bool:
    """True when ``value`` can end a physical name (``payment-transactions-<suffix>``)."""
    return isinstance(value, str) and SUFFIX.fullmatch(value) is not None


def is_account(value: object) -> bool:
    """True for a 12-digit AWS account id (ASCII digits only)."""
    return isinstance(value, str) and ACCOUNT.fullmatch(value) is not None


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's endpoint data (empty if unreadable)."""
    try:
        import botocore

        data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
        return frozenset(r for part in data["partitions"] for r in part.get("regions", {}))
    except (ImportError, OSError, ValueError, KeyError, TypeError):
        return frozenset()


def is_region(value: object) -> bool:
    """True for a region AWS has (``us-east-1``); only the shape is checked without botocore."""
    if not isinstance(value, str) or REGION_SHAPE.fullmatch(value) is None:
        return False
    regions = known_regions()
    return not regions or value in regions
