"""Webhook authenticity: an HMAC-SHA256 signature per provider, a tolerance window, no replays.

A provider signs each delivery as payment providers document for their webhooks::

    X-Webhook-Provider:  stripe
    X-Webhook-Timestamp: 1714564800                 (Unix seconds when the delivery was signed)
    X-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body bytes)>

Several ``v1=`` values may be sent, comma separated, so a provider can sign with an old and a
new secret while the secret is being rotated. :func:`verify` checks, in this order, that the
provider is a configured one, the timestamp is a whole number within ``tolerance_s`` of now,
and one signature matches (``hmac.compare_digest``: constant time). Every failure raises
:class:`Unauthorized` whose ``reason`` is for the log only; the caller answers 401 with a fixed
body and never echoes a header, the body or the reason.

Replays: a valid signature is good only once. :func:`claim` records its digest in the replay
table with a conditional ``PutItem`` (``attribute_not_exists``) and a DynamoDB TTL of the end of
the tolerance window; a second delivery of the same signed request inside the window finds the
claim and is refused, and after the window its timestamp is stale. :func:`release` drops a claim
when the request could not be processed (a 5xx), so the provider's identical retry is accepted.

Secrets come from Secrets Manager (:func:`secret_for`), one secret per provider, cached for
``cache_s`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from payments_common.aws import client

PROVIDER_HEADER = "x-webhook-provider"
TIMESTAMP_HEADER = "x-webhook-timestamp"
SIGNATURE_HEADER = "x-webhook-signature"
SCHEME = "v1"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"[0-9a-f]{64}")

_CACHE: dict[str, tuple[float, bytes]] = {}
_LOCK = threading.Lock()


class Unauthorized(Exception):
    """The delivery is not authentic (or is a replay); ``reason`` goes to the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(secret: bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Webhook-Signature`` value for ``body`` signed at ``timestamp`` (what providers do)."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def lower_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """API Gateway passes headers as sent; HTTP header names are case-insensitive."""
    return {str(k).lower(): v for k, v in (headers or {}).items() if isinstance(v, str)}


def verify(
    headers: Mapping[str, str],
    body: bytes,
    *,
    providers: Mapping[str, str],
    secret: Callable[[str], bytes],
    tolerance_s: int,
    now: float | None = None,
) -> tuple[str, int, str]:
    """Check a delivery; return ``(provider, timestamp, signature digest)`` or raise.

    ``headers`` have lower-case names; ``providers`` maps a provider to its secret's name;
    ``secret(name)`` returns the secret's bytes.
    """
    provider = headers.get(PROVIDER_HEADER, "")
    if provider not in providers:
        raise Unauthorized("unknown or missing provider")
    stamp = headers.get(TIMESTAMP_HEADER, "")
    if not _TIMESTAMP.fullmatch(stamp):
        raise Unauthorized("missing or malformed timestamp")
    moment = int(stamp)
    current = time.time() if now is None else now
    if abs(current - moment) > tolerance_s:
        raise Unauthorized("timestamp outside the tolerance window")
    offered = [
        part.strip()[len(SCHEME) + 1 :]
        for part in headers.get(SIGNATURE_HEADER, "").split(",")
        if part.strip().startswith(f"{SCHEME}=")
    ]
    offered = [value for value in offered if _HEX.fullmatch(value)]
    if not offered:
        raise Unauthorized("missing or malformed signature")
    expected = sign(secret(providers[provider]), stamp, body)[len(SCHEME) + 1 :]
    matched = [value for value in offered if hmac.compare_digest(value, expected)]
    if not matched:
        raise Unauthorized("signature mismatch")
    return provider, moment, matched[0]


def secret_for(name: str, cache_s: int) -> bytes:
    """The current value of the Secrets Manager secret ``name`` (cached for ``cache_s``)."""
    with _LOCK:
        cached = _CACHE.get(name)
    if cached and time.monotonic() - cached[0] < cache_s:
        return cached[1]
    value = client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    secret = value.encode()
    with _LOCK:
        _CACHE[name] = (time.monotonic(), secret)
    return secret


def clear_cache() -> None:
    """Forget cached secrets (tests; a rotated secret is otherwise picked up after cache_s)."""
    with _LOCK:
        _CACHE.clear()


def replay_id(provider: str, timestamp: int, digest: str) -> str:
    """The replay table's key of one signed delivery."""
    return hashlib.sha256(f"{provider}\n{timestamp}\n{digest}".encode()).hexdigest()


def claim(table: str, key: str, expires_at: int) -> bool:
    """Record a signed delivery; False if it was recorded before (a replay)."""
    try:
        client("dynamodb").put_item(
            TableName=table,
            Item={"signature_id": {"S": key}, "expires_at": {"N": str(expires_at)}},
            ConditionExpression="attribute_not_exists(signature_id)",
        )
    except client("dynamodb").exceptions.ConditionalCheckFailedException:
        return False
    return True


def release(table: str, key: str) -> None:
    """Drop a claim (best effort) so that the provider's retry of a failed request is accepted."""
    try:
        client("dynamodb").delete_item(TableName=table, Key={"signature_id": {"S": key}})
    except Exception:  # noqa: BLE001 - best effort: the claim expires with the window anyway
        return
