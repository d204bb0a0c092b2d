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
from stacks.validation import Expect, Invalid, Percent, matching, settings, whole

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
    #: reserved executions of forward-transactions (stream shards x parallelization_factor)
    forward_transactions: whole(1)


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


#: A provider name as it appears in X-Webhook-Provider and in secret names.
ProviderName = matching(
    r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?",
    "a lower-case provider name of 1-32 letters, digits or '-'",
)
#: The base of a Secrets Manager secret name.
SecretBaseName = matching(
    r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", "a lower-case name of letters, digits and '-'"
)
#: DynamoDB refuses items over 400 KB; a body of this size always makes a smaller item.
MAX_WEBHOOK_BODY_BYTES = 131_072


@settings
class WebhookSettings:
    """Who may send webhooks, how they are authenticated, and how large a body may be."""

    #: providers that may send webhooks; each signs with its own secret
    providers: tuple[ProviderName, ...]
    #: base name of each provider's signing secret: <signing_secret_name>-<provider>-<suffix>
    signing_secret_name: SecretBaseName
    #: accept a signature timestamp at most this far from now (replay window)
    signature_tolerance_s: whole(1, 3600)
    #: how long a function caches a signing secret
    secret_cache_s: whole(0, 3600)
    #: largest accepted body (413 above); at most 131072 so that the item fits DynamoDB
    max_body_bytes: whole(1024, MAX_WEBHOOK_BODY_BYTES)
    #: deepest nesting of objects and arrays (400 above)
    max_depth: whole(2, 64)
    #: longest string, key or value, in characters as written (400 above)
    max_string_chars: whole(16, 65536)
    #: longest number, in characters as written (400 above)
    max_number_chars: whole(8, 64)

    def __post_init__(self) -> None:
        if not self.providers:
            raise Invalid("must name at least one provider", key="providers")
        if len(set(self.providers)) != len(self.providers):
            raise Invalid("must not name a provider twice", key="providers")


@settings
class OutboxSettings:
    """The transactional outbox: the table's stream drained by forward-transactions."""

    #: stream records per invocation
    batch_size: whole(1, 10000)
    #: longest wait to fill a batch
    max_batching_window_s: whole(0, 300)
    #: retries of a failing batch before it goes to the dead-letter queue
    retry_attempts: whole(0, 10000)
    #: oldest record retried before it goes to the dead-letter queue (seconds)
    max_record_age_s: whole(60, 604800)
    #: concurrent batches per stream shard
    parallelization_factor: whole(1, 10)
    #: attempts to set the queued marker after a send
    marker_attempts: whole(1, 10)
    #: first backoff between marker attempts, doubled each time (ms)
    marker_backoff_ms: whole(1, 5000)
    #: alarm when the forwarder's iterator age exceeds this (ms)
    iterator_age_alarm_ms: whole(1000)


@settings
class PaymentsSettings:
    """Every environment-specific value of the webhook pipeline (``environments.<env>.payments``)."""

    #: the pipeline's functions
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
    #: webhook authenticity and input bounds
    webhooks: WebhookSettings
    #: the outbox that queues each stored transaction once
    outbox: OutboxSettings

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
