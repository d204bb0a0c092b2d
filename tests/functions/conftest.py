"""Fixtures for the Lambda handler tests.

A moto server runs in a thread on 127.0.0.1 for the whole session; ``AWS_ENDPOINT_URL``
points every boto3 client (the handlers' included) at it, with dummy credentials, so no
real AWS endpoint is ever called. Each test gets freshly reset moto state with the table,
queues and topics created, and the handler environment variables set.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
LAYER_SRC = ROOT / "stacks" / "layer" / "src"
if str(LAYER_SRC) not in sys.path:
    sys.path.insert(0, str(LAYER_SRC))

TABLE = "payment-transactions"
REPLAY_TABLE = "payment-webhook-replays"
REGION = "us-east-1"
#: The webhook limits the handler is given (cdk.json payments.webhooks, the defaults).
WEBHOOK_ENV = {
    "SIGNATURE_TOLERANCE_S": "300",
    "SECRET_CACHE_S": "300",
    "MAX_BODY_BYTES": "65536",
    "MAX_DEPTH": "16",
    "MAX_STRING_CHARS": "4096",
    "MAX_NUMBER_CHARS": "40",
    "MARKER_ATTEMPTS": "5",
    "MARKER_BACKOFF_MS": "1",
}
_LOADED: dict[str, ModuleType] = {}

from pipeline_support import SECRETS as SIGNING_SECRETS  # noqa: E402 - needs the layer path
from pipeline_support import create_pipeline_tables, create_signing_secrets  # noqa: E402


def load_module(path: Path, name: str) -> ModuleType:
    """Import a file under a unique module name (function folders are not packages)."""
    if name not in _LOADED:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _LOADED[name] = module
    return _LOADED[name]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """Start moto on 127.0.0.1 (free port) and point the AWS SDK at it for the session."""
    patch = pytest.MonkeyPatch()
    for var in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_REGION",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        *[v for v in os.environ if v.startswith("AWS_ENDPOINT_URL_")],
    ):
        patch.delenv(var, raising=False)
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    patch.setenv("AWS_DEFAULT_REGION", REGION)
    patch.setenv("AWS_CONFIG_FILE", os.devnull)
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    url = f"http://127.0.0.1:{port}"
    patch.setenv("AWS_ENDPOINT_URL", url)
    try:
        yield url
    finally:
        server.stop()
        patch.undo()


@dataclass
class Aws:
    """Handles on the moto resources of one test."""

    url: str
    dynamodb: Any
    sqs: Any
    sns: Any
    queue_url: str
    dlq_url: str
    topics: dict[str, str]
    stream_arn: str = ""

    def items(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Receive (and delete) every message currently in the queue."""
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            messages.extend(batch)

    def subscribe_queue(self, topic_arn: str) -> str:
        """Subscribe a new SQS queue to ``topic_arn`` and return the queue URL."""
        name = f"sub-{topic_arn.rsplit(':', 1)[1]}"
        queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"]
        )
        return queue_url

    def notifications(self, queue_url: str) -> list[dict[str, Any]]:
        """SNS envelopes (Subject, Message, ...) delivered to a subscribed queue."""
        return [json.loads(m["Body"]) for m in self.drain(queue_url)]


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """Reset moto, create table, queues and topics, and set the handlers' environment."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    kwargs = {"endpoint_url": moto_url, "region_name": REGION}
    dynamodb, sqs, sns = (boto3.client(s, **kwargs) for s in ("dynamodb", "sqs", "sns"))
    stream_arn = create_pipeline_tables(dynamodb, TABLE, REPLAY_TABLE)
    secret_names = create_signing_secrets(
        boto3.client("secretsmanager", **kwargs), SIGNING_SECRETS, "test"
    )
    queue_url = sqs.create_queue(QueueName="payment-processing-queue")["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName="payment-processing-dlq")["QueueUrl"]
    topics = {
        name: sns.create_topic(Name=name)["TopicArn"]
        for name in ("payment-notifications", "security-alerts", "operations-alerts", "cost-alerts")
    }
    env = {
        **WEBHOOK_ENV,
        "TABLE_NAME": TABLE,
        "REPLAY_TABLE_NAME": REPLAY_TABLE,
        "WEBHOOK_PROVIDERS": json.dumps(secret_names),
        "QUEUE_URL": queue_url,
        "DEAD_LETTER_QUEUE_URL": dlq_url,
        "TOPIC_ARN": topics["payment-notifications"],
        "SECURITY_TOPIC_ARN": topics["security-alerts"],
        "OPERATIONS_TOPIC_ARN": topics["operations-alerts"],
        "COST_TOPIC_ARN": topics["cost-alerts"],
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    from payments_common import client, signatures

    signatures.clear_cache()
    for service in ("dynamodb", "sqs", "sns", "secretsmanager"):  # moto only, never AWS
        assert client(service).meta.endpoint_url == moto_url
    return Aws(moto_url, dynamodb, sqs, sns, queue_url, dlq_url, topics, stream_arn)


#: Each system's function code lives beside the system that deploys it.
FUNCTION_DIRS = (
    ROOT / "stacks" / "payments" / "functions",
    ROOT / "stacks" / "platform" / "functions",
)


def function_path(name: str) -> Path:
    """``stacks/<system>/functions/<name>/index.py`` for the function ``name``."""
    (path,) = [d / name / "index.py" for d in FUNCTION_DIRS if (d / name / "index.py").is_file()]
    return path


def _function(name: str) -> ModuleType:
    return load_module(function_path(name), f"lambda_fn_{name}")


@pytest.fixture
def process_payment(aws: Aws) -> ModuleType:
    return _function("process_payment")


@pytest.fixture
def process_accounting(aws: Aws) -> ModuleType:
    return _function("process_accounting")


@pytest.fixture
def notify_failures(aws: Aws) -> ModuleType:
    return _function("notify_failures")


@pytest.fixture
def forward_transactions(aws: Aws) -> ModuleType:
    return _function("forward_transactions")


@pytest.fixture
def payment_status(aws: Aws) -> ModuleType:
    return _function("payment_status")


@pytest.fixture
def responder(aws: Aws) -> ModuleType:
    return _function("responder")


@pytest.fixture
def build_layer_module() -> ModuleType:
    return load_module(ROOT / "scripts" / "build_layer.py", "scripts_build_layer")
