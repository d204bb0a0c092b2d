"""Settings of the shared constructs: what a function, table, queue, bucket or API is given.

Each class is a frozen, keyword-only dataclass whose fields are also its configuration reader
(:mod:`stacks.validation`): a system's settings (``stacks/payments/settings.py``,
``stacks/platform/settings.py``) embed them, so ``cdk.json`` spells a function or a table the
same way everywhere. Nothing here imports the CDK.
"""

from __future__ import annotations

import re
from typing import Literal

from stacks.validation import (
    Architecture,
    Invalid,
    Retention,
    Runtime,
    settings,
    whole,
)

#: Headers CloudFront refuses as custom origin headers, or that the API reads from the viewer.
RESERVED_ORIGIN_HEADERS = ("x-amz-", "x-edge-", "x-forwarded-", "x-real-ip", "x-api-key", "x-amzn-")


@settings
class FunctionSettings:
    """How the functions of a service are sized and observed (one value per environment)."""

    runtime: Runtime
    architecture: Architecture
    memory_mb: whole(128, 10240)
    timeout_s: whole(1, 900)
    log_retention_days: Retention
    tracing: bool


@settings
class TableSettings:
    """Capacity and recovery of a table; capacity numbers apply in ``provisioned`` mode only."""

    billing_mode: Literal["on_demand", "provisioned"]
    read_capacity: whole(1)
    write_capacity: whole(1)
    max_read_capacity: whole(1)
    max_write_capacity: whole(1)
    target_utilization_percent: whole(20, 90)
    point_in_time_recovery: bool

    def __post_init__(self) -> None:
        for kind in ("read", "write"):
            if getattr(self, f"max_{kind}_capacity") < getattr(self, f"{kind}_capacity"):
                raise Invalid(f"must be >= {kind}_capacity", key=f"max_{kind}_capacity")

    @property
    def provisioned(self) -> bool:
        return self.billing_mode == "provisioned"


@settings
class QueueSettings:
    """Retention, redrive and consumer settings of a queue and its dead-letter queue."""

    retention_days: whole(1, 14)
    dlq_retention_days: whole(1, 14)
    max_receive_count: whole(1, 1000)
    visibility_timeout_s: whole(0, 43200)
    batch_size: whole(1, 10)
    max_batching_window_s: whole(0, 300)


@settings
class BucketSettings:
    """Versioning and lifecycle of an audit bucket (and of its access-log bucket)."""

    versioned: bool
    lifecycle_enabled: bool
    glacier_transition_days: whole(1)
    glacier_storage_class: Literal["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]


@settings
class ApiSettings:
    """Throttling, keys, logging and WAF settings of one REST API (one value per environment)."""

    stage_rate_limit_rps: whole(1)
    stage_burst_limit: whole(0, 5000)
    key_rate_limit_rps: whole(1)
    key_burst_limit: whole(0, 5000)
    api_key_clients: tuple[str, ...]
    waf_rate_limit: whole(10, 2_000_000_000)
    waf_rate_window_s: Literal[60, 120, 300, 600]
    waf_managed_rule_groups: tuple[str, ...]
    access_log_retention_days: Retention
    execution_log_level: Literal["OFF", "ERROR", "INFO"]
    execution_log_retention_days: Retention
    tracing: bool

    def __post_init__(self) -> None:
        if not self.api_key_clients:
            raise Invalid("must name at least one caller", key="api_key_clients")


@settings
class OriginVerifySettings:
    """The secret header CloudFront adds to every origin request (``edge.origin_verify``).

    ``action`` is what the API's regional web ACL does with a request that lacks the header
    or carries a wrong value: ``block`` (the steady state), or ``count`` for the one
    deployment that introduces the check, while the distribution does not yet send it.
    """

    header: str
    action: Literal["block", "count"]

    def __post_init__(self) -> None:
        if not re.fullmatch(r"x-[a-z0-9]+(-[a-z0-9]+)*", self.header):
            raise Invalid("must be a lower-case header name starting with x-", key="header")
        if self.header.startswith(RESERVED_ORIGIN_HEADERS):
            raise Invalid(
                "is reserved: CloudFront refuses it as a custom origin header, or the API reads "
                f"it from the caller ({', '.join(RESERVED_ORIGIN_HEADERS)})",
                key="header",
            )
