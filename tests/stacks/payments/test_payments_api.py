"""The REST API: route, API key, usage plan, throttling, logging, tracing, validation and WAF."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template
from payments_support import payments_app

from stacks.base import BaseStack
from stacks.config import load_configuration
from stacks.constructs.platform_api import PlatformApi
from stacks.constructs.settings import ApiSettings
from stacks.payments.payments import WEBHOOK_SCHEMA, PaymentsStack, api_request_model
from stacks.platform.security import SecurityStack

ROOT = Path(__file__).resolve().parents[3]

ENVIRONMENTS = ("dev", "staging", "production")
#: env -> (stage rate limit rps, per-key rate limit rps)
THROTTLE = {"dev": (100, 100), "staging": (1000, 1000), "production": (10000, 1000)}
MANAGED_GROUPS = {"AWSManagedRulesSQLiRuleSet", "AWSManagedRulesCommonRuleSet"}


@pytest.fixture(params=ENVIRONMENTS)
def built(request):
    return payments_app(request.param)


def _one(built, cfn_type: str) -> tuple[str, dict]:
    found = built.of_type(cfn_type)
    assert len(found) == 1, f"expected one {cfn_type}, found {sorted(found)}"
    return next(iter(found.items()))


def test_one_regional_rest_api_per_environment(built):
    _, api = _one(built, "AWS::ApiGateway::RestApi")
    assert api["Properties"]["Name"] == f"payments-api-{built.config.suffix}"
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    _one(built, "AWS::ApiGateway::Account")  # execution logging's account-level role


def test_webhooks_post_requires_api_key_and_proxies_to_process_payment(built):
    _, resource = _one(built, "AWS::ApiGateway::Resource")
    assert resource["Properties"]["PathPart"] == "webhooks"
    _, method = _one(built, "AWS::ApiGateway::Method")
    props = method["Properties"]
    assert props["HttpMethod"] == "POST"
    assert props["ApiKeyRequired"] is True
    assert props["Integration"]["Type"] == "AWS_PROXY"
    function_id = next(
        k
        for k, r in built.of_type("AWS::Lambda::Function").items()
        if r["Properties"]["FunctionName"] == f"process-payment-{built.config.suffix}"
    )
    assert function_id in json.dumps(props["Integration"]["Uri"])
    assert "RequestValidatorId" in props
    assert "application/json" in props["RequestModels"]


def test_stage_throttling_tracing_and_logging_per_environment(built):
    stage_rps, _ = THROTTLE[built.env]
    _, stage = _one(built, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["StageName"] == built.config.suffix
    assert props["TracingEnabled"] is True
    (settings,) = props["MethodSettings"]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["ThrottlingRateLimit"] == stage_rps
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    access = props["AccessLogSetting"]
    access_group = access["DestinationArn"]["Fn::GetAtt"][0]
    group = built.resources[access_group]["Properties"]
    assert (
        group["LogGroupName"] == f"/aws/apigateway/payments-api-{built.config.suffix}/access-logs"
    )
    assert "KmsKeyId" in group and group["RetentionInDays"] == 365
    fields = json.loads(access["Format"])
    assert {"requestId", "ip", "apiKeyId", "status", "wafResponseCode"} <= set(fields)


def test_execution_log_group_is_precreated_encrypted(built):
    groups = [
        r["Properties"]
        for r in built.of_type("AWS::Logs::LogGroup").values()
        if "API-Gateway-Execution-Logs_" in json.dumps(r["Properties"]["LogGroupName"])
    ]
    assert len(groups) == 1
    assert "KmsKeyId" in groups[0] and groups[0]["RetentionInDays"] == 30
    stage_id, stage = _one(built, "AWS::ApiGateway::Stage")
    group_id = next(
        k
        for k, r in built.of_type("AWS::Logs::LogGroup").items()
        if "API-Gateway-Execution-Logs_" in json.dumps(r["Properties"]["LogGroupName"])
    )
    assert group_id in stage.get("DependsOn", [])


def test_usage_plan_throttles_each_key(built):
    _, key_rps = THROTTLE[built.env]
    _, plan = _one(built, "AWS::ApiGateway::UsagePlan")
    props = plan["Properties"]
    assert props["Throttle"]["RateLimit"] == key_rps
    assert props["ApiStages"][0]["Stage"] == {"Ref": _one(built, "AWS::ApiGateway::Stage")[0]}
    _, key = _one(built, "AWS::ApiGateway::ApiKey")
    assert key["Properties"]["Name"] == f"payments-api-{built.config.suffix}-payment-provider"
    _, binding = _one(built, "AWS::ApiGateway::UsagePlanKey")
    assert binding["Properties"]["KeyType"] == "API_KEY"


def test_request_validation_rejects_bad_bodies_with_the_reason(built):
    _, validator = _one(built, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestBody"] is True
    _, model = _one(built, "AWS::ApiGateway::Model")
    schema = model["Properties"]["Schema"]
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert set(schema["required"]) == {
        "transaction_id",
        "provider",
        "amount",
        "currency",
        "status",
        "timestamp",
    }
    _, response = _one(built, "AWS::ApiGateway::GatewayResponse")
    assert response["Properties"]["ResponseType"] == "BAD_REQUEST_BODY"
    assert response["Properties"]["StatusCode"] == "400"
    template = response["Properties"]["ResponseTemplates"]["application/json"]
    assert "$context.error.validationErrorString" in template


def test_web_acl_rate_rule_and_managed_groups(built):
    _, acl = _one(built, "AWS::WAFv2::WebACL")
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL"
    assert props["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in props["Rules"]}
    rate = rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] == built.payments.settings.api.waf_rate_limit
    assert rules["rate-limit-per-ip"]["Action"] == {"Block": {}}
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in props["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert managed >= MANAGED_GROUPS
    assert len({r["Priority"] for r in props["Rules"]}) == len(props["Rules"])


def test_web_acl_is_associated_with_the_stage_and_logs(built):
    acl_id, _ = _one(built, "AWS::WAFv2::WebACL")
    stage_id, _ = _one(built, "AWS::ApiGateway::Stage")
    _, association = _one(built, "AWS::WAFv2::WebACLAssociation")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert {"Ref": stage_id} in association["Properties"]["ResourceArn"]["Fn::Join"][1]
    _, logging = _one(built, "AWS::WAFv2::LoggingConfiguration")
    assert logging["Properties"]["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    (destination,) = logging["Properties"]["LogDestinationConfigs"]
    prefix, group_ref = destination["Fn::Join"][1]
    assert prefix.endswith(":log-group:")  # WAF wants the ARN without GetAtt's ":*"
    group = built.resources[group_ref["Ref"]]["Properties"]
    assert group["LogGroupName"] == f"aws-waf-logs-payments-api-{built.config.suffix}-audit"
    assert "KmsKeyId" in group
    redacted = logging["Properties"]["RedactedFields"]
    assert {"SingleHeader": {"Name": "x-api-key"}} in redacted


def test_request_model_is_the_handler_schema_in_draft4():
    model = api_request_model(json.loads(WEBHOOK_SCHEMA.read_text()))
    assert model["properties"]["timestamp"] == {"type": ["number", "string"]}
    assert model["properties"]["currency"] == {"type": "string", "pattern": "^(?:[A-Z]{3})$"}
    assert "exclusiveMinimum" not in json.dumps(model)  # a number in 2020-12, a bool in draft 4


SETTINGS = ApiSettings(
    stage_rate_limit_rps=50,
    stage_burst_limit=100,
    key_rate_limit_rps=10,
    key_burst_limit=20,
    api_key_clients=("a", "b"),
    waf_rate_limit=500,
    waf_rate_window_s=60,
    waf_managed_rule_groups=("AWSManagedRulesSQLiRuleSet",),
    access_log_retention_days=365,
    execution_log_level="OFF",
    execution_log_retention_days=None,
    tracing=False,
)


def _function(stack: cdk.Stack, name: str) -> lambda_.Function:
    return lambda_.Function(
        stack,
        name,
        runtime=lambda_.Runtime.PYTHON_3_11,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )


def test_platform_api_takes_routes_from_several_services(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Shared")
    key = kms.Key(stack, "Key")
    api = PlatformApi(
        stack, "Api", api_name="shared-api-t1", stage_name="t1", settings=SETTINGS, key=key
    )
    api.add_function_route("/webhooks", "post", _function(stack, "A"))
    api.add_function_route(
        "/security/events",
        "POST",
        _function(stack, "B"),
        request_schema={"type": "object", "required": ["id"]},
    )
    api.add_function_route("/health", "GET", _function(stack, "C"), api_key_required=False)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ApiGateway::RestApi", 1)
    template.resource_count_is("AWS::ApiGateway::Method", 3)
    template.resource_count_is("AWS::ApiGateway::Model", 1)
    template.resource_count_is("AWS::ApiGateway::ApiKey", 2)
    template.resource_count_is("AWS::ApiGateway::Account", 0)  # execution logging off
    template.has_resource_properties(
        "AWS::ApiGateway::Method", {"HttpMethod": "GET", "ApiKeyRequired": False}
    )
    template.has_resource_properties(
        "AWS::ApiGateway::UsagePlan", {"Throttle": {"RateLimit": 10, "BurstLimit": 20}}
    )
    template.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Statement": {
                                "RateBasedStatement": Match.object_like(
                                    {"Limit": 500, "EvaluationWindowSec": 60}
                                )
                            }
                        }
                    )
                ]
            )
        },
    )


def test_apis_in_one_stack_share_the_account_logging_role(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "PerService")
    key = kms.Key(stack, "Key")
    logging = dataclasses.replace(
        SETTINGS, execution_log_level="ERROR", execution_log_retention_days=30
    )
    for name in ("status", "health"):
        api = PlatformApi(
            stack, name, api_name=f"{name}-api-t1", stage_name="t1", settings=logging, key=key
        )
        api.add_function_route(f"/{name}", "GET", _function(stack, f"Fn{name}"))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ApiGateway::RestApi", 2)
    template.resource_count_is("AWS::ApiGateway::Account", 1)
    account_id = next(iter(template.find_resources("AWS::ApiGateway::Account")))
    stages = template.find_resources("AWS::ApiGateway::Stage")
    assert len(stages) == 2
    assert all(account_id in stage.get("DependsOn", []) for stage in stages.values())


def test_payments_stack_can_put_its_route_on_an_existing_api(tmp_path):
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["env"] = "staging"  # alarms on: they read the shared stage's metrics
    app = cdk.App(context=context, outdir=str(tmp_path))
    config = load_configuration(context)
    deployment = config.deployment
    security = SecurityStack(app, "PaymentsSecurity", deployment=deployment)
    shared = BaseStack(app, "SharedApi", deployment=deployment)
    api = PlatformApi(
        shared,
        "Api",
        api_name=shared.name("platform-api"),
        stage_name=config.suffix,
        settings=SETTINGS,
        key=security.key,
    )
    payments = PaymentsStack(
        app,
        "Payments",
        deployment=deployment,
        settings=config.payments,
        key=security.key,
        api=api,
    )
    assert payments.api is api
    Template.from_stack(payments).resource_count_is("AWS::ApiGateway::RestApi", 0)
    shared_template = Template.from_stack(shared)
    shared_template.resource_count_is("AWS::ApiGateway::RestApi", 1)
    shared_template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "webhooks"})
