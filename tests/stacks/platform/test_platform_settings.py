"""The platform's settings: typed reading, errors naming the key, the legacy overlay."""

from __future__ import annotations

import pytest
from platform_support import ENVIRONMENTS, cdk_context, configuration

from governance.policy import Policy
from stacks.config import ConfigError


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_optimised_settings_per_environment(env: str) -> None:
    s = configuration(env).platform
    assert s.network.max_azs == 3
    expected_nat = {"dev": ("instance", 1), "staging": ("gateway", 1), "production": ("gateway", 3)}
    assert (s.network.nat.mode, s.network.nat.gateways) == expected_nat[env]
    assert s.network.nat.instance_type == "t4g.nano"
    assert s.functions.architecture == "arm64"
    assert 512 <= s.functions.memory_mb <= 1024
    assert s.storage.lifecycle and s.storage.glacier_after_days == 30
    assert s.storage.audit_retention_days >= 365 and s.storage.audit_hot_days >= 90
    assert s.functions.log_retention_days == 7 and s.functions.tracing is True
    assert s.consolidated_api is True
    assert s.alerts.alarms is (env != "dev")
    assert s.security.shield_advanced is (env == "production")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_legacy_overlay_changes_only_the_cost_levers(env: str) -> None:
    before = configuration(env, "legacy").platform
    after = configuration(env).platform
    assert (before.network.nat.mode, before.network.nat.gateways) == ("gateway", 3)
    assert (before.functions.memory_mb, before.functions.architecture) == (3008, "x86_64")
    assert before.storage.lifecycle is False and before.storage.intelligent_tiering is False
    assert before.functions.log_retention_days is None
    assert before.consolidated_api is False
    assert before.compute.instance_type == "m5.large"
    # security and alerting are not cost levers: identical under both profiles
    assert before.security == after.security
    assert before.alerts == after.alerts
    assert before.cost == after.cost
    assert before.storage.audit_retention_days == after.storage.audit_retention_days


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_cost_centre_is_the_governance_tag_value(env: str) -> None:
    policy = Policy.from_context(cdk_context()["governance"], environment=env)
    assert policy.tag_values["CostCenter"] == "CC-1001"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_subscriptions_resolve_through_the_contacts(env: str) -> None:
    config = configuration(env)
    subs = config.platform.alerts.subscriptions
    assert config.addresses(subs.cost) == ("payments-finops@example.com",)
    assert config.addresses(subs.security)[0] == "payments-security@example.com"
    assert ("soc@example.com" in config.addresses(subs.security)) is (env == "production")
    assert config.addresses(subs.operations) == ("payments-oncall@example.com",)
    assert config.addresses(subs.payments) == ("payments-oncall@example.com",)


def test_every_topic_needs_a_reader() -> None:
    error = _with(
        lambda c: c["environments"]["dev"]["platform"]["alerts"].update(
            subscriptions={"operations": []}
        )
    )
    assert error.startswith("environments.dev.platform.alerts.subscriptions.operations needs")


def _with(mutate, env: str = "dev") -> str:  # type: ignore[no-untyped-def]
    ctx = cdk_context()
    mutate(ctx)
    with pytest.raises(ConfigError) as info:
        configuration(env, context=ctx)
    return str(info.value)


def test_missing_key_is_named() -> None:
    error = _with(lambda c: c["environments"]["dev"]["platform"]["compute"].pop("instance_type"))
    assert error == "missing key environments.dev.platform.compute.instance_type"


def test_a_shared_value_is_named_where_it_is_written() -> None:
    error = _with(lambda c: c["defaults"]["platform"]["storage"].update(glacier_after_days="30"))
    assert error == (
        "defaults.platform.storage.glacier_after_days must be a whole number between 1 and "
        "3650; got '30'"
    )


def test_an_unknown_key_is_refused_with_the_allowed_ones() -> None:
    error = _with(lambda c: c["environments"]["staging"]["platform"]["compute"].update(min=1))
    assert error.startswith("unknown key environments.staging.platform.compute.min (allowed: ")
    assert "min_capacity" in error


def test_nat_instance_mode_allows_one_instance_only() -> None:
    error = _with(
        lambda c: c["environments"]["dev"]["platform"]["network"]["nat"].update(gateways=2)
    )
    assert error == (
        "environments.dev.platform.network.nat.gateways must be 1 when mode is instance; got 2"
    )


def test_existing_detector_needs_an_id() -> None:
    def drop(c):  # type: ignore[no-untyped-def]
        del c["environments"]["production"]["platform"]["security"]["guardduty"]["detector_id"]

    assert _with(drop, "production").startswith(
        "missing key environments.production.platform.security.guardduty.detector_id (required"
    )


def test_function_log_retention_must_be_a_cloudwatch_period() -> None:
    error = _with(lambda c: c["defaults"]["platform"]["functions"].update(log_retention_days=10))
    assert error.startswith(
        'defaults.platform.functions.log_retention_days must be "never" (never expire) or one of'
    )
    assert error.endswith("; got 10")


def test_audit_hot_days_at_least_ninety() -> None:
    error = _with(lambda c: c["defaults"]["platform"]["storage"].update(audit_hot_days=30))
    assert error == (
        "defaults.platform.storage.audit_hot_days must be a whole number >= 90; got 30"
    )


def test_invalid_contact_address_is_named() -> None:
    error = _with(lambda c: c["defaults"]["contacts"].update(finops="not-an-address"))
    assert error == "defaults.contacts.finops must be an e-mail address; got 'not-an-address'"


def test_a_subscription_must_name_a_contact() -> None:
    error = _with(
        lambda c: c["environments"]["dev"]["platform"]["alerts"].update(
            subscriptions={"cost": ["finops", "fin-ops"]}
        )
    )
    assert error.startswith(
        "environments.dev.platform.alerts.subscriptions.cost names 'fin-ops', which is not one "
        "of the contacts (finops, oncall, security, soc)"
    )


def test_never_expire_is_spelled_never_because_the_cli_drops_null() -> None:
    ctx = cdk_context()
    overlay = ctx["platform_profiles"]["legacy"]["all"]
    assert overlay["platform"]["functions"]["log_retention_days"] == "never"
    assert overlay["payments"]["functions"]["log_retention_days"] == "never"
    assert configuration("dev", "legacy").platform.functions.log_retention_days is None
    error = _with(
        lambda c: c["defaults"]["platform"]["functions"].update(log_retention_days="forever")
    )
    assert error.endswith("; got 'forever'")
