"""``PlatformApi``: the environment's hardened REST API, to which services add function routes.

One REST API per environment carries every service's routes (the payment webhooks, and the
endpoints of other services added with :meth:`PlatformApi.add_function_route`). What makes it
hardened is written once, here:

* a regional endpoint and one stage named after the environment suffix, throttled per stage
  (rate and burst from configuration) and per API key through a usage plan;
* access logs as JSON to a KMS-encrypted log group whose name marks it as an audit log, and
  execution logs at the configured level (never request/response bodies) to a pre-created,
  KMS-encrypted log group, so API Gateway never creates an unencrypted one that never expires;
* X-Ray tracing on the stage;
* a regional WAFv2 WebACL associated with the stage: a rate-based rule per client IP, then
  the configured AWS managed rule groups (SQL injection, cross-site scripting, ...), with its
  logs (API keys redacted) in a KMS-encrypted ``aws-waf-logs-`` log group. Behind a CloudFront
  distribution, :meth:`PlatformApi.require_origin` adds an origin check in front of them
  (see :class:`OriginCheck`);
* request validation: a route given a JSON schema rejects a non-conforming body with 400 and
  the validator's message (``$context.error.validationErrorString``) before any code runs.

Services that must not share (the legacy profile) create one ``PlatformApi`` each; the
construct takes the API's name and stage, so two instances never collide.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

import governance
from stacks.constructs.logs import encrypted_log_group
from stacks.constructs.settings import ApiSettings

#: Fields of the JSON access-log line (API Gateway ``$context`` variables).
ACCESS_LOG_FIELDS: dict[str, str] = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "apiKeyId": "$context.identity.apiKeyId",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "wafResponseCode": "$context.wafResponseCode",
    "errorMessage": "$context.error.message",
    "validationError": "$context.error.validationErrorString",
    "xrayTraceId": "$context.xrayTraceId",
}

_API_KEY_REASON = (
    "Callers are external payment providers, which cannot sign requests with AWS SigV4 or "
    "obtain Cognito tokens. Each provider authenticates with its own API key, bound to a usage "
    "plan that throttles it per key; every request also passes the WAF WebACL (rate limit per "
    "IP, SQL-injection and XSS rule groups) and JSON-schema request validation."
)


@dataclass(frozen=True)
class OriginCheck:
    """Only requests that carry ``header`` with ``value`` come from our CloudFront distribution.

    ``value`` is a CloudFormation dynamic reference to the Secrets Manager secret that the
    distribution also sends (``{{resolve:secretsmanager:...}}``), never the value itself:
    CloudFormation resolves it at deployment, so neither the template nor the cloud assembly
    holds it. ``block`` False counts mismatches instead of blocking them (the rollout step).
    """

    header: str
    value: str
    block: bool


#: Names of the rules (stable: the rotation function finds the origin check by its header).
ORIGIN_RULE = "origin-verify"
RATE_RULE = "rate-limit-per-ip"

ACCOUNT_LOGGING_ID = "ApiGatewayAccountLogging"


def _account_logging(stack: Stack) -> Construct:
    """API Gateway's account-level CloudWatch role, created once per stack.

    Execution logging needs it (``AWS::ApiGateway::Account`` is one setting per account and
    region), so several ``PlatformApi`` instances in one stack share one, rather than each
    overwriting the setting with a role of its own.
    """
    existing = stack.node.try_find_child(ACCOUNT_LOGGING_ID)
    if existing is not None:
        return existing
    scope = Construct(stack, ACCOUNT_LOGGING_ID)
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description="API Gateway account-level role that writes execution logs",
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            )
        ],
    )
    role.apply_removal_policy(RemovalPolicy.DESTROY)
    account = apigw.CfnAccount(scope, "Account", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(RemovalPolicy.DESTROY)
    governance.acknowledge(
        scope,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "API Gateway's account-level logging role needs the AWS-maintained "
        "AmazonAPIGatewayPushToCloudWatchLogs policy (create log groups and streams, put and "
        "read log events only); the role is assumable only by apigateway.amazonaws.com and no "
        "function or person uses it.",
        plugin=None,
    )
    return scope


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name,
        sampled_requests_enabled=True,
    )


def _from_cloudfront(check: OriginCheck) -> wafv2.CfnWebACL.StatementProperty:
    """The request carries ``check.header`` with exactly the secret value (no transformation)."""
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                single_header={"Name": check.header}
            ),
            positional_constraint="EXACTLY",
            search_string=check.value,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
            ],
        )
    )


def _not_from_cloudfront(check: OriginCheck) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=_from_cloudfront(check))
    )


def web_acl_rules(
    name: str, settings: ApiSettings, origin_check: OriginCheck | None = None
) -> list[wafv2.CfnWebACL.RuleProperty]:
    """The rules of :func:`hardened_web_acl` ``name``, in priority order.

    Without ``origin_check``: the rate-based rule per client IP, then the managed rule groups.
    With it (a regional web ACL behind CloudFront), first ``origin-verify``, which blocks (or
    counts) every request without the secret header: the execute-api endpoint can no longer
    be called around CloudFront, its WAF and Shield. The rate rule then counts only such
    direct requests (scope-down statement): behind CloudFront the source IP a regional web ACL
    sees is a CloudFront edge server's, shared by every caller routed through that edge, so a
    per-IP limit there would throttle legitimate callers together. Keying it on
    ``X-Forwarded-For`` instead would be spoofable: CloudFront appends the viewer's address to
    whatever ``X-Forwarded-For`` the caller sent, and WAF reads the first address, one the
    caller chose (it could dodge the limit or get another caller's address blocked). The
    per-caller limit lives where the real client IP is seen: the distribution's own web ACL,
    with the same ``waf_rate_limit``.
    """
    metric = name.replace("-", "")
    rules: list[wafv2.CfnWebACL.RuleProperty] = []
    if origin_check is not None:
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name=ORIGIN_RULE,
                priority=len(rules),
                action=wafv2.CfnWebACL.RuleActionProperty(
                    **({"block": {}} if origin_check.block else {"count": {}})
                ),
                statement=_not_from_cloudfront(origin_check),
                visibility_config=_visibility(f"{metric}OriginVerify"),
            )
        )
    rules.append(
        wafv2.CfnWebACL.RuleProperty(
            name=RATE_RULE,
            priority=len(rules),
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=settings.waf_rate_limit,
                    aggregate_key_type="IP",
                    evaluation_window_sec=settings.waf_rate_window_s,
                    scope_down_statement=(
                        _not_from_cloudfront(origin_check) if origin_check is not None else None
                    ),
                )
            ),
            visibility_config=_visibility(f"{metric}RateLimit"),
        )
    )
    for group in settings.waf_managed_rule_groups:
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=len(rules),
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=_visibility(f"{metric}{group}"),
            )
        )
    return rules


def _redacted_fields(
    origin_check: OriginCheck | None,
) -> list[wafv2.CfnLoggingConfiguration.FieldToMatchProperty]:
    """Headers whose values never reach the WAF logs: API keys, and the origin secret."""
    headers = ["x-api-key", "authorization"]
    if origin_check is not None:
        headers.append(origin_check.header)
    return [
        wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
        for header in headers
    ]


def hardened_web_acl(
    scope: Construct,
    *,
    name: str,
    waf_scope: str,
    description: str,
    settings: ApiSettings,
    key: kms.IKey,
) -> tuple[wafv2.CfnWebACL, logs.LogGroup]:
    """A WAFv2 web ACL ``<name>-waf`` with the platform's rules, and its logging (keys redacted).

    The rules (:func:`web_acl_rules`): a rate-based rule per client IP (``waf_rate_limit``
    requests per ``waf_rate_window_s``), then the configured AWS managed rule groups, all
    blocking. Logs go to a KMS-encrypted ``aws-waf-logs-<name>-audit`` log group kept
    ``access_log_retention_days``. ``waf_scope`` is ``REGIONAL`` (API stages) or ``CLOUDFRONT``
    (distributions; such a web ACL, its log group included, must be created in us-east-1).
    Construct ids: ``WebAcl``, ``WafLogs``, ``WafLogging`` under ``scope``.
    """
    metric = name.replace("-", "")
    web_acl = wafv2.CfnWebACL(
        scope,
        "WebAcl",
        name=f"{name}-waf",
        scope=waf_scope,
        description=description,
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility(f"{metric}WebAcl"),
        rules=web_acl_rules(name, settings),
    )
    log_group = encrypted_log_group(
        scope,
        "WafLogs",
        log_group_name=f"aws-waf-logs-{name}-audit",
        retention_days=settings.access_log_retention_days,
        key=key,
    )
    # WAF wants the log group ARN without the ":*" that Fn::GetAtt returns.
    log_group_arn = Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_group.log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    logging = wafv2.CfnLoggingConfiguration(
        scope,
        "WafLogging",
        resource_arn=web_acl.attr_arn,
        log_destination_configs=[log_group_arn],
        redacted_fields=_redacted_fields(None),
    )
    logging.node.add_dependency(log_group)
    return web_acl, log_group


class PlatformApi(Construct):
    """A REST API with logging, tracing, WAF, usage plan and API keys; add routes to it.

    Attributes: ``api`` (``RestApi``), ``stage``, ``usage_plan``, ``api_keys``, ``web_acl``,
    ``access_log_group``, ``waf_log_group``, ``execution_log_group`` (None when off),
    ``origin_check`` (None until :meth:`require_origin`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str,
        stage_name: str,
        settings: ApiSettings,
        key: kms.IKey,
        description: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        self.api_name = api_name
        self.stage_name = stage_name
        self.settings = settings
        execution_logging = settings.execution_log_level != "OFF"
        self.access_log_group = encrypted_log_group(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{api_name}/access-logs",
            retention_days=settings.access_log_retention_days,
            key=key,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=api_name,
            description=description or None,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            cloud_watch_role=False,  # one account-level logging role per stack, see below
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                tracing_enabled=settings.tracing,
                logging_level=(
                    getattr(apigw.MethodLoggingLevel, settings.execution_log_level)
                    if execution_logging
                    else None
                ),
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=settings.stage_rate_limit_rps,
                throttling_burst_limit=settings.stage_burst_limit,
            ),
        )
        self.stage = self.api.deployment_stage
        governance.acknowledge(
            self.stage,
            "PCI.DSS.321-APIGWCacheEnabledAndEncrypted",
            "Every route is a state-changing Lambda-proxy request (webhook deliveries and "
            "platform commands) whose response must never come from a cache, so the stage has no "
            "cache cluster: API Gateway stores no request or response data at rest, and there "
            "is no cached data to encrypt (PCI DSS 3.4).",
            plugin=None,
        )
        governance.acknowledge(
            self.stage,
            "PCI.DSS.321-APIGWSSLEnabled",
            "A stage client certificate authenticates API Gateway to an HTTP back end; every "
            "integration of this API is a Lambda proxy integration, which API Gateway invokes "
            "through the Lambda API over TLS with SigV4, so no HTTP back end exists to present a "
            "certificate to. Callers reach the stage over HTTPS only (execute-api endpoints do "
            "not serve HTTP).",
            plugin=None,
        )
        self.execution_log_group = None
        if execution_logging:
            # API Gateway would create this group itself, unencrypted and never expiring.
            self.execution_log_group = encrypted_log_group(
                self,
                "ExecutionLogs",
                log_group_name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{stage_name}",
                retention_days=settings.execution_log_retention_days,
                key=key,
            )
            self.stage.node.add_dependency(self.execution_log_group)
            deployment = getattr(Stack.of(self), "deployment", None)
            # One setting per account and region: only the environment's own deployment sets
            # it; a parallel copy (-c suffix=pr42) logs through the role that one set.
            if deployment is None or deployment.owns_account_singletons:
                self.stage.node.add_dependency(_account_logging(Stack.of(self)))
        self.api.add_gateway_response(
            "BadRequestBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={
                "application/json": json.dumps(
                    {
                        "error": "validation_failed",
                        "message": "$context.error.validationErrorString",
                    }
                )
            },
        )
        self.request_validator = self.api.add_request_validator(
            "RequestValidator",
            request_validator_name=f"{api_name}-validator",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan",
            name=f"{api_name}-usage-plan",
            description="Per-key throttling for the API's callers",
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.key_rate_limit_rps, burst_limit=settings.key_burst_limit
            ),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.stage)],
        )
        self.api_keys: dict[str, apigw.IApiKey] = {}
        for client in settings.api_key_clients:
            api_key = self.api.add_api_key(
                f"Key-{client}",
                api_key_name=f"{api_name}-{client}",
                description=f"API key of caller {client}",
            )
            self.usage_plan.add_api_key(api_key)
            self.api_keys[client] = api_key
        self.web_acl, self.waf_log_group = self._web_acl(api_name, settings, key)
        self.origin_check: OriginCheck | None = None
        self._model_count = 0

    def _web_acl(
        self, api_name: str, settings: ApiSettings, key: kms.IKey
    ) -> tuple[wafv2.CfnWebACL, logs.LogGroup]:
        web_acl, log_group = hardened_web_acl(
            self,
            name=api_name,
            waf_scope="REGIONAL",
            description=f"Rate limit and managed rules in front of {api_name}",
            settings=settings,
            key=key,
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.stage.stage_arn,
            web_acl_arn=web_acl.attr_arn,
        )
        return web_acl, log_group

    def require_origin(self, check: OriginCheck) -> None:
        """Accept only requests from the CloudFront distribution in front of this API.

        The regional web ACL gets the ``origin-verify`` rule and the rate rule counts only
        direct requests (:func:`web_acl_rules` says why); the secret header joins the fields
        redacted from the WAF logs. Every route is covered, ``/health`` included: probes call
        it through the distribution's domain, which is the path callers use.
        """
        self.origin_check = check
        self.web_acl.rules = web_acl_rules(self.api_name, self.settings, check)
        logging = self.node.find_child("WafLogging")
        assert isinstance(logging, wafv2.CfnLoggingConfiguration)
        logging.redacted_fields = _redacted_fields(check)

    def metric(
        self, metric_name: str, *, period: Duration, statistic: str = "Sum"
    ) -> cloudwatch.Metric:
        """A stage metric (``Count``, ``4XXError``, ``5XXError``, ``Latency``, ...).

        Its dimensions are the literal API and stage names, so an alarm in another stack
        reads it without a cross-stack reference (which would make the stacks depend on each
        other when that stack also serves a route here).
        """
        return cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name=metric_name,
            dimensions_map={"ApiName": self.api_name, "Stage": self.stage_name},
            period=period,
            statistic=statistic,
        )

    def add_function_route(
        self,
        path: str,
        method: str,
        function: lambda_.IFunction,
        *,
        api_key_required: bool = True,
        request_schema: Mapping[str, Any] | None = None,
    ) -> apigw.Method:
        """Route ``method path`` to ``function`` (Lambda proxy integration).

        ``request_schema`` is a JSON Schema draft-4 object (API Gateway's dialect); when given
        the body is validated before the function runs. With ``api_key_required`` the caller
        must send a key of this API's usage plan in ``x-api-key``.
        """
        resource = self.api.root.resource_for_path(path)
        request_models = None
        if request_schema is not None:
            self._model_count += 1
            cfn_model = apigw.CfnModel(
                self,
                f"Model{self._model_count}",
                rest_api_id=self.api.rest_api_id,
                content_type="application/json",
                description=f"Request body of {method.upper()} {path}",
                schema=dict(request_schema),
            )
            request_models = {
                "application/json": apigw.Model.from_model_name(
                    self, f"ModelRef{self._model_count}", cfn_model.ref
                )
            }
        result = resource.add_method(
            method.upper(),
            apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False),
            api_key_required=api_key_required,
            authorization_type=apigw.AuthorizationType.NONE,
            request_validator=self.request_validator,
            request_models=request_models,
        )
        if api_key_required:
            for rule_id in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                governance.acknowledge(result, rule_id, _API_KEY_REASON, plugin=None)
        return result
