"""Shared helpers for the payment platform Lambda functions (shipped in the Lambda layer).

- :mod:`payments_common.card_data` finds card data (PANs by Luhn over digit runs, card-data key
  names) in payloads so they can be refused.
- :mod:`payments_common.redaction` masks card data and secrets before anything is logged.
- :mod:`payments_common.bounds` checks a JSON text's size and shape before it is parsed.
- :mod:`payments_common.signatures` verifies webhook signatures and refuses replays.
- :mod:`payments_common.jsonlog` writes one JSON object per log line, always redacted.
- :mod:`payments_common.responses` builds API Gateway proxy responses.
- :mod:`payments_common.aws` creates boto3 clients lazily and caches them.
- :mod:`payments_common.rotation` checks a Secrets Manager rotation event (shared by the
  rotation functions).
"""

from payments_common.aws import client
from payments_common.jsonlog import get_logger, log_event
from payments_common.redaction import (
    REDACTED,
    contains_pan,
    find_card_data,
    is_card_data_key,
    is_sensitive_key,
    json_path,
    luhn_valid,
    redact,
    redact_text,
    safe_fields,
)
from payments_common.responses import json_response

__all__ = [
    "REDACTED",
    "client",
    "contains_pan",
    "find_card_data",
    "get_logger",
    "is_card_data_key",
    "is_sensitive_key",
    "json_path",
    "json_response",
    "log_event",
    "luhn_valid",
    "redact",
    "redact_text",
    "safe_fields",
]
