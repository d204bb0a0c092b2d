"""The edge: CloudFront in front of the REST API, its WAF and logs, and Shield Advanced on it.

Shield Advanced cannot protect a regional API Gateway stage, so production (``edge.enabled``
and ``security.shield_advanced``) fronts the API with a distribution and protects that; the
other environments have neither. Behind the edge the API's regional web ACLs accept only
requests carrying the distribution's secret origin header (a dynamic reference, never a value),
and their rate rule counts only requests that lack it. Templates come from the in-process build shared by the
hardened-platform tests (``platform_support.platform``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_support import ENVIRONMENTS, PROFILES, Platform, cdk_context, configuration, platform

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import Template as GovernedTemplate
from stacks.config import ConfigError
from stacks.constructs.platform_api import OriginCheck, web_acl_rules

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
    _, log_group = _one(
        {
            k: v
            for k, v in p.of_type("edge", "AWS::Logs::LogGroup").items()
            if v["Properties"]["LogGroupName"].startswith("aws-waf-logs-")
        }
    )
    assert log_group["Properties"]["LogGroupName"] == "aws-waf-logs-payments-edge-production-audit"
    assert "KmsKeyId" in log_group["Properties"]


def test_access_logs_go_to_the_kms_encrypted_edge_log_bucket() -> None:
    p = platform("production")
    _, config = _distribution("production")
    bucket_id, bucket = next(
        (k, v)
        for k, v in p.of_type("storage", "AWS::S3::Bucket").items()
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
        configuration("production", context=ctx)
    return str(info.value)


def test_shield_without_the_edge_is_refused() -> None:
    def disable(env: dict[str, Any]) -> None:
        env["platform"]["edge"] = {"enabled": False}

    message = _production_error(disable)
    assert message.startswith(
        "environments.production.platform.security.shield_advanced needs edge.enabled"
    )


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
        configuration("production", "legacy").platform.edge
        == configuration("production").platform.edge
    )


# --- origin verification: the execute-api endpoint answers only the distribution ----------------

DYNAMIC_REFERENCE = "{{resolve:secretsmanager:"


def _origin_secret(p: Platform) -> tuple[str, dict[str, Any]]:
    secrets = p.of_type("payments", "AWS::SecretsManager::Secret")
    # the Payments stack also holds the webhook signing secrets (docs/payments.md)
    return _one({k: v for k, v in secrets.items() if "origin-verify" in json.dumps(v)})


def _regional_acls(p: Platform) -> dict[str, dict[str, Any]]:
    return p.of_type("payments", "AWS::WAFv2::WebACL")


def _header_check(p: Platform) -> dict[str, Any]:
    """The statement "the request carries the origin header with the secret's value"."""
    secret_id, _ = _origin_secret(p)
    assert p.settings.edge.origin_verify is not None
    return {
        "ByteMatchStatement": {
            "FieldToMatch": {"SingleHeader": {"Name": p.settings.edge.origin_verify.header}},
            "PositionalConstraint": "EXACTLY",
            "SearchString": {
                "Fn::Join": [
                    "",
                    [DYNAMIC_REFERENCE, {"Ref": secret_id}, ":SecretString:::}}"],
                ]
            },
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_every_origin_sends_the_secret_header_by_dynamic_reference(profile: str) -> None:
    p = platform("production", profile)
    origin_verify = p.settings.edge.origin_verify
    assert origin_verify is not None and origin_verify.header == "x-origin-verify"
    _, secret = _origin_secret(p)
    props = secret["Properties"]
    name = props["Name"]
    assert name == "payments-origin-verify-production"
    # generated by Secrets Manager, encrypted with the environment's key; no value in the template
    assert "SecretString" not in props
    assert props["GenerateSecretString"]["PasswordLength"] >= 32
    assert "EnvironmentKey" in json.dumps(props["KmsKeyId"])
    _, config = _distribution("production", profile)
    assert len(config["Origins"]) == (1 if p.settings.consolidated_api else 3)
    for origin in config["Origins"]:
        assert origin["OriginCustomHeaders"] == [
            {
                "HeaderName": origin_verify.header,
                "HeaderValue": f"{DYNAMIC_REFERENCE}{name}:SecretString:::}}}}",
            }
        ]


@pytest.mark.parametrize("profile", PROFILES)
def test_regional_web_acls_block_requests_without_the_header(profile: str) -> None:
    p = platform("production", profile)
    acls = _regional_acls(p)
    assert len(acls) == (1 if p.settings.consolidated_api else 3)
    for acl_id, acl in acls.items():
        first = acl["Properties"]["Rules"][0]
        assert first["Name"] == "origin-verify" and first["Priority"] == 0
        assert first["Action"] == {"Block": {}}
        assert first["Statement"] == {"NotStatement": {"Statement": _header_check(p)}}
        # the header's value never reaches the WAF logs
        logging = next(
            r["Properties"]
            for r in p.of_type("payments", "AWS::WAFv2::LoggingConfiguration").values()
            if r["Properties"]["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
        )
        assert {"SingleHeader": {"Name": "x-origin-verify"}} in logging["RedactedFields"]
    # the distribution's own web ACL has no such rule: its callers are the public
    (edge_acl,) = p.of_type("edge", "AWS::WAFv2::WebACL").values()
    assert "origin-verify" not in {r["Name"] for r in edge_acl["Properties"]["Rules"]}


def _rate(acl: dict[str, Any]) -> dict[str, Any]:
    (rule,) = [r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    return rule["Statement"]["RateBasedStatement"]


def test_behind_the_edge_the_regional_rate_rule_counts_only_direct_requests() -> None:
    p = platform("production")
    for acl in _regional_acls(p).values():
        rate = _rate(acl)
        # never keyed on X-Forwarded-For: its first address is whatever the caller sent
        assert rate["AggregateKeyType"] == "IP" and "ForwardedIPConfig" not in rate
        assert rate["ScopeDownStatement"] == {"NotStatement": {"Statement": _header_check(p)}}
    # the per-caller limit is at the edge, where the source IP is the caller's
    (edge_acl,) = p.of_type("edge", "AWS::WAFv2::WebACL").values()
    edge_rate = _rate(edge_acl)
    assert edge_rate["AggregateKeyType"] == "IP" and "ScopeDownStatement" not in edge_rate
    assert edge_rate["Limit"] == _rate(next(iter(_regional_acls(p).values())))["Limit"]


@pytest.mark.parametrize("env", [e for e in ENVIRONMENTS if e != "production"])
def test_without_the_edge_the_rate_rule_counts_every_caller_and_nothing_checks_origin(
    env: str,
) -> None:
    p = platform(env)
    assert p.all_of_type("AWS::SecretsManager::RotationSchedule").keys() == {
        f"edge_security/{k}"
        for k in p.of_type("edge_security", "AWS::SecretsManager::RotationSchedule")
    }
    for acl in _regional_acls(p).values():
        assert [r["Name"] for r in acl["Properties"]["Rules"]][0] == "rate-limit-per-ip"
        rate = _rate(acl)
        assert rate["AggregateKeyType"] == "IP" and "ScopeDownStatement" not in rate
    assert "x-origin-verify" not in json.dumps({n: p.json(n) for n in p.templates})


def test_rotation_updates_the_web_acls_and_the_distribution() -> None:
    p = platform("production", "legacy")
    secret_id, _ = _origin_secret(p)
    schedule_id, schedule = _one(p.of_type("edge", "AWS::SecretsManager::RotationSchedule"))
    props = schedule["Properties"]
    assert f"ExportsOutputRef{secret_id}" in json.dumps(props["SecretId"])
    assert props["RotationRules"] == {
        "AutomaticallyAfterDays": p.settings.security.secret_rotation_days
    }
    assert props["RotateImmediatelyOnUpdate"] is False  # deployments set the first value
    function_id = props["RotationLambdaARN"]["Fn::GetAtt"][0]
    function = p.of_type("edge", "AWS::Lambda::Function")[function_id]["Properties"]
    assert function["FunctionName"] == "payments-rotate-origin-verify-production"
    variables = function["Environment"]["Variables"]
    distribution_id, _ = _distribution("production", "legacy")
    assert variables["DISTRIBUTION_ID"] == {"Ref": distribution_id}
    assert variables["ORIGIN_HEADER"] == "x-origin-verify"
    acl_exports = {f"ExportsOutputFnGetAtt{a}Arn" for a in _regional_acls(p)}
    arns = json.dumps(variables["WEB_ACL_ARNS"])
    assert len(acl_exports) == 3 and all(e in arns for e in acl_exports)
    _, policy = _one(p.of_type("edge", "AWS::IAM::ManagedPolicy"))  # the function's only
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["UpdateOriginHeader"]["Resource"] == {
        "Fn::Join": [
            "",
            [f"arn:aws:cloudfront::{p.config.account}:distribution/", {"Ref": distribution_id}],
        ]
    }
    assert all(e in json.dumps(statements["UpdateOriginChecks"]["Resource"]) for e in acl_exports)
    assert f"ExportsOutputRef{secret_id}" in json.dumps(statements["RotateOriginSecret"])


def _secret_literals(p: Platform, value_paths: set[str]) -> list[str]:
    """Places where the origin header's value is written into a template, not referenced."""
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("HeaderName") == "x-origin-verify":
                value_paths.add(where)
                if not json.dumps(node["HeaderValue"]).startswith(f'"{DYNAMIC_REFERENCE}'):
                    found.append(where)
            match = node.get("ByteMatchStatement")
            if isinstance(match, dict) and "x-origin-verify" in json.dumps(match["FieldToMatch"]):
                value_paths.add(where)
                if DYNAMIC_REFERENCE not in json.dumps(match["SearchString"]):
                    found.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    for name in p.templates:
        walk(p.json(name), name)
    return found


@pytest.mark.parametrize("profile", PROFILES)
def test_no_template_holds_the_origin_secret(profile: str) -> None:
    p = platform("production", profile)
    value_paths: set[str] = set()
    assert _secret_literals(p, value_paths) == []
    # header values (1 or 3 origins) and search strings (2 per regional web ACL) were all seen
    apis = 1 if p.settings.consolidated_api else 3
    assert len(value_paths) == apis + 2 * apis
    for secret in p.all_of_type("AWS::SecretsManager::Secret").values():
        assert "SecretString" not in secret["Properties"]


def _governance_templates(p: Platform) -> list[GovernedTemplate]:
    return [
        GovernedTemplate(name=p.stacks[n].stack_name, path=f"{n}.template.json", body=p.json(n))
        for n in p.templates
    ]


def test_pci_secret_rules_pass_and_follow_the_rotation_across_stacks() -> None:
    p = platform("production")
    policy = Policy.from_context(cdk_context()["governance"], environment="production")
    secret_rules = [r for r in all_rules() if r.id.startswith("PCI-SEC-")]
    findings = evaluate(_governance_templates(p), policy, secret_rules).findings
    assert [f for f in findings if not f.acknowledged] == []
    # without the schedule in the edge stack, the origin secret is the one that fails
    templates = _governance_templates(p)
    for t in templates:
        t.body["Resources"] = {
            k: v
            for k, v in t.body["Resources"].items()
            if not (
                v["Type"] == "AWS::SecretsManager::RotationSchedule"
                and "OriginVerify" in json.dumps(v)
            )
        }
    failing = {
        (f.rule_id, f.logical_id)
        for f in evaluate(templates, policy, secret_rules).findings
        if not f.acknowledged
    }
    secret_id, _ = _origin_secret(p)
    assert failing == {("PCI-SEC-004", secret_id)}


def test_count_mode_counts_instead_of_blocking() -> None:
    settings = platform("production").stacks["payments"].api.settings
    check = OriginCheck(header="x-origin-verify", value="{{resolve:...}}", block=False)
    rules = web_acl_rules("payments-api-test", settings, check)
    assert [r.name for r in rules][:2] == ["origin-verify", "rate-limit-per-ip"]
    assert rules[0].action.count == {} and rules[0].action.block is None
    assert [r.priority for r in rules] == list(range(len(rules)))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"header": "x-forwarded-for"}, "origin_verify.header is reserved"),
        ({"header": "x-api-key"}, "origin_verify.header is reserved"),
        ({"header": "X-Origin"}, "header must be a lower-case header name starting with x-"),
        ({"action": "allow"}, "origin_verify.action must be one of block, count"),
    ],
)
def test_bad_origin_verify_values_are_refused(change: dict[str, str], expected: str) -> None:
    def mutate(env: dict[str, Any]) -> None:
        env["platform"]["edge"]["origin_verify"].update(change)

    assert expected in _production_error(mutate)


def test_the_edge_without_origin_verification_is_refused() -> None:
    def drop(env: dict[str, Any]) -> None:
        del env["platform"]["edge"]["origin_verify"]

    assert _production_error(drop) == (
        "missing key environments.production.platform.edge.origin_verify "
        "(required when enabled is true)"
    )
