"""The Fargate service, its load balancer, WAF, security groups and validation function, per
environment and profile; every expected value is read from the configuration."""

from __future__ import annotations

import pytest
from webapp_support import ENVIRONMENTS, PROFILES, one, resources, settings, webapp

from governance.policy import Thresholds

CASES = [(env, profile) for env in ENVIRONMENTS for profile in PROFILES]
S = "webapp_service"


def spot_share(strategy: list[dict], tasks: int) -> float:
    """Share of ``tasks`` on FARGATE_SPOT: bases first, the rest by weight (AWS ECS developer
    guide, capacity provider strategies; the cost report's model too)."""
    base = {i["CapacityProvider"]: i.get("Base", 0) for i in strategy}
    weight = {i["CapacityProvider"]: i.get("Weight", 0) for i in strategy}
    on_demand = min(base.get("FARGATE", 0), tasks)
    rest = tasks - on_demand
    spot = rest * weight.get("FARGATE_SPOT", 0) / sum(weight.values())
    return spot / tasks


@pytest.mark.parametrize(("env", "profile"), CASES)
def test_capacity_provider_strategy_spot_share_and_scaling(env: str, profile: str) -> None:
    built = webapp(env, profile)
    svc = settings(built).service
    service = one(built, S, "AWS::ECS::Service")
    strategy = service["CapacityProviderStrategy"]
    expected = [
        {"CapacityProvider": "FARGATE", "Base": svc.on_demand_base, "Weight": svc.on_demand_weight}
    ]
    if svc.spot_weight:
        expected.append({"CapacityProvider": "FARGATE_SPOT", "Weight": svc.spot_weight})
    assert strategy == expected
    if profile == "optimised":  # at least half of the tasks on Spot, at every size
        for tasks in range(svc.min_tasks, svc.max_tasks + 1):
            assert spot_share(strategy, tasks) >= 0.5, tasks
    else:  # legacy: on demand only
        assert spot_share(strategy, svc.min_tasks) == 0
    target = one(built, S, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (svc.min_tasks, svc.max_tasks)
    assert (svc.min_tasks, svc.max_tasks) == (2, 10)  # the seed's range
    policies = resources(built, S, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    targets = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"][
            "PredefinedMetricSpecification"
        ]["PredefinedMetricType"]: p["Properties"]["TargetTrackingScalingPolicyConfiguration"][
            "TargetValue"
        ]
        for p in policies
    }
    assert targets == {
        "ECSServiceAverageCPUUtilization": svc.cpu_target_percent,
        "ECSServiceAverageMemoryUtilization": svc.memory_target_percent,
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_service_in_three_private_subnets_with_grace_and_rollback(env: str) -> None:
    built = webapp(env)
    svc = settings(built).service
    service = one(built, S, "AWS::ECS::Service")
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    subnets = [s["Fn::ImportValue"] for s in network["Subnets"]]
    assert len(subnets) == 3 and all("privateSubnet" in s for s in subnets)
    assert len({s.split("privateSubnet")[1][0] for s in subnets}) == 3  # subnets 1, 2 and 3
    assert service["AvailabilityZoneRebalancing"] == "ENABLED"
    assert service["HealthCheckGracePeriodSeconds"] == svc.health_check_grace_s
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }


@pytest.mark.parametrize(("env", "profile"), CASES)
def test_task_definition_read_only_non_root_x86_and_logs(env: str, profile: str) -> None:
    built = webapp(env, profile)
    svc = settings(built).service
    task = one(built, S, "AWS::ECS::TaskDefinition")
    assert (task["Cpu"], task["Memory"]) == (str(svc.cpu), str(svc.memory_mb))
    assert task["RuntimePlatform"] == {
        "CpuArchitecture": "X86_64",
        "OperatingSystemFamily": "LINUX",
    }
    (container,) = task["ContainerDefinitions"]
    assert container["Image"] == svc.image
    assert container["ReadonlyRootFilesystem"] is True
    assert container["User"] == svc.user and not container["User"].startswith("0")
    assert container["MountPoints"] == [
        {"ContainerPath": "/tmp", "ReadOnly": False, "SourceVolume": "tmp"}
    ]
    log_group_id = container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
    group = built.json(S)["Resources"][log_group_id]["Properties"]
    assert group.get("RetentionInDays") == svc.log_retention_days
    assert "KmsKeyId" in group


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alb_https_tls12_redirect_health_check_and_access_logs(env: str) -> None:
    built = webapp(env)
    lb = settings(built).load_balancer
    alb = one(built, S, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Scheme"] == "internet-facing"
    assert all("publicSubnet" in s["Fn::ImportValue"] for s in alb["Subnets"])
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    bucket = built.json(S)["Resources"][attributes["access_logs.s3.bucket"]["Ref"]]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}  # what ELB accepts
    listeners = {
        r["Properties"]["Port"]: r["Properties"]
        for r in resources(built, S, "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    https, http = listeners[443], listeners[80]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == lb.ssl_policy and lb.ssl_policy in Thresholds().tls_min_policies
    assert https["Certificates"] == [{"CertificateArn": lb.certificate_arn}]
    assert https["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    (redirect,) = http["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"] == {
        "Port": "443",
        "Protocol": "HTTPS",
        "StatusCode": "HTTP_301",
    }
    group = one(built, S, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["HealthCheckPath"] == lb.health_check_path
    assert (group["Port"], group["TargetType"]) == (settings(built).service.container_port, "ip")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_cloudfront_reaches_the_alb_and_only_the_alb_reaches_the_tasks(env: str) -> None:
    built = webapp(env)
    cfg = settings(built)
    ingress = [
        r["Properties"] for r in resources(built, S, "AWS::EC2::SecurityGroupIngress").values()
    ]
    templates = built.json(S)["Resources"]
    groups = {
        k: v["Properties"] for k, v in templates.items() if v["Type"] == "AWS::EC2::SecurityGroup"
    }
    alb_group = groups["AlbSecurityGroup86A59E99"]
    assert alb_group.get("SecurityGroupIngress") is None  # rules are separate resources
    by_group: dict[str, list[dict]] = {}
    for rule in ingress:
        target = rule["GroupId"].get("Fn::GetAtt", ["imported"])[0]
        by_group.setdefault(target, []).append(rule)
    (from_cloudfront,) = by_group["AlbSecurityGroup86A59E99"]
    assert from_cloudfront["SourcePrefixListId"] == cfg.load_balancer.cloudfront_prefix_list_id
    assert (from_cloudfront["FromPort"], from_cloudfront["ToPort"]) == (443, 443)
    (to_tasks,) = by_group["TaskSecurityGroup2D2EA438"]
    assert to_tasks["SourceSecurityGroupId"] == {
        "Fn::GetAtt": ["AlbSecurityGroup86A59E99", "GroupId"]
    }
    port = cfg.service.container_port
    assert (to_tasks["FromPort"], to_tasks["ToPort"]) == (port, port)
    (to_database,) = by_group["imported"]
    assert to_database["SourceSecurityGroupId"] == {
        "Fn::GetAtt": ["TaskSecurityGroup2D2EA438", "GroupId"]
    }
    assert (to_database["FromPort"], to_database["ToPort"]) == (5432, 5432)
    (rule,) = (
        r["Properties"]
        for r in resources(built, S, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    )
    (condition,) = rule["Conditions"]
    assert condition["HttpHeaderConfig"]["HttpHeaderName"] == cfg.load_balancer.origin_header
    (value,) = condition["HttpHeaderConfig"]["Values"]
    assert value["Fn::Join"][1][0] == "{{resolve:secretsmanager:"  # a dynamic reference, no value
    assert rule["Actions"][0]["Type"] == "forward"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_regional_web_acl_on_the_alb(env: str) -> None:
    built = webapp(env)
    cfg = built.config
    acl = one(built, S, "AWS::WAFv2::WebACL")
    assert acl["Scope"] == "REGIONAL"
    rules = {r["Name"]: r for r in acl["Rules"]}
    rate = next(r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"])
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == cfg.webapp.waf.waf_rate_limit
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"} <= set(rules)
    assert set(cfg.payments.api.waf_managed_rule_groups) <= set(rules)
    association = one(built, S, "AWS::WAFv2::WebACLAssociation")
    assert association["ResourceArn"] == {"Ref": "LoadBalancerBE9EEC3A"}


@pytest.mark.parametrize(("env", "profile"), CASES)
def test_queue_dlq_and_the_validation_function(env: str, profile: str) -> None:
    built = webapp(env, profile)
    v = settings(built).validation
    queues = {
        r["Properties"]["QueueName"]: r["Properties"]
        for r in resources(built, S, "AWS::SQS::Queue").values()
    }
    queue = queues[f"webapp-transactions-{env}"]
    dlq = queues[f"webapp-transactions-dlq-{env}"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == v.queue.max_receive_count
    assert queue["MessageRetentionPeriod"] == v.queue.retention_days * 86400
    assert dlq["MessageRetentionPeriod"] == v.queue.dlq_retention_days * 86400
    assert "KmsMasterKeyId" in queue and "KmsMasterKeyId" in dlq
    fn = one(built, S, "AWS::Lambda::Function")
    assert fn["Architectures"] == [v.function.architecture]
    assert fn["ReservedConcurrentExecutions"] == v.reserved_concurrency
    assert (fn["MemorySize"], fn["Timeout"]) == (v.function.memory_mb, v.function.timeout_s)
    assert fn["Runtime"] == v.function.runtime
    assert len(fn["VpcConfig"]["SubnetIds"]) == 3
    assert all("privateSubnet" in s["Fn::ImportValue"] for s in fn["VpcConfig"]["SubnetIds"])
    mapping = one(built, S, "AWS::Lambda::EventSourceMapping")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == v.queue.batch_size
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": v.reserved_concurrency}
    if profile == "optimised":
        assert v.function.architecture == "arm64"


def test_the_function_may_do_exactly_what_its_code_does() -> None:
    built = webapp("production")
    statements = {}
    for policy in resources(built, S, "AWS::IAM::ManagedPolicy").values():
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "Sid" in st:
                statements.setdefault(policy["Properties"].get("Description", ""), {})[
                    st["Sid"]
                ] = st
    fn = next(v for k, v in statements.items() if "validate-transaction" in k)

    def actions(sid):
        return sorted(
            [fn[sid]["Action"]] if isinstance(fn[sid]["Action"], str) else fn[sid]["Action"]
        )

    assert set(fn) == {
        "WriteOwnLogGroup",
        "UseEnvironmentKey",
        "XRayTraces",
        "ManageNetworkInterfaces",
        "ConsumeQueue",
        "RecordVerdicts",
    }
    assert actions("RecordVerdicts") == ["dynamodb:PutItem"]
    assert actions("ConsumeQueue") == [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]
    wildcards = {sid for sid, st in fn.items() if st["Resource"] == "*"}
    assert wildcards == {"XRayTraces", "ManageNetworkInterfaces"}
