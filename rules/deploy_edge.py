"""Edge services' placement constraints (deploy): what Shield Advanced can protect, and where
CloudFront-scope WAF resources must be created.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from governance.intrinsics import Unresolved, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._deploy_support import locate, region_of

#: Resource types Shield Advanced protects directly (an NLB or instance: through its EIP).
SHIELD_TYPES = (
    "AWS::CloudFront::Distribution",
    "AWS::Route53::HostedZone",
    "AWS::GlobalAccelerator::Accelerator",
    "AWS::EC2::EIP",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancing::LoadBalancer",
)
_SHIELD_ARN = re.compile(
    r"arn:[a-z-]+:(cloudfront::\d*:distribution/|route53:::hostedzone/|"
    r"globalaccelerator::\d*:accelerator/|ec2:[a-z0-9-]*:\d*:eip-allocation/|"
    r"elasticloadbalancing:[a-z0-9-]*:\d*:loadbalancer/(app/|(?!net/|gwy/)[^/]+$))"
)


@rule(
    id="DEPLOY-SHIELD-001",
    slug="shield-protection-unsupported-resource",
    title="Shield Advanced protections name a resource type Shield can protect",
    severity=Severity.ERROR,
    resource_types=("AWS::Shield::Protection",),
    category=Category.DEPLOY,
)
def shield_protection_unsupported_resource(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The protection's `ResourceArn` is a distribution, hosted zone, accelerator, EIP or ALB/CLB.

    Why:
        Shield Advanced protects CloudFront distributions, Route 53 hosted zones, Global
        Accelerator standard accelerators, Elastic IP addresses, Application and Classic Load
        Balancers; CreateProtection refuses anything else (an API Gateway stage, a Network Load
        Balancer, a bucket), and the stack fails. A regional REST API is protected through a
        CloudFront distribution in front of it. AWS: "List of resources that AWS Shield
        Advanced protects", https://docs.aws.amazon.com/waf/latest/developerguide/ddos-advanced-summary-protected-resources.html

    Fix:
        Protect the distribution (or the EIP of an NLB) instead.

    Example:
        shield.CfnProtection(self, "Shield", name="edge",
            resource_arn=f"arn:aws:cloudfront::{account}:distribution/{dist.distribution_id}")
    """
    where = "Properties/ResourceArn"
    target = locate(resource.prop("ResourceArn"), resource.template)
    if target.resource is not None:
        res = target.resource
        kind = as_str(res.prop("Type"), res.template)
        if res.type not in SHIELD_TYPES:
            yield violation(f"Shield Advanced cannot protect {res.type} ({res.logical_id})", where)
        elif res.type == "AWS::ElasticLoadBalancingV2::LoadBalancer" and kind not in (
            None,
            "application",
        ):
            yield violation(
                f"Shield Advanced protects a {kind} load balancer only through its Elastic IPs",
                where,
            )
    elif target.literal is not None:
        if not _SHIELD_ARN.match(target.literal):
            yield violation(f"Shield Advanced cannot protect {target.literal}", where)
    else:
        yield undecidable(f"the protected resource cannot be read: {target.reason}", where)


#: Where CLOUDFRONT-scope WAF resources are created, by partition.
CLOUDFRONT_REGIONS = ("us-east-1", "cn-northwest-1")


@rule(
    id="DEPLOY-WAF-001",
    slug="cloudfront-web-acl-outside-us-east-1",
    title="CLOUDFRONT-scope WAF resources are created in us-east-1",
    severity=Severity.ERROR,
    resource_types=(
        "AWS::WAFv2::WebACL",
        "AWS::WAFv2::IPSet",
        "AWS::WAFv2::RegexPatternSet",
        "AWS::WAFv2::RuleGroup",
    ),
    category=Category.DEPLOY,
)
def cloudfront_web_acl_outside_us_east_1(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A `Scope: CLOUDFRONT` web ACL, IP set, regex set or rule group is in a us-east-1 stack.

    Why:
        WAF accepts CLOUDFRONT-scope resources only in US East (N. Virginia) (Beijing's
        cn-northwest-1 in China); created from a stack in another region, the call fails with
        WAFInvalidParameterException and the stack rolls back. The stack's region is read from
        the cloud assembly; for a bare template it is unknown and reported as undecidable.
        AWS: AWS::WAFv2::WebACL, property Scope,
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-wafv2-webacl.html

    Fix:
        Put the CloudFront-scope resources in a stack with `env=Environment(region="us-east-1")`
        and reference the ACL's ARN across regions.

    Example:
        EdgeAclStack(app, "EdgeAcl", env=cdk.Environment(account=account, region="us-east-1"))
    """
    scope = as_str(resource.prop("Scope"), resource.template)
    if isinstance(scope, Unresolved):
        yield undecidable(f"Scope cannot be read: {scope.reason}", "Properties/Scope")
        return
    if scope != "CLOUDFRONT":
        return
    region = region_of(resource.template)
    if region is None:
        yield undecidable(
            "the stack's region is not known; CLOUDFRONT scope needs us-east-1", "Properties/Scope"
        )
    elif region not in CLOUDFRONT_REGIONS:
        yield violation(
            f"CLOUDFRONT scope in a {region} stack; it needs us-east-1", "Properties/Scope"
        )
