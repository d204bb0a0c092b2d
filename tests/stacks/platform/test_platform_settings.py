"""The hardened platform's settings: typed reading, errors naming the key, the legacy overlay."""

from __future__ import annotations

import pytest
from hardened_support import ENVIRONMENTS, cdk_context, environment

from stacks.config import ConfigError
from stacks.hardened_config import platform_settings


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_optimised_settings_per_environment(env: str) -> None:
    s = platform_settings(environment(env))
    assert s.network.max_azs == 3
    expected_nat = {"dev": ("instance", 1), "staging": ("gateway", 1), "production": ("gateway", 3)}
    assert (s.network.nat.mode, s.network.nat.gateways) == expected_nat[env]
    assert s.network.nat.instance_type == "t4g.nano"
    assert s.functions.architecture == "arm64"
    assert 512 <= s.functions.memory_mb <= 1024
    assert s.storage.lifecycle and s.storage.glacier_after_days == 30
    assert s.storage.audit_retention_days >= 365 and s.storage.audit_hot_days >= 90
    assert s.logs.app_retention_days == 7
    assert s.consolidated_api is True
    assert s.alerts.alarms is (env != "dev")
    assert s.security.shield_advanced is (env == "production")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_legacy_overlay_changes_only_the_cost_levers(env: str) -> None:
    before = platform_settings(environment(env, "legacy"))
    after = platform_settings(environment(env))
    assert (before.network.nat.mode, before.network.nat.gateways) == ("gateway", 3)
    assert (before.functions.memory_mb, before.functions.architecture) == (3008, "x86_64")
    assert before.storage.lifecycle is False and before.storage.intelligent_tiering is False
    assert before.logs.app_retention_days is None
    assert before.consolidated_api is False
    assert before.compute.instance_type == "m5.large"
    # security and alerting are not cost levers: identical under both profiles
    assert before.security == after.security
    assert before.alerts == after.alerts
    assert before.cost == after.cost
    assert before.storage.audit_retention_days == after.storage.audit_retention_days


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cost_center_matches_the_governance_tag_value(env: str) -> None:
    ctx = cdk_context()
    tag = ctx["governance"]["environments"][env]["tag_values"]["CostCenter"]
    assert platform_settings(environment(env)).cost.cost_center == tag


def _with(mutate) -> ConfigError:  # type: ignore[no-untyped-def]
    ctx = cdk_context()
    mutate(ctx["environments"]["dev"]["platform"])
    with pytest.raises(ConfigError) as info:
        platform_settings(environment("dev", context=ctx))
    return info.value


def test_missing_key_is_named() -> None:
    error = _with(lambda p: p["compute"].pop("instance_type"))
    assert str(error) == "missing key environments.dev.platform.compute.instance_type"


def test_nat_instance_mode_allows_one_instance_only() -> None:
    error = _with(lambda p: p["network"]["nat"].update(gateways=2))
    assert "environments.dev.platform.network.nat.gateways must be 1 when mode is instance" in str(
        error
    )


def test_existing_detector_needs_an_id() -> None:
    error = _with(lambda p: p["security"].update(guardduty={"mode": "existing"}))
    assert str(error) == "missing key environments.dev.platform.security.guardduty.detector_id"


def test_app_log_retention_must_be_a_cloudwatch_period() -> None:
    error = _with(lambda p: p["logs"].update(app_retention_days=10))
    assert 'environments.dev.platform.logs.app_retention_days must be "never"' in str(error)


def test_audit_hot_days_at_least_ninety() -> None:
    error = _with(lambda p: p["storage"].update(audit_hot_days=30))
    assert "environments.dev.platform.storage.audit_hot_days" in str(error)


def test_invalid_subscription_address_is_named() -> None:
    error = _with(lambda p: p["alerts"]["subscriptions"].update(cost=["not-an-address"]))
    assert "environments.dev.platform.alerts.subscriptions.cost" in str(error)


def test_never_expire_is_spelled_never_because_the_cli_drops_null() -> None:
    ctx = cdk_context()
    overlay = ctx["platform_profiles"]["legacy"]["all"]
    assert overlay["platform"]["logs"]["app_retention_days"] == "never"
    assert overlay["payments"]["functions"]["log_retention_days"] == "never"
    assert platform_settings(environment("dev", "legacy")).logs.app_retention_days is None
    error = _with(lambda p: p["logs"].update(app_retention_days="forever"))
    assert 'app_retention_days must be "never" (or null)' in str(error)
