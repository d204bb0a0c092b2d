"""DEPLOY-KMS-001..006: KMS keys that the services using them are granted, across stacks."""

from deploy_support import export, key, run, stack

TRAIL_ACTIONS = ["kms:GenerateDataKey*", "kms:DescribeKey"]
PUBLISH = ["kms:GenerateDataKey*", "kms:Decrypt"]


def trail(key_ref):
    return {
        "Type": "AWS::CloudTrail::Trail",
        "Properties": {"KMSKeyId": key_ref, "IsLogging": True},
    }


def test_kms_001_trail_key_across_stacks():
    keys = stack(
        "Keys",
        {
            "Good": key(("cloudtrail.amazonaws.com", TRAIL_ACTIONS)),
            "NoDescribe": key(("cloudtrail.amazonaws.com", ["kms:GenerateDataKey*"])),
            "Other": key(("logs.us-east-1.amazonaws.com", ["kms:*"])),
        },
        **{"Outputs": {**export("Good", "good")["Outputs"], **export("Other", "other")["Outputs"]}},
    )
    trails = stack(
        "Trails",
        {
            "Imported": trail({"Fn::ImportValue": "good"}),
            "ImportedBad": trail({"Fn::ImportValue": "other"}),
            "Missing": trail({"Fn::ImportValue": "nobody-exports-this"}),
            "External": trail("arn:aws:kms:us-east-1:1:key/abc"),
            "Unencrypted": {"Type": "AWS::CloudTrail::Trail", "Properties": {"IsLogging": True}},
        },
    )
    local = stack(
        "Local",
        {
            "K": key(("cloudtrail.amazonaws.com", ["kms:GenerateDataKey*"])),
            "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"TargetKeyId": {"Ref": "K"}}},
            "ViaAlias": trail({"Ref": "Alias"}),
            "Wildcard": trail({"Fn::GetAtt": ["W", "Arn"]}),
            "W": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeyPolicy": {
                        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]
                    }
                },
            },
        },
    )
    failing, undecided = run("DEPLOY-KMS-001", [keys, trails, local])
    assert failing == {"ImportedBad", "ViaAlias"}
    assert undecided == {"Missing", "External"}


def log_group(key_ref):
    return {"Type": "AWS::Logs::LogGroup", "Properties": {"KmsKeyId": key_ref}}


def test_kms_002_log_group_key_regional_principal():
    joined = {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    resources = {
        "Regional": key(
            (
                "logs.us-east-1.amazonaws.com",
                ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
            )
        ),
        "OtherRegion": key(("logs.eu-west-1.amazonaws.com", ["kms:*"])),
        "Joined": key((joined, ["kms:*"])),
        "NoEncrypt": key(("logs.us-east-1.amazonaws.com", ["kms:Decrypt"])),
        "GoodGroup": log_group({"Fn::GetAtt": ["Regional", "Arn"]}),
        "JoinedGroup": log_group({"Fn::GetAtt": ["Joined", "Arn"]}),
        "WrongRegion": log_group({"Fn::GetAtt": ["OtherRegion", "Arn"]}),
        "Partial": log_group({"Fn::GetAtt": ["NoEncrypt", "Arn"]}),
        "Managed": log_group("alias/aws/logs"),
        "Plain": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
    }
    failing, undecided = run("DEPLOY-KMS-002", [stack("S", resources)])
    assert failing == {"WrongRegion", "Partial", "Managed"}
    assert undecided == set()


def topic_policy(topic, *services):
    return {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "Topics": [{"Ref": topic}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": s},
                        "Action": "sns:Publish",
                        "Resource": "*",
                    }
                    for s in services
                ]
            },
        },
    }


def test_kms_003_topic_key_and_its_publishers():
    resources = {
        "K": key(("events.amazonaws.com", PUBLISH)),
        "Good": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "K"}}},
        "GoodPolicy": topic_policy("Good", "events.amazonaws.com"),
        "Budgets": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "K"}}},
        "BudgetsPolicy": topic_policy("Budgets", "events.amazonaws.com", "budgets.amazonaws.com"),
        "Managed": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "alias/aws/sns"}},
        "ManagedPolicy": topic_policy("Managed", "events.amazonaws.com"),
        "NoPublishers": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": "alias/aws/sns"},
        },
    }
    failing, undecided = run("DEPLOY-KMS-003", [stack("S", resources)])
    assert failing == {"Budgets", "Managed"}
    assert undecided == set()


def queue_policy(queue, service):
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": queue}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": ["sqs:SendMessage"],
                        "Resource": "*",
                    }
                ]
            },
        },
    }


def test_kms_004_queue_key_and_its_senders():
    resources = {
        "K": key(("sns.amazonaws.com", PUBLISH)),
        "Good": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "K"}}},
        "GoodPolicy": queue_policy("Good", "sns.amazonaws.com"),
        "Bad": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "K"}}},
        "BadPolicy": queue_policy("Bad", "events.amazonaws.com"),
        "Managed": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": "alias/aws/sqs"}},
        "ManagedPolicy": queue_policy("Managed", "s3.amazonaws.com"),
        "SseSqs": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}},
        "SsePolicy": queue_policy("SseSqs", "s3.amazonaws.com"),
    }
    failing, undecided = run("DEPLOY-KMS-004", [stack("S", resources)])
    assert failing == {"Bad", "Managed"}
    assert undecided == set()


def alarm(*actions, ok=()):
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"AlarmActions": list(actions), "OKActions": list(ok)},
    }


def test_kms_005_alarm_topics_across_stacks():
    topics = stack(
        "Topics",
        {
            "Good": key(("cloudwatch.amazonaws.com", PUBLISH)),
            "Bad": key(("events.amazonaws.com", PUBLISH)),
            "GoodTopic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Good", "Arn"]}},
            },
            "BadTopic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Bad", "Arn"]}},
            },
            "Managed": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"KmsMasterKeyId": "alias/aws/sns"},
            },
            "Clear": {"Type": "AWS::SNS::Topic", "Properties": {}},
        },
        Outputs={
            f"O{t}": {"Value": {"Ref": t}, "Export": {"Name": t}}
            for t in ("GoodTopic", "BadTopic", "Managed", "Clear")
        },
    )
    alarms = stack(
        "Alarms",
        {
            "Fine": alarm({"Fn::ImportValue": "GoodTopic"}, {"Fn::ImportValue": "Clear"}),
            "OkToBad": alarm(
                {"Fn::ImportValue": "GoodTopic"}, ok=[{"Fn::ImportValue": "BadTopic"}]
            ),
            "ToManaged": alarm({"Fn::ImportValue": "Managed"}),
            "External": alarm("arn:aws:sns:us-east-1:1:elsewhere"),
        },
    )
    failing, undecided = run("DEPLOY-KMS-005", [topics, alarms])
    assert failing == {"OkToBad", "ToManaged"}
    assert undecided == set()


def test_kms_006_event_targets():
    resources = {
        "Good": key(("events.amazonaws.com", PUBLISH)),
        "Bad": key(("cloudwatch.amazonaws.com", PUBLISH)),
        "GoodTopic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "Good"}}},
        "BadQueue": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "Bad"}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Fine": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Targets": [
                    {"Id": "t", "Arn": {"Ref": "GoodTopic"}},
                    {"Id": "f", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}},
                ]
            },
        },
        "ToBadQueue": {
            "Type": "AWS::Events::Rule",
            "Properties": {"Targets": [{"Id": "q", "Arn": {"Fn::GetAtt": ["BadQueue", "Arn"]}}]},
        },
    }
    failing, undecided = run("DEPLOY-KMS-006", [stack("S", resources)])
    assert failing == {"ToBadQueue"}
    assert undecided == set()
