"""Governed exceptions: an acknowledgement with a reason, ticket, approver and expiry date.

:func:`governance.acknowledge` makes CDK's own acknowledgement (which suppresses the violation and
writes it to ``validation-report.json``) and records an :class:`ExceptionRecord` in the CloudFormation
``Metadata`` of every resource under the scope (key ``governance:exceptions``), so the record
travels with the template to ``govern check``, the compliance report and any later reader.

Two checks keep exceptions honest; both are reported by the engine as findings that CDK cannot
suppress (the plugin gives them CDK's ``fatal`` severity):

* ``GOV-EXC-001`` an exception whose expiry date has passed: synth fails again until it is renewed
  or the resource is fixed;
* ``GOV-EXC-002`` an acknowledgement of a rule the policy lists in ``governance.non_waivable`` -
  whether made with :func:`governance.acknowledge` or with CDK's ``Validations.of(...).acknowledge``
  directly (read from the stack's ``<stack>.metadata.json`` in the cloud assembly).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.model import Finding, Severity

if TYPE_CHECKING:
    from constructs import IConstruct

    from governance.policy import Policy
    from governance.template import Resource, Template

METADATA_KEY = "governance:exceptions"
CDK_ACK_METADATA = "aws:cdk:acknowledged-rules"
EXPIRED = "GOV-EXC-001"
NON_WAIVABLE = "GOV-EXC-002"
#: Findings about exceptions themselves; CDK cannot acknowledge them (severity ``fatal``).
UNWAIVABLE_RULES = {
    EXPIRED: "Expired exception",
    NON_WAIVABLE: "Non-waivable rule acknowledged",
}
_FIX = {
    EXPIRED: "Fix the resource, or renew the exception with a new expiry date, ticket and approver.",
    NON_WAIVABLE: "Fix the resource: the policy (governance.non_waivable) allows no exception here.",
}


def parse_expires(value: Any) -> dt.date | None:
    """``None``, a ``date``/``datetime`` or an ISO ``YYYY-MM-DD`` string, as a date."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expires must be a date or 'YYYY-MM-DD'; got {value!r}")


def split_id(ack_id: str) -> tuple[str | None, str]:
    """``"govern::ENC-001"`` -> ``("govern", "ENC-001")``; ``"ENC-001"`` -> ``(None, "ENC-001")``.

    As in CDK, a ``::`` inside brackets belongs to the rule id (cdk-nag's granular ids such as
    ``AwsSolutions-IAM5[Resource::*]``).
    """
    depth = 0
    for i, char in enumerate(ack_id):
        if char in "[{(":
            depth += 1
        elif char in "]})":
            depth = max(depth - 1, 0)
        elif depth == 0 and ack_id.startswith("::", i):
            return ack_id[:i], ack_id[i + 2 :]
    return None, ack_id


@dataclass(frozen=True)
class ExceptionRecord:
    """One governed exception as it is stored in template metadata and shown to the auditor."""

    rule: str
    reason: str
    plugin: str | None = "govern"
    ticket: str | None = None
    approver: str | None = None
    expires: dt.date | None = None
    scope: str | None = None  # construct path where the acknowledgement was made

    @property
    def ack_id(self) -> str:
        return f"{self.plugin}::{self.rule}" if self.plugin else self.rule

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def to_metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule, "id": self.ack_id, "reason": self.reason}
        for key in ("ticket", "approver", "scope"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.expires is not None:
            data["expires"] = self.expires.isoformat()
        return data

    @classmethod
    def from_metadata(cls, data: Any) -> ExceptionRecord | None:
        """A record read back from a template; ``None`` for an entry that is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("rule"), str):
            return None
        plugin, _ = split_id(data["id"]) if isinstance(data.get("id"), str) else ("govern", "")
        try:
            expires = parse_expires(data.get("expires"))
        except ValueError:
            expires = dt.date.min  # unreadable expiry: treated as expired, never as "forever"
        text = {k: data.get(k) if isinstance(data.get(k), str) else None for k in _TEXT_FIELDS}
        return cls(
            rule=data["rule"],
            reason=text["reason"] or "",
            plugin=plugin,
            ticket=text["ticket"],
            approver=text["approver"],
            expires=expires,
            scope=text["scope"],
        )

    def to_dict(self, policy: Policy | None = None, today: dt.date | None = None) -> dict[str, Any]:
        """The record for JSON output, with its verdict under ``policy`` on ``today``."""
        today = today or dt.date.today()
        out = {
            "rule": self.rule,
            "id": self.ack_id,
            "reason": self.reason,
            "ticket": self.ticket,
            "approver": self.approver,
            "expires": self.expires.isoformat() if self.expires else None,
            "scope": self.scope,
            "expired": self.expired(today),
        }
        if policy is not None:
            out["waivable"] = not is_non_waivable(policy, self.ack_id)
        return out


_TEXT_FIELDS = ("reason", "ticket", "approver", "scope")


def is_non_waivable(policy: Policy, ack_id: str) -> bool:
    """Whether the policy forbids acknowledging this rule (matched by full id or rule id)."""
    _, rule_id = split_id(ack_id)
    return ack_id in policy.non_waivable or rule_id in policy.non_waivable


# --- recording (during synthesis) ---------------------------------------------------------------


@cache
def _aspect_class() -> type:
    """The Aspect class, built on first use so that reading templates never imports CDK."""
    import jsii
    from aws_cdk import CfnResource, IAspect

    @jsii.implements(IAspect)
    class ExceptionMetadataAspect:
        """Appends one exception record to the ``Metadata`` of every CloudFormation resource.

        An Aspect rather than an immediate walk, so resources created under the scope after the
        acknowledgement carry the record too - as CDK's acknowledgement covers them.
        """

        def __init__(self, record: ExceptionRecord) -> None:
            self._entry = record.to_metadata()

        def visit(self, node: IConstruct) -> None:
            if not isinstance(node, CfnResource):
                return
            existing = node.get_metadata(METADATA_KEY)
            entries = list(existing) if isinstance(existing, list) else []
            if self._entry not in entries:
                entries.append(self._entry)
            node.add_metadata(METADATA_KEY, entries)

    return ExceptionMetadataAspect


def record_exception(scope: IConstruct, record: ExceptionRecord) -> None:
    """Make ``record`` reach the template of every resource under ``scope``."""
    from aws_cdk import AspectPriority, Aspects

    Aspects.of(scope).add(_aspect_class()(record), priority=AspectPriority.MUTATING)


# --- reading (after synthesis) ------------------------------------------------------------------


def resource_exceptions(resource: Resource) -> list[ExceptionRecord]:
    """The exception records in a resource's ``Metadata``."""
    raw = resource.metadata.get(METADATA_KEY)
    if not isinstance(raw, list):
        return []
    return [r for r in (ExceptionRecord.from_metadata(x) for x in raw) if r is not None]


def cdk_acknowledgements(template: Template) -> list[tuple[str, str, str]]:
    """CDK acknowledgements made inside this stack: ``[(ack id, reason, construct path)]``.

    Read from the stack's ``additionalMetadataFile`` in the cloud assembly next to the template,
    which CDK writes before it runs the validation plugins. Empty for a template that is not part
    of a cloud assembly.
    """
    directory = Path(template.path).parent
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        return []
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, json.JSONDecodeError):
        return []
    name = Path(template.path).name
    # A nested stack's constructs are recorded in its top-level stack's metadata: read every
    # stack's; the caller keeps the acknowledgements whose scope holds this template's resources.
    nested = template.parent is not None
    out: list[tuple[str, str, str]] = []
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    for artifact in (artifacts if isinstance(artifacts, dict) else {}).values():
        if not isinstance(artifact, dict):
            continue
        props = artifact.get("properties") or {}
        if artifact.get("type") != "aws:cloudformation:stack" or not isinstance(props, dict):
            continue
        if not nested and props.get("templateFile") != name:
            continue
        entries = dict(artifact.get("metadata") or {})
        meta_file = artifact.get("additionalMetadataFile")
        if meta_file:
            with contextlib.suppress(OSError, json.JSONDecodeError):
                entries.update(json.loads((directory / meta_file).read_text()))
        for path, items in entries.items():
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict) or item.get("type") != CDK_ACK_METADATA:
                    continue
                for ack_id, reason in (item.get("data") or {}).items():
                    out.append((ack_id, str(reason), path.lstrip("/")))
    return out


def _under(construct_path: str | None, scope: str) -> bool:
    if construct_path is None:
        return False
    return scope == "" or construct_path == scope or construct_path.startswith(scope + "/")


def govern_exceptions(
    templates: Iterable[Template],
    findings: list[Finding],
    policy: Policy,
    today: dt.date | None = None,
) -> list[Finding]:
    """Attach exception records to ``findings`` and return the findings about exceptions.

    A finding whose resource carries a record for its rule gets ``exception`` (the record and its
    verdict). A valid record acknowledges the finding even without CDK's report (a hand-written
    template); an expired record or a non-waivable rule turns an acknowledged finding back into a
    violation. Returned: ``GOV-EXC-001`` per expired record, ``GOV-EXC-002`` per acknowledgement
    of a non-waivable rule.
    """
    today = today or dt.date.today()
    templates = list(templates)
    acknowledge_cdk_internal(templates, findings)
    by_resource: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        by_resource.setdefault((f.template_path, f.logical_id), []).append(f)
    extra: list[Finding] = []
    flagged: set[tuple[str, str, str]] = set()  # (directory, ack id, scope) already reported
    expired_by_scope: dict[tuple[str, str, str], list[Any]] = {}
    for template in templates:
        for resource in template.resources.values():
            records = resource_exceptions(resource)
            if not records:
                continue
            mine = by_resource.get((template.path, resource.logical_id), [])
            for record in records:
                verdict = record.to_dict(policy, today)
                expired = verdict["expired"]
                waivable = verdict["waivable"]
                for f in mine:
                    if f.rule_id != record.rule or f.source != "governance":
                        continue
                    f.exception = verdict
                    if expired or not waivable:
                        f.status, f.reason = "violation", None
                    elif not f.acknowledged:
                        f.status, f.reason = "acknowledged", record.reason
                if expired:
                    # one record reaches every resource under its scope (a queue and its
                    # QueuePolicy): it is reported once, on the construct that carries it
                    group = (str(Path(template.path).parent), record.ack_id, record.scope or "")
                    expired_by_scope.setdefault(group, []).append((resource, record, verdict))
                if not waivable:
                    key = (str(Path(template.path).parent), record.ack_id, record.scope or "")
                    if key not in flagged:
                        flagged.add(key)
                        extra.append(
                            _exception_finding(
                                NON_WAIVABLE,
                                resource,
                                f"{record.ack_id} is non-waivable under the policy but is "
                                f"acknowledged{_who(record)}",
                                verdict,
                            )
                        )
        extra.extend(_direct_non_waivable(template, findings, policy, flagged))
    for group in expired_by_scope.values():
        resource, record, verdict = _carrier(group, by_resource)
        extra.append(
            _exception_finding(
                EXPIRED,
                resource,
                f"exception for {record.ack_id} expired on {verdict['expires']}"
                f"{_who(record)}; renew it or fix the resource",
                verdict,
            )
        )
    return extra


#: Constructs CDK adds to a stack while it synthesizes, after Aspects have run, so no Aspect or
#: ``Tags.of()`` can reach them: ``{construct id: what it is}``.
CDK_INTERNAL_CONSTRUCTS = {
    "Custom::CrossRegionExportWriterCustomResourceProvider": "cross-region reference writer",
    "Custom::CrossRegionExportReaderCustomResourceProvider": "cross-region reference reader",
}
#: Rules such resources cannot satisfy from the app.
CDK_INTERNAL_RULES = ("TAG-001", "COST-TAG-001")
CDK_INTERNAL_KIND = "cdk-internal"


def cdk_internal(resource: Resource) -> str | None:
    """What a CDK-internal resource is (``cross-region reference writer``), else ``None``.

    Known by its construct path (``Stack/Custom::CrossRegionExport...Provider/Role``) or, in a
    template without path metadata, by its logical id.
    """
    path = resource.construct_path
    for construct_id, what in CDK_INTERNAL_CONSTRUCTS.items():
        if path is not None:
            if construct_id in path and construct_id in path.split("/"):  # cheap test first
                return what
        elif resource.logical_id.startswith(construct_id.replace("::", "")):
            return what
    return None


def acknowledge_cdk_internal(templates: Iterable[Template], findings: list[Finding]) -> None:
    """Acknowledge tag findings on CDK-internal resources, with the reason the report shows.

    CDK creates the cross-region reference provider's role and handler when it prepares the
    stack, after every Aspect has run, as raw resources without a tag manager: the app cannot
    tag them, so the finding is kept (status acknowledged, ``exception.kind`` ``cdk-internal``)
    rather than failing every app that uses cross-region references.
    """
    index = {(t.path, r.logical_id): r for t in templates for r in t.resources.values()}
    for f in findings:
        if f.rule_id not in CDK_INTERNAL_RULES or f.acknowledged or f.source != "governance":
            continue
        resource = index.get((f.template_path, f.logical_id))
        what = cdk_internal(resource) if resource is not None else None
        if what is None:
            continue
        f.status = "acknowledged"
        f.reason = (
            f"created by CDK ({what}) after Aspects run, as a raw resource without a tag"
            " manager: the app cannot tag it (CloudFormation stack tags still reach it)"
        )
        f.exception = {"kind": CDK_INTERNAL_KIND, "reason": f.reason, "expired": False}


def _carrier(
    group: list[tuple[Resource, ExceptionRecord, dict[str, Any]]],
    by_resource: dict[tuple[str, str], list[Finding]],
) -> tuple[Resource, ExceptionRecord, dict[str, Any]]:
    """Of the resources one record reached, the one that carries it: the construct at its scope
    (``Jobs`` or ``Jobs/Resource``), else one with a finding of its rule, else the first."""
    scope = group[0][1].scope
    if scope:
        for item in group:
            if item[0].construct_path in (scope, f"{scope}/Resource"):
                return item
    for item in group:
        resource, record, _ = item
        mine = by_resource.get((resource.template.path, resource.logical_id), [])
        if any(f.rule_id == record.rule for f in mine):
            return item
    return group[0]


def _direct_non_waivable(
    template: Template, findings: list[Finding], policy: Policy, flagged: set[tuple[str, str, str]]
) -> Iterator[Finding]:
    """Acknowledgements of non-waivable rules made with CDK's API directly."""
    if not policy.non_waivable:
        return
    for ack_id, reason, scope in cdk_acknowledgements(template):
        key = (str(Path(template.path).parent), ack_id, scope)
        if not is_non_waivable(policy, ack_id) or key in flagged:
            continue
        _, rule_id = split_id(ack_id)
        under = [
            r
            for r in template.resources.values()
            if r.type != "AWS::CDK::Metadata" and _under(r.construct_path, scope)
        ]
        if not under:
            continue  # the scope lies in another template (a nested stack, say)
        flagged.add(key)
        hit = {
            f.logical_id
            for f in findings
            if f.rule_id == rule_id and f.template_path == template.path
        }
        anchor = next((r for r in under if r.logical_id in hit), under[0])
        record = ExceptionRecord(rule=rule_id, reason=reason, plugin=split_id(ack_id)[0])
        verdict = {**record.to_dict(policy), "scope": scope}
        yield _exception_finding(
            NON_WAIVABLE,
            anchor,
            f"{ack_id} is non-waivable under the policy but is acknowledged at {scope or '(app)'}",
            verdict,
        )


def _who(record: ExceptionRecord) -> str:
    parts = []
    if record.ticket:
        parts.append(f"ticket {record.ticket}")
    if record.approver:
        parts.append(f"approved by {record.approver}")
    where = f" at {record.scope}" if record.scope else ""
    return where + (f" ({', '.join(parts)})" if parts else "")


def _exception_finding(
    rule_id: str, resource: Resource, message: str, verdict: dict[str, Any]
) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=Severity.ERROR,
        title=UNWAIVABLE_RULES[rule_id],
        message=message,
        stack=resource.template.name,
        logical_id=resource.logical_id,
        resource_type=resource.type,
        template_path=resource.template.path,
        construct_path=resource.construct_path,
        property_path=f"Metadata/{METADATA_KEY}",
        exception=verdict,
        fix=_FIX[rule_id],
        category="governance",
    )
