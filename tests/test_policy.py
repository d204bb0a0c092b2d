"""The governance policy: defaults, environment and profile overrides, one-sentence errors."""

import json
from pathlib import Path

import pytest

from governance.model import Severity
from governance.policy import DEFAULT_MANDATORY_TAGS, Policy, PolicyError

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = json.loads((ROOT / "cdk.json").read_text())


def test_defaults_without_configuration():
    policy = Policy.from_context(None)
    assert policy.mandatory_tags == DEFAULT_MANDATORY_TAGS
    assert policy.destroy_stateful is False  # nothing is changed unless the policy opts in
    assert policy.tag_values == {}
    assert policy.fail_on is Severity.ERROR
    assert policy.suffix is None


def test_environment_and_profile_overrides_from_cdk_json():
    gov = CDK_JSON["context"]["governance"]
    prod = Policy.from_context(gov, environment="production")
    assert prod.tag_values["Environment"] == "production"
    assert prod.suffix == "production"
    assert prod.thresholds.dynamodb_billing_mode == "provisioned"
    dev = Policy.from_context(gov, environment="dev", suffix="pr42")
    assert dev.suffix == "pr42" and dev.thresholds.nat_gateways_max == 0
    legacy = Policy.from_context(gov, environment="dev", profile="legacy")
    assert legacy.severity_for("X-001", "cost", Severity.ERROR) is Severity.WARNING
    assert legacy.severity_for("X-001", "encryption", Severity.ERROR) is Severity.ERROR


@pytest.mark.parametrize(
    ("governance", "kwargs", "message"),
    [
        ({"environments": {"dev": {}}}, {"environment": "qa"}, "unknown environment 'qa'"),
        ({"mandatory_tags": "Owner"}, {}, "governance.mandatory_tags must be a list"),
        (
            {"mandatory_tags": ["Owner", ""]},
            {},
            "governance.mandatory_tags must be a list of non-empty",
        ),
        ({"fail_on": "fatal"}, {}, "governance.fail_on must be one of info, warning, error"),
        (
            {"thresholds": {"lambda_memory_max_mb": "big"}},
            {},
            "governance.thresholds.lambda_memory_max_mb must be a whole number",
        ),
        ({"thresholds": {"nope": 1}}, {}, "unknown key governance.thresholds.nope"),
        ({"colour": "red"}, {}, "unknown key governance.colour"),
        ({"destroy_stateful": "yes"}, {}, "governance.destroy_stateful must be true or false"),
        ({"profiles": {}}, {"profile": "legacy"}, "unknown profile 'legacy'"),
        ({"cdk_nag": {"hipaa": True}}, {}, "unknown key governance.cdk_nag.hipaa"),
        ({"rules": {"TAG-001": {"severity": "loud"}}}, {}, "governance.rules.TAG-001.severity"),
    ],
)
def test_bad_values_fail_with_one_sentence(governance, kwargs, message):
    with pytest.raises(PolicyError) as info:
        Policy.from_context(governance, **kwargs)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_rule_overrides():
    policy = Policy.from_context(
        {"rules": {"TAG-001": {"enabled": False}, "ENC-001": {"severity": "warning"}}}
    )
    assert not policy.enabled("TAG-001")
    assert policy.severity_for("ENC-001", "encryption", Severity.ERROR) is Severity.WARNING
