"""Log destinations the delivering service can write to (deploy).

S3 server access logs, Elastic Load Balancing access logs and CloudFront standard logs are
written into an S3 bucket by an AWS service, each with its own constraints on the destination's
default encryption and on how it is granted access (bucket policy or ACL). A destination that
breaks them deploys fine and then receives nothing: the audit trail PCI DSS 10.2 asks for is lost
without an error. The destination is followed to its bucket in the same run (``Ref``, a name
built from it, an import, or a literal ``BucketName`` of a bucket in the run).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_bool, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._deploy_support import (
    KeyRef,
    bucket_encryption,
    exact,
    key_issue,
    locate,
    locate_key,
    object_ownership,
    service_principals,
)
from rules._support import as_list, referrers_anywhere

SSE_S3 = "AES256"


def _bucket(value: Any, resource: Resource) -> Resource | str:
    """The destination bucket in the run, or why it cannot be found (a message)."""
    found = locate(value, resource.template)
    if found.resource is not None:
        if found.resource.type == "AWS::S3::Bucket":
            return found.resource
        return f"the destination {found.resource.logical_id} is not an S3 bucket"
    if found.literal is not None:
        name = found.literal.removesuffix(".s3.amazonaws.com").split(".s3.")[0]
        for tpl in resource.template.siblings or [resource.template]:
            for bucket in tpl.of_type("AWS::S3::Bucket"):
                if as_str(bucket.prop("BucketName"), tpl) == name:
                    return bucket
        return f"the destination bucket {name} is not defined in this run"
    return f"the destination bucket cannot be read: {found.reason}"


def _sse_s3_only(bucket: Resource, service: str) -> str | None | Unresolved:
    """A message when the bucket's default encryption is not SSE-S3 (absent is SSE-S3)."""
    encryption = bucket_encryption(bucket)
    if isinstance(encryption, Unresolved):
        return encryption
    algorithm = encryption[0]
    if algorithm in (None, SSE_S3):
        return None
    return (
        f"destination {bucket.logical_id} ({bucket.stack}) has default encryption {algorithm}; "
        f"{service} delivers only to buckets with SSE-S3 ({SSE_S3}) default encryption"
    )


def _report(message: str | None | Unresolved, where: str) -> Iterator[Issue]:
    if isinstance(message, Unresolved):
        yield undecidable(f"the destination's encryption cannot be read: {message.reason}", where)
    elif message is not None:
        yield violation(message, where)


def _policy_allows(bucket: Resource, service: str) -> bool:
    return any(
        service in service_principals(pol, "PolicyDocument", "s3:PutObject")
        for pol in referrers_anywhere(bucket, "AWS::S3::BucketPolicy", "Properties/Bucket")
    )


@rule(
    id="DEPLOY-LOG-001",
    slug="access-log-destination-unwritable",
    title="S3 server access logs go to a bucket S3 can write them to",
    severity=Severity.ERROR,
    resource_types=("AWS::S3::Bucket",),
    category=Category.DEPLOY,
    pci=("10.2.1",),
)
def access_log_destination_unwritable(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The `LoggingConfiguration` destination uses SSE-S3 and grants the logging service.

    Why:
        S3 delivers server access logs only to a destination whose default encryption is
        SSE-S3; with SSE-KMS (or DSSE-KMS) no log arrives, and no error is raised. The logging
        service `logging.s3.amazonaws.com` needs `s3:PutObject` from the destination's bucket
        policy (the only way when ACLs are disabled, S3's default), or the `LogDeliveryWrite`
        ACL; target grants do not work when ACLs are disabled. AWS: "Enabling Amazon S3 server
        access logging" and "Permissions for log delivery",
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html

    Fix:
        A dedicated log bucket with `BucketEncryption.S3_MANAGED`; let CDK write the bucket
        policy (`@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`).

    Example:
        logs = s3.Bucket(self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED)
        s3.Bucket(self, "Data", server_access_logs_bucket=logs, server_access_logs_prefix="data/")
    """
    logging = resource.prop("LoggingConfiguration")
    if not isinstance(logging, dict):
        return
    where = "Properties/LoggingConfiguration/DestinationBucketName"
    dest = logging.get("DestinationBucketName", {"Ref": resource.logical_id})
    bucket = _bucket(dest, resource)
    if isinstance(bucket, str):
        yield undecidable(bucket, where)
        return
    yield from _report(_sse_s3_only(bucket, "S3 server access logging"), where)
    ownership = object_ownership(bucket)
    acl = as_str(bucket.prop("AccessControl"), bucket.template)
    acl_grants = ownership != "BucketOwnerEnforced" and acl == "LogDeliveryWrite"
    if not acl_grants and not _policy_allows(bucket, "logging.s3.amazonaws.com"):
        yield violation(
            f"destination {bucket.logical_id} ({bucket.stack}) has no bucket policy letting "
            "logging.s3.amazonaws.com s3:PutObject"
            + ("" if ownership == "BucketOwnerEnforced" else " nor the LogDeliveryWrite ACL"),
            where,
        )
    if logging.get("TargetGrants") and ownership == "BucketOwnerEnforced":
        yield violation(
            "target grants are refused by a destination with ACLs disabled (BucketOwnerEnforced)",
            "Properties/LoggingConfiguration",
        )


def _attributes(resource: Resource) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in as_list(resource.prop("LoadBalancerAttributes")):
        if isinstance(item, dict) and isinstance(item.get("Key"), str):
            out[item["Key"]] = item.get("Value")
    return out


@rule(
    id="DEPLOY-LOG-002",
    slug="elb-log-destination-unwritable",
    title="Load balancer access logs go to a bucket Elastic Load Balancing can write to",
    severity=Severity.ERROR,
    resource_types=(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancing::LoadBalancer",
    ),
    category=Category.DEPLOY,
    pci=("10.2.1",),
)
def elb_log_destination_unwritable(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An Application or Classic Load Balancer logs to an SSE-S3 bucket.

    Why:
        Application and Classic Load Balancers deliver access logs only to a bucket with SSE-S3
        default encryption; with SSE-KMS nothing is delivered (enabling logs may fail with
        "Access Denied for bucket"). A Network Load Balancer also accepts SSE-KMS with a
        customer managed key that grants `delivery.logs.amazonaws.com`. AWS: "Enable access
        logs for your Application Load Balancer" (bucket requirements),
        https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html

    Fix:
        A dedicated log bucket with `BucketEncryption.S3_MANAGED`.

    Example:
        alb.log_access_logs(s3.Bucket(self, "AlbLogs", encryption=s3.BucketEncryption.S3_MANAGED))
    """
    if resource.type == "AWS::ElasticLoadBalancing::LoadBalancer":
        logging = resource.prop("AccessLoggingPolicy")
        if (
            not isinstance(logging, dict)
            or as_bool(logging.get("Enabled"), resource.template) is False
        ):
            return
        dest, where, network = logging.get("S3BucketName"), "Properties/AccessLoggingPolicy", False
    else:
        attrs = _attributes(resource)
        if as_bool(attrs.get("access_logs.s3.enabled"), resource.template) is not True:
            return
        dest, where = attrs.get("access_logs.s3.bucket"), "Properties/LoadBalancerAttributes"
        network = as_str(resource.prop("Type"), resource.template) == "network"
    bucket = _bucket(dest, resource)
    if isinstance(bucket, str):
        yield undecidable(bucket, where)
        return
    if not network:
        yield from _report(_sse_s3_only(bucket, "Elastic Load Balancing"), where)
        return
    encryption = bucket_encryption(bucket)
    if isinstance(encryption, Unresolved) or encryption[0] in (None, SSE_S3):
        yield from _report(encryption if isinstance(encryption, Unresolved) else None, where)
        return
    message, unknown = key_issue(
        locate_key(encryption[1], bucket.template) if encryption[1] else _aws_s3_key(),
        "delivery.logs.amazonaws.com",
        exact("delivery.logs.amazonaws.com"),
        ("kms:GenerateDataKey", "kms:Decrypt"),
    )
    if message is not None:
        yield (undecidable if unknown else violation)(
            f"destination {bucket.logical_id}: {message}", where
        )


def _aws_s3_key() -> KeyRef:
    """SSE-KMS without a key id: S3's AWS managed key."""
    return KeyRef(aws_managed="alias/aws/s3")


@rule(
    id="DEPLOY-LOG-003",
    slug="cloudfront-log-destination-unwritable",
    title="CloudFront standard logs go to a bucket CloudFront can write to",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudFront::Distribution",),
    category=Category.DEPLOY,
    pci=("10.2.1",),
)
def cloudfront_log_destination_unwritable(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The `Logging.Bucket` keeps ACLs enabled and, with SSE-KMS, grants the log delivery.

    Why:
        CloudFront standard logging (legacy) gives the awslogsdelivery account write access
        through the bucket's ACL: a bucket with ACLs disabled (`BucketOwnerEnforced`, S3's
        default) refuses it and the distribution fails to update. An SSE-KMS destination must
        use a customer managed key that grants `delivery.logs.amazonaws.com`
        `kms:GenerateDataKey*`; an AWS managed key cannot. AWS: "Configure standard logging
        (legacy)", bucket permissions and SSE-KMS,
        https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html

    Fix:
        `object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED` on the log bucket, and the
        key granted to the log delivery principal.

    Example:
        key.grant_encrypt(iam.ServicePrincipal("delivery.logs.amazonaws.com"))
        s3.Bucket(self, "EdgeLogs", encryption_key=key,
                  object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED)
    """
    logging = resource.prop("DistributionConfig", "Logging")
    if not isinstance(logging, dict):
        return
    where = "Properties/DistributionConfig/Logging/Bucket"
    bucket = _bucket(logging.get("Bucket"), resource)
    if isinstance(bucket, str):
        yield undecidable(bucket, where)
        return
    ownership = object_ownership(bucket)
    if isinstance(ownership, Unresolved):
        yield undecidable(
            f"the destination's ObjectOwnership cannot be read: {ownership.reason}", where
        )
    elif ownership == "BucketOwnerEnforced":
        yield violation(
            f"destination {bucket.logical_id} ({bucket.stack}) has ACLs disabled "
            "(BucketOwnerEnforced); CloudFront standard logging writes through an ACL grant",
            where,
        )
    encryption = bucket_encryption(bucket)
    if isinstance(encryption, Unresolved):
        yield from _report(encryption, where)
        return
    if encryption[0] not in ("aws:kms", "aws:kms:dsse"):
        return
    ref = locate_key(encryption[1], bucket.template) if encryption[1] else _aws_s3_key()
    message, unknown = key_issue(
        ref,
        "delivery.logs.amazonaws.com",
        exact("delivery.logs.amazonaws.com"),
        ("kms:GenerateDataKey",),
    )
    if message is not None:
        yield (undecidable if unknown else violation)(
            f"destination {bucket.logical_id}: {message}", where
        )
