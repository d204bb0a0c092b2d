"""The database, sessions table, CloudFront edge, observability and IAM of the web application,
per environment and profile; every expected value is read from the configuration."""

from __future__ import annotations

import pytest
from webapp_support import (
    ENVIRONMENTS,
    PROFILES,
    STACKS,
    cdk_context,
    one,
    resources,
    settings,
    webapp,
)

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import Template

CASES = [(env, profile) for env in ENVIRONMENTS for profile in PROFILES]
D, E, OBS = "webapp_data", "webapp_edge", "webapp_observability"


@pytest.mark.parametrize(("env", "profile"), CASES)
def test_aurora_writer_and_reader_in_different_zones_class_and_storage_from_config(
    env: str, profile: str
) -> None:
    built = webapp(env, profile)
    db = settings(built).database
    instances = [r["Properties"] for r in resources(built, D, "AWS::RDS::DBInstance").values()]
    assert len(instances) == 2
    zones = {i["AvailabilityZone"] for i in instances}
    assert len(zones) == 2 and zones <= set(built.stacks["network"].availability_zones)
    assert {i["DBInstanceClass"] for i in instances} == {db.instance_class}
    assert all(i["PubliclyAccessible"] is False for i in instances)
    if profile == "legacy":  # previous generation
        assert db.instance_class.split(".")[1] in ("t3", "r5")
    cluster = one(built, D, "AWS::RDS::DBCluster")
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster.get("StorageType", "aurora") == db.storage_type
    assert cluster["StorageEncrypted"] is True
    assert "PaymentsSecurity" in cluster["KmsKeyId"]["Fn::ImportValue"]  # the environment's key
    assert cluster["BackupRetentionPeriod"] == db.backup_retention_days >= 7
    assert cluster["EnableIAMDatabaseAuthentication"] is True
    assert cluster["EnableCloudwatchLogsExports"] == ["postgresql"]
    assert cluster["DeletionProtection"] is False
    (raw,) = resources(built, D, "AWS::RDS::DBCluster").values()
    assert raw["DeletionPolicy"] == "Delete"  # destroyable, no final snapshot
    group = one(built, D, "AWS::RDS::DBSubnetGroup")
    assert len(group["SubnetIds"]) == 3
    subnets = resources(built, D, "AWS::EC2::Subnet").values()
    assert {s["Properties"]["AvailabilityZone"] for s in subnets} == set(
        built.stacks["network"].availability_zones
    )
    routes = resources(built, D, "AWS::EC2::Route")
    assert routes == {}  # isolated: no route out of the VPC
    (log_group,) = resources(built, D, "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["LogGroupName"] == (
        f"/aws/rds/cluster/webapp-db-{env}/postgresql"
    )
    assert log_group["Properties"].get("RetentionInDays") == db.log_retention_days


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_credentials_rotate_and_only_tasks_and_rotation_reach_the_database(env: str) -> None:
    built = webapp(env)
    db = settings(built).database
    secret = one(built, D, "AWS::SecretsManager::Secret")
    assert "KmsKeyId" in secret
    rotation = one(built, D, "AWS::SecretsManager::RotationSchedule")
    assert rotation["HostedRotationLambda"]["RotationType"] == "PostgreSQLSingleUser"
    assert rotation["RotationRules"]["ScheduleExpression"] == f"rate({db.rotation_days} days)"
    (rule,) = (
        r["Properties"] for r in resources(built, D, "AWS::EC2::SecurityGroupIngress").values()
    )
    assert (rule["FromPort"], rule["ToPort"]) == (5432, 5432)
    assert rule["SourceSecurityGroupId"]["Fn::GetAtt"][0].startswith("RotationSecurityGroup")
    database_group = next(
        v["Properties"]
        for k, v in built.json(D)["Resources"].items()
        if k.startswith("DatabaseSecurityGroup") and v["Type"] == "AWS::EC2::SecurityGroup"
    )
    assert "SecurityGroupIngress" not in database_group  # only the two rules above and in Service


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_sessions_table_on_demand_pitr_ttl_and_user_index(env: str) -> None:
    built = webapp(env)
    sessions = settings(built).sessions
    tables = {
        r["Properties"]["TableName"]: r["Properties"]
        for r in resources(built, D, "AWS::DynamoDB::Table").values()
    }
    table = tables[f"webapp-sessions-{env}"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": sessions.ttl_attribute,
        "Enabled": True,
    }
    assert table["SSESpecification"]["SSEEnabled"] is True
    indexes = [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])]
    assert indexes == (["by-user"] if sessions.user_index else [])


@pytest.mark.parametrize(("env", "profile"), CASES)
def test_cloudfront_https_only_tls12_oac_for_static_alb_over_https(env: str, profile: str) -> None:
    built = webapp(env, profile)
    cfg = settings(built)
    config = one(built, E, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["Aliases"] == [cfg.edge.domain_name]
    assert config["ViewerCertificate"]["AcmCertificateArn"] == cfg.edge.certificate_arn
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b["ViewerProtocolPolicy"] for b in behaviours} == {"https-only"}
    (static,) = config["CacheBehaviors"]
    assert static["PathPattern"] == cfg.edge.static_path_pattern
    origins = {o["Id"]: o for o in config["Origins"]}
    s3_origin = origins[static["TargetOriginId"]]
    assert "OriginAccessControlId" in s3_origin
    assert s3_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not OAI
    app = origins[config["DefaultCacheBehavior"]["TargetOriginId"]]
    assert app["DomainName"] == cfg.load_balancer.origin_domain_name
    assert app["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert app["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    (header,) = app["OriginCustomHeaders"]
    assert header["HeaderName"] == cfg.load_balancer.origin_header
    assert header["HeaderValue"].startswith("{{resolve:secretsmanager:")
    assert resources(built, E, "AWS::CloudFront::CloudFrontOriginAccessIdentity") == {}
    bucket = one(built, E, "AWS::S3::Bucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (sse,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    rules = bucket.get("LifecycleConfiguration", {}).get("Rules", [])
    if cfg.lifecycle:
        (rule,) = rules
        assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == (
            cfg.edge.noncurrent_version_days
        )
    else:
        assert rules == [] and profile == "legacy"
    policy = one(built, E, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    reader = next(
        s for s in policy if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    )
    assert reader["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in reader["Condition"]["StringEquals"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_dashboard_alarms_and_the_critical_alerts_topic(env: str) -> None:
    built = webapp(env)
    alarms = settings(built).alarms
    topic = one(built, OBS, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic
    statements = one(built, OBS, "AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    emails = sorted(
        r["Properties"]["Endpoint"]
        for r in resources(built, OBS, "AWS::SNS::Subscription").values()
    )
    assert emails == sorted(built.config.addresses(alarms.subscriptions))
    (dashboard,) = resources(built, OBS, "AWS::CloudWatch::Dashboard").values()
    body = str(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "CPUUtilization", "MemoryUtilization", "RunningTaskCount", "RequestCount",
        "TargetResponseTime", "HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count",
        "DatabaseConnections", "AuroraReplicaLag", "FreeLocalStorage", "Invocations", "Errors",
        "Duration", "ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits",
        "ReadThrottleEvents", "WriteThrottleEvents",
    ):  # fmt: skip
        assert metric in body, metric
    found = {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in resources(built, OBS, "AWS::CloudWatch::Alarm").values()
    }
    names = {
        f"webapp-{n}-{env}"
        for n in ("http-5xx-rate", "p99-latency", "unhealthy-hosts", "db-cpu", "replica-lag",
                  "function-errors", "dlq-depth")
    }  # fmt: skip
    assert set(found) == (names if alarms.enabled else set())
    if alarms.enabled:
        assert found[f"webapp-p99-latency-{env}"]["Threshold"] == alarms.p99_latency_s
        assert found[f"webapp-p99-latency-{env}"]["ExtendedStatistic"] == "p99"
        assert found[f"webapp-db-cpu-{env}"]["Threshold"] == alarms.db_cpu_percent
        assert found[f"webapp-replica-lag-{env}"]["Threshold"] == alarms.replica_lag_ms
        assert all(
            a["AlarmActions"] == [{"Ref": next(iter(resources(built, OBS, "AWS::SNS::Topic")))}]
            for a in found.values()
        )


@pytest.mark.parametrize(("env", "profile"), CASES)
def test_roles_have_managed_policies_only_and_the_rule_agrees(env: str, profile: str) -> None:
    built = webapp(env, profile)
    templates = []
    for stack in STACKS:
        resources_ = built.json(stack)["Resources"]
        assert not [k for k, r in resources_.items() if r["Type"] == "AWS::IAM::Policy"], stack
        for logical_id, role in resources_.items():
            if role["Type"] != "AWS::IAM::Role":
                continue
            assert "Policies" not in role["Properties"], logical_id
            refs = [a["Ref"] for a in role["Properties"]["ManagedPolicyArns"]]
            assert all(resources_[r]["Type"] == "AWS::IAM::ManagedPolicy" for r in refs)
            tags = {t["Key"]: t["Value"] for t in role["Properties"]["Tags"]}
            assert tags["System"] == "webapp"
        templates.append(Template(name=stack, path=f"{stack}.json", body=built.json(stack)))
    policy = Policy.from_context(cdk_context()["governance"], environment=env, profile=profile)
    assert "webapp" in policy.thresholds.managed_policies_only_systems
    result = evaluate(templates, policy, [get_rule("PCI-IAM-006")])
    assert result.findings == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_stack_is_tagged_with_the_system_and_the_team(env: str) -> None:
    built = webapp(env)
    for name in STACKS:
        tags = built.stacks[name].tags.tag_values()
        assert tags["System"] == "webapp", name
        assert tags["Team"] == settings(built).team, name


def test_each_stack_lives_in_the_module_named_after_it_and_the_docs_say_where() -> None:
    import re
    import sys
    from pathlib import Path

    from webapp_support import ROOT

    page = (ROOT / "docs" / "platform.md").read_text()
    built = webapp("production")
    for name in STACKS:
        stack = built.stacks[name]
        module = re.sub(r"(?<!^)(?=[A-Z])", "_", stack.node.id.removeprefix("WebApp")).lower()
        path = Path(sys.modules[type(stack).__module__].__file__ or "").relative_to(ROOT)
        assert path.as_posix() == f"stacks/webapp/{module}.py", (stack.node.id, path)
        assert f"| `{stack.node.id}` | `{path.as_posix()}` |" in page, stack.node.id
