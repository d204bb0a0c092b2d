"""Account security and the consolidated API: WAF, GuardDuty, secrets, one REST API.

The edge (CloudFront, its WAF, Shield Advanced) is tested in ``test_platform_edge.py``.
"""

from __future__ import annotations

import json

import pytest
from platform_support import ENVIRONMENTS, platform


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
    parameter = next(
        r["Properties"]["Value"]
        for r in p.of_type("parameters", "AWS::SSM::Parameter").values()
        if r["Properties"]["Name"] == f"/payments/{env}/security/guardduty-detector-id"
    )
    if p.settings.security.guardduty.mode == "create":
        (detector,) = detectors.values()
        assert detector["Properties"]["Enable"] is True
        assert "Fn::ImportValue" in parameter
    else:
        assert detectors == {}
        assert parameter == p.settings.security.guardduty.detector_id


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_secrets_are_encrypted_and_rotated(env: str) -> None:
    p = platform(env)
    secrets = p.of_type("edge_security", "AWS::SecretsManager::Secret")
    keys = sorted(
        s["Properties"]["GenerateSecretString"]["GenerateStringKey"] for s in secrets.values()
    )
    assert keys == ["api_key", "password"]
    for secret in secrets.values():
        assert "KmsKeyId" in secret["Properties"]
        assert secret["Properties"]["Name"].endswith(f"-{env}")
    schedules = p.of_type("edge_security", "AWS::SecretsManager::RotationSchedule").values()
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
