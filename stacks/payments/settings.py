"""The payment platform's settings: ``environments.<env>.payments`` read into frozen dataclasses.

Everything that differs between environments (or between the ``optimised`` and ``legacy``
profiles, whose overlay :func:`stacks.config.load_environment` has already merged) is a value
here; the stack only composes. Bad values raise :class:`~stacks.config.ConfigError` naming the
key, e.g. ``environments.dev.payments.functions.memory_mb must be a whole number between 128
and 10240; got '512'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from stacks.config import ConfigError, ConfigReader, EnvironmentConfig
from stacks.constructs import (
    ApiSettings,
    BucketSettings,
    FunctionSettings,
    QueueSettings,
    TableSettings,
)
from stacks.constructs.bucket import GLACIER_CLASSES
from stacks.constructs.function import ARCHITECTURES, PYTHON_RUNTIMES
from stacks.constructs.logs import RETENTION_DAYS
from stacks.constructs.platform_api import LOG_LEVELS
from stacks.constructs.table import BILLING_MODES

#: The functions of the pipeline, as named under ``functions.reserved_concurrency``.
FUNCTIONS = ("process_payment", "process_accounting", "notify_failures")
#: Lambda's limit on an SQS event source's maximum concurrency is at least 2.
MIN_CONSUMER_CONCURRENCY = 2


@dataclass(frozen=True)
class AlarmSettings:
    """CloudWatch alarms; ``enabled`` false creates none (and no alarm permissions)."""

    enabled: bool
    function_error_rate_percent: float
    api_5xx_rate_percent: float
    api_4xx_rate_percent: float
    period_minutes: int
    evaluation_periods: int
    dlq_messages_threshold: int


@dataclass(frozen=True)
class PaymentsSettings:
    """Every environment-specific value of the webhook pipeline."""

    functions: FunctionSettings
    reserved_concurrency: Mapping[str, int]
    table: TableSettings
    bucket: BucketSettings
    queue: QueueSettings
    api: ApiSettings
    alarms: AlarmSettings

    @classmethod
    def from_config(cls, config: EnvironmentConfig) -> PaymentsSettings:
        """Read and check ``environments.<env>.payments``."""
        return read_settings(config.section("payments"))


def _retention(reader: ConfigReader, key: str) -> int | None:
    """A log retention in days CloudWatch accepts, or null / "never" (never expire).

    ``"never"`` exists because the CDK CLI drops null values from ``cdk.json`` context."""
    if reader.optional(key) and reader.raw[key] in (None, "never"):
        return None
    days = reader.integer(key, minimum=1)
    if days not in RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in RETENTION_DAYS)
        raise ConfigError(
            f"{reader.where}.{key} must be null (never expire) or one of {allowed}; got {days}"
        )
    return days


def _functions(reader: ConfigReader) -> tuple[FunctionSettings, dict[str, int]]:
    """Function sizing and the reserved concurrency of each function."""
    settings = FunctionSettings(
        runtime=reader.choice("runtime", PYTHON_RUNTIMES),
        architecture=reader.choice("architecture", ARCHITECTURES),
        memory_mb=reader.integer("memory_mb", minimum=128, maximum=10240),
        timeout_s=reader.integer("timeout_s", minimum=1, maximum=900),
        log_retention_days=_retention(reader, "log_retention_days"),
        tracing=reader.boolean("tracing"),
    )
    reserved = reader.section("reserved_concurrency")
    concurrency = {name: reserved.integer(name, minimum=1) for name in FUNCTIONS}
    for consumer in ("process_accounting", "notify_failures"):
        if concurrency[consumer] < MIN_CONSUMER_CONCURRENCY:
            raise ConfigError(
                f"{reserved.where}.{consumer} must be >= {MIN_CONSUMER_CONCURRENCY}: it is also "
                f"the SQS event source's maximum concurrency; got {concurrency[consumer]}"
            )
    return settings, concurrency


def _table(reader: ConfigReader) -> TableSettings:
    settings = TableSettings(
        billing_mode=reader.choice("billing_mode", BILLING_MODES),
        read_capacity=reader.integer("read_capacity", minimum=1),
        write_capacity=reader.integer("write_capacity", minimum=1),
        max_read_capacity=reader.integer("max_read_capacity", minimum=1),
        max_write_capacity=reader.integer("max_write_capacity", minimum=1),
        target_utilization_percent=reader.integer(
            "target_utilization_percent", minimum=20, maximum=90
        ),
        point_in_time_recovery=reader.boolean("point_in_time_recovery"),
    )
    for kind in ("read", "write"):
        if getattr(settings, f"max_{kind}_capacity") < getattr(settings, f"{kind}_capacity"):
            raise ConfigError(f"{reader.where}.max_{kind}_capacity must be >= {kind}_capacity")
    return settings


def _bucket(reader: ConfigReader) -> BucketSettings:
    return BucketSettings(
        versioned=reader.boolean("versioned"),
        lifecycle_enabled=reader.boolean("lifecycle_enabled"),
        glacier_transition_days=reader.integer("glacier_transition_days", minimum=1),
        glacier_storage_class=reader.choice("glacier_storage_class", GLACIER_CLASSES),
    )


def _queue(reader: ConfigReader, function_timeout_s: int) -> QueueSettings:
    settings = QueueSettings(
        retention_days=reader.integer("retention_days", minimum=1, maximum=14),
        dlq_retention_days=reader.integer("dlq_retention_days", minimum=1, maximum=14),
        max_receive_count=reader.integer("max_receive_count", minimum=1, maximum=1000),
        visibility_timeout_s=reader.integer("visibility_timeout_s", minimum=0, maximum=43200),
        batch_size=reader.integer("batch_size", minimum=1, maximum=10),
        max_batching_window_s=reader.integer("max_batching_window_s", minimum=0, maximum=300),
    )
    if settings.visibility_timeout_s < function_timeout_s:
        raise ConfigError(
            f"{reader.where}.visibility_timeout_s must be >= the functions' timeout_s "
            f"({function_timeout_s}); Lambda refuses an SQS trigger otherwise"
        )
    return settings


def _api(reader: ConfigReader) -> ApiSettings:
    clients = reader.string_list("api_key_clients")
    if not clients:
        raise ConfigError(f"{reader.where}.api_key_clients must name at least one caller")
    groups = reader.string_list("waf_managed_rule_groups")
    return ApiSettings(
        stage_rate_limit_rps=reader.integer("stage_rate_limit_rps", minimum=1),
        stage_burst_limit=reader.integer("stage_burst_limit", minimum=0, maximum=5000),
        key_rate_limit_rps=reader.integer("key_rate_limit_rps", minimum=1),
        key_burst_limit=reader.integer("key_burst_limit", minimum=0, maximum=5000),
        api_key_clients=clients,
        waf_rate_limit=reader.integer("waf_rate_limit", minimum=10, maximum=2_000_000_000),
        waf_rate_window_s=_window(reader),
        waf_managed_rule_groups=groups,
        access_log_retention_days=_retention(reader, "access_log_retention_days"),
        execution_log_level=reader.choice("execution_log_level", LOG_LEVELS),
        execution_log_retention_days=_retention(reader, "execution_log_retention_days"),
        tracing=reader.boolean("tracing"),
    )


def _window(reader: ConfigReader) -> int:
    value = reader.integer("waf_rate_window_s")
    if value not in (60, 120, 300, 600):
        raise ConfigError(
            f"{reader.where}.waf_rate_window_s must be 60, 120, 300 or 600; got {value}"
        )
    return value


def _alarms(reader: ConfigReader) -> AlarmSettings:
    return AlarmSettings(
        enabled=reader.boolean("enabled"),
        function_error_rate_percent=reader.number("function_error_rate_percent", 0, 100),
        api_5xx_rate_percent=reader.number("api_5xx_rate_percent", 0, 100),
        api_4xx_rate_percent=reader.number("api_4xx_rate_percent", 0, 100),
        period_minutes=reader.integer("period_minutes", minimum=1, maximum=1440),
        evaluation_periods=reader.integer("evaluation_periods", minimum=1),
        dlq_messages_threshold=reader.integer("dlq_messages_threshold", minimum=1),
    )


def read_settings(reader: ConfigReader) -> PaymentsSettings:
    """Build :class:`PaymentsSettings` from the ``payments`` section."""
    functions, concurrency = _functions(reader.section("functions"))
    return PaymentsSettings(
        functions=functions,
        reserved_concurrency=MappingProxyType(concurrency),
        table=_table(reader.section("table")),
        bucket=_bucket(reader.section("bucket")),
        queue=_queue(reader.section("queue"), functions.timeout_s),
        api=_api(reader.section("api")),
        alarms=_alarms(reader.section("alarms")),
    )
