"""Naming rules: physical names carry the environment suffix, so parallel deployments never clash."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from governance.intrinsics import Unresolved, literal_text, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource

#: CloudFormation type -> path of its physical-name property.
PHYSICAL_NAME_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::DynamoDB::Table": ("TableName",),
    "AWS::DynamoDB::GlobalTable": ("TableName",),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Lambda::LayerVersion": ("LayerName",),
    "AWS::SQS::Queue": ("QueueName",),
    "AWS::SNS::Topic": ("TopicName",),
    "AWS::IAM::Role": ("RoleName",),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName",),
    "AWS::IAM::User": ("UserName",),
    "AWS::IAM::Group": ("GroupName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::Logs::QueryDefinition": ("Name",),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::SecretsManager::Secret": ("Name",),
    "AWS::SSM::Parameter": ("Name",),
    "AWS::ApiGateway::RestApi": ("Name",),
    "AWS::ApiGateway::ApiKey": ("Name",),
    "AWS::ApiGateway::UsagePlan": ("UsagePlanName",),
    "AWS::WAFv2::WebACL": ("Name",),
    "AWS::WAFv2::IPSet": ("Name",),
    "AWS::Events::Rule": ("Name",),
    "AWS::Events::EventBus": ("Name",),
    "AWS::CloudWatch::Alarm": ("AlarmName",),
    "AWS::CloudWatch::CompositeAlarm": ("AlarmName",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::ECS::Cluster": ("ClusterName",),
    "AWS::ECS::Service": ("ServiceName",),
    "AWS::ECS::TaskDefinition": ("Family",),
    "AWS::ECR::Repository": ("RepositoryName",),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ("Name",),
    "AWS::ElasticLoadBalancingV2::TargetGroup": ("Name",),
    "AWS::RDS::DBCluster": ("DBClusterIdentifier",),
    "AWS::RDS::DBInstance": ("DBInstanceIdentifier",),
    "AWS::RDS::DBSubnetGroup": ("DBSubnetGroupName",),
    "AWS::EC2::LaunchTemplate": ("LaunchTemplateName",),
    "AWS::EC2::SecurityGroup": ("GroupName",),
    "AWS::AutoScaling::AutoScalingGroup": ("AutoScalingGroupName",),
    "AWS::StepFunctions::StateMachine": ("StateMachineName",),
    "AWS::Kinesis::Stream": ("Name",),
    "AWS::CloudTrail::Trail": ("TrailName",),
    "AWS::CE::AnomalyMonitor": ("MonitorName",),
    "AWS::CE::AnomalySubscription": ("SubscriptionName",),
    "AWS::Budgets::Budget": ("Budget", "BudgetName"),
    "AWS::Cognito::UserPool": ("UserPoolName",),
    "AWS::ElastiCache::ReplicationGroup": ("ReplicationGroupId",),
    "AWS::Route53::HealthCheck": (),
}


def _has_token(text: str, token: str) -> bool:
    return _token_pattern(token).search(text) is not None


@cache
def _token_pattern(token: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(token)}(?![A-Za-z0-9])", re.IGNORECASE)


@rule(
    id="NAME-001",
    slug="name-without-environment-suffix",
    title="Physical names contain the environment suffix",
    severity=Severity.ERROR,
    resource_types=tuple(t for t, p in PHYSICAL_NAME_PROPERTIES.items() if p),
    category=Category.NAMING,
)
def name_without_environment_suffix(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An explicit physical name contains the environment suffix as a separate token.

    Why:
        Two deployments of the same app (an environment and a pull-request copy, or two
        environments in one account) collide on fixed names such as a bucket or table name;
        the second deployment fails, or worse, both write to the same resource.

    Fix:
        Build names from the environment configuration, e.g. `f"payment-transactions-{suffix}"`,
        or leave the name out and let CloudFormation generate a unique one. `-c suffix=pr42`
        changes the suffix of every name.

    Example:
        dynamodb.Table(self, "Transactions", table_name=f"payment-transactions-{env.suffix}", ...)
    """
    if not policy.suffix:
        return
    path = PHYSICAL_NAME_PROPERTIES.get(resource.type, ())
    raw = resource.prop(*path)
    if raw is None:
        return
    where = "Properties/" + "/".join(path)
    value = resolve(raw, resource.template)
    text = value if isinstance(value, str) else literal_text(raw)
    if _has_token(text, policy.suffix):
        return
    if isinstance(value, Unresolved):
        yield undecidable(
            f"name cannot be read ({value.reason}) to find suffix {policy.suffix!r}", where
        )
    else:
        yield violation(f"name {text!r} does not contain the suffix {policy.suffix!r}", where)
