"""What every CloudFront distribution of the estate shares: its custom domain on TLS 1.2+ and
its standard logs, so the platform's edge and the web application's edge cannot drift apart."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_s3 as s3
from constructs import Construct

#: ``price_class`` values in configuration, by CloudFront's own names.
PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


def custom_domain_options(
    scope: Construct,
    *,
    domain_name: str,
    certificate_arn: str,
    price_class: str,
    log_bucket: s3.IBucket,
) -> dict[str, Any]:
    """``cloudfront.Distribution`` keyword arguments: the domain and its ACM certificate (SNI,
    ``TLSv1.2_2021``, HTTP/2 and 3), the price class, and standard logs under ``cloudfront/``
    without cookies."""
    return {
        "domain_names": [domain_name],
        "certificate": acm.Certificate.from_certificate_arn(scope, "Certificate", certificate_arn),
        "minimum_protocol_version": cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        "ssl_support_method": cloudfront.SSLMethod.SNI,
        "http_version": cloudfront.HttpVersion.HTTP2_AND_3,
        "price_class": PRICE_CLASSES[price_class],
        "enable_logging": True,
        "log_bucket": log_bucket,
        "log_file_prefix": "cloudfront/",
        "log_includes_cookies": False,
    }
