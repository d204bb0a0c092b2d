"""Values handed from a stack in one region to a stack in another, through SSM parameters.

A CloudFormation export is visible only in its own region. The producer writes the value to a
String parameter ``/global-data/<suffix>/exports/<producer>/<name>`` in its region; the consumer
reads it with a ``GetParameter`` call in the producer's region (CDK's ``AwsCustomResource``), and
depends on the producer, so the producer deploys first and is destroyed last. No ARN is written
anywhere: the value is whatever the producer's resource has.

This is what CDK's own ``cross_region_references`` does; we write it ourselves because CDK creates
its export reader and writer while the app is prepared for synthesis, after every Aspect has run,
so the governance Aspects could not tag them (docs/global-data.md). A changed value (a replaced
key, a new API) reaches the consumer on its next deployment: the read runs on every update of
the reading resource, whose properties carry the producer's parameter name.
"""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ssm as ssm
from aws_cdk import custom_resources as cr

import governance
from stacks.constructs.logs import encrypted_log_group
from stacks.global_data.settings import SYSTEM

#: The construct id CDK gives ``AwsCustomResource``'s one handler function per stack.
SINGLETON_ID = "AWS679f53fac002430cb0da5b7982bd2287"
READER_LOGS_ID = "CrossRegionReaderLogs"


def _export_name(producer: Stack, suffix: str, name: str) -> str:
    return f"/{SYSTEM}/{suffix}/exports/{producer.node.id}/{name}"


def handed(
    consumer: Stack,
    producer: Stack,
    name: str,
    value: str,
    *,
    suffix: str,
    log_key: kms.IKey,
    log_retention_days: int | None,
) -> str:
    """``value`` (a token of ``producer``) as ``consumer`` can use it.

    The same region: the value itself (a CloudFormation export). Another region: the value read
    from the producer's export parameter. The reading function logs to a log group of the
    consumer encrypted with ``log_key`` (a key of the consumer's region)."""
    if consumer.region == producer.region:
        return value
    parameter = _export_name(producer, suffix, name)
    construct_id = re.sub(r"[^A-Za-z0-9]", "", f"Export{name.title()}")
    if producer.node.try_find_child(construct_id) is None:
        ssm.StringParameter(
            producer,
            construct_id,
            parameter_name=parameter,
            string_value=value,
            description=f"{name} for the stacks of other regions",
        )
    reader_id = re.sub(r"[^A-Za-z0-9]", "", f"Import{producer.node.id}{name.title()}")
    existing = consumer.node.try_find_child(reader_id)
    if isinstance(existing, cr.AwsCustomResource):
        return existing.get_response_field("Parameter.Value")
    call = cr.AwsSdkCall(
        service="SSM",
        action="getParameter",
        parameters={"Name": parameter},
        region=producer.region,
        physical_resource_id=cr.PhysicalResourceId.of(parameter),
        output_paths=["Parameter.Value"],
    )
    arn = consumer.format_arn(
        service="ssm",
        region=producer.region,
        resource="parameter",
        resource_name=parameter.lstrip("/"),
    )
    reader = cr.AwsCustomResource(
        consumer,
        reader_id,
        on_create=call,
        on_update=call,
        policy=cr.AwsCustomResourcePolicy.from_statements(
            [iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[arn])]
        ),
        install_latest_aws_sdk=False,
        log_group=_reader_logs(consumer, log_key, log_retention_days),
    )
    _acknowledge(consumer, reader)
    consumer.add_stack_dependency(producer)
    return reader.get_response_field("Parameter.Value")


def _reader_logs(consumer: Stack, key: kms.IKey, retention_days: int | None) -> Any:
    existing = consumer.node.try_find_child(READER_LOGS_ID)
    if existing is not None:
        return existing
    return encrypted_log_group(
        consumer,
        READER_LOGS_ID,
        log_group_name=f"/aws/lambda/{consumer.stack_name}-cross-region-reader",
        retention_days=retention_days,
        key=key,
    )


_WHY = (
    "CDK's AwsCustomResource handler, which reads one SSM parameter of this system in another "
    "region at deploy time (ssm:GetParameter on that parameter's ARN only); it handles no "
    "payment data and reaches only the SSM API."
)


def _acknowledge(consumer: Stack, reader: cr.AwsCustomResource) -> None:
    governance.acknowledge(
        reader,
        "PCI.DSS.321-IAMNoInlinePolicy",
        f"{_WHY} CDK attaches its one statement as the reader's own inline policy.",
        plugin=None,
    )
    singleton = consumer.node.try_find_child(SINGLETON_ID)
    if singleton is None:
        return
    governance.acknowledge(
        singleton,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
        f"{_WHY} CDK gives it the AWS-managed basic execution policy (write its own logs).",
        plugin=None,
    )
    governance.acknowledge(
        singleton,
        "PCI.DSS.321-LambdaInsideVPC",
        f"{_WHY} A VPC would segment nothing: it calls one AWS API over TLS with SigV4.",
        plugin=None,
    )
