"""A Python Lambda function with the platform's defaults: its own role, log group and layer.

Every function gets

* a role of its own whose only policy is a customer-managed policy listing exactly what the
  function may do (the role is handed to Lambda as immutable, so no CDK grant can widen it
  behind our back: every permission is added with :meth:`PlatformFunction.allow`);
* an explicit KMS-encrypted log group ``/aws/lambda/<function-name>`` with the configured
  retention, and write access to that log group only;
* runtime, architecture, memory, timeout, tracing and reserved concurrency from
  :class:`FunctionSettings` (read from configuration, never written here);
* environment variables encrypted with the environment's key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

import governance
from stacks.constructs.logs import encrypted_log_group
from stacks.constructs.settings import FunctionSettings


def lambda_runtime(settings: FunctionSettings) -> lambda_.Runtime:
    """CDK's runtime for ``settings.runtime`` (``python3.11`` -> ``Runtime.PYTHON_3_11``)."""
    return getattr(
        lambda_.Runtime, "PYTHON_" + settings.runtime.removeprefix("python").replace(".", "_")
    )


def lambda_architecture(settings: FunctionSettings) -> lambda_.Architecture:
    """CDK's architecture for ``settings.architecture``."""
    return (
        lambda_.Architecture.ARM_64
        if settings.architecture == "arm64"
        else lambda_.Architecture.X86_64
    )


class PlatformFunction(Construct):
    """One Lambda function, its role, its policy and its log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        code_dir: Path,
        settings: FunctionSettings,
        reserved_concurrency: int,
        key: kms.IKey,
        layers: Sequence[lambda_.ILayerVersion] = (),
        environment: Mapping[str, str] | None = None,
        description: str = "",
        handler: str = "index.handler",
    ) -> None:
        super().__init__(scope, construct_id)
        self.function_name = function_name
        self.key = key
        self.log_group: logs.LogGroup = encrypted_log_group(
            self,
            "LogGroup",
            log_group_name=f"/aws/lambda/{function_name}",
            retention_days=settings.log_retention_days,
            key=key,
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"Least-privilege permissions of the {function_name} function",
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of the {function_name} function (one role per function)",
            managed_policies=[self.policy],
        )
        self.role.apply_removal_policy(RemovalPolicy.DESTROY)
        self._key_statement: iam.PolicyStatement | None = None
        self._key_actions: set[str] = set()
        self.allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [self.log_group.log_group_arn],
            sid="WriteOwnLogGroup",
        )
        self.allow_key("kms:Decrypt")  # environment variables are encrypted with the key
        if settings.tracing:
            self.allow(
                ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"], sid="XRayTraces"
            )
            governance.acknowledge(
                self.policy,
                "AwsSolutions-IAM5[Resource::*]",
                "xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level "
                "permissions (AWS Service Authorization Reference), so '*' is the only valid "
                "resource; the policy's only wildcard is this statement, with these two actions.",
                plugin=None,
            )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=description or None,
            code=lambda_.Code.from_asset(str(code_dir), exclude=["__pycache__", "*.pyc"]),
            handler=handler,
            runtime=lambda_runtime(settings),
            architecture=lambda_architecture(settings),
            memory_size=settings.memory_mb,
            timeout=Duration.seconds(settings.timeout_s),
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE if settings.tracing else lambda_.Tracing.DISABLED,
            layers=list(layers),
            environment=dict(environment or {}),
            environment_encryption=key,
            log_group=self.log_group,
            role=self.role.without_policy_updates(),
        )
        self.function.node.add_dependency(self.policy)

    def allow(
        self, actions: Iterable[str], resources: Iterable[str], *, sid: str | None = None
    ) -> None:
        """Add one statement to the function's policy (explicit actions and resources)."""
        self.policy.add_statements(
            iam.PolicyStatement(actions=list(actions), resources=list(resources), sid=sid)
        )

    def allow_key(self, *actions: str) -> None:
        """Allow ``actions`` on the environment's KMS key (one statement, actions merged)."""
        if self._key_statement is None:
            self._key_statement = iam.PolicyStatement(
                sid="UseEnvironmentKey", actions=[], resources=[self.key.key_arn]
            )
            self.policy.add_statements(self._key_statement)
        new = sorted(set(actions) - self._key_actions)
        if new:
            self._key_statement.add_actions(*new)
            self._key_actions.update(new)


def acknowledge_trade_offs(
    function: PlatformFunction, *, runtime: str, runtime_key: str, apis: str
) -> None:
    """The function is outside a VPC and pinned to the layer's runtime: say why, once.

    ``apis`` lists what the function calls; ``runtime_key`` is the configuration key of
    ``runtime`` (e.g. ``platform.functions.runtime``)."""
    governance.acknowledge(
        function.function,
        "PCI.DSS.321-LambdaInsideVPC",
        f"The function calls only AWS APIs ({apis}) over TLS with SigV4 and reaches no host in "
        "a private network; no data store it touches is network-addressable, so a VPC would "
        "segment nothing. Its access is segmented by IAM: a role of its own, scoped to this "
        "environment's resource and key ARNs.",
        plugin=None,
    )
    governance.acknowledge(
        function.function,
        "AwsSolutions-L1",
        f"The runtime ({runtime}) is set by configuration ({runtime_key}) and is one AWS Lambda "
        "supports; the shared layer's binary wheels are built for that CPython version "
        "(scripts/build_layer.py), so the runtime moves together with the layer build, not "
        "silently to the newest.",
        plugin=None,
    )
