"""Bounded input: a JSON text's size and shape checked *before* it is parsed into Python objects.

``json.loads`` on a hostile text can recurse a thousand levels deep (``RecursionError``), build a
megabyte string, or turn ``1e999999`` into a number no one can format. :func:`check_json_text`
walks the text once with a linear-time tokenizer (strings, brackets, numbers) and refuses it when

* it is longer than ``max_bytes`` (UTF-8) - :class:`TooLarge`, answered 413;
* brackets nest deeper than ``max_depth``, a string (key or value, as written, escapes
  included) is longer than ``max_string_chars``, or a number is written with more than
  ``max_number_chars`` characters - :class:`Malformed`, answered 400.

The limits are the webhook's (``payments.webhooks`` in cdk.json) in process-payment, and fixed
ones for queue messages in the consumers. Nothing here parses: a text that passes may still be
invalid JSON, which ``json.loads`` then reports.
"""

from __future__ import annotations

import dataclasses
import re

#: One token: a string (unrolled loop: linear, no catastrophic backtracking), a bracket or a
#: number-like run. An unterminated string matches only its quote.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{}]|[-+0-9.eE]+', re.DOTALL)


class InputRejected(ValueError):
    """The text can never be accepted; ``status`` is the HTTP status to answer with."""

    status = 400
    error = "invalid_body"


class TooLarge(InputRejected):
    status = 413
    error = "payload_too_large"


class Malformed(InputRejected):
    status = 400
    error = "invalid_body"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What a JSON text may be: size, nesting depth, string and number lengths."""

    max_bytes: int
    max_depth: int
    max_string_chars: int
    max_number_chars: int


#: The limits the queue consumers apply to a message body (far above any message we send).
MESSAGE_LIMITS = Limits(
    max_bytes=256 * 1024, max_depth=8, max_string_chars=4096, max_number_chars=64
)


def check_json_text(text: str, limits: Limits) -> None:
    """Raise :class:`TooLarge` or :class:`Malformed` if ``text`` exceeds ``limits``."""
    if (
        len(text) > limits.max_bytes
        or len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes
    ):
        raise TooLarge(f"the body is larger than {limits.max_bytes} bytes")
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            if len(token) - 2 > limits.max_string_chars:
                raise Malformed(f"a string is longer than {limits.max_string_chars} characters")
        elif first in "[{":
            depth += 1
            if depth > limits.max_depth:
                raise Malformed(f"the body nests deeper than {limits.max_depth} levels")
        elif first in "]}":
            depth -= 1
        elif len(token) > limits.max_number_chars:
            raise Malformed(f"a number is longer than {limits.max_number_chars} characters")
