"""Account security and the consolidated API: WAF, GuardDuty, secrets, one REST API.

The edge (CloudFront, its WAF, Shield Advanced) is tested in ``test_platform_edge.py``.
"""

from __future__ import annotations

import json

import pytest
from platform_support import ENVIRONMENTS, build_platform, cdk_context, platform


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_rest_api_serves_every_endpoint_by_resource(env: str) -> None:
    p = platform(env)
    assert len(p.all_of_type("AWS::ApiGateway::RestApi")) == 1
    paths = sorted(
        r["Properties"]["PathPart"] for r in p.all_of_type("AWS::ApiGateway::Resource").values()
    )
    assert paths == ["health", "payments", "webhooks", "{id}"]
    every = list(p.all_of_type("AWS::ApiGateway::Method").values())
    assert sorted(m["Properties"]["HttpMethod"] for m in every) == ["GET", "GET", "POST"]
    # every method is behind the API's request validator
    validators = p.all_of_type("AWS::ApiGateway::RequestValidator")
    assert len(validators) == 1
    for method in every:
        assert "RequestValidatorId" in method["Properties"]


def test_status_route_requires_a_key_and_its_path_parameter() -> None:
    methods = platform("production").all_of_type("AWS::ApiGateway::Method").values()
    status = next(
        m["Properties"]
        for m in methods
        if m["Properties"]["HttpMethod"] == "GET" and m["Properties"].get("ApiKeyRequired")
    )
    assert status["RequestParameters"] == {"method.request.path.id": True}
    assert status["Integration"]["Type"] == "AWS_PROXY"


def test_health_is_a_mock_integration() -> None:
    methods = platform("production").all_of_type("AWS::ApiGateway::Method").values()
    health = next(
        m["Properties"] for m in methods if m["Properties"]["Integration"]["Type"] == "MOCK"
    )
    assert health["HttpMethod"] == "GET"
    assert health["ApiKeyRequired"] is False
    templates = health["Integration"]["IntegrationResponses"][0]["ResponseTemplates"]
    assert json.loads(templates["application/json"]) == {"status": "ok"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_waf_rate_limit_sqli_and_xss_rules_on_the_stage(env: str) -> None:
    p = platform(env)
    (acl,) = p.of_type("payments", "AWS::WAFv2::WebACL").values()
    assert acl["Properties"]["Scope"] == "REGIONAL"
    rules = acl["Properties"]["Rules"]
    rate = next(r for r in rules if "RateBasedStatement" in r["Statement"])
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    groups = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in rules
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert "AWSManagedRulesSQLiRuleSet" in groups
    assert "AWSManagedRulesCommonRuleSet" in groups  # its CrossSiteScripting_* rules
    assert len(p.all_of_type("AWS::WAFv2::WebACLAssociation")) == 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("profile", ("optimised", "legacy"))
def test_shield_never_targets_an_api_stage(env: str, profile: str) -> None:
    # Shield Advanced cannot protect a regional API Gateway stage: it protects the CloudFront
    # distribution in front of the API (tests/stacks/test_platform_edge.py).
    p = platform(env, profile)
    protections = p.all_of_type("AWS::Shield::Protection")
    assert len(protections) == (1 if p.settings.security.shield_advanced else 0)
    for protection in protections.values():
        assert ":apigateway:" not in json.dumps(protection["Properties"]["ResourceArn"])
    assert p.of_type("edge_security", "AWS::Shield::Protection") == {}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_guardduty_detector_is_never_duplicated(env: str) -> None:
    p = platform(env)
    detectors = p.all_of_type("AWS::GuardDuty::Detector")
    parameters = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in p.of_type("parameters", "AWS::SSM::Parameter").values()
    }
    parameter = parameters.get(f"/payments/{env}/security/guardduty-detector-id")
    mode = p.settings.security.guardduty.mode
    assert parameters[f"/payments/{env}/security/guardduty-mode"] == mode
    if mode == "create":
        (detector,) = detectors.values()
        assert detector["Properties"]["Enable"] is True
        assert "Fn::ImportValue" in parameter
    else:
        assert detectors == {}
        assert parameter == p.settings.security.guardduty.detector_id  # None: external


def test_no_environment_creates_a_detector_by_default() -> None:
    """Seed 002 forbids creating detectors; seed 000's check is the documented manual step."""
    modes = {env: platform(env).settings.security.guardduty.mode for env in ENVIRONMENTS}
    assert modes == {"dev": "external", "staging": "external", "production": "existing"}


@pytest.mark.parametrize(("suffix", "created"), [("dev", 1), ("pr42", 0)])
def test_singletons_only_in_the_environments_own_deployment(suffix: str, created: int) -> None:
    context = cdk_context()
    context["defaults"]["platform"]["security"]["guardduty"] = {"mode": "create"}
    p = build_platform("dev", context={**context, "suffix": suffix})
    assert len(p.all_of_type("AWS::GuardDuty::Detector")) == created
    services = [
        m
        for m in p.all_of_type("AWS::CE::AnomalyMonitor").values()
        if m["Properties"]["MonitorType"] == "DIMENSIONAL"
    ]
    assert len(services) == created
    assert len(p.all_of_type("AWS::ApiGateway::Account")) == created


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_secrets_are_created_and_rotated_or_imported(env: str) -> None:
    p = platform(env)
    secrets = p.of_type("edge_security", "AWS::SecretsManager::Secret")
    schedules = list(p.of_type("edge_security", "AWS::SecretsManager::RotationSchedule").values())
    parameters = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in p.of_type("parameters", "AWS::SSM::Parameter").values()
    }
    arn = json.dumps(parameters[f"/payments/{env}/security/db-credentials-secret-arn"])
    if p.settings.security.secrets == "import":
        assert secrets == {} and schedules == []
        assert "RotateSecret" not in json.dumps(p.json("edge_security"))
        assert f"secret:payments-db-credentials-{env}" in arn
        return
    keys = sorted(
        s["Properties"]["GenerateSecretString"]["GenerateStringKey"] for s in secrets.values()
    )
    assert keys == ["api_key", "password"]
    for secret in secrets.values():
        assert "KmsKeyId" in secret["Properties"]
        assert secret["Properties"]["Name"].endswith(f"-{env}")
    assert sorted(s["Properties"]["SecretId"]["Ref"] for s in schedules) == sorted(secrets)
    for schedule in schedules:
        assert schedule["Properties"]["RotationRules"] == {
            "AutomaticallyAfterDays": p.settings.security.secret_rotation_days
        }
        assert (
            "RotateSecretFunction" in schedule["Properties"]["RotationLambdaARN"]["Fn::GetAtt"][0]
        )
    permissions = p.of_type("edge_security", "AWS::Lambda::Permission").values()
    assert any(
        perm["Properties"]["Principal"] == "secretsmanager.amazonaws.com" for perm in permissions
    )


def test_secrets_per_environment() -> None:
    modes = {env: platform(env).settings.security.secrets for env in ENVIRONMENTS}
    assert modes == {"dev": "create", "staging": "create", "production": "import"}


def test_a_stack_left_with_nothing_keeps_one_no_op_resource() -> None:
    resources = platform("production").json("edge_security")["Resources"]
    assert [r["Type"] for r in resources.values()] == ["AWS::CloudFormation::WaitConditionHandle"]


def test_the_trail_may_use_the_environment_key() -> None:
    (key,) = platform("production").of_type("security", "AWS::KMS::Key").values()
    stmts = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    encrypt = stmts["AllowCloudTrailEncryptLogs"]
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in encrypt["Condition"]["StringLike"]
    source = json.dumps(encrypt["Condition"]["StringEquals"]["aws:SourceArn"])
    assert "trail/payments-audit-trail-production" in source
    describe = stmts["AllowCloudTrailDescribeKey"]
    assert sorted(describe["Action"]) == ["kms:Decrypt", "kms:DescribeKey"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_key_rotates(env: str) -> None:
    (key,) = platform(env).of_type("security", "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_legacy_has_one_rest_api_per_service(env: str) -> None:
    legacy = platform(env, "legacy")
    names = sorted(
        r["Properties"]["Name"] for r in legacy.all_of_type("AWS::ApiGateway::RestApi").values()
    )
    assert names == [
        f"payments-api-{env}",
        f"payments-health-api-{env}",
        f"payments-status-api-{env}",
    ]
    # each API keeps its own regional WAF WebACL, as before consolidation
    regional = legacy.of_type("payments", "AWS::WAFv2::WebACL")
    assert [acl["Properties"]["Scope"] for acl in regional.values()] == ["REGIONAL"] * 3
    # one distribution fronts the three APIs: one Shield protection, not one per stage
    shields = legacy.all_of_type("AWS::Shield::Protection")
    assert len(shields) == (1 if env == "production" else 0)
