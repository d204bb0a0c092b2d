"""Origin-verify rotation against moto: a regional web ACL, a distribution and the secret.

The web ACL is shaped as the platform's (``origin-verify`` rule, rate rule scoped down to
requests without the header, a managed rule group); the distribution sends the header from
one origin. Each test checks what the WAF accepts and what CloudFront sends after each step.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
import requests
from conftest import REGION, ROOT, Aws, load_module

HEADER = "x-origin-verify"
TOKEN = "11111111-2222-4333-8444-555555555555"
INITIAL = "initialInitialInitialInitial0000"  # a test value: the platform's is generated
STATE = "/moto-api/state-manager"


def _match(value: str) -> dict[str, Any]:
    return {
        "ByteMatchStatement": {
            "SearchString": value.encode(),
            "FieldToMatch": {"SingleHeader": {"Name": HEADER}},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
            "PositionalConstraint": "EXACTLY",
        }
    }


def _visibility(name: str) -> dict[str, Any]:
    return {
        "SampledRequestsEnabled": True,
        "CloudWatchMetricsEnabled": True,
        "MetricName": name,
    }


def _rules(check: dict[str, Any] | None) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    rate: dict[str, Any] = {"Limit": 1000, "AggregateKeyType": "IP"}
    if check is not None:
        not_from_cloudfront = {"NotStatement": {"Statement": check}}
        rules.append(
            {
                "Name": "origin-verify",
                "Priority": 0,
                "Action": {"Block": {}},
                "Statement": not_from_cloudfront,
                "VisibilityConfig": _visibility("origin"),
            }
        )
        rate["ScopeDownStatement"] = not_from_cloudfront
    rules.append(
        {
            "Name": "rate-limit-per-ip",
            "Priority": len(rules),
            "Action": {"Block": {}},
            "Statement": {"RateBasedStatement": rate},
            "VisibilityConfig": _visibility("rate"),
        }
    )
    rules.append(
        {
            "Name": "AWSManagedRulesCommonRuleSet",
            "Priority": len(rules),
            "OverrideAction": {"None": {}},
            "Statement": {
                "ManagedRuleGroupStatement": {
                    "VendorName": "AWS",
                    "Name": "AWSManagedRulesCommonRuleSet",
                }
            },
            "VisibilityConfig": _visibility("common"),
        }
    )
    return rules


class Edge:
    """The moto resources of one test and what they currently accept and send."""

    def __init__(self, url: str, check: bool = True) -> None:
        kwargs = {"endpoint_url": url, "region_name": REGION}
        self.sm = boto3.client("secretsmanager", **kwargs)
        self.waf = boto3.client("wafv2", **kwargs)
        self.cloudfront = boto3.client("cloudfront", **kwargs)
        self.arn = self.sm.create_secret(Name="payments-origin-verify-test", SecretString=INITIAL)[
            "ARN"
        ]
        summary = self.waf.create_web_acl(
            Name="payments-api-test-waf",
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            Rules=_rules(_match(INITIAL) if check else None),
            VisibilityConfig=_visibility("acl"),
        )["Summary"]
        self.acl = {"Name": summary["Name"], "Scope": "REGIONAL", "Id": summary["Id"]}
        self.acl_arn = summary["ARN"]
        origin = {
            "Id": "api",
            "DomainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "OriginPath": "/test",
            "CustomHeaders": {
                "Quantity": 1,
                "Items": [{"HeaderName": HEADER, "HeaderValue": INITIAL}],
            },
            "CustomOriginConfig": {
                "HTTPPort": 80,
                "HTTPSPort": 443,
                "OriginProtocolPolicy": "https-only",
            },
        }
        self.distribution_id = self.cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "origin-verify-test",
                "Origins": {"Quantity": 1, "Items": [origin]},
                "DefaultCacheBehavior": {
                    "TargetOriginId": "api",
                    "ViewerProtocolPolicy": "https-only",
                    "MinTTL": 0,
                },
                "Comment": "test",
                "Enabled": True,
            }
        )["Distribution"]["Id"]

    def rules(self) -> list[dict[str, Any]]:
        return self.waf.get_web_acl(**self.acl)["WebACL"]["Rules"]

    def accepted(self, module: ModuleType) -> list[set[str]]:
        """What each origin check of the web ACL accepts (origin rule, then rate scope-down)."""
        return [module.accepted(c, HEADER) for c in module.find_checks(self.rules(), HEADER)]

    def sent(self) -> set[str]:
        config = self.cloudfront.get_distribution_config(Id=self.distribution_id)
        return {
            h["HeaderValue"]
            for o in config["DistributionConfig"]["Origins"]["Items"]
            for h in o["CustomHeaders"]["Items"]
        }

    def value(self, stage: str) -> str:
        return self.sm.get_secret_value(SecretId=self.arn, VersionStage=stage)["SecretString"]


@pytest.fixture
def rotate(aws: Aws) -> ModuleType:
    return load_module(
        ROOT / "stacks" / "platform" / "functions" / "rotate_origin_verify" / "index.py",
        "fn_rotate_origin",
    )


@pytest.fixture
def in_progress(aws: Aws) -> Iterator[None]:
    """Distributions stay ``InProgress`` (CloudFront has not reached every edge yet)."""
    transition = {"progression": "manual", "times": 1000}
    requests.post(
        f"{aws.url}{STATE}/set-transition",
        json={"model_name": "cloudfront::distribution", "transition": transition},
        timeout=10,
    ).raise_for_status()
    yield
    requests.post(
        f"{aws.url}{STATE}/unset-transition",
        json={"model_name": "cloudfront::distribution"},
        timeout=10,
    ).raise_for_status()


def _configure(monkeypatch: pytest.MonkeyPatch, edge: Edge) -> None:
    monkeypatch.setenv("ORIGIN_HEADER", HEADER)
    monkeypatch.setenv("WEB_ACL_ARNS", edge.acl_arn)
    monkeypatch.setenv("DISTRIBUTION_ID", edge.distribution_id)
    monkeypatch.setenv("VALUE_LENGTH", "32")


@pytest.fixture
def edge(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Edge:
    built = Edge(aws.url)
    _configure(monkeypatch, built)
    return built


def test_rotation_never_rejects_the_distribution_and_ends_on_the_new_value(
    edge: Edge, rotate: ModuleType
) -> None:
    assert edge.accepted(rotate) == [{INITIAL}, {INITIAL}]
    assert rotate.create_secret(edge.arn, TOKEN) is True
    assert rotate.create_secret(edge.arn, TOKEN) is False  # idempotent
    pending = edge.sm.get_secret_value(
        SecretId=edge.arn, VersionId=TOKEN, VersionStage="AWSPENDING"
    )["SecretString"]
    assert len(pending) == 32 and pending.isalnum() and pending != INITIAL
    assert edge.sent() == {INITIAL}  # creating a value changes nothing yet

    assert rotate.set_secret(edge.arn, TOKEN) == (["payments-api-test-waf"], True)
    # both the origin rule and the rate rule's scope-down accept the old and the new value
    assert edge.accepted(rotate) == [{INITIAL, pending}, {INITIAL, pending}]
    assert edge.sent() == {pending}
    assert rotate.set_secret(edge.arn, TOKEN) == ([], False)  # idempotent
    rotate.test_secret(edge.arn, TOKEN)
    assert edge.value("AWSCURRENT") == INITIAL

    assert rotate.finish_secret(edge.arn, TOKEN) == (True, True)
    assert edge.value("AWSCURRENT") == pending
    assert edge.accepted(rotate) == [{pending}, {pending}]
    assert edge.sent() == {pending}
    names = [r["Name"] for r in edge.rules()]
    assert names == ["origin-verify", "rate-limit-per-ip", "AWSManagedRulesCommonRuleSet"]


@pytest.mark.usefixtures("in_progress")
def test_previous_value_stays_accepted_while_the_distribution_deploys(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, rotate: ModuleType
) -> None:
    edge = Edge(aws.url)
    _configure(monkeypatch, edge)
    rotate.create_secret(edge.arn, TOKEN)
    rotate.set_secret(edge.arn, TOKEN)
    rotate.test_secret(edge.arn, TOKEN)
    pending = edge.value("AWSPENDING")
    assert rotate.finish_secret(edge.arn, TOKEN) == (True, False)
    assert edge.value("AWSCURRENT") == pending
    assert edge.accepted(rotate) == [{INITIAL, pending}, {INITIAL, pending}]


def test_test_step_fails_until_the_value_is_accepted_and_sent(
    edge: Edge, rotate: ModuleType
) -> None:
    rotate.create_secret(edge.arn, TOKEN)
    with pytest.raises(rotate.RotationError, match="web ACL does not accept"):
        rotate.test_secret(edge.arn, TOKEN)
    rotate.set_accepted({INITIAL, edge.value("AWSPENDING")})
    with pytest.raises(rotate.RotationError, match="distribution does not send"):
        rotate.test_secret(edge.arn, TOKEN)


def test_a_web_acl_without_the_check_is_refused(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, rotate: ModuleType
) -> None:
    edge = Edge(aws.url, check=False)
    _configure(monkeypatch, edge)
    rotate.create_secret(edge.arn, TOKEN)
    with pytest.raises(rotate.RotationError, match="has no x-origin-verify check"):
        rotate.set_secret(edge.arn, TOKEN)
    assert edge.sent() == {INITIAL}  # the distribution is left alone


def test_checks_are_found_and_replaced_wherever_they_nest(rotate: ModuleType) -> None:
    other = {
        "ByteMatchStatement": {
            **_match("x")["ByteMatchStatement"],
            "FieldToMatch": {"SingleHeader": {"Name": "x-other"}},
        }
    }
    tree = {"AndStatement": {"Statements": [{"NotStatement": {"Statement": _match("a")}}, other]}}
    assert [rotate.accepted(c, HEADER) for c in rotate.find_checks(tree, HEADER)] == [{"a"}]
    replaced, count = rotate.replace_checks(tree, HEADER, rotate.accepting(HEADER, {"b", "a"}))
    assert count == 1
    (check,) = rotate.find_checks(replaced, HEADER)
    assert rotate.accepted(check, HEADER) == {"a", "b"}
    assert replaced["AndStatement"]["Statements"][1] == other
    with pytest.raises(rotate.RotationError, match="at least one value"):
        rotate.accepting(HEADER, set())


def test_web_acl_arns_are_read_into_name_scope_and_id(
    monkeypatch: pytest.MonkeyPatch, rotate: ModuleType
) -> None:
    monkeypatch.setenv(
        "WEB_ACL_ARNS",
        "arn:aws:wafv2:us-east-1:333333333333:regional/webacl/payments-api-production-waf/"
        "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f, ",
    )
    assert rotate._web_acls() == [
        {
            "Name": "payments-api-production-waf",
            "Scope": "REGIONAL",
            "Id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        }
    ]
    monkeypatch.setenv("WEB_ACL_ARNS", "arn:aws:s3:::bucket")
    with pytest.raises(rotate.RotationError, match="not a web ACL ARN"):
        rotate._web_acls()


def test_handler_refuses_a_secret_without_rotation(edge: Edge, rotate: ModuleType) -> None:
    event = {"SecretId": edge.arn, "ClientRequestToken": TOKEN, "Step": "createSecret"}
    with pytest.raises(rotate.RotationError, match="rotation is not enabled"):
        rotate.handler(event, None)
    with pytest.raises(rotate.RotationError, match="known Step"):
        rotate.handler({**event, "Step": "dropSecret"}, None)
