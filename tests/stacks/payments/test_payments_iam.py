"""Least privilege: one role per function, explicit actions, this environment's ARNs only."""

from __future__ import annotations

import json

import pytest
from payments_support import payments_app

ENVIRONMENTS = ("dev", "staging", "production")
#: Actions AWS allows only on "*" (no resource-level permissions).
RESOURCELESS_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
#: function base name -> {statement sid: actions}
EXPECTED_ACTIONS = {
    "process-payment": {
        "WriteOwnLogGroup": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "UseEnvironmentKey": {
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
        },
        "XRayTraces": RESOURCELESS_ACTIONS,
        "Table": {"dynamodb:PutItem", "dynamodb:GetItem"},  # never SQS: the outbox sends
        "ReplayTable": {"dynamodb:PutItem", "dynamodb:DeleteItem"},
        "SigningSecrets": {"secretsmanager:GetSecretValue"},
    },
    "forward-transactions": {
        "WriteOwnLogGroup": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "UseEnvironmentKey": {
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
        },
        "XRayTraces": RESOURCELESS_ACTIONS,
        "Table": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "ReadStream": {
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        },
        "Queues": {"sqs:SendMessage"},
    },
    "process-accounting": {
        "WriteOwnLogGroup": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "UseEnvironmentKey": {
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
        },
        "XRayTraces": RESOURCELESS_ACTIONS,
        "Table": {"dynamodb:UpdateItem", "dynamodb:GetItem"},
        "ConsumeQueue": {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
        },
    },
    "notify-failures": {
        "WriteOwnLogGroup": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "UseEnvironmentKey": {"kms:Decrypt", "kms:GenerateDataKey"},
        "XRayTraces": RESOURCELESS_ACTIONS,
        "Topic": {"sns:Publish"},
        "ConsumeQueue": {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
        },
    },
}


@pytest.fixture(params=ENVIRONMENTS)
def built(request):
    return payments_app(request.param)


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _function_policies(built) -> dict[str, list[dict]]:
    """function base name -> statements of the managed policies attached to its role."""
    out = {}
    for function in built.of_type("AWS::Lambda::Function").values():
        props = function["Properties"]
        base = props["FunctionName"].rsplit("-", 1)[0]
        role = built.resources[props["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert "Policies" not in role, f"{base}: inline policy on the role"
        statements = []
        for ref in role["ManagedPolicyArns"]:
            policy = built.resources[ref["Ref"]]
            assert policy["Type"] == "AWS::IAM::ManagedPolicy"
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
        out[base] = statements
    return out


def test_each_function_has_its_own_role(built):
    roles = [
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in built.of_type("AWS::Lambda::Function").values()
    ]
    assert len(roles) == 4 and len(set(roles)) == 4
    for role_id in roles:
        trust = built.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ]


def test_no_inline_policies_and_no_aws_managed_policies_for_functions(built):
    assert built.of_type("AWS::IAM::Policy") == {}
    for statements in _function_policies(built).values():
        assert statements


@pytest.mark.parametrize("base", sorted(EXPECTED_ACTIONS))
def test_function_actions_are_exactly_what_the_handler_calls(built, base):
    statements = _function_policies(built)[base]
    actual = {s["Sid"]: set(_as_list(s["Action"])) for s in statements}
    assert actual == EXPECTED_ACTIONS[base]
    assert all(s["Effect"] == "Allow" for s in statements)


def test_resources_are_this_environments_own(built):
    """Every resource is "*" only for X-Ray, else a resource of this stack or this env's key."""
    key_export = f"PaymentsSecurity-{built.config.suffix}:"
    for base, statements in _function_policies(built).items():
        for statement in statements:
            actions = set(_as_list(statement["Action"]))
            for resource in _as_list(statement["Resource"]):
                where = f"{base}/{statement['Sid']}"
                if resource == "*":
                    assert actions <= RESOURCELESS_ACTIONS, where
                    continue
                assert isinstance(resource, dict), f"{where}: literal resource {resource!r}"
                ((kind, value),) = resource.items()
                if kind == "Fn::ImportValue":
                    assert value.startswith(key_export), where
                    assert actions <= {
                        "kms:Decrypt",
                        "kms:DescribeKey",
                        "kms:Encrypt",
                        "kms:GenerateDataKey",
                    }
                else:
                    target = value[0] if kind == "Fn::GetAtt" else value
                    assert kind in ("Fn::GetAtt", "Ref"), where
                    assert target in built.resources, f"{where}: {target} not in this stack"


def test_policy_resources_name_this_environments_resources(built):
    """The table, queue and topic the policies reference carry this environment's suffix."""
    suffix = built.config.suffix
    names = set()
    for statements in _function_policies(built).values():
        for statement in statements:
            for resource in _as_list(statement["Resource"]):
                if isinstance(resource, dict) and ("Fn::GetAtt" in resource or "Ref" in resource):
                    target = resource.get("Ref") or resource["Fn::GetAtt"][0]
                    props = built.resources[target]["Properties"]
                    name = next(
                        props[k]
                        for k in ("TableName", "QueueName", "TopicName", "LogGroupName", "Name")
                        if k in props
                    )
                    names.add(name)
    assert names == {
        f"payment-transactions-{suffix}",
        f"payment-webhook-replays-{suffix}",
        f"payments-webhook-signing-stripe-{suffix}",
        f"payments-webhook-signing-adyen-{suffix}",
        f"payment-processing-queue-{suffix}",
        f"payment-processing-dlq-{suffix}",
        f"payment-notifications-{suffix}",
        f"/aws/lambda/process-payment-{suffix}",
        f"/aws/lambda/process-accounting-{suffix}",
        f"/aws/lambda/notify-failures-{suffix}",
        f"/aws/lambda/forward-transactions-{suffix}",
    }


def test_lambda_invoke_permission_is_scoped_to_the_method(built):
    permissions = built.of_type("AWS::Lambda::Permission")
    assert len(permissions) == 1  # no test-invoke permission
    (permission,) = permissions.values()
    assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    source = json.dumps(permission["Properties"]["SourceArn"])
    assert "/POST/webhooks" in source
