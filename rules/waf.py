"""Web application firewall (PCI DSS 6.4.1, 6.4.2): every public web entry point sits behind a
WAFv2 web ACL that has rules and logs what it sees.

AWS maps WAF on CloudFront and non-empty web ACLs to 6.4.1/6.4.2 and WAF logging to 10.2.1; for
API Gateway stages and load balancers AWS's v4 mappings stop at the 3.2.1 requirement 6.6 —
the mapping to 6.4.1/6.4.2 is ours, since 6.4.2 replaced 6.6 and asks for the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved, as_str, literal_text, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._support import as_list, pick_branch, referrers_anywhere

ASSOCIATION = "AWS::WAFv2::WebACLAssociation"


def _private_api(resource: Resource) -> bool | Unresolved:
    """Whether the stage's REST API is PRIVATE (reachable only through a VPC endpoint)."""
    api = resource.template.get(resource.prop("RestApiId"))
    if api is None:
        return Unresolved("the REST API is not in this template")
    types = resolve(api.prop("EndpointConfiguration", "Types"), api.template)
    if isinstance(types, Unresolved) or any(isinstance(t, Unresolved) for t in as_list(types)):
        return Unresolved("the API's endpoint type is only known at deploy time")
    return as_list(types) == ["PRIVATE"]


@rule(
    id="PCI-WAF-001",
    slug="api-stage-without-waf",
    title="Public API Gateway stages are associated with a WAF web ACL",
    severity=Severity.ERROR,
    resource_types=("AWS::ApiGateway::Stage",),
    category=Category.PCI_WAF,
    pci=("6.4.1", "6.4.2"),
    cdk_nag=("AwsSolutions-APIG3", "PCI.DSS.321-APIGWAssociatedWithWAF"),
)
def api_stage_without_waf(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A REST API stage that is not PRIVATE has a `AWS::WAFv2::WebACLAssociation`.

    Why:
        PCI DSS 6.4.2 asks for an automated technical solution in front of public-facing web
        applications that detects and prevents web attacks; for an API Gateway API that is
        a WAFv2 web ACL on the stage (AWS maps this only to 3.2.1's 6.6; the v4.0.1 mapping is
        ours). HTTP APIs (API Gateway v2) cannot take a web ACL: put CloudFront with WAF in front.

    Fix:
        `wafv2.CfnWebACLAssociation(self, "Waf", resource_arn=api.deployment_stage.stage_arn,
        web_acl_arn=acl.attr_arn)`.

    Example:
        wafv2.CfnWebACLAssociation(self, "ApiWaf", resource_arn=stage.stage_arn, web_acl_arn=acl.attr_arn)
    """
    if referrers_anywhere(resource, ASSOCIATION, "Properties/ResourceArn"):
        return
    stage_name = as_str(resource.prop("StageName"), resource.template)
    api = resource.template.get(resource.prop("RestApiId"))
    if api is not None and isinstance(stage_name, str):
        for assoc in referrers_anywhere(api, ASSOCIATION, "Properties/ResourceArn"):
            if literal_text(assoc.prop("ResourceArn")).endswith(f"/stages/{stage_name}"):
                return
    private = _private_api(resource)
    if isinstance(private, Unresolved):
        yield undecidable(
            f"no web ACL association, and cannot tell whether the API is public: {private.reason}"
        )
    elif not private:
        yield violation("public API stage has no WAF web ACL association")


@rule(
    id="PCI-WAF-002",
    slug="distribution-without-waf",
    title="CloudFront distributions are protected by a WAF web ACL",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudFront::Distribution",),
    category=Category.PCI_WAF,
    pci=("6.4.1", "6.4.2"),
    checkov=("CKV_AWS_68",),
    cdk_nag=("AwsSolutions-CFR2",),
)
def distribution_without_waf(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The distribution sets `WebACLId` to a WAFv2 web ACL (scope CLOUDFRONT).

    Why:
        The distribution is the public face of the payment pages and API; PCI DSS 6.4.1/6.4.2
        ask that web attacks be detected and blocked before they reach them (AWS maps
        cloudfront-associated-with-waf here).

    Fix:
        `cloudfront.Distribution(..., web_acl_id=acl.attr_arn)` with a web ACL created in
        us-east-1 (scope CLOUDFRONT).

    Example:
        cloudfront.Distribution(self, "Cdn", web_acl_id=edge_acl_arn, ...)
    """
    where = "Properties/DistributionConfig/WebACLId"
    value = resource.prop("DistributionConfig", "WebACLId")
    value = pick_branch(value, resource.template)
    if isinstance(value, Unresolved):
        yield undecidable(f"WebACLId cannot be read: {value.reason}", where)
        return
    if value is None:
        yield violation("distribution has no WAF web ACL", where)
    elif isinstance(value, str) and not value.strip():
        yield violation("distribution has an empty WebACLId", where)
    # otherwise a literal ARN or a reference (resource, import, parameter) names a web ACL


@rule(
    id="PCI-WAF-003",
    slug="load-balancer-without-waf",
    title="Internet-facing application load balancers are associated with a WAF web ACL",
    severity=Severity.ERROR,
    resource_types=("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    category=Category.PCI_WAF,
    pci=("6.4.1", "6.4.2"),
    cdk_nag=("PCI.DSS.321-ALBWAFEnabled",),
)
def load_balancer_without_waf(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An internet-facing ALB has a `AWS::WAFv2::WebACLAssociation`.

    Why:
        An internet-facing ALB is a public entry to the application; PCI DSS 6.4.2 asks for
        a WAF in front of it (AWS's mapping stops at 3.2.1's 6.6; the v4.0.1 mapping is ours).
        Network and gateway load balancers cannot take a web ACL and are not judged.

    Fix:
        `wafv2.CfnWebACLAssociation(self, "AlbWaf", resource_arn=alb.load_balancer_arn,
        web_acl_arn=acl.attr_arn)`.

    Example:
        wafv2.CfnWebACLAssociation(self, "AlbWaf", resource_arn=alb.load_balancer_arn, web_acl_arn=acl.attr_arn)
    """
    template = resource.template
    kind = as_str(resource.prop("Type"), template)
    scheme = as_str(resource.prop("Scheme"), template)
    if kind not in (None, "application") or scheme == "internal":
        return
    if referrers_anywhere(resource, ASSOCIATION, "Properties/ResourceArn"):
        return
    if isinstance(kind, Unresolved) or isinstance(scheme, Unresolved):
        yield undecidable(
            "no web ACL association, and the load balancer's type or scheme is only known at deploy time"
        )
        return
    yield violation("internet-facing load balancer has no WAF web ACL association")


def _counts_only(rule_def: object) -> bool:
    """True when a web ACL rule only counts matches (never blocks)."""
    if not isinstance(rule_def, dict):
        return False
    override = rule_def.get("OverrideAction")
    action = rule_def.get("Action")
    if isinstance(override, dict):
        return "Count" in override
    if isinstance(action, dict):
        return "Count" in action
    return False


@rule(
    id="PCI-WAF-004",
    slug="web-acl-without-rules",
    title="WAF web ACLs have rules that block",
    severity=Severity.ERROR,
    resource_types=("AWS::WAFv2::WebACL",),
    category=Category.PCI_WAF,
    pci=("6.4.1", "6.4.2"),
)
def web_acl_without_rules(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The web ACL has at least one rule, and not every rule is in count-only mode.

    Why:
        An empty web ACL with a default Allow passes every request, and one whose rules all
        count only detects: PCI DSS 6.4.2 asks for detection *and* prevention (AWS maps
        wafv2-webacl-not-empty to 6.4.1).

    Fix:
        Add managed rule groups (AWSManagedRulesCommonRuleSet, KnownBadInputs, SQLi) with
        `override_action={"none": {}}`, so they block.

    Example:
        wafv2.CfnWebACL.RuleProperty(name="common", priority=0, override_action={"none": {}}, statement=managed("AWSManagedRulesCommonRuleSet"), ...)
    """
    rules = resolve(resource.prop("Rules"), resource.template)
    if isinstance(rules, Unresolved):
        yield undecidable(f"Rules cannot be read: {rules.reason}", "Properties/Rules")
        return
    rules = as_list(rules)
    if not rules:
        yield violation("web ACL has no rules", "Properties/Rules")
    elif all(_counts_only(r) for r in rules):
        yield violation("every rule of the web ACL only counts; none blocks", "Properties/Rules")


@rule(
    id="PCI-WAF-005",
    slug="web-acl-without-logging",
    title="WAF web ACLs have a logging configuration",
    severity=Severity.ERROR,
    resource_types=("AWS::WAFv2::WebACL",),
    category=Category.PCI_WAF,
    pci=("6.4.2", "10.2.1"),
    cdk_nag=("PCI.DSS.321-WAFv2LoggingEnabled",),
)
def web_acl_without_logging(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An `AWS::WAFv2::LoggingConfiguration` points at the web ACL.

    Why:
        PCI DSS 6.4.2 asks that the solution log its detections, and 10.2.1 that security
        events are recorded; metrics alone keep no per-request record (AWS maps
        wafv2-logging-enabled to 10.2.1).

    Fix:
        `wafv2.CfnLoggingConfiguration(self, "AclLogs", resource_arn=acl.attr_arn,
        log_destination_configs=[log_group_arn])` with a log group named `aws-waf-logs-...`.

    Example:
        wafv2.CfnLoggingConfiguration(self, "WafLogs", resource_arn=acl.attr_arn, log_destination_configs=[waf_logs.log_group_arn])
    """
    if not referrers_anywhere(
        resource, "AWS::WAFv2::LoggingConfiguration", "Properties/ResourceArn"
    ):
        yield violation("web ACL has no logging configuration")
