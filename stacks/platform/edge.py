"""The ``PaymentsEdge`` stack: a CloudFront distribution in front of the REST API, with Shield.

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
  (:mod:`stacks.platform.storage`: it is the one bucket with S3 ACLs enabled, as CloudFront's
  standard logging needs).
* ``AWS::Shield::Protection`` of the distribution when ``security.shield_advanced``.
* the origin check (:mod:`stacks.constructs.origin_verify`): every origin request carries the secret
  header ``edge.origin_verify.header``, its value a dynamic reference to the secret created
  beside the API, and the API's regional web ACLs refuse requests without it, so the
  execute-api endpoint cannot be called around this distribution, its WAF and Shield; the
  ``rotate-origin-verify`` function rotates the value in both places
  (:class:`OriginSecretRotation`, here because it must know the distribution).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_shield as shield
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.constructs.distribution import custom_domain_options
from stacks.constructs.origin_verify import VALUE_LENGTH, OriginSecret
from stacks.constructs.platform_api import PlatformApi, hardened_web_acl
from stacks.platform.lambdas import platform_function
from stacks.platform.settings import PlatformSettings
from stacks.validation import ConfigError


class EdgeStack(BaseStack):
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
                f"environments.{self.deployment.environment}.platform.edge.enabled is false: "
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
            **custom_domain_options(
                self,
                domain_name=edge.domain_name,
                certificate_arn=edge.certificate_arn,
                price_class=edge.price_class,
                log_bucket=log_bucket,
            ),
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


class OriginSecretRotation(Construct):
    """The ``rotate-origin-verify`` function and the secret's rotation schedule.

    Attributes: ``function`` (:class:`PlatformFunction`), ``schedule``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PlatformSettings,
        origin: OriginSecret,
        web_acls: Sequence[wafv2.CfnWebACL],
        distribution: cloudfront.IDistribution,
        edge_web_acl: wafv2.CfnWebACL,
        function_name: str,
        key: kms.IKey,
        layer: lambda_.ILayerVersion,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        acl_arns = [acl.attr_arn for acl in web_acls]
        self.function = platform_function(
            self,
            "Function",
            settings.functions,
            apis="Secrets Manager, KMS, WAF, CloudFront, X-Ray, CloudWatch Logs",
            function_name=function_name,
            code="rotate_origin_verify",
            key=key,
            layers=[layer],
            reserved_concurrency=1,
            environment={
                "ORIGIN_HEADER": origin.header,
                "WEB_ACL_ARNS": ",".join(acl_arns),
                "DISTRIBUTION_ID": distribution.distribution_id,
                "VALUE_LENGTH": str(VALUE_LENGTH),
            },
            description="Rotates the origin-verify header value in the web ACLs and CloudFront",
        )
        fn = self.function
        fn.allow(
            [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            [origin.secret.secret_arn],
            sid="RotateOriginSecret",
        )
        fn.allow_key("kms:Decrypt", "kms:GenerateDataKey")
        fn.allow(["wafv2:GetWebACL", "wafv2:UpdateWebACL"], acl_arns, sid="UpdateOriginChecks")
        # UpdateWebACL also authorises each AWS managed rule group the web ACL references,
        # as a managedruleset ARN whose name and id are AWS's: only a pattern can name them.
        managed = stack.format_arn(
            service="wafv2",
            resource="regional/managedruleset",
            resource_name="*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        fn.allow(["wafv2:UpdateWebACL"], [managed], sid="KeepManagedRuleGroups")
        fn.allow(
            [
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
                "cloudfront:UpdateDistribution",
            ],
            [distribution.distribution_arn],
            sid="UpdateOriginHeader",
        )
        # UpdateDistribution resubmits the distribution's WebACLId, which CloudFront accepts
        # only from a caller allowed to read that web ACL.
        fn.allow(["wafv2:GetWebACL"], [edge_web_acl.attr_arn], sid="ReadEdgeWebAcl")
        # cdk-nag names the finding by the resource as written: literal when the stack's
        # account and region are known, with <AWS::...> placeholders when they are not.
        finding = (
            managed
            if not Token.is_unresolved(managed)
            else (
                "arn:<AWS::Partition>:wafv2:<AWS::Region>:<AWS::AccountId>:regional/managedruleset/*"
            )
        )
        governance.acknowledge(
            fn.policy,
            f"AwsSolutions-IAM5[Resource::{finding}]",
            "wafv2:UpdateWebACL is authorised on every AWS managed rule group the web ACL "
            "references, under ARNs whose names and ids AWS assigns; the statement grants "
            "only that action, only on managed rule sets of this account and region, and the "
            "web ACLs themselves are named by ARN.",
            plugin=None,
        )
        fn.function.add_permission(
            "SecretsManagerInvoke",
            principal=iam.ServicePrincipal("secretsmanager.amazonaws.com"),
            source_account=stack.account,
        )
        self.schedule = secretsmanager.CfnRotationSchedule(
            self,
            "Rotation",
            secret_id=origin.secret.secret_arn,
            rotation_lambda_arn=fn.function.function_arn,
            rotate_immediately_on_update=False,
            rotation_rules=secretsmanager.CfnRotationSchedule.RotationRulesProperty(
                automatically_after_days=settings.security.secret_rotation_days
            ),
        )
        self.schedule.node.add_dependency(fn.function)
