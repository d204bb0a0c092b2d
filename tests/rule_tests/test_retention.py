"""PCI-RET-001..002: audit logs kept 365 days, 90 of them immediately available."""

import dataclasses

from helpers import failing, undecided

from governance.policy import Policy, Thresholds


def group(retention=None, **props):
    if retention is not None:
        props["RetentionInDays"] = retention
    return {"Type": "AWS::Logs::LogGroup", "Properties": props}


def test_ret_001_audit_log_groups():
    resources = {
        # audit by marker in the logical id, the name or the construct path
        "ApiAccessLogs": group(365),
        "AuditShort": group(180),
        "VpcFlowLogs": group(30),
        "Named": group(400, LogGroupName="/payments/audit/dev"),
        "TrailGroupForever": group(),
        "ByPath": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": 14},
            "Metadata": {"aws:cdk:path": "Payments/Audit/Events/Resource"},
        },
        # audit because an audit source writes into it
        "StageDestination": group(7),
        "Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["StageDestination", "Arn"]}}
            },
        },
        "DeploymentDestination": group(30),
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "Properties": {
                "StageName": "v1",
                "StageDescription": {
                    "AccessLogSetting": {
                        "DestinationArn": {"Fn::GetAtt": ["DeploymentDestination", "Arn"]}
                    }
                },
            },
        },
        "WafDestination": group(60, LogGroupName="aws-waf-logs-dev"),
        "WafLogging": {
            "Type": "AWS::WAFv2::LoggingConfiguration",
            "Properties": {
                "ResourceArn": {"Fn::GetAtt": ["Acl", "Arn"]},
                "LogDestinationConfigs": [{"Fn::GetAtt": ["WafDestination", "Arn"]}],
            },
        },
        # application logs are not judged here, nor words that merely contain a marker
        "HandlerLogs": group(7),
        "PaymentWorkflowLogs": group(7),
        "AuditParam": group({"Ref": "Days"}),
        # CDK's log-retention custom resource
        "FnLogRetention": {
            "Type": "Custom::LogRetention",
            "Properties": {"LogGroupName": "/aws/lambda/handler", "RetentionInDays": 7},
        },
        "AuditLogRetention": {
            "Type": "Custom::LogRetention",
            "Properties": {"LogGroupName": "/payments/audit-events", "RetentionInDays": 30},
        },
    }
    params = {"Days": {"Type": "Number"}}
    assert failing("PCI-RET-001", resources, Parameters=params) == {
        "AuditShort",
        "VpcFlowLogs",
        "ByPath",
        "StageDestination",
        "DeploymentDestination",
        "WafDestination",
        "AuditLogRetention",
    }
    assert undecided("PCI-RET-001", resources, Parameters=params) == {"AuditParam"}


def test_ret_001_thresholds_come_from_the_policy():
    resources = {"AuditLogs": group(400)}
    strict = Policy(thresholds=dataclasses.replace(Thresholds(), audit_log_retention_min_days=731))
    assert failing("PCI-RET-001", resources) == set()
    assert failing("PCI-RET-001", resources, strict) == {"AuditLogs"}
    custom_markers = Policy(audit_log_markers=("evidence",))
    assert failing(
        "PCI-RET-001", {"EvidenceLogs": group(30), "AuditLogs": group(30)}, custom_markers
    ) == {"EvidenceLogs"}


def bucket(*rules, **props):
    if rules:
        props["LifecycleConfiguration"] = {"Rules": list(rules)}
    return {"Type": "AWS::S3::Bucket", "Properties": props}


def expire(days, **extra):
    return {"Status": "Enabled", "ExpirationInDays": days, **extra}


def test_ret_002_audit_buckets():
    resources = {
        "AccessLogsBucket": bucket(expire(400)),
        "AuditShort": bucket(expire(90)),
        "AuditEarlyGlacier": bucket(
            {
                "Status": "Enabled",
                "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
            }
        ),
        "AuditInstantRetrieval": bucket(
            {
                "Status": "Enabled",
                "ExpirationInDays": 400,
                "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}],
            }
        ),
        "AuditDisabledRule": bucket({"Status": "Disabled", "ExpirationInDays": 7}),
        "AuditFixedDate": bucket({"Status": "Enabled", "ExpirationDate": "2027-01-01"}),
        "AuditNoLifecycle": bucket(),
        # audit because it receives load balancer, CloudFront or S3 server access logs
        "AlbLogs": bucket(expire(30)),
        "Alb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "LoadBalancerAttributes": [
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": "AlbLogs"}},
                ]
            },
        },
        "CdnLogs": bucket(expire(200)),
        "Cdn": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Origins": [{"DomainName": {"Fn::GetAtt": ["Content", "RegionalDomainName"]}}],
                    "Logging": {"Bucket": {"Fn::GetAtt": ["CdnLogs", "RegionalDomainName"]}},
                }
            },
        },
        # an origin bucket of the same distribution is not an audit bucket
        "Content": bucket(
            expire(7), LoggingConfiguration={"DestinationBucketName": {"Ref": "ServerLogs"}}
        ),
        "ServerLogs": bucket(expire(10)),
        "AuditParam": bucket(expire({"Ref": "Days"})),
    }
    params = {"Days": {"Type": "Number"}}
    assert failing("PCI-RET-002", resources, Parameters=params) == {
        "AuditShort",
        "AuditEarlyGlacier",
        "AuditFixedDate",
        "AlbLogs",
        "CdnLogs",
        "ServerLogs",
    }
    assert undecided("PCI-RET-002", resources, Parameters=params) == {"AuditParam"}
