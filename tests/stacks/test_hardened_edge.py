"""The edge: CloudFront in front of the REST API, its WAF and logs, and Shield Advanced on it.

Shield Advanced cannot protect a regional API Gateway stage, so production (``edge.enabled``
and ``security.shield_advanced``) fronts the API with a distribution and protects that; the
other environments have neither. Templates come from the in-process build shared by the
hardened-platform tests (``hardened_support.platform``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hardened_support import ENVIRONMENTS, PROFILES, cdk_context, environment, platform

from stacks.config import ConfigError
from stacks.hardened_config import platform_settings

#: AWS's managed policy ids (CloudFront developer guide, "managed cache/origin request policies").
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
EVERY_METHOD = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def _one(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))


def _distribution(env: str, profile: str = "optimised") -> tuple[str, dict[str, Any]]:
    logical_id, resource = _one(
        platform(env, profile).of_type("edge", "AWS::CloudFront::Distribution")
    )
    return logical_id, resource["Properties"]["DistributionConfig"]


def _behaviours(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]


def test_production_shield_protects_the_distribution_not_an_api() -> None:
    p = platform("production")
    name, protection = _one(p.all_of_type("AWS::Shield::Protection"))
    assert name.startswith("edge/")
    arn = protection["Properties"]["ResourceArn"]
    distribution_id, _ = _distribution("production")
    assert arn == {
        "Fn::Join": [
            "",
            [f"arn:aws:cloudfront::{p.config.account}:distribution/", {"Ref": distribution_id}],
        ]
    }
    assert ":apigateway:" not in json.dumps(arn)
    assert protection["Properties"]["Name"] == "payments-edge-shield-production"


def test_distribution_serves_https_only_with_tls_1_2_2021_on_the_configured_domain() -> None:
    edge = platform("production").settings.edge
    _, config = _distribution("production")
    assert config["Aliases"] == [edge.domain_name]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": edge.certificate_arn,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert config["PriceClass"] == edge.price_class
    for behaviour in _behaviours(config):
        assert behaviour["ViewerProtocolPolicy"] == "https-only"


def test_distribution_passes_every_request_to_the_api_uncached() -> None:
    _, config = _distribution("production")
    (behaviour,) = _behaviours(config)
    assert behaviour["CachePolicyId"] == CACHING_DISABLED
    # every viewer header (x-api-key, signatures) and query string, but not Host
    assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(behaviour["AllowedMethods"]) == EVERY_METHOD


def test_origin_is_the_regional_api_stage_over_tls_1_2() -> None:
    p = platform("production")
    _, config = _distribution("production")
    (origin,) = config["Origins"]
    assert origin["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }
    api_id, _ = _one(p.of_type("payments", "AWS::ApiGateway::RestApi"))
    domain = json.dumps(origin["DomainName"])
    assert f"ExportsOutputRef{api_id}" in domain
    assert f".execute-api.{p.config.region}." in domain
    # the stage is the origin path: "/" + the stage taken from the API's URL
    assert origin["OriginPath"]["Fn::Join"][1][0] == "/"
    assert f"DeploymentStage{p.config.suffix}" in json.dumps(origin["OriginPath"])


def test_edge_web_acl_is_cloudfront_scoped_blocking_and_logged() -> None:
    p = platform("production")
    _, config = _distribution("production")
    acl_id, acl = _one(p.of_type("edge", "AWS::WAFv2::WebACL"))
    assert config["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    props = acl["Properties"]
    assert props["Scope"] == "CLOUDFRONT"
    assert props["Name"] == "payments-edge-production-waf"
    rate = next(r for r in props["Rules"] if "RateBasedStatement" in r["Statement"])
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    groups = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in props["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesSQLiRuleSet", "AWSManagedRulesCommonRuleSet"} <= groups
    _, logging = _one(p.of_type("edge", "AWS::WAFv2::LoggingConfiguration"))
    assert logging["Properties"]["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    _, log_group = _one(p.of_type("edge", "AWS::Logs::LogGroup"))
    assert log_group["Properties"]["LogGroupName"] == "aws-waf-logs-payments-edge-production-audit"
    assert "KmsKeyId" in log_group["Properties"]


def test_access_logs_go_to_the_kms_encrypted_edge_log_bucket() -> None:
    p = platform("production")
    _, config = _distribution("production")
    bucket_id, bucket = next(
        (k, v)
        for k, v in p.of_type("audit_storage", "AWS::S3::Bucket").items()
        if v["Properties"]["BucketName"].startswith("payments-edge-logs-production-")
    )
    assert f"ExportsOutputFnGetAtt{bucket_id}RegionalDomainName" in json.dumps(
        config["Logging"]["Bucket"]
    )
    assert config["Logging"]["IncludeCookies"] is False
    props = bucket["Properties"]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    # CloudFront's standard logging needs ACLs; the objects still belong to the account
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    assert all(props["PublicAccessBlockConfiguration"].values())


def test_distribution_domain_is_published_for_the_dns_record() -> None:
    p = platform("production")
    names = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in p.of_type("parameters", "AWS::SSM::Parameter").values()
    }
    assert names["/payments/production/edge/enabled"] == "true"
    assert names["/payments/production/edge/domain-name"] == p.settings.edge.domain_name
    assert "Fn::ImportValue" in names["/payments/production/edge/distribution-domain-name"]


def test_dashboard_shows_the_edge_web_acl_without_a_region_dimension() -> None:
    p = platform("production")
    bodies = json.dumps(p.of_type("observability", "AWS::CloudWatch::Dashboard"))
    # dimensions are written sorted: Region (absent here), Rule, WebACL
    for metric in ("BlockedRequests", "AllowedRequests"):
        edge = f'{metric}\\",\\"Rule\\",\\"ALL\\",\\"WebACL\\",\\"payments-edge-production-waf'
        regional = f'{metric}\\",\\"Region\\",\\"{p.config.region}\\",\\"Rule\\",\\"ALL\\",\\"WebACL\\",\\"payments-api-production-waf'
        assert edge in bodies
        assert regional in bodies


@pytest.mark.parametrize("env", [e for e in ENVIRONMENTS if e != "production"])
@pytest.mark.parametrize("profile", PROFILES)
def test_no_edge_and_no_shield_where_not_configured(env: str, profile: str) -> None:
    p = platform(env, profile)
    assert not p.settings.edge.enabled and not p.settings.security.shield_advanced
    assert "edge" not in p.templates
    assert p.all_of_type("AWS::CloudFront::Distribution") == {}
    assert p.all_of_type("AWS::Shield::Protection") == {}
    assert all(
        acl["Properties"]["Scope"] == "REGIONAL"
        for acl in p.all_of_type("AWS::WAFv2::WebACL").values()
    )


def test_legacy_production_routes_each_service_api_through_one_distribution() -> None:
    legacy = platform("production", "legacy")
    _, config = _distribution("production", "legacy")
    apis = {
        r["Properties"]["Name"]: logical_id
        for logical_id, r in legacy.of_type("payments", "AWS::ApiGateway::RestApi").items()
    }
    origins = {o["Id"]: json.dumps(o["DomainName"]) for o in config["Origins"]}
    assert len(origins) == 3

    def api_of(behaviour: dict[str, Any]) -> str:
        domain = origins[behaviour["TargetOriginId"]]
        (name,) = [n for n, i in apis.items() if f"ExportsOutputRef{i}" in domain]
        return name

    routes = {b.get("PathPattern", "*"): api_of(b) for b in _behaviours(config)}
    assert routes == {
        "*": "payments-api-production",
        "/payments/*": "payments-status-api-production",
        "/health": "payments-health-api-production",
    }
    for behaviour in _behaviours(config):
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert len(legacy.all_of_type("AWS::Shield::Protection")) == 1


def _production_error(mutate) -> str:  # type: ignore[no-untyped-def]
    ctx = cdk_context()
    mutate(ctx["environments"]["production"])
    with pytest.raises(ConfigError) as info:
        platform_settings(environment("production", context=ctx))
    return str(info.value)


def test_shield_without_the_edge_is_refused() -> None:
    def disable(env: dict[str, Any]) -> None:
        env["platform"]["edge"] = {"enabled": False}

    message = _production_error(disable)
    assert "shield_advanced needs environments.production.platform.edge.enabled" in message


def test_edge_outside_its_region_is_refused() -> None:
    def move(env: dict[str, Any]) -> None:
        env["region"] = "eu-west-1"

    message = _production_error(move)
    assert "platform.edge.region is us-east-1" in message and "eu-west-1" in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "certificate_arn",
            "arn:aws:acm:eu-west-1:333333333333:certificate/0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
            "certificate_arn is in eu-west-1",
        ),
        ("certificate_arn", "not-an-arn", "certificate_arn must be an ACM certificate ARN"),
        ("domain_name", "API.Example", "domain_name must be a lower-case DNS name"),
        ("price_class", "PriceClass_1", "price_class must be one of PriceClass_100"),
    ],
)
def test_bad_edge_values_are_refused(key: str, value: str, expected: str) -> None:
    def change(env: dict[str, Any]) -> None:
        env["platform"]["edge"][key] = value

    assert expected in _production_error(change)


def test_the_edge_is_not_a_cost_lever_of_the_legacy_profile() -> None:
    assert (
        platform_settings(environment("production", "legacy")).edge
        == platform_settings(environment("production")).edge
    )
