"""A local stand-in of a deployed ``Payments`` stack, built on moto from its synthesized template.

Integration tests read a deployment's ``cfn-outputs/flat-outputs.json`` (seed 002). Here no
deployment exists, so :func:`build` creates what the template declares on a moto server - the
tables (keys, stream, TTL), the queues (retention, visibility, redrive to the dead-letter queue),
the topic, the signing secrets - with the names and settings *read from the template*, and
writes the flat outputs a deployment would have (the template's ``Outputs``, resolved). The
:class:`LocalPipeline` then plays the managed parts - API Gateway's proxy integration and API
key, Lambda's event source mappings (the stream's filter, batch sizes, partial batch failures,
SQS redrive after ``maxReceiveCount``) - around the real handler code, each function run with
the environment variables its template declares. Nothing here is retyped from the stack.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "stacks" / "payments" / "functions"
REGION = "us-east-1"
ACCOUNT = "123456789012"


def _of_type(template: Mapping[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == cfn_type}


@dataclass
class StandIn:
    """The resources created on moto, by logical id, and how intrinsics resolve to them."""

    url: str
    template: dict[str, Any]
    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """A template value with ``Ref``, ``Fn::GetAtt`` and ``Fn::Join`` resolved locally."""
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return {"AWS::URLSuffix": "amazonaws.com", "AWS::Region": REGION}.get(
                    arg, self.refs.get(arg, f"local-{arg}")
                )
            if fn == "Fn::GetAtt":
                return self.attrs.get((arg[0], arg[1]), f"local-{arg[0]}-{arg[1]}")
            if fn == "Fn::Join":
                return arg[0].join(str(self.resolve(part)) for part in arg[1])
            if fn == "Fn::ImportValue":
                return f"local-import-{arg}"
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def outputs(self) -> dict[str, str]:
        """The stack's outputs as ``cfn-outputs/flat-outputs.json`` holds them (key -> value)."""
        return {
            k: str(self.resolve(v["Value"])) for k, v in self.template.get("Outputs", {}).items()
        }


def build(url: str, template: dict[str, Any], secrets: Mapping[str, str]) -> StandIn:
    """Create the template's tables, queues, topic and secrets on the moto server at ``url``."""
    kwargs = {"endpoint_url": url, "region_name": REGION}
    dynamodb, sqs, sns, sm = (
        boto3.client(s, **kwargs) for s in ("dynamodb", "sqs", "sns", "secretsmanager")
    )
    stand_in = StandIn(url, template)
    for logical_id, props in _of_type(template, "AWS::DynamoDB::Table").items():
        spec: dict[str, Any] = {
            "TableName": props["TableName"],
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if "StreamSpecification" in props:
            spec["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        table = dynamodb.create_table(**spec)["TableDescription"]
        if "TimeToLiveSpecification" in props:
            dynamodb.update_time_to_live(
                TableName=props["TableName"],
                TimeToLiveSpecification=props["TimeToLiveSpecification"],
            )
        stand_in.refs[logical_id] = props["TableName"]
        stand_in.attrs[logical_id, "Arn"] = table["TableArn"]
        if "LatestStreamArn" in table:
            stand_in.attrs[logical_id, "StreamArn"] = table["LatestStreamArn"]
    queues = _of_type(template, "AWS::SQS::Queue")
    # dead-letter queues first: a queue's redrive policy names its dead-letter queue's ARN
    for logical_id, props in sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1]):
        attributes = {
            "VisibilityTimeout": str(props.get("VisibilityTimeout", 30)),
            "MessageRetentionPeriod": str(props.get("MessageRetentionPeriod", 345600)),
        }
        if "RedrivePolicy" in props:
            redrive = stand_in.resolve(props["RedrivePolicy"])
            attributes["RedrivePolicy"] = json.dumps(redrive)
        queue_url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)[
            "QueueUrl"
        ]
        stand_in.refs[logical_id] = queue_url
        stand_in.attrs[logical_id, "Arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{props['QueueName']}"
        stand_in.attrs[logical_id, "QueueName"] = props["QueueName"]
    for logical_id, props in _of_type(template, "AWS::SNS::Topic").items():
        stand_in.refs[logical_id] = sns.create_topic(Name=props["TopicName"])["TopicArn"]
    for logical_id, props in _of_type(template, "AWS::SecretsManager::Secret").items():
        provider = next((p for p in secrets if f"-{p}-" in props["Name"]), None)
        if provider is None:
            continue  # not a webhook signing secret (e.g. the origin-verify secret)
        arn = sm.create_secret(Name=props["Name"], SecretString=secrets[provider])["ARN"]
        stand_in.refs[logical_id] = arn
    for logical_id, props in _of_type(template, "AWS::Lambda::Function").items():
        stand_in.refs[logical_id] = props["FunctionName"]
    return stand_in


_ENV_LOCK = threading.RLock()


@contextlib.contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class LocalPipeline:
    """API Gateway and Lambda's event source mappings, played around the real handlers."""

    def __init__(self, stand_in: StandIn, api_key: str) -> None:
        self.stand_in = stand_in
        self.api_key = api_key
        template = stand_in.template
        self.functions: dict[str, tuple[ModuleType, dict[str, str]]] = {}
        for logical_id, props in _of_type(template, "AWS::Lambda::Function").items():
            base = props["FunctionName"].rsplit("-", 1)[0]
            code = FUNCTIONS / base.replace("-", "_") / "index.py"
            if not code.is_file():
                continue
            spec = importlib.util.spec_from_file_location(f"integration_{base}", code)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            variables = stand_in.resolve(props.get("Environment", {}).get("Variables", {}))
            self.functions[logical_id] = (module, {k: str(v) for k, v in variables.items()})
        self.mappings = list(_of_type(template, "AWS::Lambda::EventSourceMapping").values())
        self.webhook = self._webhook_method()
        kwargs = {"endpoint_url": stand_in.url, "region_name": REGION}
        self.sqs = boto3.client("sqs", **kwargs)
        self.streams = boto3.client("dynamodbstreams", **kwargs)
        self._shards: dict[str, str | None] = {}

    def _webhook_method(self) -> dict[str, Any]:
        """The POST method of /webhooks and the function its proxy integration invokes."""
        template = self.stand_in.template
        resources = _of_type(template, "AWS::ApiGateway::Resource")
        for props in _of_type(template, "AWS::ApiGateway::Method").values():
            resource = props.get("ResourceId", {}).get("Ref")
            if (
                props["HttpMethod"] == "POST"
                and resources.get(resource, {}).get("PathPart") == "webhooks"
            ):
                uri = json.dumps(props["Integration"]["Uri"])
                (function,) = [f for f in self.functions if f in uri]
                return {
                    "function": function,
                    "api_key_required": props.get("ApiKeyRequired", False),
                }
        raise AssertionError("the template has no POST /webhooks method")

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        module, variables = self.functions[logical_id]
        with _environment(variables):
            return module.handler(event, None)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``POST`` to the webhook URL as API Gateway would hand it to the function."""
        assert url == self.stand_in.outputs()["WebhookUrl"]
        lowered = {k.lower(): v for k, v in headers.items()}
        if self.webhook["api_key_required"] and lowered.get("x-api-key") != self.api_key:
            return 403, {"message": "Forbidden"}
        event = {
            "resource": "/webhooks",
            "path": "/webhooks",
            "httpMethod": "POST",
            "headers": dict(headers),
            "body": body.decode("utf-8", "surrogatepass"),
            "isBase64Encoded": False,
            "requestContext": {"requestId": f"local-{time.monotonic_ns()}"},
        }
        response = self.invoke(self.webhook["function"], event)
        return response["statusCode"], json.loads(response["body"])

    # -- event source mappings ----------------------------------------------------------------

    def pump(self, rounds: int = 50) -> None:
        """Run every event source mapping until nothing moves (or ``rounds`` passes)."""
        for _ in range(rounds):
            moved = sum(self._run(mapping) for mapping in self.mappings)
            if not moved:
                return

    def _run(self, mapping: dict[str, Any]) -> int:
        source = mapping["EventSourceArn"]
        function = mapping["FunctionName"]["Ref"]
        if source["Fn::GetAtt"][1] == "StreamArn":
            return self._stream(self.stand_in.resolve(source), function, mapping)
        queue_url = self.stand_in.refs[source["Fn::GetAtt"][0]]
        return self._queue(queue_url, function, mapping)

    def _stream(self, stream_arn: str, function: str, mapping: dict[str, Any]) -> int:
        patterns = [
            json.loads(f["Pattern"]) for f in mapping.get("FilterCriteria", {}).get("Filters", [])
        ]
        shards = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        moved = 0
        for shard in shards:
            iterator = (
                self._shards.get(shard["ShardId"])
                or self.streams.get_shard_iterator(
                    StreamArn=stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType=mapping["StartingPosition"],
                )["ShardIterator"]
            )
            page = self.streams.get_records(
                ShardIterator=iterator, Limit=mapping.get("BatchSize", 100)
            )
            records = [r for r in page["Records"] if all(_matches(p, r) for p in patterns)]
            if records:
                failures = self.invoke(function, {"Records": records})["batchItemFailures"]
                if failures:  # retried from the failed record: do not advance the iterator
                    return moved
                moved += len(records)
            self._shards[shard["ShardId"]] = page.get("NextShardIterator")
            moved += len(page["Records"]) - len(records)
        return moved

    def _queue(self, queue_url: str, function: str, mapping: dict[str, Any]) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, mapping.get("BatchSize", 10)),
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_url.rsplit('/', 1)[1]}",
            }
            for m in messages
        ]
        failed = {
            f["itemIdentifier"]
            for f in self.invoke(function, {"Records": records})["batchItemFailures"]
        }
        for message in messages:
            if (
                message["MessageId"] in failed
            ):  # visible again at once (instead of after the timeout)
                self.sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def _matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Lambda's filter pattern, for the shapes our mappings use (exact values, nested keys)."""
    for key, expected in pattern.items():
        value = record.get(key)
        if isinstance(expected, dict):
            if not isinstance(value, Mapping) or not _matches(expected, value):
                return False
        elif value not in expected:
            return False
    return True
