"""The ``global_data`` section: read per environment, and refused in one sentence when wrong."""

from __future__ import annotations

from typing import Any

import pytest
from global_data_support import cdk_context

from stacks.config import ConfigError, load_configuration


def _load(env: str, change: Any = None) -> Any:
    ctx = cdk_context()
    if change is not None:
        change(ctx)
    return load_configuration({**ctx, "env": env})


@pytest.mark.parametrize(
    ("env", "primary", "domain", "alarms", "rps"),
    [
        ("dev", "us-east-1", "global-data.dev.payments.example.com", False, 100),
        ("staging", "us-east-2", "global-data.staging.payments.example.com", True, 1000),
        ("production", "us-east-1", "global-data.payments.example.com", True, 5000),
    ],
)
def test_each_environment_reads_its_values(env, primary, domain, alarms, rps) -> None:
    config = _load(env)
    s = config.global_data
    assert (config.region, config.secondary_region) == (primary, "us-west-2")
    assert s.failover.domain_name == domain
    assert s.failover.certificate("primary").split(":")[3] == primary
    assert s.failover.certificate("secondary").split(":")[3] == "us-west-2"
    assert s.api.on(config.payments.api).waf_managed_rule_groups == (
        config.payments.api.waf_managed_rule_groups
    )
    assert s.alarms.enabled is alarms
    assert s.api.stage_rate_limit_rps == rps
    assert (s.processor.memory_mb, s.processor.timeout_s, s.processor.architecture) == (
        512,
        60,
        "arm64",
    )
    assert s.keys.pending_window_days == 10
    assert (s.failover.health_check.failure_threshold, s.failover.health_check.request_interval_s) == (3, 30)  # fmt: skip


def _env(ctx: dict, env: str) -> dict:
    return ctx["environments"][env]["global_data"]


def _certificate_of_another_region(ctx: dict) -> None:
    certs = _env(ctx, "dev")["failover"]["certificate_arns"]
    certs["secondary"] = certs["primary"]


def _missing_certificate(ctx: dict) -> None:
    del _env(ctx, "dev")["failover"]["certificate_arns"]["secondary"]


def _domain_outside_zone(ctx: dict) -> None:
    _env(ctx, "dev")["failover"]["domain_name"] = "api.other.example.org"


def _same_regions(ctx: dict) -> None:
    ctx["environments"]["dev"]["secondary_region"] = "us-east-1"


def _window(ctx: dict) -> None:
    ctx["defaults"]["global_data"]["keys"]["pending_window_days"] = 3


def _interval(ctx: dict) -> None:
    ctx["defaults"]["global_data"]["failover"]["health_check"]["request_interval_s"] = 20


def _currency(ctx: dict) -> None:
    ctx["defaults"]["global_data"]["processor"]["currencies"] = ["usd"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _certificate_of_another_region,
            "environments.dev.global_data.failover.certificate_arns.secondary is an ACM "
            "certificate of another region",
        ),
        (
            _missing_certificate,
            "missing key environments.dev.global_data.failover.certificate_arns.secondary",
        ),
        (_domain_outside_zone, "must be inside the hosted zone payments.example.com"),
        (_same_regions, "a global table needs a second region"),
        (_window, "defaults.global_data.keys.pending_window_days must be a whole number between 7"),
        (_interval, "defaults.global_data.failover.health_check.request_interval_s must be one of 10, 30"),
        (_currency, "must be three-letter upper-case ISO 4217 codes"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_in_one_sentence(change, message) -> None:
    with pytest.raises(ConfigError) as caught:
        _load("dev", change)
    assert message in str(caught.value)
