"""The platform's edge: a CloudFront distribution in front of the REST API, protected by Shield.

AWS Shield Advanced protects CloudFront distributions, Route 53 hosted zones, Global Accelerator
accelerators, Elastic IP addresses and load balancers; it cannot protect a regional API Gateway
stage. AWS's answer for an API is to put CloudFront in front of it and protect the distribution,
and that is this stack, created when ``platform.edge.enabled`` (production):

* ``cloudfront.Distribution`` on the configured domain name and ACM certificate, so the viewer
  security policy can be ``TLSv1.2_2021`` (with the default ``*.cloudfront.net`` certificate
  CloudFront accepts TLS 1.0); HTTPS only, every HTTP method, caching disabled, and every viewer
  header except ``Host`` forwarded (AWS's ``AllViewerExceptHostHeader`` policy, meant for API
  Gateway origins), so API keys, signatures, query strings and bodies reach the API unchanged.
  The origin is the API's regional ``execute-api`` endpoint over TLS 1.2 with the stage as the
  origin path. Without ``consolidated_api`` (the legacy profile: one REST API per service) the
  status and health APIs are further origins, chosen by path pattern (``routes``).
* a CLOUDFRONT-scope WAF web ACL with the API's rules (rate limit per client IP, the configured
  AWS managed rule groups), logged to a KMS-encrypted ``aws-waf-logs-`` log group. CLOUDFRONT
  web ACLs exist only in ``edge.region`` (us-east-1), which configuration checks is the
  environment's region.
* standard access logs (``cloudfront/`` prefix) in the storage stack's private, versioned,
  KMS-encrypted ``payments-edge-logs-<suffix>-<account>`` bucket, kept ``audit_retention_days``
  (:mod:`stacks.audit_storage`: it is the one bucket with S3 ACLs enabled, as CloudFront's
  standard logging needs).
* ``AWS::Shield::Protection`` of the distribution when ``security.shield_advanced``.
* the origin check (:mod:`stacks.origin_verify`): every origin request carries the secret
  header ``edge.origin_verify.header``, its value a dynamic reference to the secret created
  beside the API, and the API's regional web ACLs refuse requests without it, so the
  execute-api endpoint cannot be called around this distribution, its WAF and Shield; the
  ``rotate-origin-verify`` function rotates the value in both places.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_shield as shield
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.config import ConfigError
from stacks.constructs import PlatformApi, hardened_web_acl
from stacks.hardened_config import PlatformSettings
from stacks.origin_verify import OriginSecret, OriginSecretRotation

PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


class EdgeDistributionStack(BaseStack):
    """CloudFront in front of ``api`` (and ``routes``), its WAF, access logs and Shield protection.

    Attributes: ``distribution``, ``web_acl``, ``waf_log_group``, ``protection`` (None unless
    ``security.shield_advanced``), ``rotation`` (:class:`OriginSecretRotation`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PlatformSettings,
        key: kms.IKey,
        api: PlatformApi,
        routes: Mapping[str, PlatformApi],
        log_bucket: s3.IBucket,
        origin: OriginSecret,
        layer: lambda_.ILayerVersion,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        edge = settings.edge
        if not (edge.enabled and edge.domain_name and edge.certificate_arn and edge.price_class):
            raise ConfigError(
                f"environments.{self.config.name}.platform.edge.enabled is false: "
                "no edge distribution to build"
            )
        self.web_acl, self.waf_log_group = hardened_web_acl(
            self,
            name=self.name("payments-edge"),
            waf_scope="CLOUDFRONT",
            description=f"Rate limit and managed rules at the edge, in front of {api.api_name}",
            settings=api.settings,
            key=key,
        )

        apis = {id(target): target for target in (api, *routes.values())}
        missing = [t.api_name for t in apis.values() if t.origin_check is None]
        if missing:
            raise ConfigError(
                f"the edge distribution needs the origin check on every API it fronts; "
                f"{', '.join(missing)} accept requests without {origin.header}"
            )
        header = {origin.header: origin.header_value()}
        api_origins: dict[int, origins.RestApiOrigin] = {}

        def behaviour(target: PlatformApi) -> cloudfront.BehaviorOptions:
            api_origin = api_origins.setdefault(
                id(target), origins.RestApiOrigin(target.api, custom_headers=header)
            )
            return cloudfront.BehaviorOptions(
                origin=api_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                compress=False,
            )

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Edge of {api.api_name}: TLS 1.2+, WAF, Shield Advanced when configured",
            default_behavior=behaviour(api),
            additional_behaviors={
                pattern: behaviour(target)
                for pattern, target in routes.items()
                if target is not api
            }
            or None,
            domain_names=[edge.domain_name],
            certificate=acm.Certificate.from_certificate_arn(
                self, "Certificate", edge.certificate_arn
            ),
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            ssl_support_method=cloudfront.SSLMethod.SNI,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=PRICE_CLASSES[edge.price_class],
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
            log_includes_cookies=False,
            web_acl_id=self.web_acl.attr_arn,
        )
        governance.acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The API's callers are payment providers whose webhook senders run in many "
            "countries and clouds; a geographic allow-list would reject legitimate deliveries "
            "without a published source-country list to base it on. Abuse is limited by the "
            "edge WAF (rate limit per client IP, managed rule groups), API keys and Shield "
            "Advanced.",
            plugin=None,
        )
        self.protection: shield.CfnProtection | None = None
        if settings.security.shield_advanced:
            self.protection = shield.CfnProtection(
                self,
                "Shield",
                name=self.name("payments-edge-shield"),
                resource_arn=self.distribution.distribution_arn,
            )
        self.rotation = OriginSecretRotation(
            self,
            "OriginVerify",
            settings=settings,
            origin=origin,
            web_acls=[target.web_acl for target in apis.values()],
            distribution=self.distribution,
            edge_web_acl=self.web_acl,
            function_name=self.name("payments-rotate-origin-verify"),
            key=key,
            layer=layer,
        )
