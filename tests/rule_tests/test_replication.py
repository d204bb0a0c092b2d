"""REP-001 (replica keys in their own region), and PCI-BAK-001 / ENC-002 on every replica of a
global table (not only the first)."""

import json

from helpers import failing, undecided

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import Template

PITR = {"PointInTimeRecoveryEnabled": True}


def _table(*replicas: dict) -> dict:
    return {
        "Type": "AWS::DynamoDB::GlobalTable",
        "Properties": {
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "Replicas": list(replicas),
        },
    }


def _replica(region: str, key: object = None, pitr: bool = True) -> dict:
    replica: dict = {"Region": region}
    if pitr:
        replica["PointInTimeRecoverySpecification"] = PITR
    if key is not None:
        replica["SSESpecification"] = {"KMSMasterKeyId": key}
    return replica


READER = {
    "Type": "Custom::AWS",
    "Properties": {
        "Create": json.dumps({"service": "SSM", "action": "getParameter", "region": "us-west-2"})
    },
}
KEY = {"Type": "AWS::KMS::Key", "Properties": {}}


def _resources() -> dict:
    return {
        "Key": KEY,
        "Reader": READER,
        "Good": _table(
            _replica("us-west-2", {"Fn::GetAtt": ["Reader", "Parameter.Value"]}),
            _replica("us-east-1", {"Fn::GetAtt": ["Key", "Arn"]}),
        ),
        "SameKeyTwice": _table(
            _replica("us-east-1", {"Ref": "Key"}),
            _replica("us-west-2", {"Fn::GetAtt": ["Key", "Arn"]}),
        ),
        "ArnOfAnotherRegion": _table(
            _replica("us-east-1", {"Ref": "Key"}),
            _replica("eu-west-1", "arn:aws:kms:us-east-1:111111111111:key/abc"),
        ),
        "ArnOfItsRegion": _table(
            _replica("us-east-1", {"Ref": "Key"}),
            _replica("eu-west-1", "arn:aws:kms:eu-west-1:111111111111:key/abc"),
        ),
        "Unknown": _table(
            _replica("us-east-1", {"Ref": "Key"}),
            _replica("eu-west-1", {"Ref": "KeyArnParameter"}),
        ),
    }


def test_rep_001_without_an_assembly_region() -> None:
    resources = _resources()
    params = {"Parameters": {"KeyArnParameter": {"Type": "String"}}}
    assert failing("REP-001", resources, **params) == {"SameKeyTwice", "ArnOfAnotherRegion"}
    assert undecided("REP-001", resources, **params) == {"Unknown"}


def test_rep_001_knows_the_stack_region_from_the_assembly() -> None:
    body = {
        "Resources": {
            "Key": KEY,
            "OnlyOther": _table(_replica("us-west-2", {"Ref": "Key"})),
            "OnlyHere": _table(_replica("us-east-1", {"Ref": "Key"})),
        }
    }
    template = Template(name="T", path="T.template.json", body=body)
    template.environment = "aws://111111111111/us-east-1"
    found = evaluate([template], Policy(), [get_rule("REP-001")]).findings
    assert {f.logical_id for f in found} == {"OnlyOther"}


def test_every_replica_needs_pitr_and_a_key_not_just_the_first() -> None:
    resources = {
        "Key": KEY,
        "Both": _table(_replica("us-east-1", {"Ref": "Key"}), _replica("us-west-2", "arn:aws:kms:us-west-2:1:key/x")),
        "SecondNoPitr": _table(_replica("us-east-1", {"Ref": "Key"}), _replica("us-west-2", "arn:aws:kms:us-west-2:1:key/x", pitr=False)),
        "SecondNoKey": _table(_replica("us-east-1", {"Ref": "Key"}), _replica("us-west-2")),
        "SecondAwsKey": _table(_replica("us-east-1", {"Ref": "Key"}), _replica("us-west-2", "alias/aws/dynamodb")),
    }  # fmt: skip
    assert failing("PCI-BAK-001", resources) == {"SecondNoPitr"}
    assert failing("ENC-002", resources) == {"SecondNoKey", "SecondAwsKey"}
