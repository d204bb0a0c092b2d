"""The start every Secrets Manager rotation handler shares: check the event, read the stages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payments_common.aws import client

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationError(ValueError):
    """The rotation request or the secret is not in a state the handler can handle."""


@dataclass(frozen=True)
class RotationRequest:
    """One rotation step: the secret, the version being rotated to, and every version's stages."""

    arn: str
    token: str
    step: str
    name: str | None
    stages: dict[str, list[str]]


def rotation_request(event: dict[str, Any]) -> RotationRequest:
    """Validate a rotation event against the secret; raise :class:`RotationError` if it is off."""
    arn, token, step = event.get("SecretId"), event.get("ClientRequestToken"), event.get("Step")
    if not arn or not token or step not in STEPS:
        raise RotationError("the event needs SecretId, ClientRequestToken and a known Step")
    metadata = client("secretsmanager").describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError("rotation is not enabled on the secret")
    stages = metadata.get("VersionIdsToStages", {})
    if token not in stages:
        raise RotationError("the version to rotate to is not a version of the secret")
    return RotationRequest(arn, token, step, metadata.get("Name"), stages)
