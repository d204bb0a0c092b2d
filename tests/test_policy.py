"""The governance policy: defaults, environment and profile overrides, one-sentence errors."""

import json
from pathlib import Path

import pytest

from governance.model import Category, Severity
from governance.policy import DEFAULT_MANDATORY_TAGS, Policy, PolicyError, RuleOverride

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
        ("strict", {}, "context key 'governance' must be an object; got str"),
        ({"environments": ["dev"]}, {}, "governance.environments must be an object"),
        ({"environments": {"dev": "x"}}, {}, "governance.environments.dev must be an object"),
        ({"tag_values": {"Owner": 1}}, {}, "governance.tag_values must map tag keys to string"),
        ({"cdk_nag": {"aws_solutions": "yes"}}, {}, "governance.cdk_nag.aws_solutions must be"),
        ({"rules": {"ENC-001": True}}, {}, "governance.rules.ENC-001 must be an object"),
        ({"rules": {"ENC-001": {"on": False}}}, {}, "unknown key governance.rules.ENC-001.on"),
        ({"rules": {"ENC-001": {"enabled": "no"}}}, {}, "governance.rules.ENC-001.enabled must"),
        ({"non_waivable": "ENC-001"}, {}, "governance.non_waivable must be a list"),
        ({"audit_log_markers": [1]}, {}, "governance.audit_log_markers must be a list"),
        ({"thresholds": []}, {}, "governance.thresholds must be an object"),
        ({"thresholds": {"deprecated_runtimes": "python2.7"}}, {}, "must be a list of non-empty"),
        ({"thresholds": {"admin_ports": [22, 70000]}}, {}, "whole numbers between 0 and 65535"),
        ({"thresholds": {"admin_ports": [True]}}, {}, "governance.thresholds.admin_ports must be"),
        ({"thresholds": {"nat_gateways_max": "1"}}, {}, "whole number >= 0 or null; got '1'"),
        ({"thresholds": {"lambda_timeout_max_s": 1.5}}, {}, "whole number >= 0; got 1.5"),
        ({"thresholds": {"lambda_timeout_max_s": None}}, {}, "whole number >= 0; got None"),
        ({"thresholds": {"fargate_spot_min_share": 2}}, {}, "a number between 0 and 1; got 2"),
        ({"thresholds": {"fargate_spot_min_share": True}}, {}, "a number between 0 and 1"),
        ({"thresholds": {"lambda_architectures": ["arm"]}}, {}, "values from arm64, x86_64"),
        (
            {"thresholds": {"dynamodb_billing_mode": "ondemand"}},
            {},
            "one of on_demand, provisioned",
        ),
        (
            {"environments": {"dev": {"profiles": {}}}},
            {},
            "unknown key governance.environments.dev",
        ),
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


@pytest.mark.parametrize(
    ("governance", "message"),
    [
        (
            {"rules": {"ENC-01": {"enabled": False}}},
            "unknown rule id governance.rules.ENC-01 (did you mean ENC-001?)",
        ),
        (
            {"rules": {"NOPE-999": {"enabled": False}}},
            "unknown rule id governance.rules.NOPE-999 (govern rules lists the rule ids)",
        ),
        (
            {"non_waivable": ["LIFE-001", "PCI-LOG-01"]},
            "unknown rule id 'PCI-LOG-01' in governance.non_waivable (did you mean PCI-LOG-001?)",
        ),
        (
            {"non_waivable": ["AwsSolution-IAM4"]},
            "unknown rule id 'AwsSolution-IAM4' in governance.non_waivable"
            " (did you mean AwsSolutions-IAM4?)",
        ),
        (
            {"non_waivable": ["CKV_AWS_19"]},
            "unknown rule id 'CKV_AWS_19' in governance.non_waivable",
        ),
        ({"non_waivable": ["GOV-EXC-001"]}, "unknown rule id 'GOV-EXC-001'"),
        ({"non_waivable": ["govern::AwsSolutions-IAM4"]}, "unknown rule id 'govern::AwsSolutions"),
        ({"non_waivable": ["PCI.DSS.321::AwsSolutions-IAM4"]}, "unknown rule id 'PCI.DSS.321::"),
        (
            {"category_severity": {"encrytion": "warning"}},
            "unknown category governance.category_severity.encrytion (did you mean encryption?)",
        ),
        (
            {"category_severity": {"pci": "warning"}},
            "unknown category governance.category_severity.pci (allowed: cost, deploy, encryption,",
        ),
        (
            {"fail_on": "warn"},
            "governance.fail_on must be one of info, warning, error; got 'warn'"
            " (did you mean warning?)",
        ),
        ({"fail-on": "warning"}, "unknown key governance.fail-on (did you mean fail_on?)"),
        (
            {"cdk_nag": {"aws_solution": True}},
            "unknown key governance.cdk_nag.aws_solution (did you mean aws_solutions?)",
        ),
        # every environment and profile is checked, not only the one being built
        (
            {"environments": {"dev": {}, "production": {"undecidable_severity": "eror"}}},
            "governance.environments.production.undecidable_severity must be one of info,"
            " warning, error; got 'eror' (did you mean error?)",
        ),
        (
            {"environments": {"dev": {"rules": {"TAG-01": {"severity": "info"}}}}},
            "unknown rule id governance.environments.dev.rules.TAG-01 (did you mean TAG-001?)",
        ),
        (
            {"profiles": {"legacy": {"category_severity": {"costs": "warning"}}}},
            "unknown category governance.profiles.legacy.category_severity.costs"
            " (did you mean cost?)",
        ),
        (
            {"profiles": {"legacy": {"rules": {"ENC-001": {"severity": "warnign"}}}}},
            "governance.profiles.legacy.rules.ENC-001.severity must be one of info, warning,"
            " error; got 'warnign' (did you mean warning?)",
        ),
        (
            {"environments": {"dev": {"tresholds": {}}}},
            "unknown key governance.environments.dev.tresholds (did you mean thresholds?)",
        ),
    ],
)
def test_unknown_ids_categories_and_severities_are_refused_with_the_near_miss(governance, message):
    with pytest.raises(PolicyError) as info:
        Policy.from_context(governance, environment="dev")
    text = str(info.value)
    assert text.startswith(message)
    assert "\n" not in text


def test_non_waivable_takes_our_ids_and_cdk_nag_ids_of_the_known_packs():
    ids = [
        "ENC-001",
        "govern::LIFE-001",
        "AwsSolutions-IAM4",
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "PCI.DSS.321-S3BucketVersioningEnabled",
        "HIPAA.Security-IAMNoInlinePolicy",
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "Serverless-LambdaDLQ",
    ]
    assert Policy.from_context({"non_waivable": ids}).non_waivable == tuple(ids)


def test_every_layer_of_cdk_json_is_valid_and_typed():
    gov = CDK_JSON["context"]["governance"]
    for env in gov["environments"]:
        for profile in (None, *gov["profiles"]):
            policy = Policy.from_context(gov, environment=env, profile=profile)
            assert (policy.environment, policy.profile, policy.suffix) == (env, profile, env)
    legacy = Policy.from_context(gov, environment="dev", profile="legacy")
    assert legacy.category_severity == {Category.COST: Severity.WARNING}


@pytest.mark.parametrize("suffix", ["", "Dev", "dev\n", " dev", "a" * 21, "-dev", 42, ["dev"]])
def test_empty_or_invalid_suffix_is_refused(suffix):
    with pytest.raises(PolicyError, match="^suffix must be 1-20 lower-case letters"):
        Policy.from_context(None, environment="dev", suffix=suffix)


def test_suffix_none_means_the_environment_name():
    assert Policy.from_context(None, environment="dev").suffix == "dev"
    assert Policy.from_context(None, environment="dev", suffix="pr42").suffix == "pr42"
    assert Policy.from_context(None).suffix is None
    with pytest.raises(PolicyError, match="environment name 'Prod_1' cannot be the naming suffix"):
        Policy.from_context(None, environment="Prod_1")


@pytest.mark.parametrize(("kwargs", "what"), [({"environment": ["dev"]}, "environment"),
                                              ({"environment": ""}, "environment"),
                                              ({"profile": 3}, "profile")])  # fmt: skip
def test_environment_and_profile_names_must_be_strings(kwargs, what):
    with pytest.raises(PolicyError, match=f"^the {what} name must be a non-empty string"):
        Policy.from_context({"profiles": {"3": {}}}, **kwargs)


def test_layers_merge_deeply_and_do_not_change_the_context():
    gov = {
        "thresholds": {"lambda_memory_max_mb": 512, "nat_gateways_max": 2},
        "rules": {"ENC-001": {"severity": "warning"}},
        "environments": {"dev": {"thresholds": {"nat_gateways_max": 0}}},
        "profiles": {"legacy": {"rules": {"ENC-001": {"enabled": False}}}},
    }
    before = json.dumps(gov, sort_keys=True)
    policy = Policy.from_context(gov, environment="dev", profile="legacy")
    assert policy.thresholds.lambda_memory_max_mb == 512
    assert policy.thresholds.nat_gateways_max == 0
    assert policy.rules["ENC-001"] == RuleOverride(enabled=False, severity=Severity.WARNING)
    assert json.dumps(gov, sort_keys=True) == before
