"""Encryption-at-rest rules: data stores use a customer-managed KMS key, and keys rotate.

PCI DSS 3.5.1 asks that stored account data be unreadable; a customer-managed key (rather than an
AWS-owned or AWS-managed one) lets the key policy, rotation and audit trail be ours (3.6.1, 3.7.4).
AWS maps S3 and CloudWatch Logs encryption to 3.5.1; for SQS, SNS, DynamoDB, RDS and Secrets
Manager the mapping is ours, on the same reasoning. EFS file systems and EBS volumes (ENC-010,
ENC-011) are judged on being encrypted at all, since CloudFormation leaves both unencrypted unless
asked; the key they use is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_bool, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._ec2_support import launch_template_data, launch_template_of
from rules._support import customer_managed_key as _cmk
from rules._support import entries, mapping, require_true


@rule(
    id="ENC-001",
    slug="bucket-without-cmk",
    title="S3 bucket encrypted with a customer-managed KMS key",
    severity=Severity.ERROR,
    resource_types=("AWS::S3::Bucket",),
    category=Category.ENCRYPTION,
    pci=("3.5.1",),
    checkov=("CKV_AWS_19",),
    cdk_nag=("PCI.DSS.321-S3DefaultEncryptionKMS",),
)
def bucket_without_cmk(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The bucket's default encryption is SSE-KMS with a customer-managed key.

    Why:
        SSE-S3 encrypts with a key nobody can restrict or audit; account data stored in the
        bucket needs a key whose policy and use are ours (PCI DSS 3.5.1).

    Fix:
        `encryption=s3.BucketEncryption.KMS, encryption_key=key` with the environment's key.

    Example:
        s3.Bucket(self, "Audit", encryption=s3.BucketEncryption.KMS, encryption_key=env_key)
    """
    where = "Properties/BucketEncryption"
    rules = resource.prop("BucketEncryption", "ServerSideEncryptionConfiguration")
    if not isinstance(rules, list) or not rules:
        yield violation("bucket has no default encryption with a customer-managed key", where)
        return
    default = mapping(mapping(rules[0]).get("ServerSideEncryptionByDefault"))
    algorithm = as_str(default.get("SSEAlgorithm"), resource.template)
    where = f"{where}/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault"
    if isinstance(algorithm, Unresolved):
        yield undecidable(f"encryption algorithm cannot be read: {algorithm.reason}", where)
    elif algorithm not in ("aws:kms", "aws:kms:dsse"):
        yield violation(f"bucket uses {algorithm}, not SSE-KMS with a customer-managed key", where)
    else:
        yield from _cmk(
            default.get("KMSMasterKeyID"), resource, f"{where}/KMSMasterKeyID", "bucket"
        )


@rule(
    id="ENC-002",
    slug="table-without-cmk",
    title="DynamoDB table encrypted with a customer-managed KMS key",
    severity=Severity.ERROR,
    resource_types=("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"),
    category=Category.ENCRYPTION,
    pci=("3.5.1",),
    checkov=("CKV_AWS_119",),
)
def table_without_cmk(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The table uses SSE with a customer-managed KMS key.

    Why:
        By default DynamoDB encrypts with an AWS-owned key: the account cannot restrict, rotate
        or audit its use. Payment records need a key under our control (PCI DSS 3.5.1; the
        mapping is ours, AWS gives none for DynamoDB in v4.0.1).

    Fix:
        `encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=key`.

    Example:
        dynamodb.Table(self, "Tx", encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=key, ...)
    """
    sse = mapping(resource.prop("SSESpecification"))
    where = "Properties/SSESpecification"
    if resource.type == "AWS::DynamoDB::Table":
        enabled = as_bool(sse.get("SSEEnabled"), resource.template)
        if isinstance(enabled, Unresolved):
            yield undecidable(f"SSEEnabled cannot be read: {enabled.reason}", where)
            return
        if not enabled:
            yield violation(
                "table is encrypted with an AWS-owned key, not a customer-managed key", where
            )
            return
        yield from _cmk(sse.get("KMSMasterKeyId"), resource, f"{where}/KMSMasterKeyId", "table")
        return
    if as_str(sse.get("SSEType"), resource.template) != "KMS":
        yield violation("global table does not use SSEType KMS", f"{where}/SSEType")
        return
    for i, replica in entries(resource.prop("Replicas")):
        key = mapping(replica.get("SSESpecification")).get("KMSMasterKeyId")
        yield from _cmk(
            key, resource, f"Properties/Replicas/{i}/SSESpecification/KMSMasterKeyId", "replica"
        )


@rule(
    id="ENC-003",
    slug="queue-without-cmk",
    title="SQS queue encrypted with a customer-managed KMS key",
    severity=Severity.ERROR,
    resource_types=("AWS::SQS::Queue",),
    category=Category.ENCRYPTION,
    pci=("3.5.1",),
    checkov=("CKV_AWS_27",),
    cdk_nag=("AwsSolutions-SQS2",),
)
def queue_without_cmk(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The queue sets `KmsMasterKeyId` to a customer-managed key.

    Why:
        Messages carry transaction data; SQS-managed SSE uses a key outside our policy and audit
        trail (PCI DSS 3.5.1; our mapping, AWS gives none for SQS in v4.0.1).

    Fix:
        `encryption=sqs.QueueEncryption.KMS, encryption_master_key=key`.

    Example:
        sqs.Queue(self, "Q", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    """
    yield from _cmk(resource.prop("KmsMasterKeyId"), resource, "Properties/KmsMasterKeyId", "queue")


@rule(
    id="ENC-004",
    slug="topic-without-cmk",
    title="SNS topic encrypted with a customer-managed KMS key",
    severity=Severity.ERROR,
    resource_types=("AWS::SNS::Topic",),
    category=Category.ENCRYPTION,
    pci=("3.5.1",),
    checkov=("CKV_AWS_26",),
    cdk_nag=("PCI.DSS.321-SNSEncryptedKMS",),
)
def topic_without_cmk(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The topic sets `KmsMasterKeyId` to a customer-managed key.

    Why:
        Notifications about failed payments hold transaction details; an unencrypted topic
        stores them in the clear at rest (PCI DSS 3.5.1; our mapping).

    Fix:
        `sns.Topic(self, "T", master_key=key)`.

    Example:
        sns.Topic(self, "Alerts", master_key=env_key)
    """
    yield from _cmk(resource.prop("KmsMasterKeyId"), resource, "Properties/KmsMasterKeyId", "topic")


@rule(
    id="ENC-005",
    slug="log-group-without-cmk",
    title="CloudWatch log group encrypted with a customer-managed KMS key",
    severity=Severity.ERROR,
    resource_types=("AWS::Logs::LogGroup",),
    category=Category.ENCRYPTION,
    pci=("3.5.1", "10.3.2"),
    checkov=("CKV_AWS_158",),
    cdk_nag=("PCI.DSS.321-CloudWatchLogGroupEncrypted",),
)
def log_group_without_cmk(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The log group sets `KmsKeyId`.

    Why:
        Logs are audit evidence and may echo request data; a customer-managed key protects them
        from being read or altered outside our key policy (PCI DSS 3.5.1, 10.3.2).

    Fix:
        `logs.LogGroup(self, "L", encryption_key=key)`; the key policy must allow the
        `logs.<region>.amazonaws.com` principal.

    Example:
        logs.LogGroup(self, "Api", encryption_key=env_key, retention=logs.RetentionDays.ONE_WEEK)
    """
    yield from _cmk(resource.prop("KmsKeyId"), resource, "Properties/KmsKeyId", "log group")


@rule(
    id="ENC-006",
    slug="database-without-cmk",
    title="RDS/Aurora storage encrypted with a customer-managed KMS key",
    severity=Severity.ERROR,
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    category=Category.ENCRYPTION,
    pci=("3.5.1",),
    checkov=("CKV_AWS_16", "CKV_AWS_96"),
    cdk_nag=("AwsSolutions-RDS2", "PCI.DSS.321-RDSStorageEncrypted"),
)
def database_without_cmk(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Storage encryption is on and uses a customer-managed key.

    Why:
        A database holding payment data must be unreadable at rest under a key we control
        (PCI DSS 3.5.1). Instances in an Aurora cluster inherit the cluster's setting.

    Fix:
        `rds.DatabaseCluster(..., storage_encrypted=True, storage_encryption_key=key)`.

    Example:
        rds.DatabaseCluster(self, "Db", storage_encryption_key=env_key, ...)
    """
    if resource.type == "AWS::RDS::DBInstance" and resource.prop("DBClusterIdentifier") is not None:
        return
    encrypted = as_bool(resource.prop("StorageEncrypted"), resource.template)
    if isinstance(encrypted, Unresolved):
        yield undecidable(
            f"StorageEncrypted cannot be read: {encrypted.reason}", "Properties/StorageEncrypted"
        )
    elif not encrypted:
        yield violation("storage is not encrypted", "Properties/StorageEncrypted")
    else:
        yield from _cmk(resource.prop("KmsKeyId"), resource, "Properties/KmsKeyId", "database")


@rule(
    id="ENC-007",
    slug="secret-without-cmk",
    title="Secrets Manager secret encrypted with a customer-managed KMS key",
    severity=Severity.ERROR,
    resource_types=("AWS::SecretsManager::Secret",),
    category=Category.ENCRYPTION,
    pci=("3.5.1", "8.3.2"),
    checkov=("CKV_AWS_149",),
    cdk_nag=("PCI.DSS.321-SecretsManagerUsingKMSKey",),
)
def secret_without_cmk(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The secret sets `KmsKeyId` to a customer-managed key.

    Why:
        With the default `aws/secretsmanager` key, anyone allowed to use that key in the
        account can decrypt the secret; a customer-managed key narrows that (PCI DSS 3.5.1,
        8.3.2; our mapping).

    Fix:
        `secretsmanager.Secret(self, "S", encryption_key=key)`.

    Example:
        secretsmanager.Secret(self, "DbCreds", encryption_key=env_key)
    """
    yield from _cmk(resource.prop("KmsKeyId"), resource, "Properties/KmsKeyId", "secret")


@rule(
    id="ENC-008",
    slug="key-without-rotation",
    title="KMS key rotation enabled",
    severity=Severity.ERROR,
    resource_types=("AWS::KMS::Key",),
    category=Category.ENCRYPTION,
    pci=("3.6.1", "3.7.4"),
    checkov=("CKV_AWS_7",),
    cdk_nag=("AwsSolutions-KMS5", "PCI.DSS.321-KMSBackingKeyRotationEnabled"),
)
def key_without_rotation(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Symmetric customer-managed keys have automatic rotation enabled.

    Why:
        PCI DSS 3.7.4 requires keys to change at the end of their cryptoperiod; automatic
        rotation does that yearly without re-encrypting data.

    Fix:
        `kms.Key(self, "K", enable_key_rotation=True)`.

    Example:
        kms.Key(self, "EnvKey", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
    """
    spec = as_str(resource.prop("KeySpec"), resource.template)
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # asymmetric and HMAC keys cannot rotate automatically
    yield from require_true(resource, "EnableKeyRotation", "key rotation is not enabled")


@rule(
    id="ENC-010",
    slug="unencrypted-file-system",
    title="EFS file systems are encrypted at rest",
    severity=Severity.ERROR,
    resource_types=("AWS::EFS::FileSystem",),
    category=Category.ENCRYPTION,
    pci=("3.5.1",),
    checkov=("CKV_AWS_42",),
    cdk_nag=("AwsSolutions-EFS1", "PCI.DSS.321-EFSEncrypted"),
)
def unencrypted_file_system(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`Encrypted` is true (CloudFormation's default is false).

    Why:
        A file system created through CloudFormation or the API is unencrypted unless
        `Encrypted` is set, and encryption cannot be switched on later: the data must be copied
        to a new file system ("Encrypting data at rest", Amazon EFS User Guide,
        https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html). Stored data must be
        unreadable (PCI DSS 3.5.1; our mapping, as for the other data stores). CDK's
        `efs.FileSystem` sets it; an `efs.CfnFileSystem` or an override may not.

    Fix:
        `efs.FileSystem(self, "Files", vpc=vpc, encrypted=True, kms_key=key)`.

    Example:
        efs.FileSystem(self, "Shared", vpc=vpc, encrypted=True, kms_key=env_key)
    """
    yield from require_true(resource, "Encrypted", "the file system is not encrypted at rest")


#: Types that declare EBS volumes, and where their block-device mappings live.
EBS_MAPPINGS = {
    "AWS::EC2::Instance": ("BlockDeviceMappings",),
    "AWS::EC2::LaunchTemplate": ("LaunchTemplateData", "BlockDeviceMappings"),
    "AWS::AutoScaling::LaunchConfiguration": ("BlockDeviceMappings",),
}


def _mapping_issues(mappings: Any, where: str, resource: Resource) -> Iterator[Issue]:
    """Each block-device mapping with an EBS volume sets `Ebs/Encrypted` to true."""
    for i, block in enumerate(mappings if isinstance(mappings, list) else []):
        ebs = block.get("Ebs") if isinstance(block, dict) else None
        if not isinstance(ebs, dict):
            continue  # instance-store (VirtualName) or NoDevice
        path = f"{where}/{i}/Ebs/Encrypted"
        encrypted = as_bool(ebs.get("Encrypted"), resource.template)
        device = as_str(block.get("DeviceName"), resource.template)
        name = device if isinstance(device, str) else f"mapping {i}"
        if isinstance(encrypted, Unresolved):
            yield undecidable(f"Encrypted of {name} cannot be read: {encrypted.reason}", path)
        elif not encrypted:
            yield violation(f"the EBS volume {name} is not encrypted", path)


@rule(
    id="ENC-011",
    slug="unencrypted-ebs-volume",
    title="EBS volumes of instances and launch templates are encrypted",
    severity=Severity.ERROR,
    resource_types=("AWS::EC2::Volume", *EBS_MAPPINGS),
    category=Category.ENCRYPTION,
    pci=("3.5.1",),
    checkov=("CKV_AWS_3", "CKV_AWS_8"),
    cdk_nag=("AwsSolutions-EC26",),
)
def unencrypted_ebs_volume(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every EBS volume a resource declares sets `Encrypted: true`, an instance's root volume included.

    Why:
        An EBS volume is encrypted only when the request says so, or when the account and
        region have "EBS encryption by default" switched on, a setting no template shows
        ("Amazon EBS encryption", https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html).
        An instance that declares no block device, and names no launch template that does,
        gets its root volume from the AMI as the AMI's snapshot has it. Stored data must be
        unreadable (PCI DSS 3.5.1; our mapping). Launch templates and launch configurations
        are judged on the volumes they declare; the instances they launch are judged by
        their own resources where the template has them.

    Fix:
        Declare the root volume encrypted: `block_devices=[ec2.BlockDevice(device_name="/dev/xvda",
        volume=ec2.BlockDeviceVolume.ebs(30, encrypted=True))]`.

    Example:
        ec2.Instance(self, "Bastion", ..., block_devices=[ec2.BlockDevice(device_name="/dev/xvda", volume=ec2.BlockDeviceVolume.ebs(8, encrypted=True))])
    """
    if resource.type == "AWS::EC2::Volume":
        yield from require_true(resource, "Encrypted", "the EBS volume is not encrypted")
        return
    path = EBS_MAPPINGS[resource.type]
    where = "Properties/" + "/".join(path)
    mappings = resource.prop(*path)
    if isinstance(mappings, list) and mappings:
        yield from _mapping_issues(mappings, where, resource)
        return
    if resource.type != "AWS::EC2::Instance":
        return
    launch_template = launch_template_of(resource)
    if isinstance(launch_template, Unresolved):
        yield undecidable(
            f"root volume encryption cannot be read: {launch_template.reason}",
            "Properties/LaunchTemplate",
        )
        return
    inherited = launch_template and launch_template_data(launch_template).get("BlockDeviceMappings")
    if not (isinstance(inherited, list) and inherited):
        yield violation(
            "no block device is declared: the root volume takes the AMI's encryption setting",
            where,
        )
