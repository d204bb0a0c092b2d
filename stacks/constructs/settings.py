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

    #: Lambda runtime; the shared layer's wheels are built for python3.11
    runtime: Runtime
    #: CPU architecture of the functions
    architecture: Architecture
    #: memory of each function (MB)
    memory_mb: whole(128, 10240)
    #: timeout of each function (seconds)
    timeout_s: whole(1, 900)
    #: retention of each function's log group
    log_retention_days: Retention
    #: X-Ray active tracing
    tracing: bool


@settings
class TableSettings:
    """Capacity and recovery of a table; capacity numbers apply in ``provisioned`` mode only."""

    #: on-demand, or provisioned capacity with auto scaling
    billing_mode: Literal["on_demand", "provisioned"]
    #: provisioned baseline read capacity units
    read_capacity: whole(1)
    #: provisioned baseline write capacity units
    write_capacity: whole(1)
    #: auto-scaling ceiling of read capacity
    max_read_capacity: whole(1)
    #: auto-scaling ceiling of write capacity
    max_write_capacity: whole(1)
    #: auto-scaling target utilisation
    target_utilization_percent: whole(20, 90)
    #: point-in-time recovery of the table
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

    #: how long the queue keeps a message
    retention_days: whole(1, 14)
    #: how long the dead-letter queue keeps a message
    dlq_retention_days: whole(1, 14)
    #: receives before a message moves to the dead-letter queue
    max_receive_count: whole(1, 1000)
    #: visibility timeout of both queues (at least the consumers' timeout)
    visibility_timeout_s: whole(0, 43200)
    #: messages per consumer invocation
    batch_size: whole(1, 10)
    #: longest wait to fill a batch
    max_batching_window_s: whole(0, 300)


@settings
class BucketSettings:
    """Versioning and lifecycle of an audit bucket (and of its access-log bucket)."""

    #: keep every version of an object
    versioned: bool
    #: move objects to Glacier (off: S3 Standard forever)
    lifecycle_enabled: bool
    #: age at which objects move to Glacier
    glacier_transition_days: whole(1)
    #: the Glacier class objects move to
    glacier_storage_class: Literal["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]


@settings
class ApiSettings:
    """Throttling, keys, logging and WAF settings of one REST API (one value per environment)."""

    #: stage throttle: steady requests per second
    stage_rate_limit_rps: whole(1)
    #: stage throttle: burst
    stage_burst_limit: whole(0, 5000)
    #: usage-plan throttle per API key: requests per second
    key_rate_limit_rps: whole(1)
    #: usage-plan throttle per API key: burst
    key_burst_limit: whole(0, 5000)
    #: one API key per caller, named after it
    api_key_clients: tuple[str, ...]
    #: requests per client IP per window before the WAF blocks
    waf_rate_limit: whole(10, 2_000_000_000)
    #: the WAF rate rule's window
    waf_rate_window_s: Literal[60, 120, 300, 600]
    #: AWS managed rule groups of the web ACL, in order
    waf_managed_rule_groups: tuple[str, ...]
    #: retention of the API access logs (an audit log: 365+)
    access_log_retention_days: Retention
    #: API Gateway execution logging level
    execution_log_level: Literal["OFF", "ERROR", "INFO"]
    #: retention of the execution logs
    execution_log_retention_days: Retention
    #: X-Ray tracing on the stage
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

    #: the header CloudFront adds to every origin request
    header: str
    #: what the API's web ACL does without the right value (count: rollout only)
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
