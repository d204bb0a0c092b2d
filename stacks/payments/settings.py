"""The payment pipeline's settings: the ``payments`` section of an environment, typed and frozen.

Everything that differs between environments (or between the ``optimised`` and ``legacy``
profiles) is a field here; the stack only composes. The fields are the reader
(:mod:`stacks.validation`): a bad value is refused with one sentence naming the key, e.g.
``environments.dev.payments.functions.memory_mb must be a whole number between 128 and 10240;
got '512'``. Nothing here imports the CDK.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import annotated_types

from stacks.constructs.settings import (
    ApiSettings,
    BucketSettings,
    FunctionSettings,
    QueueSettings,
    TableSettings,
)
from stacks.validation import Expect, Invalid, Percent, settings, whole

#: Lambda requires an SQS event source's maximum concurrency to be at least 2.
MIN_CONSUMER_CONCURRENCY = 2
#: The reserved concurrency of a queue consumer, which is also its event source's maximum.
ConsumerConcurrency = Annotated[
    int,
    annotated_types.Ge(MIN_CONSUMER_CONCURRENCY),
    Expect(
        f"a whole number >= {MIN_CONSUMER_CONCURRENCY}: it is also the SQS event source's "
        "maximum concurrency"
    ),
]


@settings
class ReservedConcurrency:
    """Reserved concurrent executions of each function of the pipeline."""

    process_payment: whole(1)
    process_accounting: ConsumerConcurrency
    notify_failures: ConsumerConcurrency


@settings
class PaymentsFunctions(FunctionSettings):
    """Sizing of the pipeline's functions, and the reserved concurrency of each."""

    reserved_concurrency: ReservedConcurrency


@settings
class AlarmSettings:
    """CloudWatch alarms; ``enabled`` false creates none (and no alarm permissions)."""

    enabled: bool
    function_error_rate_percent: Percent
    api_5xx_rate_percent: Percent
    api_4xx_rate_percent: Percent
    period_minutes: whole(1, 1440)
    evaluation_periods: whole(1)
    dlq_messages_threshold: whole(1)


@settings
class PaymentsSettings:
    """Every environment-specific value of the webhook pipeline (``environments.<env>.payments``)."""

    functions: PaymentsFunctions
    table: TableSettings
    bucket: BucketSettings
    queue: QueueSettings
    api: ApiSettings
    alarms: AlarmSettings

    def __post_init__(self) -> None:
        if self.queue.visibility_timeout_s < self.functions.timeout_s:
            raise Invalid(
                f"must be >= the functions' timeout_s ({self.functions.timeout_s}): Lambda "
                "refuses an SQS trigger otherwise",
                key="queue.visibility_timeout_s",
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class EndpointSettings:
    """The platform's status and health endpoints on the payments API (seed 000).

    Not a configuration section of its own: the assembler builds it from ``platform``
    (``consolidated_api``, ``functions``), since the endpoints are sized like the platform's
    functions but must live beside the API they extend.
    """

    consolidated_api: bool
    functions: FunctionSettings
    reserved_concurrency: int
