"""``payments``: typed reading from the layered configuration, clear errors, a profile overlay."""

from __future__ import annotations

import copy

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from payments_support import cdk_context

from stacks.config import ConfigError, load_configuration
from stacks.payments.payments import PaymentsStack
from stacks.payments.settings import PaymentsSettings
from stacks.platform.security import SecurityStack

CONTEXT = cdk_context()
#: The legacy baseline the cost comparison starts from (another profile, same keys).
LEGACY_OVERLAY = {
    "functions": {"memory_mb": 3008, "architecture": "x86_64", "log_retention_days": None},
    "table": {"billing_mode": "provisioned"},
    "bucket": {"lifecycle_enabled": False},
}


def _settings(
    env: str, context: dict | None = None, profile: str | None = None
) -> PaymentsSettings:
    ctx = {**(context or CONTEXT), "env": env, **({"profile": profile} if profile else {})}
    return load_configuration(ctx).payments


def _with(layer: str, path: str, value: object) -> dict:
    """A copy of the context with ``<layer>.payments.<path>`` set (``KeyError``: removed)."""
    ctx = copy.deepcopy(CONTEXT)
    node = ctx
    for part in [*layer.split("."), "payments", *path.split(".")[:-1]]:
        node = node.setdefault(part, {})
    last = path.split(".")[-1]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return ctx


@pytest.mark.parametrize(
    ("env", "billing", "stage_rps", "glacier", "dlq_days", "alarms"),
    [
        ("dev", "on_demand", 100, 30, 3, False),
        ("staging", "on_demand", 1000, 30, 7, True),
        ("production", "provisioned", 10000, 90, 14, True),
    ],
)
def test_each_environment_reads_its_values(env, billing, stage_rps, glacier, dlq_days, alarms):
    s = _settings(env)
    assert s.table.billing_mode == billing
    assert s.api.stage_rate_limit_rps == stage_rps
    assert s.bucket.glacier_transition_days == glacier
    assert s.bucket.lifecycle_enabled and s.bucket.versioned
    assert s.queue.dlq_retention_days == dlq_days
    assert s.alarms.enabled is alarms
    assert (s.functions.memory_mb, s.functions.timeout_s) == (512, 30)
    assert (s.functions.architecture, s.functions.runtime) == ("arm64", "python3.11")
    assert s.alarms.function_error_rate_percent == 1.0
    assert s.alarms.period_minutes == 5


def test_settings_are_frozen():
    s = _settings("dev")
    with pytest.raises(AttributeError):
        s.table = None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        s.functions.reserved_concurrency.process_payment = 1000  # type: ignore[misc]


@pytest.mark.parametrize(
    ("layer", "path", "value", "message"),
    [
        (
            "environments.dev",
            "functions.memory_mb",
            "512",
            "environments.dev.payments.functions.memory_mb must be a whole number between 128 "
            "and 10240; got '512'",
        ),
        (
            "defaults",
            "functions.architecture",
            "arm",
            "defaults.payments.functions.architecture must be one of arm64, x86_64; got 'arm'",
        ),
        (
            "defaults",
            "functions.log_retention_days",
            31,
            'defaults.payments.functions.log_retention_days must be "never" (never expire) or '
            "one of 1, 3, 5, 7",
        ),
        (
            "environments.dev",
            "functions.reserved_concurrency.notify_failures",
            1,
            "environments.dev.payments.functions.reserved_concurrency.notify_failures must be a "
            "whole number >= 2: it is also the SQS event source's maximum concurrency; got 1",
        ),
        (
            "defaults",
            "table.billing_mode",
            "PAY_PER_REQUEST",
            "defaults.payments.table.billing_mode must be one of on_demand, provisioned; "
            "got 'PAY_PER_REQUEST'",
        ),
        (
            "environments.dev",
            "table.max_write_capacity",
            1,
            "environments.dev.payments.table.max_write_capacity must be >= write_capacity; got 1",
        ),
        (
            "defaults",
            "queue.visibility_timeout_s",
            10,
            "defaults.payments.queue.visibility_timeout_s must be >= the functions' timeout_s (30)",
        ),
        (
            "environments.dev",
            "queue.dlq_retention_days",
            15,
            "environments.dev.payments.queue.dlq_retention_days must be a whole number between "
            "1 and 14; got 15",
        ),
        (
            "defaults",
            "api.waf_rate_window_s",
            30,
            "defaults.payments.api.waf_rate_window_s must be one of 60, 120, 300, 600; got 30",
        ),
        (
            "defaults",
            "api.api_key_clients",
            [],
            "defaults.payments.api.api_key_clients must name at least one caller; got []",
        ),
        (
            "defaults",
            "bucket.glacier_storage_class",
            "STANDARD_IA",
            "defaults.payments.bucket.glacier_storage_class must be one of GLACIER_IR, GLACIER, "
            "DEEP_ARCHIVE; got 'STANDARD_IA'",
        ),
        (
            "environments.dev",
            "alarms.enabled",
            "yes",
            "environments.dev.payments.alarms.enabled must be true or false; got 'yes'",
        ),
        (
            "defaults",
            "alarms.period_minutes",
            KeyError,
            "missing key environments.dev.payments.alarms.period_minutes",
        ),
        (
            "environments.dev",
            "alarms.enabeld",
            True,
            "unknown key environments.dev.payments.alarms.enabeld (allowed: enabled, ",
        ),
    ],
)
def test_bad_values_name_the_key(layer, path, value, message):
    with pytest.raises(ConfigError) as caught:
        _settings("dev", _with(layer, path, value))
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_missing_section_names_it():
    ctx = copy.deepcopy(CONTEXT)
    del ctx["defaults"]["payments"]
    del ctx["environments"]["staging"]["payments"]
    with pytest.raises(ConfigError, match=r"^missing key environments\.staging\.payments$"):
        _settings("staging", ctx)


def test_null_log_retention_means_never_expire():
    s = _settings("dev", _with("defaults", "functions.log_retention_days", None))
    assert s.functions.log_retention_days is None


def test_a_profile_overlay_changes_the_template_without_code(tmp_path):
    ctx = copy.deepcopy(CONTEXT)
    ctx["platform_profiles"]["legacy"]["all"]["payments"] = LEGACY_OVERLAY
    ctx["env"] = "dev"
    ctx["profile"] = "legacy"
    app = cdk.App(context=ctx, outdir=str(tmp_path))
    config = load_configuration(ctx)
    security = SecurityStack(app, "PaymentsSecurity", deployment=config.deployment)
    stack = PaymentsStack(
        app, "Payments", deployment=config.deployment, settings=config.payments, key=security.key
    )
    template = Template.from_stack(stack).to_json()["Resources"]
    functions = [r["Properties"] for r in template.values() if r["Type"] == "AWS::Lambda::Function"]
    assert {f["MemorySize"] for f in functions} == {3008}
    assert {tuple(f["Architectures"]) for f in functions} == {("x86_64",)}
    tables = [r["Properties"] for r in template.values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 2
    for table in tables:
        assert table["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    buckets = [r["Properties"] for r in template.values() if r["Type"] == "AWS::S3::Bucket"]
    assert buckets and all("LifecycleConfiguration" not in b for b in buckets)
    lambda_groups = [
        r["Properties"]
        for r in template.values()
        if r["Type"] == "AWS::Logs::LogGroup"
        and str(r["Properties"]["LogGroupName"]).startswith("/aws/lambda/")
    ]
    assert len(lambda_groups) == 4
    assert all("RetentionInDays" not in g for g in lambda_groups)


def test_webhook_and_outbox_settings_are_read():
    s = _settings("production")
    assert s.webhooks.providers == ("stripe", "adyen")
    assert s.webhooks.signature_tolerance_s == 300
    assert s.webhooks.max_body_bytes == 65536
    assert s.outbox.parallelization_factor == 2
    assert s.functions.reserved_concurrency.forward_transactions == 20


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ("webhooks.providers", ["stripe\n"], "must be a lower-case provider name"),
        ("webhooks.providers", ["Stripe"], "must be a lower-case provider name"),
        ("webhooks.providers", [], "must name at least one provider"),
        ("webhooks.providers", ["stripe", "stripe"], "must not name a provider twice"),
        ("webhooks.signing_secret_name", "signing\n", "must be a lower-case name"),
        ("webhooks.max_body_bytes", 400_000, "between 1024 and 131072"),
        ("outbox.parallelization_factor", 11, "between 1 and 10"),
        ("outbox.max_record_age_s", 30, "between 60 and 604800"),
    ],
)
def test_webhook_and_outbox_values_are_checked(path, value, fragment):
    with pytest.raises(ConfigError, match=fragment):
        _settings("dev", _with("defaults", path, value))
