"""Encryption in transit (PCI DSS 4.2.1): TLS 1.2 or newer wherever data crosses a network.

S3 buckets refuse plain-HTTP requests, load balancer listeners and CloudFront viewers speak only
modern TLS (and redirect HTTP), CloudFront reaches custom origins over TLS, API Gateway custom
domains use a TLS 1.2+ security policy. The accepted policy names are the policy's
``thresholds.tls_min_policies``. AWS maps S3 SSL-only bucket policies (S3.5), CloudFront viewer
and origin protocol checks and ELB TLS listeners to 4.2.1; for API Gateway domains the mapping is
ours, on the same reasoning.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_str, literal_text, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._support import as_list, memo, statements, strings, wildcard_principal

SECURE_TRANSPORT = "aws:securetransport"
#: CloudFormation's default for `CustomOriginConfig.OriginSSLProtocols` (resource schema).
DEFAULT_ORIGIN_PROTOCOLS = ["TLSv1", "SSLv3"]


def _policies_by_bucket_name(template: Any) -> dict[str, list[Resource]]:
    index: dict[str, list[Resource]] = {}
    for policy in template.of_type("AWS::S3::BucketPolicy"):
        name = as_str(policy.prop("Bucket"), template)
        if isinstance(name, str):
            index.setdefault(name, []).append(policy)
    return index


def _denies_insecure_transport(stmt: dict[str, Any], template: Any) -> bool:
    """A ``Deny`` of ``s3:*`` to everyone, on the objects, when ``aws:SecureTransport`` is false."""
    if as_str(stmt.get("Effect"), template) != "Deny":
        return False
    if not wildcard_principal(stmt.get("Principal")):
        return False
    if not any(a in ("*", "s3:*") for a in strings(stmt.get("Action"), template)):
        return False
    condition = stmt.get("Condition")
    if not isinstance(condition, dict):
        return False
    insecure = False
    for operator in ("Bool", "BoolIfExists"):
        block = condition.get(operator)
        if isinstance(block, dict):
            for key, value in block.items():
                values = [str(v).lower() for v in as_list(value)]
                if key.lower() == SECURE_TRANSPORT and values == ["false"]:
                    insecure = True
    if not insecure:
        return False
    return any(literal_text(r).endswith("*") for r in as_list(stmt.get("Resource")))


@rule(
    id="PCI-TLS-001",
    slug="bucket-allows-insecure-transport",
    title="S3 bucket policy denies requests without TLS",
    severity=Severity.ERROR,
    resource_types=("AWS::S3::Bucket",),
    category=Category.PCI_TRANSIT,
    pci=("4.2.1",),
    cdk_nag=("AwsSolutions-S10", "PCI.DSS.321-S3BucketSSLRequestsOnly"),
)
def bucket_allows_insecure_transport(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The bucket's policy denies every request made without TLS (`aws:SecureTransport`).

    Why:
        Without the deny, S3 answers plain-HTTP requests, and objects cross the network in the
        clear (PCI DSS 4.2.1; AWS maps Security Hub S3.5 here).

    Fix:
        `s3.Bucket(..., enforce_ssl=True)` adds a `Deny s3:*` statement for
        `aws:SecureTransport = false` on the bucket and its objects.

    Example:
        s3.Bucket(self, "Receipts", enforce_ssl=True, encryption_key=env_key)
    """
    template = resource.template
    policies = template.referrers_at(
        resource.logical_id, "AWS::S3::BucketPolicy", "Properties/Bucket"
    )
    name = as_str(resource.prop("BucketName"), template)
    if isinstance(name, str):
        policies += memo(template, "bucket-policies-by-name", _policies_by_bucket_name).get(
            name, []
        )
    undecided: str | None = None
    for bucket_policy in policies:
        document = bucket_policy.prop("PolicyDocument")
        for stmt, _ in statements(document, template, "Properties/PolicyDocument"):
            if isinstance(stmt, Unresolved):
                undecided = f"policy {bucket_policy.logical_id} cannot be read: {stmt.reason}"
            elif _denies_insecure_transport(stmt, template):
                return
    if undecided:
        yield undecidable(undecided)
    else:
        yield violation(
            "no bucket policy denies requests without TLS (aws:SecureTransport = false)"
        )


def _accepted(
    value: Any, resource: Resource, policy: Policy, where: str, what: str
) -> Iterator[Issue]:
    text = as_str(value, resource.template)
    if isinstance(text, Unresolved):
        yield undecidable(f"{what} cannot be read: {text.reason}", where)
    elif text not in policy.thresholds.tls_min_policies:
        yield violation(f"{what} {text} allows protocols older than TLS 1.2", where)


@rule(
    id="PCI-TLS-002",
    slug="listener-allows-old-tls",
    title="Load balancer TLS listeners use a TLS 1.2+ security policy",
    severity=Severity.ERROR,
    resource_types=("AWS::ElasticLoadBalancingV2::Listener",),
    category=Category.PCI_TRANSIT,
    pci=("4.2.1", "2.2.7"),
    checkov=("CKV_AWS_103",),
)
def listener_allows_old_tls(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """HTTPS and TLS listeners name an `SslPolicy` that accepts nothing older than TLS 1.2.

    Why:
        Without `SslPolicy` ELB applies `ELBSecurityPolicy-2016-08`, which still negotiates
        TLS 1.0 and 1.1; PCI DSS 4.2.1 asks for strong cryptography on public networks.

    Fix:
        `ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS` (TLS 1.2 and 1.3) on the listener.

    Example:
        alb.add_listener("Https", port=443, certificates=[cert], ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS)
    """
    protocol = as_str(resource.prop("Protocol"), resource.template)
    if isinstance(protocol, Unresolved):
        yield undecidable(f"Protocol cannot be read: {protocol.reason}", "Properties/Protocol")
        return
    if protocol not in ("HTTPS", "TLS"):
        return
    ssl_policy = resource.prop("SslPolicy")
    if ssl_policy is None:
        yield violation(
            "no SslPolicy: the default ELBSecurityPolicy-2016-08 allows TLS 1.0 and 1.1",
            "Properties/SslPolicy",
        )
        return
    yield from _accepted(ssl_policy, resource, policy, "Properties/SslPolicy", "SslPolicy")


def _internet_facing(resource: Resource, lb_value: Any) -> bool | Unresolved:
    lb = resource.template.get(lb_value)
    if lb is None or lb.type != "AWS::ElasticLoadBalancingV2::LoadBalancer":
        return Unresolved("the load balancer is not in this template")
    scheme = as_str(lb.prop("Scheme"), lb.template)
    if isinstance(scheme, Unresolved):
        return scheme
    return scheme in (None, "internet-facing")


def _redirects_to_https(action: Any, template: Any) -> bool:
    action = resolve(action, template)
    if not isinstance(action, dict) or action.get("Type") != "redirect":
        return False
    config = action.get("RedirectConfig")
    return isinstance(config, dict) and config.get("Protocol") == "HTTPS"


@rule(
    id="PCI-TLS-003",
    slug="listener-serves-plain-http",
    title="Internet-facing HTTP listeners only redirect to HTTPS",
    severity=Severity.ERROR,
    resource_types=("AWS::ElasticLoadBalancingV2::Listener",),
    category=Category.PCI_TRANSIT,
    pci=("4.2.1",),
    checkov=("CKV_AWS_2",),
    cdk_nag=("PCI.DSS.321-ALBHttpToHttpsRedirection",),
)
def listener_serves_plain_http(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An HTTP listener of an internet-facing load balancer answers only with a redirect to HTTPS.

    Why:
        A listener that forwards plain HTTP carries requests, cookies and card data in the
        clear over the internet (PCI DSS 4.2.1).

    Fix:
        `redirect_http=True` on the ECS patterns, or `alb.add_redirect()`; forward only from the
        HTTPS listener. Listener rules on the HTTP listener must redirect too.

    Example:
        alb.add_redirect(source_port=80, target_port=443)
    """
    template = resource.template
    protocol = as_str(resource.prop("Protocol"), template)
    if isinstance(protocol, Unresolved):
        yield undecidable(f"Protocol cannot be read: {protocol.reason}", "Properties/Protocol")
        return
    if protocol != "HTTP":
        return
    public = _internet_facing(resource, resource.prop("LoadBalancerArn"))
    if isinstance(public, Unresolved):
        yield undecidable(
            f"cannot tell whether the load balancer is internet-facing: {public.reason}",
            "Properties/LoadBalancerArn",
        )
        return
    if not public:
        return
    for i, action in enumerate(as_list(resource.prop("DefaultActions"))):
        if not _redirects_to_https(action, template):
            yield violation(
                "HTTP listener serves traffic instead of redirecting to HTTPS",
                f"Properties/DefaultActions/{i}",
            )
    for listener_rule in template.referrers_at(
        resource.logical_id, "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties/ListenerArn"
    ):
        for action in as_list(listener_rule.prop("Actions")):
            if not _redirects_to_https(action, template):
                yield violation(
                    f"listener rule {listener_rule.logical_id} serves plain HTTP instead of redirecting",
                    "Properties/DefaultActions",
                )
                break


def _behaviours(resource: Resource) -> Iterator[tuple[Any, str]]:
    config = resource.prop("DistributionConfig") or {}
    if not isinstance(config, dict):
        return
    where = "Properties/DistributionConfig"
    yield config.get("DefaultCacheBehavior"), f"{where}/DefaultCacheBehavior"
    for i, behaviour in enumerate(as_list(config.get("CacheBehaviors"))):
        yield behaviour, f"{where}/CacheBehaviors/{i}"


@rule(
    id="PCI-TLS-004",
    slug="distribution-allows-http",
    title="CloudFront viewers use HTTPS only",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudFront::Distribution",),
    category=Category.PCI_TRANSIT,
    pci=("4.2.1", "2.2.5", "2.2.7"),
    checkov=("CKV_AWS_34",),
)
def distribution_allows_http(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every cache behaviour's `ViewerProtocolPolicy` is `https-only` or `redirect-to-https`.

    Why:
        `allow-all` serves pages and API responses over plain HTTP between the browser and the
        edge (PCI DSS 4.2.1; AWS maps cloudfront-viewer-policy-https here).

    Fix:
        `viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS` on every
        behaviour.

    Example:
        cloudfront.BehaviorOptions(origin=origin, viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY)
    """
    for behaviour, where in _behaviours(resource):
        if not isinstance(behaviour, dict):
            continue
        value = as_str(behaviour.get("ViewerProtocolPolicy"), resource.template)
        if isinstance(value, Unresolved):
            yield undecidable(
                f"ViewerProtocolPolicy cannot be read: {value.reason}",
                f"{where}/ViewerProtocolPolicy",
            )
        elif value not in ("https-only", "redirect-to-https"):
            yield violation(
                f"ViewerProtocolPolicy {value} lets viewers use plain HTTP",
                f"{where}/ViewerProtocolPolicy",
            )


@rule(
    id="PCI-TLS-005",
    slug="distribution-allows-old-tls",
    title="CloudFront viewer certificate requires TLS 1.2 or newer",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudFront::Distribution",),
    category=Category.PCI_TRANSIT,
    pci=("4.2.1", "2.2.7"),
    checkov=("CKV_AWS_174",),
    cdk_nag=("AwsSolutions-CFR4",),
)
def distribution_allows_old_tls(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The distribution uses its own certificate with `MinimumProtocolVersion` TLSv1.2_2021 or newer.

    Why:
        With the default `*.cloudfront.net` certificate CloudFront accepts TLS 1.0; older
        `TLSv1.2_2018/2019` policies keep weak ciphers (PCI DSS 4.2.1; AWS maps
        cloudfront-security-policy-check here).

    Fix:
        Give the distribution a domain name and an ACM certificate, and
        `minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021`.

    Example:
        cloudfront.Distribution(self, "Cdn", domain_names=[name], certificate=cert, minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021, ...)
    """
    where = "Properties/DistributionConfig/ViewerCertificate"
    cert = resource.prop("DistributionConfig", "ViewerCertificate")
    cert = resolve(cert, resource.template) if cert is not None else None
    if isinstance(cert, Unresolved):
        yield undecidable(f"ViewerCertificate cannot be read: {cert.reason}", where)
        return
    if (
        not isinstance(cert, dict)
        or cert.get("CloudFrontDefaultCertificate") in (True, "true")
        or not (cert.get("AcmCertificateArn") or cert.get("IamCertificateId"))
    ):
        yield violation("the default CloudFront certificate accepts TLS 1.0", where)
        return
    yield from _accepted(
        cert.get("MinimumProtocolVersion", "TLSv1"),
        resource,
        policy,
        f"{where}/MinimumProtocolVersion",
        "MinimumProtocolVersion",
    )


@rule(
    id="PCI-TLS-006",
    slug="origin-without-tls",
    title="CloudFront reaches custom origins over TLS 1.2",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudFront::Distribution",),
    category=Category.PCI_TRANSIT,
    pci=("4.2.1",),
    checkov=("CKV2_AWS_72",),
    cdk_nag=("AwsSolutions-CFR5",),
)
def origin_without_tls(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Custom origins use `https-only` (or `match-viewer`) and only TLS 1.2+ origin protocols.

    Why:
        Between the edge and a custom origin the request crosses the internet; `http-only`
        or TLSv1/SSLv3 origin protocols expose it (PCI DSS 4.2.1; AWS maps
        cloudfront-traffic-to-origin-encrypted here). Without `OriginSSLProtocols`
        CloudFormation applies TLSv1 and SSLv3.

    Fix:
        `origins.HttpOrigin(domain, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2])`; S3 website endpoints
        cannot speak TLS, use an S3 origin with origin access control instead.

    Example:
        origins.HttpOrigin("api.example.com", protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY)
    """
    template = resource.template
    for i, origin in enumerate(as_list(resource.prop("DistributionConfig", "Origins"))):
        custom = origin.get("CustomOriginConfig") if isinstance(origin, dict) else None
        if not isinstance(custom, dict):
            continue
        where = f"Properties/DistributionConfig/Origins/{i}/CustomOriginConfig"
        protocol = as_str(custom.get("OriginProtocolPolicy"), template)
        if isinstance(protocol, Unresolved):
            yield undecidable(
                f"OriginProtocolPolicy cannot be read: {protocol.reason}",
                f"{where}/OriginProtocolPolicy",
            )
        elif protocol == "http-only":
            yield violation("origin is reached over plain HTTP", f"{where}/OriginProtocolPolicy")
        protocols = resolve(custom.get("OriginSSLProtocols", DEFAULT_ORIGIN_PROTOCOLS), template)
        if isinstance(protocols, Unresolved):
            yield undecidable(
                f"OriginSSLProtocols cannot be read: {protocols.reason}",
                f"{where}/OriginSSLProtocols",
            )
            continue
        old = [
            p
            for p in as_list(protocols)
            if isinstance(p, str) and p not in policy.thresholds.tls_min_policies
        ]
        if isinstance(protocol, str) and protocol != "http-only" and old:
            yield violation(f"origin accepts {', '.join(old)}", f"{where}/OriginSSLProtocols")


@rule(
    id="PCI-TLS-007",
    slug="api-domain-allows-old-tls",
    title="API Gateway custom domains use a TLS 1.2+ security policy",
    severity=Severity.ERROR,
    resource_types=("AWS::ApiGateway::DomainName", "AWS::ApiGatewayV2::DomainName"),
    category=Category.PCI_TRANSIT,
    pci=("4.2.1",),
)
def api_domain_allows_old_tls(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The custom domain's `SecurityPolicy` is `TLS_1_2` or a newer enhanced policy.

    Why:
        A REST API domain without `SecurityPolicy` accepts TLS 1.0. AWS gives no v4.0.1 mapping
        for API Gateway TLS; ours is 4.2.1, as for load balancers and CloudFront, since the API
        takes card data over the internet.

    Fix:
        `apigateway.DomainName(..., security_policy=apigateway.SecurityPolicy.TLS_1_2)`.

    Example:
        api.add_domain_name("Domain", domain_name=name, certificate=cert, security_policy=apigateway.SecurityPolicy.TLS_1_2)
    """
    if resource.type == "AWS::ApiGateway::DomainName":
        value = resource.prop("SecurityPolicy")
        if value is None:
            yield violation(
                "no SecurityPolicy: the domain accepts TLS 1.0", "Properties/SecurityPolicy"
            )
            return
        yield from _accepted(value, resource, policy, "Properties/SecurityPolicy", "SecurityPolicy")
        return
    for i, config in enumerate(as_list(resource.prop("DomainNameConfigurations"))):
        if isinstance(config, dict) and config.get("SecurityPolicy") is not None:
            where = f"Properties/DomainNameConfigurations/{i}/SecurityPolicy"
            yield from _accepted(
                config["SecurityPolicy"], resource, policy, where, "SecurityPolicy"
            )
