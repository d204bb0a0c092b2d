"""Secret rotation against moto: the four steps, idempotency and the handler's guards."""

from __future__ import annotations

import json
from types import ModuleType

import boto3
import pytest
from conftest import REGION, ROOT, Aws, load_module

TOKEN = "11111111-2222-4333-8444-555555555555"  # a version id is a 32-64 char token
TEMPLATE = {"username": "payments_app", "password": "initial-password-000000000000000"}


@pytest.fixture
def rotate(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("PASSWORD_LENGTH", "32")
    return load_module(
        ROOT / "stacks" / "platform" / "functions" / "rotate_secret" / "index.py", "fn_rotate"
    )


@pytest.fixture
def sm(aws: Aws):  # type: ignore[no-untyped-def]
    return boto3.client("secretsmanager", endpoint_url=aws.url, region_name=REGION)


def _secret(sm, value: dict) -> str:  # type: ignore[no-untyped-def]
    return sm.create_secret(Name="payments-db-credentials-test", SecretString=json.dumps(value))[
        "ARN"
    ]


def _current(sm, arn: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])


def test_steps_rotate_only_the_password(sm, rotate: ModuleType) -> None:  # type: ignore[no-untyped-def]
    arn = _secret(sm, TEMPLATE)
    assert rotate.create_secret(arn, TOKEN) is True
    assert rotate.create_secret(arn, TOKEN) is False  # idempotent: pending value kept
    pending = json.loads(
        sm.get_secret_value(SecretId=arn, VersionId=TOKEN, VersionStage="AWSPENDING")[
            "SecretString"
        ]
    )
    assert pending["username"] == "payments_app"
    assert len(pending["password"]) == 32 and pending["password"] != TEMPLATE["password"]
    assert not set(pending["password"]) & set(rotate.DEFAULT_EXCLUDE)
    rotate.test_secret(arn, TOKEN)
    assert _current(sm, arn) == TEMPLATE  # nothing changes before finishSecret
    assert rotate.finish_secret(arn, TOKEN) is True
    assert _current(sm, arn) == pending
    assert rotate.finish_secret(arn, TOKEN) is False
    stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert "AWSCURRENT" in stages[TOKEN]


def test_api_key_secret_rotates_its_key(sm, rotate: ModuleType) -> None:  # type: ignore[no-untyped-def]
    arn = _secret(sm, {"provider": "default", "api_key": "k" * 32})
    rotate.create_secret(arn, TOKEN)
    rotate.test_secret(arn, TOKEN)
    rotate.finish_secret(arn, TOKEN)
    current = _current(sm, arn)
    assert current["provider"] == "default" and current["api_key"] != "k" * 32


def test_secret_without_rotatable_field_is_refused(sm, rotate: ModuleType) -> None:  # type: ignore[no-untyped-def]
    arn = _secret(sm, {"username": "x"})
    with pytest.raises(rotate.RotationError, match="rotatable fields"):
        rotate.create_secret(arn, TOKEN)


def test_test_step_rejects_a_changed_fixed_field(sm, rotate: ModuleType) -> None:  # type: ignore[no-untyped-def]
    arn = _secret(sm, TEMPLATE)
    sm.put_secret_value(
        SecretId=arn,
        ClientRequestToken=TOKEN,
        SecretString=json.dumps({"username": "someone-else", "password": "p" * 32}),
        VersionStages=["AWSPENDING"],
    )
    with pytest.raises(rotate.RotationError, match="non-rotated field username"):
        rotate.test_secret(arn, TOKEN)


def test_handler_refuses_a_secret_without_rotation(sm, rotate: ModuleType) -> None:  # type: ignore[no-untyped-def]
    arn = _secret(sm, TEMPLATE)
    event = {"SecretId": arn, "ClientRequestToken": TOKEN, "Step": "createSecret"}
    with pytest.raises(rotate.RotationError, match="rotation is not enabled"):
        rotate.handler(event, None)
    with pytest.raises(rotate.RotationError, match="known Step"):
        rotate.handler({**event, "Step": "dropSecret"}, None)
