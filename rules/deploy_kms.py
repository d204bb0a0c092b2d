"""KMS keys the services can use (deploy): a customer managed key works only for the principals
its key policy names.

A trail, a log group, a topic or queue that an AWS service writes to, an alarm that notifies an
encrypted topic and an EventBridge target that is an encrypted topic or queue all make an AWS
service call KMS with the resource's key. IAM policies do not help a service principal: only the
key policy does. The key is followed across stacks (``Fn::ImportValue`` of an export of another
stack judged in the same run) and through aliases; an AWS managed key (``alias/aws/sns``) cannot
be granted to anyone. A key defined outside the run is reported as undecidable.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._deploy_support import (
    exact,
    key_issue,
    locate,
    locate_key,
    region_of,
    regional,
    service_principals,
)
from rules._support import as_list, referrers_anywhere

#: What a publishing service needs on the key of an encrypted SNS topic or SQS queue.
PUBLISH_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def _issue(message: str | None, unknown: bool, where: str) -> Iterator[Issue]:
    if message is not None:
        yield (undecidable if unknown else violation)(message, where)


@rule(
    id="DEPLOY-KMS-001",
    slug="trail-key-denies-cloudtrail",
    title="A CloudTrail trail's KMS key lets CloudTrail use it",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudTrail::Trail",),
    category=Category.DEPLOY,
)
def trail_key_denies_cloudtrail(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The trail's `KMSKeyId` key policy grants `cloudtrail.amazonaws.com` what it needs.

    Why:
        CloudTrail encrypts log and digest files with `kms:GenerateDataKey*` and checks the key
        with `kms:DescribeKey`. When the key policy does not allow both to
        `cloudtrail.amazonaws.com`, CreateTrail fails with InsufficientEncryptionPolicyException
        and the stack rolls back. AWS: "Configure AWS KMS key policies for CloudTrail",
        https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html

    Fix:
        Add a statement for the CloudTrail service principal to the key's policy, with the
        encryption-context condition on the trail ARN and `aws:SourceArn`.

    Example:
        key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
            actions=["kms:GenerateDataKey*", "kms:DescribeKey"], resources=["*"],
            conditions={"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                f"arn:aws:cloudtrail:*:{account}:trail/*"}}))
    """
    if resource.prop("KMSKeyId") is None:
        return
    ref = locate_key(resource.prop("KMSKeyId"), resource.template)
    message, unknown = key_issue(
        ref,
        "cloudtrail.amazonaws.com",
        exact("cloudtrail.amazonaws.com"),
        ("kms:GenerateDataKey", "kms:DescribeKey"),
    )
    yield from _issue(message, unknown, "Properties/KMSKeyId")


@rule(
    id="DEPLOY-KMS-002",
    slug="log-group-key-denies-logs",
    title="A log group's KMS key lets CloudWatch Logs of its region use it",
    severity=Severity.ERROR,
    resource_types=("AWS::Logs::LogGroup",),
    category=Category.DEPLOY,
)
def log_group_key_denies_logs(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The log group's `KmsKeyId` key policy grants `logs.<region>.amazonaws.com`.

    Why:
        CloudWatch Logs encrypts and decrypts the group's events itself, as the regional
        service principal. Without `kms:Encrypt`, `kms:Decrypt` and `kms:GenerateDataKey*` for
        it, CreateLogGroup fails ("The specified KMS key does not exist or is not allowed to
        be used"). AWS: "Encrypt log data in CloudWatch Logs using AWS KMS",
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html

    Fix:
        Grant the key to the regional Logs principal of the stack's region.

    Example:
        key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com"))
    """
    if resource.prop("KmsKeyId") is None:
        return
    ref = locate_key(resource.prop("KmsKeyId"), resource.template)
    region = region_of(resource.template)
    message, unknown = key_issue(
        ref,
        f"logs.{region or '<region>'}.amazonaws.com",
        regional("logs", region),
        ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
    )
    yield from _issue(message, unknown, "Properties/KmsKeyId")


def _publishers(resource: Resource, policy_type: str, prop: str, action: str) -> set[str]:
    services: set[str] = set()
    for pol in referrers_anywhere(resource, policy_type, f"Properties/{prop}"):
        services |= service_principals(pol, "PolicyDocument", action)
    return services


def _publisher_key_issues(resource: Resource, key_prop: str, services: set[str]) -> Iterator[Issue]:
    if resource.prop(key_prop) is None or not services:
        return
    ref = locate_key(resource.prop(key_prop), resource.template)
    for service in sorted(services):
        message, unknown = key_issue(ref, service, exact(service), PUBLISH_ACTIONS)
        yield from _issue(message, unknown, f"Properties/{key_prop}")
        if ref.key is None:
            return  # one finding for an unreadable or AWS managed key


@rule(
    id="DEPLOY-KMS-003",
    slug="topic-key-denies-publishers",
    title="An encrypted SNS topic's key lets the services its policy allows to publish use it",
    severity=Severity.ERROR,
    resource_types=("AWS::SNS::Topic",),
    category=Category.DEPLOY,
)
def topic_key_denies_publishers(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every service principal a topic policy allows `sns:Publish` can use the topic's key.

    Why:
        A service (EventBridge, CloudWatch, Budgets, S3...) publishing to a topic with SSE
        needs `kms:GenerateDataKey*` and `kms:Decrypt` on the key from the key policy; without
        them every publish fails with KMS.AccessDeniedException and the alert is dropped, with
        no error at deployment. AWS: "Encryption at rest" (Amazon SNS), section "Enable
        compatibility between event sources from AWS services and encrypted topics",
        https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html

    Fix:
        Grant the topic's key to each publishing service principal.

    Example:
        key.grant(iam.ServicePrincipal("events.amazonaws.com"),
                  "kms:GenerateDataKey*", "kms:Decrypt")
    """
    services = _publishers(resource, "AWS::SNS::TopicPolicy", "Topics", "sns:Publish")
    yield from _publisher_key_issues(resource, "KmsMasterKeyId", services)


@rule(
    id="DEPLOY-KMS-004",
    slug="queue-key-denies-senders",
    title="An encrypted SQS queue's key lets the services its policy allows to send use it",
    severity=Severity.ERROR,
    resource_types=("AWS::SQS::Queue",),
    category=Category.DEPLOY,
)
def queue_key_denies_senders(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every service principal a queue policy allows `sqs:SendMessage` can use the queue's key.

    Why:
        SNS, EventBridge or S3 sending to an SSE-KMS queue need `kms:GenerateDataKey*` and
        `kms:Decrypt` on its key from the key policy; otherwise messages are silently lost.
        AWS: "Configuring KMS permissions for AWS services" (Amazon SQS),
        https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html

    Fix:
        Grant the queue's key to each sending service principal.

    Example:
        key.grant(iam.ServicePrincipal("sns.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt")
    """
    services = _publishers(resource, "AWS::SQS::QueuePolicy", "Queues", "sqs:SendMessage")
    yield from _publisher_key_issues(resource, "KmsMasterKeyId", services)


def _encrypted_target(arn_value: object, resource: Resource) -> tuple[Resource, str] | None:
    target = locate(arn_value, resource.template).resource
    sinks = ("AWS::SNS::Topic", "AWS::SQS::Queue")
    if target is None or target.type not in sinks or target.prop("KmsMasterKeyId") is None:
        return None
    return target, "KmsMasterKeyId"


@rule(
    id="DEPLOY-KMS-005",
    slug="alarm-topic-key-denies-cloudwatch",
    title="An alarm's encrypted SNS topic lets CloudWatch use its key",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"),
    category=Category.DEPLOY,
)
def alarm_topic_key_denies_cloudwatch(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Each alarm, OK and insufficient-data action topic's key grants `cloudwatch.amazonaws.com`.

    Why:
        CloudWatch publishes alarm notifications as `cloudwatch.amazonaws.com`. A topic
        encrypted with an AWS managed key, or with a customer managed key that does not grant
        CloudWatch `kms:GenerateDataKey*` and `kms:Decrypt`, never receives the alarm: the
        alarm changes state and nobody is told. AWS: "Using Amazon CloudWatch alarms", section
        on SNS topics with SSE, https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html

    Fix:
        Encrypt the topic with a customer managed key whose policy grants CloudWatch.

    Example:
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                  "kms:GenerateDataKey*", "kms:Decrypt")
    """
    for prop in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for i, action in enumerate(as_list(resource.prop(prop))):
            found = _encrypted_target(action, resource)
            if found is None:
                continue
            topic, key_prop = found
            ref = locate_key(topic.prop(key_prop), topic.template)
            message, unknown = key_issue(
                ref, "cloudwatch.amazonaws.com", exact("cloudwatch.amazonaws.com"), PUBLISH_ACTIONS
            )
            if message is not None:
                message = f"topic {topic.logical_id} ({topic.stack}): {message}"
            yield from _issue(message, unknown, f"Properties/{prop}/{i}")


@rule(
    id="DEPLOY-KMS-006",
    slug="event-target-key-denies-eventbridge",
    title="An EventBridge rule's encrypted topic or queue target lets EventBridge use its key",
    severity=Severity.ERROR,
    resource_types=("AWS::Events::Rule",),
    category=Category.DEPLOY,
)
def event_target_key_denies_eventbridge(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Each target that is an encrypted SNS topic or SQS queue grants `events.amazonaws.com`.

    Why:
        EventBridge delivers to an encrypted topic or queue as `events.amazonaws.com`; without
        `kms:GenerateDataKey*` and `kms:Decrypt` on the key the invocation fails and the event
        is dropped (FailedInvocations), while the deployment succeeds. AWS: "Amazon EventBridge
        targets" and "Encrypted SNS topics/SQS queues as targets",
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-troubleshooting.html

    Fix:
        Grant the target's key to EventBridge in the key policy.

    Example:
        key.grant(iam.ServicePrincipal("events.amazonaws.com"),
                  "kms:GenerateDataKey*", "kms:Decrypt")
    """
    for i, target in enumerate(as_list(resource.prop("Targets"))):
        if not isinstance(target, dict):
            continue
        found = _encrypted_target(target.get("Arn"), resource)
        if found is None:
            continue
        sink, key_prop = found
        ref = locate_key(sink.prop(key_prop), sink.template)
        message, unknown = key_issue(
            ref, "events.amazonaws.com", exact("events.amazonaws.com"), PUBLISH_ACTIONS
        )
        if message is not None:
            message = f"target {sink.logical_id} ({sink.stack}): {message}"
        yield from _issue(message, unknown, f"Properties/Targets/{i}/Arn")
