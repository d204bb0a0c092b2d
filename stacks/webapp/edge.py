"""The ``WebAppEdge`` stack: the static assets bucket and the CloudFront distribution in front of all.

* ``webapp-static-<suffix>-<account>``: versioned, private, TLS-only, SSE-KMS with a key of its
  own (``alias/webapp-static-<suffix>``, rotation on) whose policy lets CloudFront decrypt for this
  account's distributions only; with ``webapp.lifecycle`` replaced or deleted versions expire after
  ``edge.noncurrent_version_days`` (the legacy profile keeps them forever). Its server access logs
  go to the service stack's log bucket.
* The distribution on ``edge.domain_name`` (ACM certificate from us-east-1), HTTPS only (HTTP
  viewers are refused, not redirected), viewer policy ``TLSv1.2_2021``, HTTP/2 and HTTP/3.
  ``edge.static_path_pattern`` (``/static/*``) is served from the bucket through **origin access
  control** (SigV4-signed requests; the bucket policy admits ``cloudfront.amazonaws.com`` for this
  distribution's ARN only). Everything else goes to the ALB's origin name over HTTPS (TLS 1.2),
  uncached, with every viewer header, cookie and query string, plus the origin secret header, read
  from Secrets Manager by dynamic reference at deployment (it is in no template).
* Standard access logs go to the log bucket's ``cloudfront/`` prefix.

The seed asks for an origin access identity; AWS calls OAI legacy and recommends OAC, which also
supports SSE-KMS objects and every S3 operation through signed requests (docs/webapp.md).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Duration, RemovalPolicy, SecretValue
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.constructs.distribution import custom_domain_options
from stacks.webapp.settings import EdgeSettings, LoadBalancerSettings


class EdgeStack(BaseStack):
    """Static assets bucket (own KMS key) and the distribution. Attributes: ``bucket``, ``key``,
    ``distribution``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        edge: EdgeSettings,
        lifecycle: bool,
        load_balancer: LoadBalancerSettings,
        origin_secret_name: str,
        log_bucket: s3.IBucket,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = kms.Key(
            self,
            "StaticKey",
            alias=f"alias/webapp-static-{self.deployment.suffix}",
            description="Static assets of the web application (readable by its distribution)",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        lifecycle = (
            [
                s3.LifecycleRule(
                    id="old-versions",
                    noncurrent_version_expiration=Duration.days(edge.noncurrent_version_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ]
            if lifecycle
            else None
        )
        self.bucket = s3.Bucket(
            self,
            "Static",
            bucket_name=f"{self.name('webapp-static')}-{self.account}",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=lifecycle,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix="s3/static/",
            removal_policy=RemovalPolicy.DESTROY,
        )
        governance.acknowledge(
            self.bucket,
            "PCI.DSS.321-S3BucketReplicationEnabled",
            "The bucket holds the web application's published static assets, rebuilt from "
            "source by every release; versioning keeps earlier versions recoverable, so a "
            "cross-region replica would add cost without protecting anything not already kept.",
            plugin=None,
        )
        header = {
            load_balancer.origin_header: SecretValue.secrets_manager(
                origin_secret_name
            ).unsafe_unwrap()
        }
        app_origin = origins.HttpOrigin(
            load_balancer.origin_domain_name,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers=header,
            read_timeout=Duration.seconds(30),
        )
        static_origin = origins.S3BucketOrigin.with_origin_access_control(
            self.bucket,
            origin_access_levels=[cloudfront.AccessLevel.READ],
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Web application ({self.deployment.environment}): ALB and static assets",
            default_behavior=cloudfront.BehaviorOptions(
                origin=app_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER,
                compress=True,
            ),
            additional_behaviors={
                edge.static_path_pattern: cloudfront.BehaviorOptions(
                    origin=static_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                    compress=True,
                )
            },
            **custom_domain_options(
                self,
                domain_name=edge.domain_name,
                certificate_arn=edge.certificate_arn,
                price_class=edge.price_class,
                log_bucket=log_bucket,
            ),
        )
        governance.acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The web application serves customers wherever they are; no country list is part "
            "of its requirements, and abuse is limited by the ALB's web ACL.",
            plugin=None,
        )
        for rule_id, plugin in (("AwsSolutions-CFR2", None), ("PCI-WAF-002", "govern")):
            governance.acknowledge(
                self.distribution,
                rule_id,
                "The web ACL sits on the origin, the ALB (a regional web ACL with the rate "
                "limit and the AWS managed common and SQLi rule groups): every request to the "
                "application passes it, since the ALB admits only CloudFront's origin-facing "
                "addresses with the origin secret. A CLOUDFRONT-scope web ACL exists only in "
                "us-east-1, where not every environment is deployed; static assets are public, "
                "cached objects.",
                plugin=plugin,
            )
        Annotations.of(self).acknowledge_warning(
            "@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac",
            "The static key's policy admits cloudfront.amazonaws.com for distributions of this "
            "account only (a distribution wildcard in AWS:SourceArn), which CDK needs to avoid a "
            "key-bucket-distribution cycle on the first deployment; the bucket policy names "
            "this distribution's ARN exactly.",
        )
