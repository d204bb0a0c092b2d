"""Template assertions for the webhook pipeline, per environment (seeds 001 and 002).

Expected values are the seeds' requirements written out, not read back from ``cdk.json``:
a configuration change that breaks a requirement fails here.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match
from payments_support import payments_app

ENVIRONMENTS = ("dev", "staging", "production")

DAY = 86_400
#: env -> (table billing mode, Glacier transition days, DLQ retention days, alarms)
SPEC = {
    "dev": ("PAY_PER_REQUEST", 30, 3, False),
    "staging": ("PAY_PER_REQUEST", 30, 7, True),
    "production": ("PROVISIONED", 90, 14, True),
}
#: Audit records stay readable in milliseconds for 90 days (PCI DSS 10.5.1): a transition
#: before day 90 goes to Glacier Instant Retrieval, from day 90 to Glacier Flexible Retrieval.
GLACIER_CLASS = {30: "GLACIER_IR", 90: "GLACIER"}
FUNCTION_NAMES = (
    "process-payment",
    "process-accounting",
    "notify-failures",
    "forward-transactions",
)


@pytest.fixture(params=ENVIRONMENTS)
def built(request):
    return payments_app(request.param)


def _function(built, base: str) -> dict:
    name = f"{base}-{built.config.suffix}"
    found = [
        r
        for r in built.of_type("AWS::Lambda::Function").values()
        if r["Properties"].get("FunctionName") == name
    ]
    assert len(found) == 1, f"expected one function named {name}"
    return found[0]["Properties"]


def test_table_keys_encryption_and_recovery(built):
    built.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": f"payment-transactions-{built.env}",
            "KeySchema": [
                {"AttributeName": "transaction_id", "KeyType": "HASH"},
                {"AttributeName": "timestamp", "KeyType": "RANGE"},
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": Match.any_value(),
            },
            "DeletionProtectionEnabled": False,
            # the transactional outbox: forward-transactions drains the stream
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
        },
    )
    built.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": f"payment-webhook-replays-{built.env}",
            "KeySchema": [{"AttributeName": "signature_id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": Match.any_value(),
            },
        },
    )
    built.template.resource_count_is("AWS::DynamoDB::Table", 2)


def test_table_billing_mode_per_environment(built):
    tables = built.of_type("AWS::DynamoDB::Table").values()
    assert len(tables) == 2  # transactions and webhook replays, billed alike
    expected = SPEC[built.env][0]
    targets = list(built.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values())
    for table in tables:
        props = table["Properties"]
        if expected == "PAY_PER_REQUEST":
            assert props["BillingMode"] == "PAY_PER_REQUEST"
            assert "ProvisionedThroughput" not in props
        else:
            assert props.get("BillingMode", "PROVISIONED") == "PROVISIONED"
            assert props["ProvisionedThroughput"] == {
                "ReadCapacityUnits": 5,
                "WriteCapacityUnits": 5,
            }
    if expected == "PAY_PER_REQUEST":
        assert targets == []
    else:
        dims = sorted(t["Properties"]["ScalableDimension"] for t in targets)
        assert dims == 2 * ["dynamodb:table:ReadCapacityUnits"] + 2 * [
            "dynamodb:table:WriteCapacityUnits"
        ]
        assert all(t["Properties"]["MinCapacity"] == 5 for t in targets)


def test_audit_bucket_versioning_and_glacier_days(built):
    days = SPEC[built.env][1]
    storage = GLACIER_CLASS[days]
    buckets = built.of_type("AWS::S3::Bucket")
    assert len(buckets) == 2  # the audit bucket and its access-log bucket
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        (rule,) = props["LifecycleConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled"
        assert rule["Transitions"] == [{"StorageClass": storage, "TransitionInDays": days}]
        assert rule["NoncurrentVersionTransitions"] == [
            {"StorageClass": storage, "TransitionInDays": days}
        ]
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        # S3 delivers server access logs only to an SSE-S3 bucket (docs/deploy.md)
        access_logs = "LoggingConfiguration" not in props
        expected = "AES256" if access_logs else "aws:kms"
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == expected
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    audit = next(
        b["Properties"]
        for b in buckets.values()
        if b["Properties"]["BucketName"].startswith("payments-audit-" + built.env)
    )
    assert "LoggingConfiguration" in audit


def test_queue_and_dead_letter_retention(built):
    dlq_days = SPEC[built.env][2]
    suffix = built.config.suffix
    built.template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": f"payment-processing-dlq-{suffix}",
            "MessageRetentionPeriod": dlq_days * DAY,
            "KmsMasterKeyId": Match.any_value(),
        },
    )
    built.template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": f"payment-processing-queue-{suffix}",
            "KmsMasterKeyId": Match.any_value(),
            "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 3},
            "VisibilityTimeout": Match.any_value(),
        },
    )
    built.template.resource_count_is("AWS::SQS::Queue", 2)


def test_topic_is_encrypted_and_named(built):
    built.template.has_resource_properties(
        "AWS::SNS::Topic",
        {
            "TopicName": f"payment-notifications-{built.config.suffix}",
            "KmsMasterKeyId": Match.any_value(),
        },
    )


@pytest.mark.parametrize("base", FUNCTION_NAMES)
def test_function_sizing_runtime_and_tracing(built, base):
    props = _function(built, base)
    reserved = built.payments.settings.functions.reserved_concurrency
    expected_reserved = getattr(reserved, base.replace("-", "_"))
    assert props["MemorySize"] == 512
    assert props["Timeout"] == 30
    assert props["Architectures"] == ["arm64"]
    assert props["Runtime"] == "python3.11"
    assert props["Handler"] == "index.handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["ReservedConcurrentExecutions"] == expected_reserved >= 1
    assert len(props["Layers"]) == 1
    assert "KmsKeyArn" in props  # environment variables encrypted with the environment's key


def test_reserved_concurrency_grows_with_the_environment():
    payment = [
        payments_app(env).payments.settings.functions.reserved_concurrency.process_payment
        for env in ENVIRONMENTS
    ]
    assert payment == sorted(payment) and payment[0] < payment[-1]


def test_function_environment_points_at_this_environment(built):
    env = {base: _function(built, base)["Environment"]["Variables"] for base in FUNCTION_NAMES}
    assert set(env["process-payment"]) == {
        "TABLE_NAME",
        "REPLAY_TABLE_NAME",
        "WEBHOOK_PROVIDERS",
        "SIGNATURE_TOLERANCE_S",
        "SECRET_CACHE_S",
        "MAX_BODY_BYTES",
        "MAX_DEPTH",
        "MAX_STRING_CHARS",
        "MAX_NUMBER_CHARS",
    }  # no QUEUE_URL: process-payment never sends to SQS
    webhooks = built.payments.settings.webhooks
    providers = json.loads(env["process-payment"]["WEBHOOK_PROVIDERS"])
    assert providers == {
        p: f"{webhooks.signing_secret_name}-{p}-{built.config.suffix}" for p in webhooks.providers
    }
    assert env["process-payment"]["MAX_BODY_BYTES"] == str(webhooks.max_body_bytes)
    assert set(env["process-accounting"]) == {"TABLE_NAME"}
    assert set(env["notify-failures"]) == {"TOPIC_ARN"}
    outbox = built.payments.settings.outbox
    assert env["forward-transactions"]["MARKER_ATTEMPTS"] == str(outbox.marker_attempts)
    assert set(env["forward-transactions"]) == {
        "TABLE_NAME",
        "QUEUE_URL",
        "DEAD_LETTER_QUEUE_URL",
        "MARKER_ATTEMPTS",
        "MARKER_BACKOFF_MS",
    }


def test_each_function_logs_to_its_own_encrypted_group_with_retention(built):
    groups = {
        r["Properties"]["LogGroupName"]: r["Properties"]
        for r in built.of_type("AWS::Logs::LogGroup").values()
        if isinstance(r["Properties"]["LogGroupName"], str)
    }
    for base in FUNCTION_NAMES:
        group = groups[f"/aws/lambda/{base}-{built.config.suffix}"]
        assert group["RetentionInDays"] == 30
        assert "KmsKeyId" in group
        assert "LoggingConfig" in _function(built, base)


def test_layer_is_built_for_arm64_python311(built):
    built.template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {
            "LayerName": f"payments-common-{built.config.suffix}",
            "CompatibleArchitectures": ["arm64"],
            "CompatibleRuntimes": ["python3.11"],
        },
    )


def test_outbox_drains_the_stream_into_the_queue(built):
    """One stream mapping: inserts only, partial failures, on-failure to the DLQ, from config."""
    o = built.payments.settings.outbox
    (mapping,) = [
        m["Properties"]
        for m in built.of_type("AWS::Lambda::EventSourceMapping").values()
        if "StreamArn" in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    tables = {
        r["Properties"]["TableName"].rsplit("-", 1)[0]: k
        for k, r in built.of_type("AWS::DynamoDB::Table").items()
    }
    assert mapping["EventSourceArn"] == {
        "Fn::GetAtt": [tables["payment-transactions"], "StreamArn"]
    }
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == o.batch_size
    assert mapping["MaximumBatchingWindowInSeconds"] == o.max_batching_window_s
    assert mapping["MaximumRetryAttempts"] == o.retry_attempts
    assert mapping["MaximumRecordAgeInSeconds"] == o.max_record_age_s
    assert mapping["ParallelizationFactor"] == o.parallelization_factor
    assert mapping["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]}
    queues = {
        r["Properties"]["QueueName"].rsplit("-", 1)[0]: k
        for k, r in built.of_type("AWS::SQS::Queue").items()
    }
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": [queues["payment-processing-dlq"], "Arn"]}
    assert mapping["FunctionName"] == {"Ref": _function_id(built, "forward-transactions")}


def _function_id(built, base: str) -> str:
    name = f"{base}-{built.config.suffix}"
    (found,) = [
        k
        for k, r in built.of_type("AWS::Lambda::Function").items()
        if r["Properties"]["FunctionName"] == name
    ]
    return found


def test_signing_secrets_one_per_provider(built):
    webhooks = built.payments.settings.webhooks
    secrets = {
        r["Properties"]["Name"]: r for r in built.of_type("AWS::SecretsManager::Secret").values()
    }
    for provider in webhooks.providers:
        secret = secrets[f"{webhooks.signing_secret_name}-{provider}-{built.config.suffix}"]
        assert "KmsKeyId" in secret["Properties"]
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] == 64


def test_queue_consumers_report_partial_batch_failures(built):
    mappings = {
        k: m
        for k, m in built.of_type("AWS::Lambda::EventSourceMapping").items()
        if "StreamArn" not in json.dumps(m["Properties"]["EventSourceArn"])
    }
    assert len(mappings) == 2
    reserved = built.payments.settings.functions.reserved_concurrency
    concurrency = sorted(
        m["Properties"]["ScalingConfig"]["MaximumConcurrency"] for m in mappings.values()
    )
    assert concurrency == sorted([reserved.process_accounting, reserved.notify_failures])
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["Properties"]["BatchSize"] == 10
    sources = {
        m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: m["Properties"]["FunctionName"]["Ref"]
        for m in mappings.values()
    }
    queue_of = {
        r["Properties"]["QueueName"].rsplit("-", 1)[0]: k
        for k, r in built.of_type("AWS::SQS::Queue").items()
    }
    function_of = {
        r["Properties"]["FunctionName"].rsplit("-", 1)[0]: k
        for k, r in built.of_type("AWS::Lambda::Function").items()
    }
    assert sources == {
        queue_of["payment-processing-queue"]: function_of["process-accounting"],
        queue_of["payment-processing-dlq"]: function_of["notify-failures"],
    }


def test_alarms_only_where_configured(built):
    alarms = built.of_type("AWS::CloudWatch::Alarm")
    if not SPEC[built.env][3]:
        assert alarms == {}
        return
    topic = next(iter(built.of_type("AWS::SNS::Topic")))
    by_name = {a["Properties"]["AlarmName"]: a["Properties"] for a in alarms.values()}
    suffix = built.config.suffix
    for base in FUNCTION_NAMES:
        alarm = by_name[f"{base}-error-rate-{suffix}"]
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["AlarmActions"] == [{"Ref": topic}]
        expression = next(m for m in alarm["Metrics"] if "Expression" in m)
        assert expression["Expression"] == "IF(total > 0, 100 * failures / total, 0)"
        stats = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
        assert {s["Metric"]["MetricName"] for s in stats.values()} == {"Errors", "Invocations"}
        assert {s["Period"] for s in stats.values()} == {300}
        assert {s["Stat"] for s in stats.values()} == {"Sum"}
    assert {f"payments-api-5xx-rate-{suffix}", f"payments-api-4xx-rate-{suffix}"} <= set(by_name)
    assert f"payment-processing-dlq-messages-{suffix}" in by_name
    age = by_name[f"forward-transactions-iterator-age-{suffix}"]
    assert age["MetricName"] == "IteratorAge"
    assert age["Statistic"] == "Maximum"
    assert age["Threshold"] == built.payments.settings.outbox.iterator_age_alarm_ms
    assert age["AlarmActions"] == [{"Ref": topic}]
    assert len(alarms) == 8


def test_alarm_topic_accepts_cloudwatch_only_where_alarms_exist(built):
    policy = built.of_type("AWS::SNS::TopicPolicy")
    (doc,) = [p["Properties"]["PolicyDocument"] for p in policy.values()]
    sids = {s.get("Sid") for s in doc["Statement"]}
    assert ("CloudWatchAlarms" in sids) is SPEC[built.env][3]


def test_logs_insights_query_definitions(built):
    queries = built.of_type("AWS::Logs::QueryDefinition")
    names = {q["Properties"]["Name"] for q in queries.values()}
    prefix = f"payments-{built.config.suffix}/"
    assert names == {
        prefix + "transactions-by-provider-and-status",
        prefix + "rejected-webhooks-by-reason",
        prefix + "failed-transactions",
        prefix + "processing-latency",
        prefix + "transaction-trail",
    }
    for query in queries.values():
        assert query["Properties"]["LogGroupNames"]


def test_stateful_resources_are_destroyable(built):
    for logical_id, resource in built.resources.items():
        assert resource.get("DeletionPolicy", "Delete") == "Delete", logical_id
        assert resource.get("UpdateReplacePolicy", "Delete") == "Delete", logical_id


def test_outputs_for_the_integration_tests(built):
    """What cfn-outputs/flat-outputs.json holds after a deployment (tests/integration)."""
    outputs = built.template.to_json()["Outputs"]
    expected = {
        "WebhookUrl",
        "TransactionsTableName",
        "WebhookReplaysTableName",
        "ProcessingQueueUrl",
        "DeadLetterQueueUrl",
        "NotificationsTopicArn",
        "SigningSecretNames",
        "ProcessPaymentFunctionName",
        "ProcessAccountingFunctionName",
        "NotifyFailuresFunctionName",
        "ForwardTransactionsFunctionName",
    }
    assert expected <= set(outputs)
    names = json.loads(outputs["SigningSecretNames"]["Value"])
    assert set(names) == set(built.payments.settings.webhooks.providers)
