"""The ``Payments`` stack: the payment-notification pipeline (seed 001) on the multi-environment
base (seed 002).

``POST /webhooks`` (API key, WAF, validation) -> process-payment (provider signature, bounded
input, no card data; one conditional put) -> ``payment-transactions`` table -> its stream (the
transactional outbox) -> forward-transactions -> ``payment-processing-queue`` ->
process-accounting (books each stored transaction once; partial batch failures) -> dead-letter
queue -> notify-failures -> ``payment-notifications`` topic. Signed deliveries are recorded in
``payment-webhook-replays`` (TTL) so a replay is refused; each provider's signing secret is
``<webhooks.signing_secret_name>-<provider>-<suffix>`` in Secrets Manager (docs/payments.md). Every size, limit,
retention and switch comes from ``environments.<env>.payments``
(:class:`stacks.payments.settings.PaymentsSettings`), handed in typed.

The hardened platform (seed 000) extends the payments API; the stack builds those parts
itself from what it is handed: ``endpoints`` (the status and health routes,
:mod:`stacks.payments.endpoints`) and ``origin_verify`` (the secret the edge distribution
sends, checked by the APIs' web ACLs, :mod:`stacks.constructs.origin_verify`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.constructs.api_function import ApiWithFunction
from stacks.constructs.bucket import AuditBucket
from stacks.constructs.function import PlatformFunction
from stacks.constructs.layer import SharedLayer
from stacks.constructs.origin_verify import OriginSecret
from stacks.constructs.platform_api import PlatformApi
from stacks.constructs.queue import QueueWithDeadLetter
from stacks.constructs.settings import OriginVerifySettings
from stacks.constructs.table import EncryptedTable
from stacks.payments.endpoints import PlatformEndpoints
from stacks.payments.settings import EndpointSettings, PaymentsSettings

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
WEBHOOK_SCHEMA = FUNCTIONS_DIR / "process_payment" / "schema.json"
#: Keywords of a webhook-schema property that API Gateway's JSON Schema draft 4 understands.
DRAFT4_KEYWORDS = ("type", "pattern", "minLength", "maxLength", "minimum", "maximum", "enum")

TABLE_ITEM_ACTIONS = {
    "process_payment": ("dynamodb:PutItem", "dynamodb:GetItem"),
    "process_accounting": ("dynamodb:UpdateItem", "dynamodb:GetItem"),
    "forward_transactions": ("dynamodb:GetItem", "dynamodb:UpdateItem"),
}
#: What process-payment does in the replay table: claim a signed delivery, release it on a 5xx.
REPLAY_ITEM_ACTIONS = ("dynamodb:PutItem", "dynamodb:DeleteItem")
#: What Lambda's event source mapping needs, with the function's role, to read the stream.
STREAM_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
#: The signing secret is read as the provider's value: no rotation schedule of ours.
SIGNING_SECRET_NO_ROTATION = (
    "The signing secret is issued by the payment provider, which computes the webhook "
    "signatures with it; it cannot be rotated by a function of ours. It is rotated at the "
    "provider (which signs with old and new secret during the change; process-payment "
    "accepts either, X-Webhook-Signature carries both) and the new value is written into "
    "this secret by the documented procedure in docs/payments.md."
)
#: KMS actions DynamoDB needs from a caller to read and write items under a customer key.
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
)


def api_request_model(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The webhook schema cut down to JSON Schema draft 4 for API Gateway's request validator.

    API Gateway rejects bodies that miss a required field or have a field of the wrong type
    before the function runs; the function still applies the full schema (formats, card-data
    checks), which draft 4 cannot express. The schema's patterns match the whole value (the
    function uses ``re.fullmatch``); API Gateway searches, so they are anchored here.
    """

    def prop(spec: Mapping[str, Any]) -> dict[str, Any]:
        if "oneOf" in spec:
            types = sorted({alt["type"] for alt in spec["oneOf"] if "type" in alt})
            return {"type": types}
        out = {k: spec[k] for k in DRAFT4_KEYWORDS if k in spec}
        if "pattern" in out:
            out["pattern"] = f"^(?:{out['pattern']})$"
        return out

    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": schema.get("title", "request"),
        "type": "object",
        "required": list(schema.get("required", [])),
        "properties": {name: prop(spec) for name, spec in schema.get("properties", {}).items()},
    }


class PaymentsStack(BaseStack):
    """The webhook pipeline for one environment.

    The REST API: by default the stack creates the environment's one ``PlatformApi``
    (``self.api``, named ``payments-api-<suffix>``, stage ``<suffix>``) and other services add
    their routes to it with ``stack.api.add_function_route(path, method, function)``. Pass
    ``api=`` to put ``/webhooks`` on an API created elsewhere instead (for example one
    ``PlatformApi`` per service under the legacy profile). A function from another stack on
    this API makes this stack depend on that one, so such a stack must not reference this one.

    With ``endpoints``, the platform's status and health routes join the API (or get APIs of
    their own, without ``consolidated_api``); with ``origin_verify``, every API of the stack
    refuses requests that did not come through the edge distribution.

    Attributes: ``settings``, ``api``, ``table`` (with its stream), ``replay_table``,
    ``signing_secrets`` (provider -> secret), ``queue``, ``dead_letter_queue``, ``topic``,
    ``audit_bucket``, ``functions`` (by name), ``alarms``, ``queries``, ``endpoints`` and
    ``origin`` (None unless handed their settings), ``apis`` (label -> every
    :class:`PlatformApi` of the stack).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PaymentsSettings,
        key: kms.IKey,
        api: PlatformApi | None = None,
        endpoints: EndpointSettings | None = None,
        origin_verify: OriginVerifySettings | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = key
        self.settings = s = settings
        self.layer = SharedLayer(self, "SharedLayer", layer_name=self.name("payments-common")).layer

        self.table = EncryptedTable(
            self,
            "Transactions",
            table_name=self.name("payment-transactions"),
            partition_key="transaction_id",
            sort_key="timestamp",
            settings=s.table,
            key=key,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        ).table
        self.replay_table = EncryptedTable(
            self,
            "WebhookReplays",
            table_name=self.name("payment-webhook-replays"),
            partition_key="signature_id",
            sort_key=None,
            settings=s.table,
            key=key,
            time_to_live_attribute="expires_at",
        ).table
        self.signing_secrets = self._signing_secrets()
        queues = QueueWithDeadLetter(
            self,
            "Processing",
            queue_name=self.name("payment-processing-queue"),
            dead_letter_queue_name=self.name("payment-processing-dlq"),
            settings=s.queue,
            key=key,
        )
        self.queue, self.dead_letter_queue = queues.queue, queues.dead_letter_queue
        self.topic = sns.Topic(
            self,
            "Notifications",
            topic_name=self.name("payment-notifications"),
            display_name="Payment notifications",
            master_key=key,
            enforce_ssl=True,
        )
        self.topic.apply_removal_policy(RemovalPolicy.DESTROY)
        self.audit_bucket = AuditBucket(
            self,
            "Audit",
            bucket_name=f"{self.name('payments-audit')}-{self.account}",
            access_logs_bucket_name=f"{self.name('payments-audit-access')}-{self.account}",
            settings=s.bucket,
            key=key,
        ).bucket

        self._owns_api = api is None
        self.api = api or PlatformApi(
            self,
            "Api",
            api_name=self.name("payments-api"),
            stage_name=self.deployment.suffix,
            settings=s.api,
            key=key,
            description="Payment platform REST API (payment-provider webhooks and platform endpoints)",
        )
        self.functions: dict[str, PlatformFunction] = {}
        webhook = ApiWithFunction(
            self,
            "Webhooks",
            api=self.api,
            path="/webhooks",
            http_method="POST",
            function_props=self._function_props(
                "process_payment",
                "Verifies a provider webhook's signature, validates it and stores it once",
                self._webhook_environment(),
            ),
            request_schema=api_request_model(json.loads(WEBHOOK_SCHEMA.read_text())),
        )
        self.functions["process_payment"] = payment = webhook.function
        payment.allow(TABLE_ITEM_ACTIONS["process_payment"], [self.table.table_arn], sid="Table")
        payment.allow(REPLAY_ITEM_ACTIONS, [self.replay_table.table_arn], sid="ReplayTable")
        payment.allow(
            ["secretsmanager:GetSecretValue"],
            [secret.secret_arn for secret in self.signing_secrets.values()],
            sid="SigningSecrets",
        )
        payment.allow_key(*TABLE_KEY_ACTIONS)

        self._forwarder()

        accounting = self._function(
            "process_accounting",
            "Applies queued transactions to accounting, reporting partial batch failures",
            {"TABLE_NAME": self.table.table_name},
        )
        accounting.allow(
            TABLE_ITEM_ACTIONS["process_accounting"], [self.table.table_arn], sid="Table"
        )
        accounting.allow_key(*TABLE_KEY_ACTIONS)
        self._consume(accounting, self.queue, "process_accounting")

        notify = self._function(
            "notify_failures",
            "Publishes dead-lettered payments to the payment-notifications topic",
            {"TOPIC_ARN": self.topic.topic_arn},
        )
        notify.allow(["sns:Publish"], [self.topic.topic_arn], sid="Topic")
        notify.allow_key("kms:GenerateDataKey")
        self._consume(notify, self.dead_letter_queue, "notify_failures")

        self.alarms = self._alarms() if s.alarms.enabled else []
        self.queries = self._queries()
        for function in self.functions.values():
            self._acknowledge_function_trade_offs(function)

        self.endpoints: PlatformEndpoints | None = None
        self.apis: dict[str, PlatformApi] = {"payments-api": self.api}
        if endpoints is not None:
            self.endpoints = PlatformEndpoints(self, "PlatformEndpoints", settings=endpoints)
            self.apis = dict(self.endpoints.apis)
        self._outputs()
        self.origin: OriginSecret | None = None
        if origin_verify is not None:
            self.origin = OriginSecret(
                self,
                "OriginVerify",
                secret_name=self.name("payments-origin-verify"),
                settings=origin_verify,
                key=key,
            )
            for each in self.apis.values():
                each.require_origin(self.origin.check)

    # -- outputs ---------------------------------------------------------------------------

    def _outputs(self) -> None:
        """What integration tests read from ``cfn-outputs/flat-outputs.json`` (tests/integration)."""
        values = {
            "TransactionsTableName": self.table.table_name,
            "WebhookReplaysTableName": self.replay_table.table_name,
            "ProcessingQueueUrl": self.queue.queue_url,
            "DeadLetterQueueUrl": self.dead_letter_queue.queue_url,
            "NotificationsTopicArn": self.topic.topic_arn,
            "SigningSecretNames": json.dumps(
                {
                    p: self.name(f"{self.settings.webhooks.signing_secret_name}-{p}")
                    for p in self.signing_secrets
                },
                sort_keys=True,
            ),
        }
        for name, function in self.functions.items():
            values["".join(part.title() for part in name.split("_")) + "FunctionName"] = (
                function.function.function_name
            )
        if self._owns_api:  # an API of another stack: its URL here would make a cycle
            values["WebhookUrl"] = self.api.api.url_for_path("/webhooks")
        for key, value in values.items():
            CfnOutput(self, key, value=value)

    # -- webhooks and the outbox --------------------------------------------------------------

    def _signing_secrets(self) -> dict[str, secretsmanager.Secret]:
        """One Secrets Manager secret per provider: ``<signing_secret_name>-<provider>-<suffix>``.

        Created with a random value so the stack deploys; the provider's value is written into
        it before the provider is switched on (docs/payments.md)."""
        w = self.settings.webhooks
        secrets = {}
        for provider in w.providers:
            secret = secretsmanager.Secret(
                self,
                "SigningSecret" + "".join(p.title() for p in provider.split("-")),
                secret_name=self.name(f"{w.signing_secret_name}-{provider}"),
                description=f"Webhook signing secret of {provider} (HMAC-SHA256, X-Webhook-Signature)",
                encryption_key=self.key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=64, exclude_punctuation=True, include_space=False
                ),
            )
            secret.apply_removal_policy(RemovalPolicy.DESTROY)
            for rule_id, plugin in (("AwsSolutions-SMG4", None), ("PCI-SEC-004", "govern")):
                governance.acknowledge(secret, rule_id, SIGNING_SECRET_NO_ROTATION, plugin=plugin)
            secrets[provider] = secret
        return secrets

    def _webhook_environment(self) -> dict[str, str]:
        w = self.settings.webhooks
        names = {p: self.name(f"{w.signing_secret_name}-{p}") for p in self.signing_secrets}
        return {
            "TABLE_NAME": self.table.table_name,
            "REPLAY_TABLE_NAME": self.replay_table.table_name,
            "WEBHOOK_PROVIDERS": json.dumps(names, sort_keys=True, separators=(",", ":")),
            "SIGNATURE_TOLERANCE_S": str(w.signature_tolerance_s),
            "SECRET_CACHE_S": str(w.secret_cache_s),
            "MAX_BODY_BYTES": str(w.max_body_bytes),
            "MAX_DEPTH": str(w.max_depth),
            "MAX_STRING_CHARS": str(w.max_string_chars),
            "MAX_NUMBER_CHARS": str(w.max_number_chars),
        }

    def _forwarder(self) -> None:
        """forward-transactions: drains the table's stream into the processing queue."""
        o = self.settings.outbox
        forwarder = self._function(
            "forward_transactions",
            "Queues each stored transaction exactly once from the table's stream (the outbox)",
            {
                "TABLE_NAME": self.table.table_name,
                "QUEUE_URL": self.queue.queue_url,
                "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
                "MARKER_ATTEMPTS": str(o.marker_attempts),
                "MARKER_BACKOFF_MS": str(o.marker_backoff_ms),
            },
        )
        assert self.table.table_stream_arn is not None
        forwarder.allow(
            TABLE_ITEM_ACTIONS["forward_transactions"], [self.table.table_arn], sid="Table"
        )
        forwarder.allow(STREAM_ACTIONS, [self.table.table_stream_arn], sid="ReadStream")
        forwarder.allow(
            ["sqs:SendMessage"],
            [self.queue.queue_arn, self.dead_letter_queue.queue_arn],
            sid="Queues",
        )
        forwarder.allow_key(*TABLE_KEY_ACTIONS)
        forwarder.function.add_event_source(
            sources.DynamoEventSource(
                self.table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=o.batch_size,
                max_batching_window=Duration.seconds(o.max_batching_window_s),
                retry_attempts=o.retry_attempts,
                max_record_age=Duration.seconds(o.max_record_age_s),
                parallelization_factor=o.parallelization_factor,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.dead_letter_queue),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {"eventName": lambda_.FilterRule.is_equal("INSERT")}
                    )
                ],
            )
        )

    def _acknowledge_function_trade_offs(self, function: PlatformFunction) -> None:
        """Deliberate trade-offs of every pipeline function, with the reason an auditor reads."""
        governance.acknowledge(
            function.function,
            "PCI.DSS.321-LambdaInsideVPC",
            "The function calls only AWS APIs (DynamoDB, SQS, SNS, KMS, X-Ray, CloudWatch Logs) "
            "over TLS with SigV4 and reaches no host in a private network; no data store of the "
            "pipeline is network-addressable, so a VPC would segment nothing. Access to "
            "cardholder-data resources is segmented by IAM: one role per function, scoped to "
            "this environment's table, queue, topic and key ARNs.",
            plugin=None,
        )
        governance.acknowledge(
            function.function,
            "AwsSolutions-L1",
            f"The runtime ({self.settings.functions.runtime}) is set by configuration "
            "(payments.functions.runtime) and is a runtime AWS Lambda supports; the shared "
            "layer's binary wheels are built for that CPython version (scripts/build_layer.py), "
            "so the runtime moves together with the layer build, not silently to the newest.",
            plugin=None,
        )

    # -- functions -------------------------------------------------------------------------

    def _reserved(self, name: str) -> int:
        """The reserved concurrency of function ``name`` (``functions.reserved_concurrency``)."""
        return getattr(self.settings.functions.reserved_concurrency, name)

    def _function_props(
        self, name: str, description: str, environment: Mapping[str, str]
    ) -> dict[str, Any]:
        return {
            "function_name": self.name(name.replace("_", "-")),
            "code_dir": FUNCTIONS_DIR / name,
            "settings": self.settings.functions,
            "reserved_concurrency": self._reserved(name),
            "key": self.key,
            "layers": [self.layer],
            "environment": dict(environment),
            "description": description,
        }

    def _function(
        self, name: str, description: str, environment: Mapping[str, str]
    ) -> PlatformFunction:
        construct_id = "".join(part.title() for part in name.split("_"))
        function = PlatformFunction(
            self, construct_id, **self._function_props(name, description, environment)
        )
        self.functions[name] = function
        return function

    def _consume(self, function: PlatformFunction, queue: Any, name: str) -> None:
        q = self.settings.queue
        function.allow(CONSUME_ACTIONS, [queue.queue_arn], sid="ConsumeQueue")
        function.allow_key("kms:Decrypt")
        function.function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=q.batch_size,
                max_batching_window=Duration.seconds(q.max_batching_window_s),
                report_batch_item_failures=True,
                # never more pollers than reserved executions: a throttled batch would count
                # as a receive and push good messages towards the dead-letter queue
                max_concurrency=self._reserved(name),
            )
        )

    # -- alarms ----------------------------------------------------------------------------

    def _rate_alarm(
        self,
        construct_id: str,
        name: str,
        description: str,
        failures: cloudwatch.IMetric,
        total: cloudwatch.IMetric,
        threshold: float,
    ) -> cloudwatch.Alarm:
        a = self.settings.alarms
        period = Duration.minutes(a.period_minutes)
        rate = cloudwatch.MathExpression(
            expression="IF(total > 0, 100 * failures / total, 0)",
            using_metrics={"failures": failures, "total": total},
            period=period,
            label=f"{name} (%)",
        )
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=self.name(name),
            alarm_description=description,
            metric=rate,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=a.evaluation_periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return alarm

    def _alarms(self) -> list[cloudwatch.Alarm]:
        a = self.settings.alarms
        period = Duration.minutes(a.period_minutes)
        alarms = []
        for name, function in self.functions.items():
            fn = function.function
            alarms.append(
                self._rate_alarm(
                    "".join(part.title() for part in name.split("_")) + "ErrorRate",
                    f"{name.replace('_', '-')}-error-rate",
                    f"{function.function_name}: errors above {a.function_error_rate_percent}% "
                    f"of invocations over {a.period_minutes} minutes",
                    fn.metric_errors(period=period, statistic="Sum"),
                    fn.metric_invocations(period=period, statistic="Sum"),
                    a.function_error_rate_percent,
                )
            )
        count = self.api.metric("Count", period=period)
        for code, threshold in (("5xx", a.api_5xx_rate_percent), ("4xx", a.api_4xx_rate_percent)):
            alarms.append(
                self._rate_alarm(
                    f"Api{code.upper()}Rate",
                    f"payments-api-{code}-rate",
                    f"{self.api.api_name}: {code.upper()} responses above {threshold}% of "
                    f"requests over {a.period_minutes} minutes",
                    self.api.metric(f"{code.upper()}Error", period=period),
                    count,
                    threshold,
                )
            )
        alarms.append(
            cloudwatch.Alarm(
                self,
                "DeadLetterMessages",
                alarm_name=self.name("payment-processing-dlq-messages"),
                alarm_description="Payments are waiting in the dead-letter queue",
                metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=period, statistic="Maximum"
                ),
                threshold=a.dlq_messages_threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        o = self.settings.outbox
        forwarder = self.functions["forward_transactions"]
        alarms.append(
            cloudwatch.Alarm(
                self,
                "ForwarderIteratorAge",
                alarm_name=self.name("forward-transactions-iterator-age"),
                alarm_description=(
                    f"{forwarder.function_name}: stored transactions wait more than "
                    f"{o.iterator_age_alarm_ms} ms to be queued (the outbox is falling behind)"
                ),
                metric=forwarder.function.metric("IteratorAge", period=period, statistic="Maximum"),
                threshold=o.iterator_age_alarm_ms,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=a.evaluation_periods,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        action = cw_actions.SnsAction(self.topic)
        for alarm in alarms:
            alarm.add_alarm_action(action)
        # CloudWatch publishes to the encrypted topic as a service principal of this account:
        # the topic policy lets it publish, the key policy lets it encrypt the message.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsToEncryptedTopics",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        return alarms

    # -- Logs Insights -----------------------------------------------------------------------

    def _queries(self) -> list[logs.QueryDefinition]:
        payment = self.functions["process_payment"].log_group
        every = [f.log_group for f in self.functions.values()]
        prefix = self.name("payments")
        definitions = {
            "TransactionsByStatus": (
                "transactions-by-provider-and-status",
                [payment],
                logs.QueryString(
                    filter_statements=['@message like /"message":"webhook accepted"/'],
                    parse_statements=[
                        '@message \'"provider":"*"\' as provider',
                        '@message \'"status":"*"\' as status',
                    ],
                    stats_statements=["count(*) as transactions by provider, status"],
                    sort="transactions desc",
                ),
            ),
            "RejectedWebhooks": (
                "rejected-webhooks-by-reason",
                [payment],
                logs.QueryString(
                    filter_statements=['@message like /"message":"webhook rejected"/'],
                    parse_statements=['@message \'"reason":"*"\' as reason'],
                    stats_statements=["count(*) as rejected by reason, bin(5m)"],
                ),
            ),
            "Failures": (
                "failed-transactions",
                every,
                logs.QueryString(
                    fields=["@timestamp", "@log"],
                    filter_statements=['@message like /"level":"(ERROR|WARNING)"/'],
                    parse_statements=[
                        '@message \'"message":"*"\' as event',
                        '@message \'"transaction_id":"*"\' as transaction_id',
                        '@message \'"error":"*"\' as error',
                    ],
                    sort="@timestamp desc",
                    limit=200,
                ),
            ),
            "Latency": (
                "processing-latency",
                every,
                logs.QueryString(
                    filter_statements=['@type = "REPORT"'],
                    stats_statements=[
                        "count(*) as invocations, avg(@duration) as avg_ms, "
                        "pct(@duration, 99) as p99_ms, max(@duration) as max_ms, "
                        "max(@maxMemoryUsed / 1048576) as max_memory_mb by @log, bin(1m)"
                    ],
                ),
            ),
            "TransactionTrail": (
                "transaction-trail",
                every,
                logs.QueryString(
                    fields=["@timestamp", "@log", "@message"],
                    filter_statements=['@message like /"transaction_id":"REPLACE-ME"/'],
                    sort="@timestamp asc",
                ),
            ),
        }
        queries = []
        for construct_id, (name, groups, query) in definitions.items():
            queries.append(
                logs.QueryDefinition(
                    self,
                    f"Query{construct_id}",
                    query_definition_name=f"{prefix}/{name}",
                    query_string=query,
                    log_groups=groups,
                )
            )
        return queries
