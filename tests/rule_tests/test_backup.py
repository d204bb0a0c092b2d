"""PCI-BAK-001..003: point-in-time recovery, database backups, bucket versioning."""

import dataclasses

from helpers import failing, undecided

from governance.policy import Policy, Thresholds

PITR = "PointInTimeRecoverySpecification"


def test_bak_001_table_pitr():
    def table(**props):
        return {"Type": "AWS::DynamoDB::Table", "Properties": props}

    resources = {
        "On": table(**{PITR: {"PointInTimeRecoveryEnabled": True}}),
        "Off": table(**{PITR: {"PointInTimeRecoveryEnabled": False}}),
        "Absent": table(),
        "Param": table(**{PITR: {"PointInTimeRecoveryEnabled": {"Ref": "P"}}}),
        "Global": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "Replicas": [
                    {"Region": "eu-west-1", PITR: {"PointInTimeRecoveryEnabled": True}},
                    {"Region": "eu-central-1"},
                ]
            },
        },
        "GlobalOn": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "Replicas": [{"Region": "eu-west-1", PITR: {"PointInTimeRecoveryEnabled": "true"}}]
            },
        },
    }
    params = {"P": {"Type": "String"}}
    assert failing("PCI-BAK-001", resources, Parameters=params) == {"Off", "Absent", "Global"}
    assert undecided("PCI-BAK-001", resources, Parameters=params) == {"Param"}


def test_bak_002_database_backups():
    resources = {
        "Week": {"Type": "AWS::RDS::DBCluster", "Properties": {"BackupRetentionPeriod": 7}},
        "Default": {"Type": "AWS::RDS::DBCluster", "Properties": {}},
        "OneDay": {"Type": "AWS::RDS::DBInstance", "Properties": {"BackupRetentionPeriod": "1"}},
        "Member": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBClusterIdentifier": {"Ref": "Week"}},
        },
        "Param": {
            "Type": "AWS::RDS::DBCluster",
            "Properties": {"BackupRetentionPeriod": {"Ref": "D"}},
        },
    }
    params = {"D": {"Type": "Number"}}
    assert failing("PCI-BAK-002", resources, Parameters=params) == {"Default", "OneDay"}
    assert undecided("PCI-BAK-002", resources, Parameters=params) == {"Param"}
    strict = Policy(thresholds=dataclasses.replace(Thresholds(), backup_retention_min_days=14))
    assert failing("PCI-BAK-002", resources, strict, Parameters=params) == {
        "Week",
        "Default",
        "OneDay",
    }


def test_bak_003_bucket_versioning():
    def bucket(status=None):
        props = {} if status is None else {"VersioningConfiguration": {"Status": status}}
        return {"Type": "AWS::S3::Bucket", "Properties": props}

    resources = {
        "Versioned": bucket("Enabled"),
        "Suspended": bucket("Suspended"),
        "Unversioned": bucket(),
        "Conditional": bucket({"Fn::If": ["Deploy", "Enabled", "Suspended"]}),
    }
    conds = {"Deploy": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}}
    assert failing("PCI-BAK-003", resources, Conditions=conds) == {"Suspended", "Unversioned"}
    assert undecided("PCI-BAK-003", resources, Conditions=conds) == {"Conditional"}
