"""rotate_origin_verify: rotation of the secret header CloudFront sends to the API's origin.

The secret is a plain random string. CloudFront adds it to every origin request as the header
``ORIGIN_HEADER``; each regional web ACL in ``WEB_ACL_ARNS`` blocks requests to the API whose
header does not match (the ``origin-verify`` rule, and the scope-down statement of the rate
rule). CloudFormation put the value into both through dynamic references at deployment; it does
not re-read them when the secret changes, so rotation updates both services itself, in an order
that never rejects a request from the distribution:

* ``createSecret`` - a new random value (Python's ``secrets``; letters and digits, the length
  of ``VALUE_LENGTH``) stored as ``AWSPENDING`` (idempotent);
* ``setSecret`` - every web ACL accepts the current **and** the pending value (each header
  check becomes an OR of two exact matches), then the distribution sends the pending value;
* ``testSecret`` - every web ACL accepts the pending value and every origin of the
  distribution that carries the header sends it;
* ``finishSecret`` - the pending version becomes ``AWSCURRENT``. When the distribution is
  ``Deployed`` (every edge location sends the new value) the web ACLs accept only the new
  value; while it is still ``InProgress`` they keep accepting the previous one too, and the
  next rotation (or the next deployment of the API stack) retires it. Waiting here instead
  would outlast the function's timeout, and a failed step would block every later rotation.

The next stack update of a web ACL or of the distribution resolves the dynamic reference to
``AWSCURRENT``, the value rotation left in place, so CloudFormation and rotation agree. No
secret value is ever logged. Environment: ``ORIGIN_HEADER``, ``WEB_ACL_ARNS`` (comma-separated
regional web ACL ARNs), ``DISTRIBUTION_ID``, ``VALUE_LENGTH`` (default 32), ``LOG_LEVEL``.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError
from payments_common import client, get_logger, log_event
from payments_common.rotation import RotationError, rotation_request

logger = get_logger("rotate_origin_verify")

ALPHABET = string.ascii_letters + string.digits


def random_value(length: int) -> str:
    """``length`` random letters and digits (about 5.95 bits each)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _header() -> str:
    return os.environ["ORIGIN_HEADER"].lower()


def _length() -> int:
    return int(os.environ.get("VALUE_LENGTH", "32"))


def _web_acls() -> list[dict[str, str]]:
    """Name, Scope and Id of each web ACL, read from its ARN (``.../regional/webacl/<name>/<id>``)."""
    acls = []
    for arn in filter(None, (a.strip() for a in os.environ["WEB_ACL_ARNS"].split(","))):
        parts = arn.split(":", 5)[-1].split("/")
        if len(parts) != 4 or parts[1] != "webacl":
            raise RotationError(f"{arn} is not a web ACL ARN")
        acls.append({"Name": parts[2], "Scope": parts[0].upper(), "Id": parts[3]})
    if not acls:
        raise RotationError("WEB_ACL_ARNS names no web ACL")
    return acls


def _value(arn: str, stage: str, token: str | None = None) -> str:
    kwargs: dict[str, Any] = {"SecretId": arn, "VersionStage": stage}
    if token:
        kwargs["VersionId"] = token
    return client("secretsmanager").get_secret_value(**kwargs)["SecretString"]


# --- web ACL statements ------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _header_match(statement: Any, header: str) -> bool:
    """An exact byte match on ``header``: one half of an origin check."""
    match = statement.get("ByteMatchStatement") if isinstance(statement, dict) else None
    if not isinstance(match, dict):
        return False
    name = match.get("FieldToMatch", {}).get("SingleHeader", {}).get("Name", "")
    return name.lower() == header and match.get("PositionalConstraint") == "EXACTLY"


def is_origin_check(statement: Any, header: str) -> bool:
    """A match on ``header``, or an OR of such matches (the shape during rotation)."""
    if _header_match(statement, header):
        return True
    either = statement.get("OrStatement") if isinstance(statement, dict) else None
    parts = either.get("Statements") if isinstance(either, dict) else None
    return bool(parts) and all(_header_match(s, header) for s in parts)


def accepted(statement: dict[str, Any], header: str) -> set[str]:
    """The values an origin check accepts."""
    parts = statement["OrStatement"]["Statements"] if "OrStatement" in statement else [statement]
    return {_text(p["ByteMatchStatement"]["SearchString"]) for p in parts}


def accepting(header: str, values: Iterable[str]) -> dict[str, Any]:
    """An origin check accepting exactly ``values`` (in a stable order)."""
    matches = [
        {
            "ByteMatchStatement": {
                "SearchString": value.encode(),
                "FieldToMatch": {"SingleHeader": {"Name": header}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                "PositionalConstraint": "EXACTLY",
            }
        }
        for value in sorted(set(values))
    ]
    if not matches:
        raise RotationError("an origin check must accept at least one value")
    return matches[0] if len(matches) == 1 else {"OrStatement": {"Statements": matches}}


def replace_checks(node: Any, header: str, replacement: dict[str, Any]) -> tuple[Any, int]:
    """``node`` with every origin check replaced by ``replacement``, and how many there were."""
    if is_origin_check(node, header):
        return replacement, 1
    if isinstance(node, dict):
        count, result = 0, {}
        for key, value in node.items():
            result[key], found = replace_checks(value, header, replacement)
            count += found
        return result, count
    if isinstance(node, list):
        count, items = 0, []
        for value in node:
            item, found = replace_checks(value, header, replacement)
            items.append(item)
            count += found
        return items, count
    return node, 0


def find_checks(node: Any, header: str) -> list[dict[str, Any]]:
    """Every origin check in ``node``."""
    if is_origin_check(node, header):
        return [node]
    values = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    return [check for value in values for check in find_checks(value, header)]


def _get_acl(acl: dict[str, str]) -> tuple[dict[str, Any], str]:
    response = client("wafv2").get_web_acl(**acl)
    return response["WebACL"], response["LockToken"]


def set_accepted(values: Iterable[str]) -> list[str]:
    """Make every origin check of every web ACL accept exactly ``values``; names changed."""
    header, wanted = _header(), set(values)
    waf = client("wafv2")
    fields = set(waf.meta.service_model.operation_model("UpdateWebACL").input_shape.members)
    changed = []
    for acl in _web_acls():
        web_acl, lock = _get_acl(acl)
        checks = find_checks(web_acl.get("Rules", []), header)
        if not checks:
            raise RotationError(f"web ACL {acl['Name']} has no {header} check")
        if all(accepted(c, header) == wanted for c in checks):
            continue
        rules, _ = replace_checks(web_acl["Rules"], header, accepting(header, wanted))
        update = {  # what GetWebACL returned, as UpdateWebACL replaces the whole web ACL
            k: v
            for k, v in web_acl.items()
            if k in fields and k not in acl and v not in (None, "", [], {})
        }
        waf.update_web_acl(**acl, **{**update, "Rules": rules}, LockToken=lock)
        changed.append(acl["Name"])
    return changed


def acls_accept(value: str) -> bool:
    """Every origin check of every web ACL accepts ``value``."""
    header = _header()
    for acl in _web_acls():
        checks = find_checks(_get_acl(acl)[0].get("Rules", []), header)
        if not checks or any(value not in accepted(c, header) for c in checks):
            return False
    return True


# --- the distribution --------------------------------------------------------------------------


def _origin_headers(config: dict[str, Any]) -> list[dict[str, Any]]:
    header = _header()
    return [
        item
        for origin in config.get("Origins", {}).get("Items", [])
        for item in origin.get("CustomHeaders", {}).get("Items", []) or []
        if item.get("HeaderName", "").lower() == header
    ]


def send_value(value: str) -> bool:
    """Make every origin of the distribution that carries the header send ``value``."""
    cloudfront = client("cloudfront")
    distribution_id = os.environ["DISTRIBUTION_ID"]
    response = cloudfront.get_distribution_config(Id=distribution_id)
    config = response["DistributionConfig"]
    headers = _origin_headers(config)
    if not headers:
        raise RotationError(f"no origin of distribution {distribution_id} sends {_header()}")
    if all(h["HeaderValue"] == value for h in headers):
        return False
    for item in headers:
        item["HeaderValue"] = value
    cloudfront.update_distribution(
        Id=distribution_id, IfMatch=response["ETag"], DistributionConfig=config
    )
    return True


def sends(value: str) -> bool:
    config = client("cloudfront").get_distribution_config(Id=os.environ["DISTRIBUTION_ID"])
    headers = _origin_headers(config["DistributionConfig"])
    return bool(headers) and all(h["HeaderValue"] == value for h in headers)


def deployed() -> bool:
    """Every edge location serves the distribution's latest configuration."""
    response = client("cloudfront").get_distribution(Id=os.environ["DISTRIBUTION_ID"])
    return response["Distribution"]["Status"] == "Deployed"


# --- the four steps ----------------------------------------------------------------------------


def create_secret(arn: str, token: str) -> bool:
    """Store a new ``AWSPENDING`` value; False when one already exists for ``token``."""
    try:
        _value(arn, "AWSPENDING", token)
        return False
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    client("secretsmanager").put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=random_value(_length()),
        VersionStages=["AWSPENDING"],
    )
    return True


def set_secret(arn: str, token: str) -> tuple[list[str], bool]:
    """The web ACLs accept both values, then the distribution sends the pending one."""
    current, pending = _value(arn, "AWSCURRENT"), _value(arn, "AWSPENDING", token)
    changed = set_accepted({current, pending})
    return changed, send_value(pending)


def test_secret(arn: str, token: str) -> None:
    """Raise :class:`RotationError` unless the new value is accepted and sent."""
    pending = _value(arn, "AWSPENDING", token)
    if len(pending) != _length() or pending == _value(arn, "AWSCURRENT"):
        raise RotationError("the pending value is not a new value of the configured length")
    if not acls_accept(pending):
        raise RotationError("a web ACL does not accept the pending value")
    if not sends(pending):
        raise RotationError("the distribution does not send the pending value")


def finish_secret(arn: str, token: str) -> tuple[bool, bool]:
    """Make ``token`` current; narrow the web ACLs to it once the distribution is deployed."""
    sm = client("secretsmanager")
    versions = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)
    moved = current != token
    if moved:
        sm.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current,
        )
    value = _value(arn, "AWSCURRENT")
    narrowed = sends(value) and deployed()
    if narrowed:
        set_accepted({value})
    return moved, narrowed


def handler(event: dict[str, Any], context: Any) -> None:
    """Secrets Manager rotation entry point."""
    request = rotation_request(event)
    arn, token, step, name, stages = (
        request.arn,
        request.token,
        request.step,
        request.name,
        request.stages,
    )
    if "AWSCURRENT" in stages[token] and step != "finishSecret":
        log_event(logger, "rotation already complete", step=step, secret=name)
        return
    if "AWSPENDING" not in stages[token] and "AWSCURRENT" not in stages[token]:
        raise RotationError("the version to rotate to is not marked AWSPENDING")
    if step == "createSecret":
        log_event(logger, "pending value", created=create_secret(arn, token), secret=name)
    elif step == "setSecret":
        acls, distribution = set_secret(arn, token)
        log_event(
            logger, "both values accepted", web_acls=acls, distribution=distribution, secret=name
        )
    elif step == "testSecret":
        test_secret(arn, token)
        log_event(logger, "pending value accepted and sent", secret=name)
    else:
        moved, narrowed = finish_secret(arn, token)
        log_event(
            logger,
            "rotation finished"
            if narrowed
            else "rotation finished; previous value still "
            "accepted until the distribution is deployed (next rotation or deployment)",
            moved=moved,
            narrowed=narrowed,
            secret=name,
        )
