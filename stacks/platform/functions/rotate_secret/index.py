"""rotate_secret: Secrets Manager rotation for the platform's generated credentials.

Secrets Manager calls the function four times per rotation (``Step``):

* ``createSecret`` - copy the current JSON secret, replace every rotatable field
  (``password``, ``api_key``) with a fresh random value (Python's ``secrets`` module, a
  cryptographically strong generator) and store it as the ``AWSPENDING`` version
  (idempotent: an existing pending value is kept);
* ``setSecret`` - hand the new value to the system that checks it. The platform's consumers
  (functions, workers) read the secret at run time, so there is nothing to push; a database
  added later would run ``ALTER USER`` here;
* ``testSecret`` - the pending value parses, keeps every non-rotated field and has a new value
  of the configured length for every rotated field;
* ``finishSecret`` - move ``AWSCURRENT`` to the pending version (the old one becomes
  ``AWSPREVIOUS``).

No secret value is ever logged. Environment: ``PASSWORD_LENGTH`` (default 32),
``EXCLUDE_CHARACTERS`` (default: quotes, backslash, slash, at and space), ``LOG_LEVEL``.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from typing import Any

from botocore.exceptions import ClientError
from payments_common import client, get_logger, log_event
from payments_common.rotation import RotationError, rotation_request

logger = get_logger("rotate_secret")

ROTATABLE_FIELDS = ("password", "api_key")
DEFAULT_EXCLUDE = "\"'\\/@ "
ALPHABET = string.ascii_letters + string.digits + string.punctuation


def random_value(length: int, exclude: str) -> str:
    """A random string of ``length`` characters, at least one letter and one digit."""
    alphabet = [c for c in ALPHABET if c not in exclude]
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isalpha() for c in value) and any(c.isdigit() for c in value):
            return value


def _length() -> int:
    return int(os.environ.get("PASSWORD_LENGTH", "32"))


def _secret(arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"SecretId": arn, "VersionStage": stage}
    if token:
        kwargs["VersionId"] = token
    value = client("secretsmanager").get_secret_value(**kwargs)["SecretString"]
    data = json.loads(value)
    if not isinstance(data, dict):
        raise RotationError("the secret is not a JSON object")
    return data


def create_secret(arn: str, token: str) -> bool:
    """Store a new ``AWSPENDING`` version; False when one already exists for ``token``."""
    try:
        _secret(arn, "AWSPENDING", token)
        return False
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    current = _secret(arn, "AWSCURRENT")
    fields = [f for f in ROTATABLE_FIELDS if f in current]
    if not fields:
        raise RotationError(f"the secret has none of the rotatable fields {ROTATABLE_FIELDS}")
    pending = dict(current)
    exclude = os.environ.get("EXCLUDE_CHARACTERS", DEFAULT_EXCLUDE)
    for name in fields:
        pending[name] = random_value(_length(), exclude)
    client("secretsmanager").put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(pending),
        VersionStages=["AWSPENDING"],
    )
    return True


def test_secret(arn: str, token: str) -> None:
    """Raise :class:`RotationError` unless the pending version is a correct successor."""
    current = _secret(arn, "AWSCURRENT")
    pending = _secret(arn, "AWSPENDING", token)
    if set(pending) != set(current):
        raise RotationError("the pending secret does not have the current secret's fields")
    for name, value in current.items():
        if name in ROTATABLE_FIELDS:
            new = pending[name]
            if not isinstance(new, str) or len(new) != _length() or new == value:
                raise RotationError(f"the pending {name} is not a new value of the right length")
        elif pending[name] != value:
            raise RotationError(f"the pending secret changed the non-rotated field {name}")


def finish_secret(arn: str, token: str) -> bool:
    """Make ``token`` the current version; False when it already is."""
    sm = client("secretsmanager")
    versions = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)
    if current == token:
        return False
    sm.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
    )
    return True


def handler(event: dict[str, Any], context: Any) -> None:
    """Secrets Manager rotation entry point."""
    request = rotation_request(event)
    arn, token, step, stages = request.arn, request.token, request.step, request.stages
    if "AWSCURRENT" in stages[token]:
        log_event(logger, "rotation already complete", step=step, secret=request.name)
        return
    if "AWSPENDING" not in stages[token]:
        raise RotationError("the version to rotate to is not marked AWSPENDING")
    if step == "createSecret":
        created = create_secret(arn, token)
        log_event(logger, "pending secret", created=created, secret=request.name)
    elif step == "setSecret":
        log_event(logger, "set secret: consumers read the secret at run time", secret=request.name)
    elif step == "testSecret":
        test_secret(arn, token)
        log_event(logger, "pending secret tested", secret=request.name)
    else:
        moved = finish_secret(arn, token)
        log_event(logger, "rotation finished", moved=moved, secret=request.name)
