"""PCI-TLS-001..007: TLS 1.2+ in transit."""

from helpers import failing, undecided

COND = {"Deploy": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}}


def ssl_deny(bucket_id):
    """The statement CDK's `enforce_ssl=True` writes."""
    arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    return {
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": [arn, {"Fn::Join": ["", [arn, "/*"]]}],
    }


def bucket_policy(bucket, *statements):
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": bucket,
            "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
        },
    }


def test_tls_001_bucket_ssl_only():
    allow_read = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": "*",
    }
    bucket_only = {**ssl_deny("BucketOnly"), "Resource": {"Fn::GetAtt": ["BucketOnly", "Arn"]}}
    resources = {
        "Enforced": {"Type": "AWS::S3::Bucket"},
        "EnforcedPolicy": bucket_policy({"Ref": "Enforced"}, allow_read, ssl_deny("Enforced")),
        "ByName": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "receipts-dev"}},
        "ByNamePolicy": bucket_policy("receipts-dev", ssl_deny("ByName")),
        "NoPolicy": {"Type": "AWS::S3::Bucket"},
        "OtherPolicy": {"Type": "AWS::S3::Bucket"},
        "OtherPolicyPolicy": bucket_policy({"Ref": "OtherPolicy"}, allow_read),
        "BucketOnly": {"Type": "AWS::S3::Bucket"},
        "BucketOnlyPolicy": bucket_policy({"Ref": "BucketOnly"}, bucket_only),
        "AllowsTrue": {"Type": "AWS::S3::Bucket"},
        "AllowsTruePolicy": bucket_policy(
            {"Ref": "AllowsTrue"},
            {**ssl_deny("AllowsTrue"), "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        ),
        # a policy naming the bucket only in a statement's Resource does not count
        "Elsewhere": {"Type": "AWS::S3::Bucket"},
        "ElsewherePolicy": bucket_policy("another-bucket", ssl_deny("Elsewhere")),
        "Hidden": {"Type": "AWS::S3::Bucket"},
        "HiddenPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Hidden"},
                "PolicyDocument": {
                    "Statement": [
                        {"Fn::If": ["Deploy", ssl_deny("Hidden"), {"Ref": "AWS::NoValue"}]}
                    ]
                },
            },
        },
    }
    assert failing("PCI-TLS-001", resources, Conditions=COND) == {
        "NoPolicy",
        "OtherPolicy",
        "BucketOnly",
        "AllowsTrue",
        "Elsewhere",
    }
    assert undecided("PCI-TLS-001", resources, Conditions=COND) == {"Hidden"}


def listener(protocol, **props):
    return {
        "Type": "AWS::ElasticLoadBalancingV2::Listener",
        "Properties": {"Protocol": protocol, "LoadBalancerArn": {"Ref": "Alb"}, **props},
    }


def test_tls_002_listener_policy():
    resources = {
        "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"},
        "Modern": listener("HTTPS", SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06"),
        "Default": listener("HTTPS"),
        "Legacy": listener("HTTPS", SslPolicy="ELBSecurityPolicy-2016-08"),
        "NlbTls11": listener("TLS", SslPolicy="ELBSecurityPolicy-TLS-1-1-2017-01"),
        "PlainHttp": listener("HTTP"),
        "Param": listener("HTTPS", SslPolicy={"Ref": "Policy"}),
    }
    params = {"Policy": {"Type": "String"}}
    assert failing("PCI-TLS-002", resources, Parameters=params) == {
        "Default",
        "Legacy",
        "NlbTls11",
    }
    assert undecided("PCI-TLS-002", resources, Parameters=params) == {"Param"}


def test_tls_003_http_listener_redirects():
    redirect = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443"}}
    forward = {"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}}
    resources = {
        "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"},
        "Internal": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Scheme": "internal"},
        },
        "Redirects": listener("HTTP", DefaultActions=[redirect]),
        "Forwards": listener("HTTP", DefaultActions=[forward]),
        "RuleForwards": listener("HTTP", DefaultActions=[redirect]),
        "ForwardRule": {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {"ListenerArn": {"Ref": "RuleForwards"}, "Actions": [forward]},
        },
        "InternalHttp": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "Protocol": "HTTP",
                "LoadBalancerArn": {"Ref": "Internal"},
                "DefaultActions": [forward],
            },
        },
        "Https": listener("HTTPS", DefaultActions=[forward]),
        "Imported": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "Protocol": "HTTP",
                "LoadBalancerArn": {"Fn::ImportValue": "Alb"},
                "DefaultActions": [forward],
            },
        },
    }
    assert failing("PCI-TLS-003", resources) == {"Forwards", "RuleForwards"}
    assert undecided("PCI-TLS-003", resources) == {"Imported"}


def distribution(**config):
    return {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": config}}


def behaviour(policy):
    return {"TargetOriginId": "o", "ViewerProtocolPolicy": policy}


def test_tls_004_viewer_protocol():
    resources = {
        "Redirect": distribution(
            DefaultCacheBehavior=behaviour("redirect-to-https"),
            CacheBehaviors=[behaviour("https-only")],
        ),
        "AllowAll": distribution(DefaultCacheBehavior=behaviour("allow-all")),
        "PathAllowAll": distribution(
            DefaultCacheBehavior=behaviour("https-only"),
            CacheBehaviors=[{**behaviour("allow-all"), "PathPattern": "/img/*"}],
        ),
        "Conditional": distribution(
            DefaultCacheBehavior=behaviour({"Fn::If": ["Deploy", "allow-all", "https-only"]})
        ),
    }
    assert failing("PCI-TLS-004", resources, Conditions=COND) == {"AllowAll", "PathAllowAll"}
    assert undecided("PCI-TLS-004", resources, Conditions=COND) == {"Conditional"}


def test_tls_005_viewer_certificate():
    def cert(**props):
        return distribution(ViewerCertificate={"AcmCertificateArn": "arn:cert", **props})

    resources = {
        "Modern": cert(MinimumProtocolVersion="TLSv1.2_2021", SslSupportMethod="sni-only"),
        "Newest": cert(MinimumProtocolVersion="TLSv1.3_2025"),
        "Old2019": cert(MinimumProtocolVersion="TLSv1.2_2019"),
        "NoMinimum": cert(),
        "DefaultCert": distribution(ViewerCertificate={"CloudFrontDefaultCertificate": True}),
        "NoCert": distribution(),
        "Param": cert(MinimumProtocolVersion={"Ref": "Min"}),
    }
    params = {"Min": {"Type": "String"}}
    assert failing("PCI-TLS-005", resources, Parameters=params) == {
        "Old2019",
        "NoMinimum",
        "DefaultCert",
        "NoCert",
    }
    assert undecided("PCI-TLS-005", resources, Parameters=params) == {"Param"}


def test_tls_006_origin_protocol():
    def origin(**custom):
        return {"Id": "o", "DomainName": "api.example.com", "CustomOriginConfig": custom}

    resources = {
        "Https": distribution(
            Origins=[origin(OriginProtocolPolicy="https-only", OriginSSLProtocols=["TLSv1.2"])]
        ),
        "S3Origin": distribution(
            Origins=[{"Id": "s3", "DomainName": "b.s3.amazonaws.com", "S3OriginConfig": {}}]
        ),
        "HttpOnly": distribution(
            Origins=[origin(OriginProtocolPolicy="http-only", OriginSSLProtocols=["TLSv1.2"])]
        ),
        "OldTls": distribution(
            Origins=[
                origin(OriginProtocolPolicy="https-only", OriginSSLProtocols=["TLSv1", "TLSv1.2"])
            ]
        ),
        "DefaultProtocols": distribution(Origins=[origin(OriginProtocolPolicy="match-viewer")]),
        "Param": distribution(Origins=[origin(OriginProtocolPolicy={"Ref": "P"})]),
    }
    params = {"P": {"Type": "String"}}
    assert failing("PCI-TLS-006", resources, Parameters=params) == {
        "HttpOnly",
        "OldTls",
        "DefaultProtocols",
    }
    assert undecided("PCI-TLS-006", resources, Parameters=params) == {"Param"}


def test_tls_007_api_domain():
    resources = {
        "Tls12": {
            "Type": "AWS::ApiGateway::DomainName",
            "Properties": {"DomainName": "api.example.com", "SecurityPolicy": "TLS_1_2"},
        },
        "Enhanced": {
            "Type": "AWS::ApiGateway::DomainName",
            "Properties": {"SecurityPolicy": "SecurityPolicy_TLS13_1_3_2025_09"},
        },
        "Tls10": {
            "Type": "AWS::ApiGateway::DomainName",
            "Properties": {"SecurityPolicy": "TLS_1_0"},
        },
        "Missing": {"Type": "AWS::ApiGateway::DomainName", "Properties": {}},
        "V2Tls12": {
            "Type": "AWS::ApiGatewayV2::DomainName",
            "Properties": {"DomainNameConfigurations": [{"SecurityPolicy": "TLS_1_2"}]},
        },
        "V2Tls10": {
            "Type": "AWS::ApiGatewayV2::DomainName",
            "Properties": {"DomainNameConfigurations": [{"SecurityPolicy": "TLS_1_0"}]},
        },
        "Param": {
            "Type": "AWS::ApiGateway::DomainName",
            "Properties": {"SecurityPolicy": {"Ref": "P"}},
        },
    }
    params = {"P": {"Type": "String"}}
    assert failing("PCI-TLS-007", resources, Parameters=params) == {"Tls10", "Missing", "V2Tls10"}
    assert undecided("PCI-TLS-007", resources, Parameters=params) == {"Param"}
