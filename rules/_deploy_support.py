"""Helpers shared by the ``deploy`` rule modules (``rules/deploy_*.py``); registers no rule.

The deploy rules ask questions that cross resources and stacks: "which KMS key encrypts the
topic this alarm notifies, and does that key's policy let CloudWatch use it?". The answers
come from here:

- :func:`locate` follows a value (``Ref``, ``Fn::GetAtt``, an ARN built with ``Fn::Join`` or
  ``Fn::Sub`` around one reference, ``Fn::ImportValue`` of another stack's export in the same
  run) to the resource it names, or says it is a literal (an ARN outside the run) or unknown.
- :func:`locate_key` does the same for a KMS key reference, through ``AWS::KMS::Alias``, and
  recognises AWS managed keys (``alias/aws/sns``), whose policy nobody can change.
- :func:`missing_grants` reads a key policy and names the actions a service principal lacks.
- :func:`service_principals` lists the services a resource policy allows an action to.
- :func:`region_of` is the stack's region when the cloud assembly says it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from governance.intrinsics import Unresolved, as_str, is_intrinsic, resolve
from governance.template import Resource, Template
from rules._support import as_list, memo, statements, strings, wildcard_principal

_MAX_HOPS = 8


@dataclass(frozen=True)
class Located:
    """Where a value points: a resource of the run, a literal string, or unknown (``reason``)."""

    resource: Resource | None = None
    literal: str | None = None
    reason: str | None = None

    @property
    def unknown(self) -> bool:
        return self.resource is None and self.literal is None


def _exports(template: Template) -> dict[str, tuple[Template, Any]]:
    """Export name -> (exporting template, the output's ``Value``) over the run's stacks."""
    siblings = template.siblings or [template]

    def build(_: Template) -> dict[str, tuple[Template, Any]]:
        out: dict[str, tuple[Template, Any]] = {}
        for tpl in siblings:
            outputs = tpl.body.get("Outputs")
            for output in outputs.values() if isinstance(outputs, dict) else ():
                if isinstance(output, dict) and isinstance(output.get("Export"), dict):
                    name = as_str(output["Export"].get("Name"), tpl)
                    if isinstance(name, str):
                        out[name] = (tpl, output.get("Value"))
        return out

    return memo(template, ("deploy-exports", id(siblings)), build)


def _references(value: Any) -> Iterator[str]:
    """Logical ids named by ``Ref``/``GetAtt``/``${Id}`` inside ``value`` (pseudo params not)."""
    if isinstance(value, dict):
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref" and isinstance(arg, str) and not arg.startswith("AWS::"):
                yield arg
                return
            if key == "Fn::GetAtt":
                target = arg[0] if isinstance(arg, list) and arg else str(arg).split(".", 1)[0]
                if isinstance(target, str):
                    yield target
                return
            if key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) and arg else arg
                if isinstance(text, str):
                    yield from re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}", text)
                if isinstance(arg, list) and len(arg) > 1:
                    yield from _references(arg[1])
                return
        for sub in value.values():
            yield from _references(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _references(sub)


def locate(value: Any, template: Template, _hops: int = 0) -> Located:
    """The resource of the run that ``value`` names (see the module docstring)."""
    if value is None:
        return Located(reason="absent")
    if _hops > _MAX_HOPS:
        return Located(reason="too many cross-stack hops")
    if isinstance(value, dict) and list(value) == ["Fn::ImportValue"]:
        name = as_str(value["Fn::ImportValue"], template)
        if not isinstance(name, str):
            return Located(reason="the imported export's name is only known at deploy time")
        found = _exports(template).get(name)
        if found is None:
            return Located(reason=f"export {name} is not produced by a stack of this run")
        if not found[0].siblings:  # not judged yet: it belongs to the same run
            found[0].siblings = template.siblings
        return locate(found[1], found[0], _hops + 1)
    if isinstance(value, dict) and list(value) == ["Fn::If"]:
        picked = resolve(value, template)
        if isinstance(picked, Unresolved):
            return Located(reason=picked.reason)
    if is_intrinsic(value) or isinstance(value, (dict, list)):
        targets = {t for t in _references(value) if t in template.resources}
        if len(targets) == 1:
            return Located(resource=template.resources[targets.pop()])
        imports = list(_imports(value))
        if not targets and len(imports) == 1:
            return locate(imports[0], template, _hops + 1)
        text = as_str(value, template)
        if isinstance(text, str):
            return Located(literal=text)
        return Located(reason=text.reason if isinstance(text, Unresolved) else "not a reference")
    if isinstance(value, str):
        return Located(literal=value)
    return Located(reason=f"{value!r} is not a reference")


def _imports(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if list(value) == ["Fn::ImportValue"]:
            yield value
            return
        for sub in value.values():
            yield from _imports(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _imports(sub)


#: AWS managed keys: their key policy is AWS's and allows only the owning service, via itself.
AWS_MANAGED_ALIAS = re.compile(r"(^|:)alias/aws/")


@dataclass(frozen=True)
class KeyRef:
    """A KMS key reference, read: the key resource, an AWS managed key, or undecidable."""

    key: Resource | None = None
    aws_managed: str | None = None
    reason: str | None = None


def locate_key(value: Any, template: Template) -> KeyRef:
    """The ``AWS::KMS::Key`` a key reference (id, ARN, alias, import) resolves to."""
    found = locate(value, template)
    for _ in range(3):
        res = found.resource
        if res is not None and res.type == "AWS::KMS::Alias":
            found = locate(res.prop("TargetKeyId"), res.template)
            continue
        break
    if found.resource is not None:
        if found.resource.type == "AWS::KMS::Key":
            return KeyRef(key=found.resource)
        return KeyRef(reason=f"{found.resource.logical_id} is not a KMS key")
    if found.literal is not None:
        if AWS_MANAGED_ALIAS.search(found.literal):
            return KeyRef(aws_managed=found.literal)
        return KeyRef(
            reason=f"key {found.literal} is not defined in this run: its policy is unseen"
        )
    return KeyRef(reason=found.reason or "the key cannot be read")


def _principal_services(principal: Any, template: Template) -> list[str] | None:
    """The statement's service principals; ``None`` for a wildcard principal (everyone)."""
    if wildcard_principal(principal):
        return None
    if not isinstance(principal, dict):
        return []
    out = []
    for item in as_list(principal.get("Service")):
        text = as_str(item, template)
        if isinstance(text, str):
            out.append(text)
        else:  # logs.${AWS::Region}.amazonaws.com written with Fn::Join
            out.append(_with_placeholders(item))
    return out


def _with_placeholders(value: Any) -> str:
    """A ``Fn::Join`` of literals and pseudo parameters, pseudo parameters as ``*``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["Fn::Join"]:
        arg = value["Fn::Join"]
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            return str(arg[0]).join(_with_placeholders(p) for p in arg[1])
    return "*"


def _covers(patterns: Iterable[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def missing_grants(
    key: Resource, service: Callable[[str], bool], actions: Iterable[str]
) -> list[str] | Unresolved:
    """The ``actions`` that no ``Allow`` statement of the key policy gives a matching service.

    ``service`` tells whether a service principal name (``logs.us-east-1.amazonaws.com``) is the
    one that must use the key. A statement with a wildcard principal counts as a grant (its
    conditions are not judged). Statements hidden behind deploy-time conditions make the answer
    :class:`Unresolved`.
    """
    wanted = list(actions)
    granted: set[str] = set()
    document = key.prop("KeyPolicy")
    if document is None:
        return Unresolved("the key has no KeyPolicy")
    for stmt, _ in statements(document, key.template, "Properties/KeyPolicy"):
        if isinstance(stmt, Unresolved):
            return stmt
        if stmt.get("Effect") != "Allow" or "Action" not in stmt:
            continue
        services = _principal_services(stmt.get("Principal"), key.template)
        if services is not None and not any(service(s) for s in services):
            continue
        patterns = [a for a in strings(stmt.get("Action"), key.template) if isinstance(a, str)]
        granted.update(a for a in wanted if _covers(patterns, a))
    return [a for a in wanted if a not in granted]


def service_principals(policy_resource: Resource, document_prop: str, action: str) -> set[str]:
    """Service principals an ``Allow`` statement of a resource policy gives ``action``."""
    out: set[str] = set()
    document = policy_resource.prop(document_prop)
    where = f"Properties/{document_prop}"
    for stmt, _ in statements(document, policy_resource.template, where):
        if isinstance(stmt, Unresolved) or stmt.get("Effect") != "Allow":
            continue
        patterns = [
            a for a in strings(stmt.get("Action"), policy_resource.template) if isinstance(a, str)
        ]
        if not _covers(patterns, action):
            continue
        services = _principal_services(stmt.get("Principal"), policy_resource.template)
        out.update(s for s in services or () if "*" not in s)
    return out


def region_of(template: Template) -> str | None:
    """The stack's region from the cloud assembly (``aws://account/region``), if concrete."""
    env = template.environment or ""
    parts = env.split("/")
    if len(parts) == 4 and parts[3] and not parts[3].startswith("unknown"):
        return parts[3]
    return None


def exact(name: str) -> Callable[[str], bool]:
    """A principal matcher for one service name."""
    return lambda text: text == name


def regional(service: str, region: str | None) -> Callable[[str], bool]:
    """``<service>.<region>.amazonaws.com`` (any region, or a pseudo parameter, if unknown)."""
    pattern = re.compile(rf"{re.escape(service)}\.([a-z0-9-]+|\*)\.amazonaws\.com")

    def match(text: str) -> bool:
        found = pattern.fullmatch(text)
        return found is not None and (region is None or found[1] in (region, "*"))

    return match


def key_issue(
    ref: KeyRef, who: str, service: Callable[[str], bool], actions: Iterable[str]
) -> tuple[str | None, bool]:
    """``(message, undecidable)`` for a key that must let ``who`` use it; ``(None, _)`` if fine."""
    if ref.aws_managed is not None:
        return (
            f"{ref.aws_managed} is an AWS managed key, whose policy cannot grant {who}",
            False,
        )
    if ref.key is None:
        return (f"the KMS key cannot be resolved: {ref.reason}", True)
    missing = missing_grants(ref.key, service, actions)
    if isinstance(missing, Unresolved):
        return (f"the policy of key {ref.key.logical_id} cannot be read: {missing.reason}", True)
    if missing:
        return (
            f"key {ref.key.logical_id} ({ref.key.stack}) does not grant {who} {', '.join(missing)}",
            False,
        )
    return (None, False)


def bucket_encryption(bucket: Resource) -> tuple[str | None, Any] | Unresolved:
    """``(SSEAlgorithm, KMSMasterKeyID)`` of a bucket's default encryption (``None``: absent)."""
    rules = bucket.prop("BucketEncryption", "ServerSideEncryptionConfiguration")
    rules = resolve(rules, bucket.template) if is_intrinsic(rules) else rules
    if isinstance(rules, Unresolved):
        return rules
    for item in as_list(rules):
        default = item.get("ServerSideEncryptionByDefault") if isinstance(item, dict) else None
        if isinstance(default, dict):
            algorithm = as_str(default.get("SSEAlgorithm"), bucket.template)
            if isinstance(algorithm, Unresolved):
                return algorithm
            return (algorithm, default.get("KMSMasterKeyID"))
    return (None, None)


def object_ownership(bucket: Resource) -> str | Unresolved:
    """The bucket's ``ObjectOwnership`` (absent: ``BucketOwnerEnforced``, S3's default)."""
    for item in as_list(bucket.prop("OwnershipControls", "Rules")):
        if isinstance(item, dict) and "ObjectOwnership" in item:
            value = as_str(item["ObjectOwnership"], bucket.template)
            return value if value is not None else "BucketOwnerEnforced"
    return "BucketOwnerEnforced"
