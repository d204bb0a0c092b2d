"""Template tests of the global data system (seed 004), one per bullet of issue 11."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from global_data_support import ENVIRONMENTS, ROOT, system

from stacks.global_data.service import AUDIT_PREFIXES

PAGE = (ROOT / "docs" / "platform.md").read_text()


def test_each_stack_is_in_its_module_in_its_region_tagged_with_the_system() -> None:
    s = system("staging")
    regions = {
        "GlobalDataKeysSecondary": "us-west-2",
        "GlobalDataKeysPrimary": "us-east-2",
        "GlobalDataTable": "us-east-2",
        "GlobalDataServicePrimary": "us-east-2",
        "GlobalDataServiceSecondary": "us-west-2",
        "GlobalDataFailover": "us-east-1",
    }
    assert {st.node.id: st.region for st in s.stacks.values()} == regions
    for stack in s.stacks.values():
        stack_id = stack.node.id
        module = re.sub(r"(Primary|Secondary)$", "", stack_id.removeprefix("GlobalData"))
        path = Path(sys.modules[type(stack).__module__].__file__ or "").relative_to(ROOT)
        assert path.as_posix() == f"stacks/global_data/{module.lower()}.py"
        assert f"| `{stack_id}` | `{path.as_posix()}` |" in PAGE, stack_id
        assert stack.account == s.config.account
        assert stack.tags.tag_values().get("System") == "global-data"


def test_destroy_order_follows_the_dependencies() -> None:
    st = system("staging").stacks
    deps = {s.node.id: {d.node.id for d in s.dependencies} for s in st.values()}
    assert deps["GlobalDataTable"] >= {"GlobalDataKeysSecondary", "GlobalDataKeysPrimary"}
    assert deps["GlobalDataServiceSecondary"] >= {"GlobalDataTable", "GlobalDataServicePrimary"}
    assert deps["GlobalDataFailover"] >= {
        "GlobalDataServicePrimary",
        "GlobalDataServiceSecondary",
    }
    assert deps["GlobalDataKeysSecondary"] == set() and deps["GlobalDataKeysPrimary"] == set()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_global_table_replicas_each_with_pitr_and_a_key_of_its_region(env: str) -> None:
    s = system(env)
    table = s.one("global_data_table", "AWS::DynamoDB::GlobalTable")
    assert table["TableName"] == f"global-data-payments-{env}"
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert table["KeySchema"] == [
        {"AttributeName": "payment_id", "KeyType": "HASH"},
        {"AttributeName": "timestamp", "KeyType": "RANGE"},
    ]
    replicas = {r["Region"]: r for r in table["Replicas"]}
    assert set(replicas) == {s.config.region, s.config.secondary_region}
    for replica in replicas.values():
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert replica["DeletionProtectionEnabled"] is False
    primary_key = replicas[s.config.region]["SSESpecification"]["KMSMasterKeyId"]
    assert "Fn::ImportValue" in str(primary_key)  # the primary key stack's key, same region
    secondary_key = replicas[s.config.secondary_region]["SSESpecification"]["KMSMasterKeyId"]
    (reader,) = s.resources("global_data_table", "Custom::AWS")
    assert secondary_key == {"Fn::GetAtt": [reader, "Parameter.Value"]}
    reads = s.templates["global_data_table"]["Resources"][reader]["Properties"]
    assert s.config.secondary_region in str(reads["Create"])  # read in the key's region
    exported = s.resources("global_data_keys_secondary", "AWS::SSM::Parameter")
    name = f"/global-data/{env}/exports/GlobalDataKeysSecondary/table-key-arn"
    (export,) = [e for e in exported.values() if e["Properties"]["Name"] == name]
    assert export["Properties"]["Value"]["Fn::GetAtt"][1] == "Arn"
    assert name in str(reads["Create"])


def test_global_secondary_indexes() -> None:
    table = system("dev").one("global_data_table", "AWS::DynamoDB::GlobalTable")
    indexes = {i["IndexName"]: i["KeySchema"] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {
        "status-index": [
            {"AttributeName": "status", "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
        "customer-index": [
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
    }


@pytest.mark.parametrize("stack", ["global_data_keys_primary", "global_data_keys_secondary"])
def test_three_purpose_keys_per_region_with_rotation_aliases_and_window(stack: str) -> None:
    s = system("production")
    keys = s.resources(stack, "AWS::KMS::Key")
    assert len(keys) == 3
    for key in keys.values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["Properties"]["RotationPeriodInDays"] == 365
        assert key["Properties"]["PendingWindowInDays"] == 10
        assert key["DeletionPolicy"] == "Delete"
    aliases = {a["Properties"]["AliasName"] for a in s.resources(stack, "AWS::KMS::Alias").values()}
    assert aliases == {f"alias/global-data-{p}-production" for p in ("table", "audit", "function")}


@pytest.mark.parametrize("stack", ["global_data_service_primary", "global_data_service_secondary"])
def test_audit_bucket_is_versioned_kms_tls_private_and_archived(stack: str) -> None:
    s = system("dev")
    buckets = s.resources(stack, "AWS::S3::Bucket")
    region = s.stacks[stack].region
    (audit,) = [
        b["Properties"]
        for b in buckets.values()
        if b["Properties"]["BucketName"] == (f"global-data-audit-{region}-dev")
    ]
    assert audit["VersioningConfiguration"] == {"Status": "Enabled"}
    sse = audit["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert audit["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = audit["LifecycleConfiguration"]["Rules"]
    assert rule["Transitions"] == [{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}]
    policies = [p["Properties"] for p in s.resources(stack, "AWS::S3::BucketPolicy").values()]
    assert any("aws:SecureTransport" in str(p) for p in policies)
    (function_policy,) = [
        p["Properties"]
        for k, p in s.resources(stack, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("Processor")
    ]
    puts = [
        st
        for st in function_policy["PolicyDocument"]["Statement"]
        if st["Sid"] == "WriteAuditObjects"
    ]
    assert [st["Action"] for st in puts] == ["s3:PutObject"]
    assert sorted(r["Fn::Join"][1][-1] for r in puts[0]["Resource"]) == sorted(
        f"/{p}*" for p in AUDIT_PREFIXES
    )


@pytest.mark.parametrize("stack", ["global_data_service_primary", "global_data_service_secondary"])
def test_processor_runtime_size_and_encrypted_environment(stack: str) -> None:
    s = system("staging")
    (fn,) = [
        f["Properties"]
        for f in s.resources(stack, "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "global-data-processor-staging"
    ]
    assert (fn["Runtime"], fn["Architectures"], fn["MemorySize"], fn["Timeout"]) == (
        "python3.11",
        ["arm64"],
        512,
        60,
    )
    assert "KmsKeyArn" in fn  # the function key of the stack's region
    variables = fn["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == "global-data-payments-staging"
    assert set(variables) == {
        "TABLE_NAME",
        "BUCKET_NAME",
        "AUDIT_KEY_ID",
        "CURRENCIES",
        "MAX_AMOUNT",
    }


def _methods(s: Any, stack: str) -> dict[tuple[str, str], dict[str, Any]]:
    resources = s.templates[stack]["Resources"]
    found = {}
    for method in s.resources(stack, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        ref = props["ResourceId"].get("Ref")
        if ref is None:
            continue
        found[(resources[ref]["Properties"]["PathPart"], props["HttpMethod"])] = props
    return found


@pytest.mark.parametrize("stack", ["global_data_service_primary", "global_data_service_secondary"])
def test_api_process_needs_a_key_and_health_does_not(stack: str) -> None:
    s = system("production")
    methods = _methods(s, stack)
    assert methods[("process", "POST")]["ApiKeyRequired"] is True
    assert methods[("health", "GET")]["ApiKeyRequired"] is False
    for props in (methods[("process", "POST")], methods[("health", "GET")]):
        assert props["Integration"]["Type"] == "AWS_PROXY"
    (plan,) = [p["Properties"] for p in s.resources(stack, "AWS::ApiGateway::UsagePlan").values()]
    api = s.config.global_data.api.on(s.config.payments.api)
    assert plan["Throttle"] == {
        "RateLimit": api.key_rate_limit_rps,
        "BurstLimit": api.key_burst_limit,
    }
    (stage,) = [p["Properties"] for p in s.resources(stack, "AWS::ApiGateway::Stage").values()]
    assert "DestinationArn" in stage["AccessLogSetting"]
    assert len(s.resources(stack, "AWS::WAFv2::WebACLAssociation")) == 1
    (domain,) = [
        p["Properties"] for p in s.resources(stack, "AWS::ApiGateway::DomainName").values()
    ]
    region = s.stacks[stack].region
    assert domain["DomainName"] == "global-data.payments.example.com"
    role = stack.rsplit("_", 1)[1]
    assert domain["RegionalCertificateArn"] == s.config.global_data.failover.certificate(role)
    assert domain["RegionalCertificateArn"].split(":")[3] == region
    assert domain["SecurityPolicy"] == "TLS_1_2"
    (key,) = [p["Properties"] for p in s.resources(stack, "AWS::ApiGateway::ApiKey").values()]
    assert key["Value"].startswith("{{resolve:secretsmanager:global-data/production/api-key-")


def test_api_key_secret_lives_in_the_primary_and_is_replicated() -> None:
    s = system("dev")
    (secret,) = [
        p["Properties"]
        for p in s.resources("global_data_service_primary", "AWS::SecretsManager::Secret").values()
    ]
    assert secret["Name"] == "global-data/dev/api-key-payment-client"
    assert [r["Region"] for r in secret["ReplicaRegions"]] == ["us-west-2"]
    assert "KmsKeyId" in secret and "KmsKeyId" in secret["ReplicaRegions"][0]
    assert s.resources("global_data_service_secondary", "AWS::SecretsManager::Secret") == {}
    keys = s.resources("global_data_service_primary", "AWS::ApiGateway::ApiKey").values()
    (secret_id,) = s.resources("global_data_service_primary", "AWS::SecretsManager::Secret")
    assert [k["DependsOn"] for k in keys] == [[secret_id]]  # resolved by name: created first


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_health_checks_target_health_with_configured_threshold_and_interval(env: str) -> None:
    s = system(env)
    checks = s.resources("global_data_failover", "AWS::Route53::HealthCheck")
    assert set(checks) == {"PrimaryHealthCheck", "SecondaryHealthCheck"}
    hc = s.config.global_data.failover.health_check
    for check in checks.values():
        config = check["Properties"]["HealthCheckConfig"]
        assert config["Type"] == "HTTPS" and config["Port"] == 443
        assert config["ResourcePath"] == f"/{env}/health"
        assert config["FailureThreshold"] == hc.failure_threshold == 3
        assert config["RequestInterval"] == hc.request_interval_s == 30
        assert config["EnableSNI"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_failover_records_primary_and_secondary(env: str) -> None:
    s = system(env)
    failover = s.config.global_data.failover
    records = s.resources("global_data_failover", "AWS::Route53::RecordSet")
    by_role = {r["Properties"]["Failover"]: r["Properties"] for r in records.values()}
    assert set(by_role) == {"PRIMARY", "SECONDARY"}
    for role, record in by_role.items():
        assert record["HostedZoneId"] == failover.hosted_zone_id
        assert record["Name"] == failover.domain_name and record["Type"] == "A"
        assert record["HealthCheckId"] == {
            "Fn::GetAtt": [f"{role.title()}HealthCheck", "HealthCheckId"]
        }
        assert record["AliasTarget"]["EvaluateTargetHealth"] is True


@pytest.mark.parametrize(("env", "count"), [("dev", 0), ("staging", 4), ("production", 4)])
def test_alarms_per_region_and_on_health_checks(env: str, count: int) -> None:
    s = system(env)
    for stack in ("global_data_service_primary", "global_data_service_secondary"):
        alarms = s.resources(stack, "AWS::CloudWatch::Alarm")
        assert len(alarms) == count
        metrics = {a["Properties"]["MetricName"] for a in alarms.values()}
        if count:
            assert metrics == {"Errors", "Duration", "UserErrors", "ReplicationLatency"}
        topic = s.one(stack, "AWS::SNS::Topic")
        assert "KmsMasterKeyId" in topic
        (policy,) = s.resources(stack, "AWS::SNS::TopicPolicy").values()
        assert "aws:SecureTransport" in str(policy)
    health = s.resources("global_data_failover", "AWS::CloudWatch::Alarm")
    assert len(health) == (2 if count else 0)
    assert {a["Properties"]["MetricName"] for a in health.values()} <= {"HealthCheckStatus"}


def test_failover_outside_the_service_regions_has_its_own_topic_and_key() -> None:
    assert len(system("staging").resources("global_data_failover", "AWS::KMS::Key")) == 1
    assert len(system("staging").resources("global_data_failover", "AWS::SNS::Topic")) == 1
    assert system("dev").resources("global_data_failover", "AWS::KMS::Key") == {}


@pytest.mark.parametrize("stack", ["global_data_service_primary", "global_data_service_secondary"])
def test_log_groups_have_retention(stack: str) -> None:
    groups = system("dev").resources(stack, "AWS::Logs::LogGroup")
    assert groups and all("RetentionInDays" in g["Properties"] for g in groups.values())
    assert all("KmsKeyId" in g["Properties"] for g in groups.values())


@pytest.mark.parametrize("stack", ["global_data_service_primary", "global_data_service_secondary"])
def test_table_and_bucket_names_are_string_parameters(stack: str) -> None:
    s = system("dev")
    params = {
        p["Properties"]["Name"]: p["Properties"]
        for p in s.resources(stack, "AWS::SSM::Parameter").values()
    }
    assert {"/global-data/dev/table-name", "/global-data/dev/bucket-name"} <= set(params)
    assert params["/global-data/dev/table-name"]["Value"] == "global-data-payments-dev"
    assert all(p["Type"] == "String" for p in params.values())


OUTPUTS = {
    "ApiEndpoint", "ApiId", "ProcessUrl", "HealthUrl", "DomainName", "TableName", "TableArn",
    "BucketName", "FunctionName", "TopicArn", "Region", "ApiKeySecretName",
}  # fmt: skip
KEY_OUTPUTS = {"TableKeyId", "AuditKeyId", "FunctionKeyId"}


def test_outputs_per_region_have_distinct_flat_names() -> None:
    s = system("dev")
    names: list[str] = []
    for stack, role in (("global_data_service_primary", "Primary"), ("global_data_service_secondary", "Secondary")):  # fmt: skip
        outputs = set(s.templates[stack]["Outputs"])
        assert {f"{role}{o}" for o in OUTPUTS} <= outputs
        names += [o for o in outputs if o.startswith(role)]
    for stack, role in (("global_data_keys_primary", "Primary"), ("global_data_keys_secondary", "Secondary")):  # fmt: skip
        outputs = set(s.templates[stack]["Outputs"])
        outputs = {o for o in outputs if not o.startswith("ExportsOutput")}  # CDK's own exports
        assert {f"{role}{o}" for o in KEY_OUTPUTS} == outputs
        names += list(outputs)
    names += list(s.templates["global_data_failover"]["Outputs"])
    assert len(names) == len(set(names))
