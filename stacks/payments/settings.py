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

    #: reserved executions of process-payment
    process_payment: whole(1)
    #: reserved executions of process-accounting (and its pollers)
    process_accounting: ConsumerConcurrency
    #: reserved executions of notify-failures (and its pollers)
    notify_failures: ConsumerConcurrency


@settings
class PaymentsFunctions(FunctionSettings):
    """Sizing of the pipeline's functions, and the reserved concurrency of each."""

    #: reserved concurrency of each function
    reserved_concurrency: ReservedConcurrency


@settings
class AlarmSettings:
    """CloudWatch alarms; ``enabled`` false creates none (and no alarm permissions)."""

    #: create the pipeline's alarms
    enabled: bool
    #: alarm when a function's errors exceed this share of invocations
    function_error_rate_percent: Percent
    #: alarm when 5XX responses exceed this share of requests
    api_5xx_rate_percent: Percent
    #: alarm when 4XX responses exceed this share of requests
    api_4xx_rate_percent: Percent
    #: period of the rate alarms
    period_minutes: whole(1, 1440)
    #: periods a rate alarm must breach
    evaluation_periods: whole(1)
    #: alarm at this many messages in the dead-letter queue
    dlq_messages_threshold: whole(1)


@settings
class PaymentsSettings:
    """Every environment-specific value of the webhook pipeline (``environments.<env>.payments``)."""

    #: the three pipeline functions
    functions: PaymentsFunctions
    #: the payment-transactions table
    table: TableSettings
    #: the audit bucket and its access-log bucket
    bucket: BucketSettings
    #: the processing queue and its dead-letter queue
    queue: QueueSettings
    #: the REST API (and, without consolidated_api, the platform's own APIs)
    api: ApiSettings
    #: the pipeline's alarms on the payment-notifications topic
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
