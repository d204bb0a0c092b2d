"""Storage, logs and function sizing: lifecycle, retention, encryption - and what legacy undoes."""

from __future__ import annotations

import pytest
from platform_support import ENVIRONMENTS, platform, resolve_join


def _buckets(env: str, profile: str = "optimised") -> dict[str, dict]:
    return {
        b["Properties"]["BucketName"].rsplit("-", 1)[0]: b["Properties"]
        for b in platform(env, profile).of_type("storage", "AWS::S3::Bucket").values()
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_buckets_are_private_encrypted_and_tls_only(env: str) -> None:
    p = platform(env)
    buckets = _buckets(env)
    # the CloudFront access-log bucket exists only where the edge distribution does
    expected = ["access-logs", "archive", "audit-logs"]
    if p.settings.edge.enabled:
        expected.append("edge-logs")
    assert sorted(buckets) == sorted(f"payments-{b}-{env}" for b in expected)
    for name, props in buckets.items():
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        algorithm = sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        # S3 server access logs can only be delivered to an SSE-S3 bucket
        assert algorithm == ("AES256" if "access-logs" in name else "aws:kms")
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    policies = p.of_type("storage", "AWS::S3::BucketPolicy").values()
    assert sum(
        '"aws:SecureTransport": "false"' in str(pol).replace("'", '"') for pol in policies
    ) == len(expected)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_audit_logs_stay_hot_90_days_and_are_kept_over_a_year(env: str) -> None:
    s = platform(env).settings.storage
    (rule,) = _buckets(env)[f"payments-audit-logs-{env}"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == s.audit_retention_days >= 365
    transitions = {t["StorageClass"]: t["TransitionInDays"] for t in rule["Transitions"]}
    # Glacier Instant Retrieval keeps millisecond access, so the first 90 days stay "immediately
    # available" (PCI DSS 10.5.1); Flexible Retrieval only after audit_hot_days
    assert transitions == {"GLACIER_IR": s.glacier_after_days, "GLACIER": s.audit_hot_days}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_archive_uses_glacier_and_intelligent_tiering(env: str) -> None:
    rules = {
        r["Id"]: r
        for r in _buckets(env)[f"payments-archive-{env}"]["LifecycleConfiguration"]["Rules"]
    }
    assert rules["archive-to-glacier"]["Prefix"] == "archive/"
    assert rules["archive-to-glacier"]["Transitions"] == [
        {"StorageClass": "GLACIER", "TransitionInDays": 30}
    ]
    assert rules["exports-intelligent-tiering"]["Transitions"] == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_trail_is_validated_encrypted_and_multi_region(env: str) -> None:
    (trail,) = platform(env).of_type("storage", "AWS::CloudTrail::Trail").values()
    props = trail["Properties"]
    assert props["EnableLogFileValidation"] is True
    assert props["IsMultiRegionTrail"] is True
    assert "KMSKeyId" in props
    assert props["TrailName"] == f"payments-audit-trail-{env}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_platform_functions_are_graviton_and_right_sized(env: str) -> None:
    p = platform(env)
    functions = [
        f["Properties"]
        for f in p.all_of_type("AWS::Lambda::Function").values()
        if f["Properties"]
        .get("FunctionName", "")
        .startswith(("payments-responder", "payments-rotate", "payment-status"))
    ]
    # with the edge, rotate-origin-verify rotates the distribution's origin secret
    assert len(functions) == 2 + _rotates(p) + p.settings.edge.enabled
    for fn in functions:
        assert fn["Architectures"] == ["arm64"]
        assert fn["MemorySize"] == p.settings.functions.memory_mb <= 1024
        assert fn["Timeout"] == p.settings.functions.timeout_s
        assert fn["ReservedConcurrentExecutions"] >= 1
        assert fn["Runtime"] == p.settings.functions.runtime
        assert fn["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_application_log_groups_kept_seven_days_encrypted(env: str) -> None:
    p = platform(env)
    groups = p.all_of_type("AWS::Logs::LogGroup")
    mine = {
        g["Properties"]["LogGroupName"]: g["Properties"]
        for g in groups.values()
        if resolve_join(g["Properties"]["LogGroupName"]).startswith(
            (
                "/aws/lambda/payments-responder",
                "/aws/lambda/payments-rotate",
                "/aws/lambda/payment-status",
            )
        )
    }
    assert len(mine) == 2 + _rotates(p) + p.settings.edge.enabled
    for props in mine.values():
        assert props["RetentionInDays"] == 7
        assert "KmsKeyId" in props


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_legacy_undoes_the_cost_levers(env: str) -> None:
    legacy = platform(env, "legacy")
    functions = [f["Properties"] for f in legacy.all_of_type("AWS::Lambda::Function").values()]
    ours = [
        f
        for f in functions
        if f.get("FunctionName", "").startswith(
            (
                "payments-responder",
                "payments-rotate",
                "payment-status",
                "process-",
                "notify-",
                "forward-",
            )
        )
    ]
    assert len(ours) == 6 + _rotates(legacy) + legacy.settings.edge.enabled
    for fn in ours:
        assert (fn["MemorySize"], fn.get("Architectures", ["x86_64"])) == (3008, ["x86_64"])
    for name, props in _buckets(env, "legacy").items():
        assert "LifecycleConfiguration" not in props, name
    app_groups = [
        g["Properties"]
        for g in legacy.all_of_type("AWS::Logs::LogGroup").values()
        if resolve_join(g["Properties"]["LogGroupName"]).startswith("/aws/lambda/")
    ]
    assert len(app_groups) == 6 + _rotates(legacy) + legacy.settings.edge.enabled
    assert all("RetentionInDays" not in g for g in app_groups)  # never expire
    tables = legacy.of_type("payments", "AWS::DynamoDB::Table").values()
    assert len(tables) == 2  # transactions and webhook replays
    for table in tables:
        assert table["Properties"].get("BillingMode", "PROVISIONED") == "PROVISIONED"
    assert len(legacy.all_of_type("AWS::ApiGateway::RestApi")) == 3
    assert len(legacy.of_type("network", "AWS::EC2::NatGateway")) == 3


def _rotates(p) -> int:  # type: ignore[no-untyped-def]
    """1 when the platform creates its secrets and so their rotation function."""
    return int(p.settings.security.secrets == "create")
