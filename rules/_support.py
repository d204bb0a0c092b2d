"""Helpers shared by the PCI DSS rule modules; this module registers no rule.

- :func:`require_true` judges a boolean property that must be set to true (absent is false).
- :func:`memo` caches a per-template index, so a rule asks "which X points at this Y?" in
  constant time instead of scanning the template for every resource.
- :func:`referrers_anywhere` extends :meth:`Template.referrers_at` across the stacks judged in
  the same run, following ``Fn::ImportValue`` to the exporting stack's output.
- :func:`statements` reads IAM policy documents; :func:`wildcard_principal` and friends read
  their parts.
- :func:`customer_managed_key` judges a KMS key reference (ENC-001..007): absent, empty, or an
  alias of an AWS-managed key (``alias/aws/...``, bare or inside an alias ARN) is not ours.
- :func:`mapping` and :func:`entries` read a property that should be a mapping or a list of
  mappings, so a value of the wrong type is treated as absent instead of raising.
- :func:`has_marker` and :func:`is_audit_log_group` classify audit logs by the policy's
  ``audit_log_markers``. A rule that caps *application* log retention should use the same
  classifier, so that no log group is asked to be both short- and long-lived.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

from governance.intrinsics import (
    Unresolved,
    as_bool,
    as_str,
    evaluate_condition,
    is_intrinsic,
    literal_text,
    ref_target,
    resolve,
)
from governance.model import Issue, undecidable, violation
from governance.policy import Policy
from governance.template import Resource, Template

T = TypeVar("T")

_MEMO_ATTR = "_pci_rule_memo"

#: An alias of an AWS-managed key, bare (``alias/aws/sqs``) or in an alias ARN
#: (``arn:aws:kms:eu-west-1:111122223333:alias/aws/sqs``). AWS reserves the ``alias/aws/`` prefix.
_AWS_MANAGED_ALIAS = re.compile(r"(?:^|:)alias/aws/")


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty one (a wrong type reads as absent)."""
    return value if isinstance(value, dict) else {}


def entries(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """``(index, item)`` for each mapping in ``value`` when it is a list; nothing otherwise."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def customer_managed_key(value: Any, resource: Resource, where: str, what: str) -> Iterator[Issue]:
    """Judge a KMS key reference: customer-managed unless absent, empty, or AWS-managed.

    A reference to a key resource or a parameter without a default cannot be an AWS-managed
    alias unless its literal text says so (an ``Fn::Join`` or ``Fn::Sub`` ending in
    ``alias/aws/...``); a value of the wrong type (a number, a list) is undecidable.
    """
    if value is None:
        yield violation(f"{what} is not encrypted with a customer-managed KMS key", where)
        return
    if is_intrinsic(value):
        text = as_str(value, resource.template)
        if isinstance(text, Unresolved):
            literal = literal_text(value)
            if "alias/aws/" in literal:
                yield violation(
                    f"{what} uses an alias of an AWS-managed key (alias/aws/...),"
                    " not a customer-managed key",
                    where,
                )
            return  # a reference to a key resource or parameter: customer-managed
        value = text
    if isinstance(value, bool) or not isinstance(value, str):
        yield undecidable(f"{what} key id is a {type(value).__name__}, not a key reference", where)
        return
    key = value.strip()
    if not key:
        yield violation(
            f"{what} has an empty key id: it is not encrypted with a customer-managed KMS key",
            where,
        )
    elif _AWS_MANAGED_ALIAS.search(key):
        yield violation(f"{what} uses the AWS-managed key {key}, not a customer-managed key", where)


def require_true(resource: Resource, prop: str, message: str) -> Iterator[Issue]:
    """A violation (``message``) unless ``Properties/<prop>`` is true; undecidable if unreadable."""
    value = as_bool(resource.prop(prop), resource.template)
    where = f"Properties/{prop}"
    if isinstance(value, Unresolved):
        yield undecidable(f"{prop} cannot be read: {value.reason}", where)
    elif not value:
        yield violation(message, where)


def _memo_cache(template: Template) -> dict[Any, Any]:
    """The template's store of what the rules computed about it (made on first use)."""
    cache = template.__dict__.get(_MEMO_ATTR)
    if cache is None:
        cache = template.__dict__[_MEMO_ATTR] = {}
    return cache


def memo(template: Template, key: Any, build: Callable[[Template], T]) -> T:
    """``build(template)`` computed once per template and key."""
    cache = _memo_cache(template)
    if key not in cache:
        cache[key] = build(template)
    return cache[key]


def memo_for_policy(
    template: Template, key: str, policy: Policy, build: Callable[[Template, Policy], T]
) -> T:
    """Like :func:`memo`, for an index that depends on the policy (rebuilt for another policy)."""
    cache = _memo_cache(template)
    entry = cache.get(key)
    if entry is None or entry[0] is not policy:
        entry = cache[key] = (policy, build(template, policy))
    return entry[1]


def per_run(
    resource: Resource, key: str, policy: Policy, decide: Callable[[Resource, Policy], T]
) -> T:
    """``decide(resource, policy)``, computed once per resource, policy and run.

    For a question several rules ask of the same resource (is this log group an audit log?)
    whose answer depends on the policy and on every stack of the run: the answers are kept
    with the policy and the run's list of templates they were given for, and asked again for
    another policy or another run."""
    template = resource.template
    cache = _memo_cache(template)
    entry = cache.get(key)
    siblings = getattr(template, "siblings", None)
    if entry is None or entry[0] is not policy or entry[1] is not siblings:
        entry = cache[key] = (policy, siblings, {})
    answers = entry[2]
    logical_id = resource.logical_id
    if logical_id not in answers:
        answers[logical_id] = decide(resource, policy)
    return answers[logical_id]


# --- references across the stacks of one run --------------------------------------------------

ImportIndex = dict[tuple[str, str], list[tuple[Resource, str]]]


class _Run:
    """What the stacks of one run export, and who imports it (built lazily, once per run)."""

    def __init__(self, siblings: list[Template]) -> None:
        self.siblings = siblings
        self.exports: dict[str, tuple[str, str]] = {}
        for tpl in siblings:
            outputs = tpl.body.get("Outputs")
            for output in outputs.values() if isinstance(outputs, dict) else ():
                if not isinstance(output, dict) or not isinstance(output.get("Export"), dict):
                    continue
                name = as_str(output["Export"].get("Name"), tpl)
                target = ref_target(output.get("Value"))
                if isinstance(name, str) and target in tpl.resources:
                    self.exports[name] = (tpl.name, target)
        self.imports: dict[tuple[str, str], ImportIndex] = {}

    def importers(self, resource_type: str, path_prefix: str) -> ImportIndex:
        key = (resource_type, path_prefix)
        if key not in self.imports:
            self.imports[key] = self._index(resource_type, path_prefix) if self.exports else {}
        return self.imports[key]

    def _index(self, resource_type: str, path_prefix: str) -> ImportIndex:
        steps = path_prefix.split("/")[1:]
        index: ImportIndex = {}
        for tpl in self.siblings:
            for res in tpl.of_type(resource_type):
                node: Any = res.properties
                for step in steps:
                    node = node.get(step) if isinstance(node, dict) else None
                for name, path in _imports(node, path_prefix):
                    text = as_str(name, tpl)
                    if isinstance(text, str) and text in self.exports:
                        index.setdefault(self.exports[text], []).append((res, path))
        return index


def _run(template: Template) -> _Run | None:
    siblings = getattr(template, "siblings", None)
    if not isinstance(siblings, list) or len(siblings) < 2:
        return None
    run = _memo_cache(template).get("run")
    if run is None or run.siblings is not siblings:
        run = _Run(siblings)
        for tpl in siblings:  # one build serves every stack of the run
            _memo_cache(tpl)["run"] = run
    return run


def _imports(value: Any, path: str) -> Iterator[tuple[Any, str]]:
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::ImportValue" in value:
            yield value["Fn::ImportValue"], path
            return
        for key, sub in value.items():
            yield from _imports(sub, f"{path}/{key}")
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _imports(sub, f"{path}/{i}")


def referrers_anywhere(
    resource: Resource, resource_type: str, path_prefix: str = "Properties"
) -> list[Resource]:
    """Resources of ``resource_type`` that reference ``resource`` under ``path_prefix``.

    Same-template ``Ref``/``GetAtt``/``Fn::Sub`` references come from the template's index;
    references from the other stacks of the run arrive through ``Fn::ImportValue`` of an output
    that exports a ``Ref``/``GetAtt`` of the resource (what CDK writes for cross-stack values).
    ``path_prefix`` names dictionary keys only (``Properties/DistributionConfig/Logging``).
    """
    template = resource.template
    found = template.referrers_at(resource.logical_id, resource_type, path_prefix)
    run = _run(template)
    if run is None or not run.exports:
        return found
    imported = run.importers(resource_type, path_prefix).get((template.name, resource.logical_id))
    if imported:
        seen = {(id(r.template), r.logical_id) for r in found}
        for res, _ in imported:
            if (id(res.template), res.logical_id) not in seen:
                seen.add((id(res.template), res.logical_id))
                found.append(res)
    return found


# --- IAM policy documents ----------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A policy element that may be a single value or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def unwrap(value: Any, template: Template) -> Any:
    """Resolve a value only when it is itself an intrinsic (``Fn::If`` around a statement)."""
    return resolve(value, template) if is_intrinsic(value) else value


def statements(
    document: Any, template: Template, where: str
) -> Iterator[tuple[dict[str, Any] | Unresolved, str]]:
    """Each statement of a policy document, with its property path.

    Only the document, its statement list and each statement are unwrapped from intrinsics; the
    values inside a statement stay as written, so ``Resource`` keeps its ``Fn::GetAtt``. A
    statement hidden by an intrinsic that cannot be decided (``Fn::If`` on a deploy-time
    condition) comes out as :class:`Unresolved`, for the rule to report as undecidable.
    """
    doc = unwrap(document, template)
    if isinstance(doc, Unresolved):
        yield doc, where
        return
    if not isinstance(doc, dict):
        return
    stmts = unwrap(doc.get("Statement"), template)
    if isinstance(stmts, Unresolved):
        yield stmts, f"{where}/Statement"
        return
    if isinstance(stmts, dict):
        yield stmts, f"{where}/Statement"
        return
    for i, stmt in enumerate(as_list(stmts)):
        stmt = unwrap(stmt, template)
        if isinstance(stmt, (dict, Unresolved)):
            yield stmt, f"{where}/Statement/{i}"


def pick_branch(value: Any, template: Template) -> Any:
    """For a top-level ``Fn::If``, the branch its condition selects (as written), recursively.

    ``Unresolved`` when the condition is only known at deploy time; any other value unchanged.
    ``{"Ref": "AWS::NoValue"}`` comes back as ``None`` (the property is absent).
    """
    for _ in range(8):
        if not (isinstance(value, dict) and list(value) == ["Fn::If"]):
            break
        arg = value["Fn::If"]
        if not (isinstance(arg, list) and len(arg) == 3):
            return Unresolved("malformed Fn::If")
        decided = evaluate_condition(str(arg[0]), template)
        if decided is None:
            return Unresolved(f"Fn::If on condition {arg[0]} that is only known at deploy time")
        value = arg[1] if decided else arg[2]
    return None if value == {"Ref": "AWS::NoValue"} else value


def strings(value: Any, template: Template) -> list[str | Unresolved]:
    """A policy element (``Action``, ``Resource``...) as a list of strings or ``Unresolved``."""
    out: list[str | Unresolved] = []
    for item in as_list(unwrap(value, template)):
        text = as_str(item, template)
        if text is not None:
            out.append(text)
    return out


def wildcard_principal(principal: Any) -> bool:
    """True for ``"*"``, ``{"AWS": "*"}`` or a list holding ``"*"`` under ``AWS``."""
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(p == "*" for p in as_list(principal.get("AWS")))
    return False


def condition_keys(condition: Any) -> set[str]:
    """Lower-cased condition keys of a statement's ``Condition`` block."""
    keys: set[str] = set()
    if isinstance(condition, dict):
        for block in condition.values():
            if isinstance(block, dict):
                keys.update(k.lower() for k in block if isinstance(k, str))
    return keys


# --- audit logs --------------------------------------------------------------------------------

_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SQUASH = str.maketrans("", "", string.punctuation + string.whitespace)


@lru_cache(maxsize=256)
def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str] | None:
    if not markers:
        return None
    alternatives = "|".join(re.escape(m.lower()) for m in markers)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})")


def has_marker(texts: list[str], markers: tuple[str, ...]) -> bool:
    """True when a marker starts a word of one of ``texts``.

    Words split at non-alphanumerics and camelCase humps: ``VpcFlowLogs`` and ``/vpc/flow-logs``
    carry the marker ``flow``, ``PaymentWorkflow`` does not.
    """
    pattern = _marker_pattern(markers)
    if pattern is None:
        return False
    squashed = tuple(m.lower().translate(_SQUASH) for m in markers)
    for text in texts:
        flat = text.lower().translate(_SQUASH)
        if any(m in flat for m in squashed) and pattern.search(_CAMEL.sub(r"\1-\2", text).lower()):
            return True  # the cheap substring test first; word boundaries only when it hits
    return False


def names_of(resource: Resource, name_property: str | None) -> list[str]:
    """Logical id, construct path and the literal text of the physical-name property."""
    texts = [resource.logical_id, resource.construct_path or ""]
    if name_property:
        texts.append(literal_text(resource.prop(name_property)))
    return texts


#: Resource types that write audit logs to a log group they reference.
AUDIT_LOG_GROUP_WRITERS = (
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Deployment",  # a deployment's own stage (StageDescription.AccessLogSetting)
    "AWS::ApiGatewayV2::Stage",
    "AWS::EC2::FlowLog",
    "AWS::CloudTrail::Trail",
    "AWS::WAFv2::LoggingConfiguration",
    "AWS::Logs::DeliveryDestination",
)


def is_audit_log_group(resource: Resource, policy: Policy) -> bool:
    """A log group holds audit logs: named so by a marker, or written to by an audit source."""
    return per_run(resource, "audit-log-group", policy, _is_audit_log_group)


def _is_audit_log_group(resource: Resource, policy: Policy) -> bool:
    if has_marker(names_of(resource, "LogGroupName"), policy.audit_log_markers):
        return True
    return any(referrers_anywhere(resource, t) for t in AUDIT_LOG_GROUP_WRITERS)


#: (type, property-path prefix) of references that deliver audit logs into an S3 bucket.
AUDIT_BUCKET_WRITERS = (
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties/LoadBalancerAttributes"),
    ("AWS::CloudFront::Distribution", "Properties/DistributionConfig/Logging"),
    ("AWS::CloudTrail::Trail", "Properties/S3BucketName"),
    ("AWS::EC2::FlowLog", "Properties/LogDestination"),
    ("AWS::WAFv2::LoggingConfiguration", "Properties/LogDestinationConfigs"),
    ("AWS::S3::Bucket", "Properties/LoggingConfiguration"),
    ("AWS::Logs::DeliveryDestination", "Properties/DestinationResourceArn"),
    ("AWS::Config::DeliveryChannel", "Properties/S3BucketName"),
)


def is_audit_bucket(resource: Resource, policy: Policy) -> bool:
    """A bucket receives audit logs: named so by a marker, or the target of a log delivery."""
    return per_run(resource, "audit-bucket", policy, _is_audit_bucket)


def _is_audit_bucket(resource: Resource, policy: Policy) -> bool:
    if has_marker(names_of(resource, "BucketName"), policy.audit_log_markers):
        return True
    return any(referrers_anywhere(resource, t, prefix) for t, prefix in AUDIT_BUCKET_WRITERS)
