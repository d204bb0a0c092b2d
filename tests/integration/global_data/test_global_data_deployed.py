"""Integration tests of a deployed global data system, from its flat outputs.

They read ``cfn-outputs/flat-outputs.json`` (every stack's outputs in one flat object, the shape
the seeds use; ``GLOBAL_DATA_OUTPUTS`` names another file) and call the deployed system with the
caller's AWS credentials. Without the file (no deployment here) every test is skipped, with the
reason. ``test_outputs_expected_here_are_what_the_stacks_declare`` runs always: it holds the keys
these tests read to the outputs the synthesized stacks declare.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
OUTPUTS = Path(os.environ.get("GLOBAL_DATA_OUTPUTS", ROOT / "cfn-outputs" / "flat-outputs.json"))
ROLES = ("Primary", "Secondary")
KEYS = (
    "ApiEndpoint", "ProcessUrl", "HealthUrl", "TableName", "TableArn", "BucketName",
    "FunctionName", "TopicArn", "Region", "TableKeyId", "AuditKeyId", "FunctionKeyId",
)  # fmt: skip


def _outputs() -> dict[str, str]:
    if not OUTPUTS.is_file():
        pytest.skip(f"no deployment outputs at {OUTPUTS} (deploy, then write the flat outputs)")
    return json.loads(OUTPUTS.read_text())


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    return _outputs()


def _client(service: str, region: str) -> Any:
    import boto3

    return boto3.client(service, region_name=region)


def _call(
    url: str, *, body: dict[str, Any] | None = None, key: str | None = None
) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("x-api-key", key)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - https outputs
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _api_key(outputs: dict[str, str]) -> str:
    secrets = _client("secretsmanager", outputs["PrimaryRegion"])
    return secrets.get_secret_value(SecretId=outputs["PrimaryApiKeySecretName"])["SecretString"]


def test_outputs_expected_here_are_what_the_stacks_declare() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "stacks" / "global_data"))
    from global_data_support import system

    s = system("dev")
    declared = set()
    for name in (
        "global_data_service_primary",
        "global_data_service_secondary",
        "global_data_keys_primary",  # the key ids, beside the keys
        "global_data_keys_secondary",
    ):
        declared |= set(s.templates[name]["Outputs"])
    expected = {f"{role}{key}" for role in ROLES for key in KEYS} | {"PrimaryApiKeySecretName"}
    assert expected <= declared


def test_every_output_is_present(outputs: dict[str, str]) -> None:
    missing = [f"{r}{k}" for r in ROLES for k in KEYS if f"{r}{k}" not in outputs]
    assert missing == []


@pytest.mark.parametrize("role", ROLES)
def test_health_answers_without_a_key(outputs: dict[str, str], role: str) -> None:
    status, body = _call(outputs[f"{role}HealthUrl"])
    assert status == 200 and body["region"] == outputs[f"{role}Region"]


@pytest.mark.parametrize("role", ROLES)
def test_process_refuses_a_call_without_a_key(outputs: dict[str, str], role: str) -> None:
    status, _ = _call(outputs[f"{role}ProcessUrl"], body={"payment_id": "x"})
    assert status == 403


@pytest.mark.parametrize("role", ROLES)
def test_a_payment_is_stored_replicated_and_audited(outputs: dict[str, str], role: str) -> None:
    key = _api_key(outputs)
    payment = {
        "payment_id": f"it_{uuid.uuid4().hex[:20]}",
        "amount": "12.34",
        "currency": "USD",
        "customer_id": "integration-test",
        "payment_method": "card",
    }
    status, body = _call(outputs[f"{role}ProcessUrl"], body=payment, key=key)
    assert status == 201, body
    again, replay = _call(outputs[f"{role}ProcessUrl"], body=payment, key=key)
    assert again == 200 and replay["replayed"] is True
    s3 = _client("s3", outputs[f"{role}Region"])
    s3.head_object(Bucket=outputs[f"{role}BucketName"], Key=body["audit_key"])
    other = "Secondary" if role == "Primary" else "Primary"
    table = _client("dynamodb", outputs[f"{other}Region"])
    for _ in range(30):  # replication is asynchronous: usually under a second
        items = table.query(
            TableName=outputs["PrimaryTableName"],
            KeyConditionExpression="payment_id = :p",
            ExpressionAttributeValues={":p": {"S": payment["payment_id"]}},
        )["Items"]
        if any(i["timestamp"]["S"] == body["timestamp"] for i in items):
            break
        time.sleep(2)
    else:
        pytest.fail(f"{payment['payment_id']} did not reach {outputs[f'{other}Region']}")


def test_replicas_have_pitr_and_a_key_of_their_region(outputs: dict[str, str]) -> None:
    for role in ROLES:
        region = outputs[f"{role}Region"]
        ddb = _client("dynamodb", region)
        name = outputs[f"{role}TableName"]
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        sse = ddb.describe_table(TableName=name)["Table"]["SSEDescription"]
        assert sse["KMSMasterKeyArn"].split(":")[3] == region


@pytest.mark.parametrize("role", ROLES)
def test_keys_rotate(outputs: dict[str, str], role: str) -> None:
    kms = _client("kms", outputs[f"{role}Region"])
    for purpose in ("Table", "Audit", "Function"):
        key_id = outputs[f"{role}{purpose}KeyId"]
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
