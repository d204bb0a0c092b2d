"""COST-TAG-001: cost-allocation tags, without double-reporting TAG-001's mandatory keys."""

import dataclasses

from helpers import TAGS, failing, undecided

from governance.policy import Policy, RuleOverride, Thresholds


def policy(cost_tags, mandatory=("Environment", "Owner", "CostCenter", "DataClassification"), **kw):
    return Policy(
        environment="dev",
        suffix="dev",
        mandatory_tags=tuple(mandatory),
        thresholds=dataclasses.replace(Thresholds(), cost_allocation_tags=tuple(cost_tags)),
        **kw,
    )


RESOURCES = {
    "Tagged": {
        "Type": "AWS::S3::Bucket",
        "Properties": {"Tags": [*TAGS, {"Key": "Project", "Value": "payments"}]},
    },
    "NoProject": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": TAGS}},
    "EmptyProject": {
        "Type": "AWS::SQS::Queue",
        "Properties": {"Tags": [*TAGS, {"Key": "Project", "Value": ""}]},
    },
    "NoTags": {"Type": "AWS::SNS::Topic", "Properties": {}},
    "ComputedValue": {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Tags": {"Project": {"Ref": "ProjectName"}, "CostCenter": "CC-1"}},
    },
    "NotTaggable": {"Type": "AWS::Lambda::Permission", "Properties": {}},
    "ComputedTags": {"Type": "AWS::SNS::Topic", "Properties": {"Tags": {"Ref": "AllTags"}}},
}
PARAMS = {"Parameters": {"ProjectName": {"Type": "String"}, "AllTags": {"Type": "String"}}}


def test_cost_tag_001_extra_cost_allocation_key():
    p = policy(["CostCenter", "Project"])
    assert failing("COST-TAG-001", RESOURCES, p, **PARAMS) == {
        "NoProject",
        "EmptyProject",
        "NoTags",
    }
    assert undecided("COST-TAG-001", RESOURCES, p, **PARAMS) == {"ComputedTags"}


def test_cost_tag_001_leaves_mandatory_keys_to_tag_001():
    # The default cost-allocation keys (CostCenter, Environment) are mandatory: TAG-001 reports
    # them, so this rule reports nothing, not even on an untagged resource.
    assert failing("COST-TAG-001", RESOURCES, policy(["CostCenter", "Environment"])) == set()
    assert failing("TAG-001", RESOURCES, policy(["CostCenter", "Environment"])) == {
        "NoTags",
        "ComputedValue",
    }


def test_cost_tag_001_checks_mandatory_keys_when_tag_001_is_off():
    p = policy(["CostCenter"], rules={"TAG-001": RuleOverride(enabled=False)})
    assert failing("COST-TAG-001", RESOURCES, p, **PARAMS) == {"NoTags"}
    not_mandatory = policy(["CostCenter"], mandatory=("Owner",))
    assert failing("COST-TAG-001", RESOURCES, not_mandatory, **PARAMS) == {"NoTags"}
