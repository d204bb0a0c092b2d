"""TAG-001: mandatory tags present and non-empty."""

from helpers import TAGS, failing, findings, undecided

from governance.policy import Policy


def test_tag_001_exact_sets():
    resources = {
        "Good": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": TAGS}},
        "NoTags": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "EmptyValue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"Tags": [*TAGS[:3], {"Key": "DataClassification", "Value": " "}]},
        },
        "MapShape": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Tags": {t["Key"]: t["Value"] for t in TAGS}},
        },
        "MapMissing": {"Type": "AWS::SSM::Parameter", "Properties": {"Tags": {"Owner": "x"}}},
        "NotTaggable": {"Type": "AWS::Lambda::Permission", "Properties": {}},
        "Computed": {"Type": "AWS::SNS::Topic", "Properties": {"Tags": {"Ref": "TagsParam"}}},
    }
    assert failing("TAG-001", resources) == {"NoTags", "EmptyValue", "MapMissing"}
    assert undecided("TAG-001", resources) == {"Computed"}


def test_tag_001_keys_come_from_policy():
    resources = {
        "B": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "Team", "Value": "a"}]}}
    }
    assert failing("TAG-001", resources, Policy(mandatory_tags=("Team",))) == set()
    assert failing("TAG-001", resources, Policy(mandatory_tags=("Team", "App"))) == {"B"}


def test_tag_001_is_one_finding_per_resource_listing_the_keys():
    resources = {
        "NoTags": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Mixed": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "Tags": [{"Key": "Owner", "Value": ""}, {"Key": "Environment", "Value": "x"}]
            },
        },
    }
    got = {(f.logical_id, f.message) for f in findings("TAG-001", resources)}
    assert got == {
        ("NoTags", "mandatory tags missing: Environment, Owner, CostCenter, DataClassification"),
        ("Mixed", "mandatory tags missing: CostCenter, DataClassification; empty: Owner"),
    }
