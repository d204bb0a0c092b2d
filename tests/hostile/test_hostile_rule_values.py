"""Rule answers on values written to slip past them: empty and AWS-managed key ids, and "anywhere"
spelt every way a CIDR can be (issue 13). Exact sets of logical ids."""

from __future__ import annotations

import pytest
from helpers import failing, undecided

CMK_RULES = {
    "ENC-003": ("AWS::SQS::Queue", "KmsMasterKeyId"),
    "ENC-004": ("AWS::SNS::Topic", "KmsMasterKeyId"),
    "ENC-005": ("AWS::Logs::LogGroup", "KmsKeyId"),
    "ENC-007": ("AWS::SecretsManager::Secret", "KmsKeyId"),
}

KEY_VALUES = {
    "Cmk": {"Fn::GetAtt": ["Key", "Arn"]},
    "CmkArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "CmkAlias": "alias/payments",
    "Empty": "",
    "Blank": "   ",
    "ManagedAlias": "alias/aws/sqs",
    "ManagedAliasArn": "arn:aws:kms:eu-west-1:111122223333:alias/aws/sqs",
    "ManagedAliasJoin": {
        "Fn::Join": [":", ["arn:aws:kms", {"Ref": "AWS::Region"}, "111122223333:alias/aws/sns"]]
    },
    "ManagedAliasSub": {"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:alias/aws/sqs"},
    "Number": 5,
    "List": ["alias/payments"],
}
FAILING = {
    "Empty",
    "Blank",
    "ManagedAlias",
    "ManagedAliasArn",
    "ManagedAliasJoin",
    "ManagedAliasSub",
}


@pytest.mark.parametrize("rule_id", sorted(CMK_RULES))
def test_empty_and_aws_managed_keys_are_not_customer_managed(rule_id):
    rtype, prop = CMK_RULES[rule_id]
    resources = {name: {"Type": rtype, "Properties": {prop: v}} for name, v in KEY_VALUES.items()}
    resources["Key"] = {"Type": "AWS::KMS::Key", "Properties": {}}
    assert failing(rule_id, resources) == FAILING
    assert undecided(rule_id, resources) == {"Number", "List"}


def test_enc_001_bucket_key_ids():
    def bucket(key):
        default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
        return {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": default}
                    ]
                }
            },
        }

    resources = {name: bucket(v) for name, v in KEY_VALUES.items()}
    resources["Key"] = {"Type": "AWS::KMS::Key", "Properties": {}}
    resources["Scalar"] = {"Type": "AWS::S3::Bucket", "Properties": {"BucketEncryption": "x"}}
    resources["ListOfScalars"] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {"BucketEncryption": {"ServerSideEncryptionConfiguration": ["x"]}},
    }
    assert failing("ENC-001", resources) == FAILING | {"Scalar", "ListOfScalars"}
    assert undecided("ENC-001", resources) == {"Number", "List"}


def test_enc_002_wrong_types_do_not_raise():
    tables = {
        "Str": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"SSESpecification": "x"}},
        "Int": {"Type": "AWS::DynamoDB::Table", "Properties": {"SSESpecification": 5}},
        "Replicas": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "SSESpecification": {"SSEType": "KMS"},
                "Replicas": [
                    5,
                    {"SSESpecification": "x"},
                    {"SSESpecification": {"KMSMasterKeyId": ""}},
                ],
            },
        },
    }
    assert failing("ENC-002", tables) == {"Str", "Int", "Replicas"}
    assert undecided("ENC-002", tables) == set()


ANYWHERE_SPELLINGS = [
    ("0.0.0.0/0", "CidrIp"),
    (" 0.0.0.0/0 ", "CidrIp"),
    ("000.000.000.000/0", "CidrIp"),
    ("0.0.0.0/00", "CidrIp"),
    ("10.1.2.3/0", "CidrIp"),
    ("::/0", "CidrIpv6"),
    ("0:0:0:0:0:0:0:0/0", "CidrIpv6"),
    ("::0/0", "CidrIpv6"),
    ("0000:0000::/0", "CidrIpv6"),
    ("0000:0000:0000:0000:0000:0000:0000:0000/0", "CidrIpv6"),
    ("2001:db8::/0", "CidrIpv6"),
    ("::/000", "CidrIpv6"),
]
NOT_ANYWHERE = [
    ("0.0.0.0/1", "CidrIp"),
    ("0.0.0.0", "CidrIp"),
    ("10.0.0.0/8", "CidrIp"),
    ("::/1", "CidrIpv6"),
    ("::1/128", "CidrIpv6"),
    ("not a cidr/0", "CidrIp"),
    ("0.0.0.0/x", "CidrIp"),
]


def _sg(cidr, key):
    entry = {key: cidr, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}
    return {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [entry]}}


def _acl(cidr, key):
    key = "CidrBlock" if key == "CidrIp" else "Ipv6CidrBlock"
    return {
        "Type": "AWS::EC2::NetworkAclEntry",
        "Properties": {
            key: cidr,
            "Protocol": 6,
            "RuleAction": "allow",
            "Egress": False,
            "PortRange": {"From": 22, "To": 22},
        },
    }


@pytest.mark.parametrize(("rule_id", "make"), [("PCI-NET-001", _sg), ("PCI-NET-002", _acl)])
def test_anywhere_in_every_spelling(rule_id, make):
    resources = {f"Open{i}": make(c, k) for i, (c, k) in enumerate(ANYWHERE_SPELLINGS)}
    resources |= {f"Closed{i}": make(c, k) for i, (c, k) in enumerate(NOT_ANYWHERE)}
    assert failing(rule_id, resources) == {f"Open{i}" for i in range(len(ANYWHERE_SPELLINGS))}
    assert undecided(rule_id, resources) == set()
