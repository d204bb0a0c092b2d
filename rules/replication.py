"""Multi-region data (PCI DSS 3.5.1, 3.6.1): each replica of a global table keeps its own key.

A KMS key exists in one region only. A global-table replica encrypted with a key of another
region cannot be created (DynamoDB refuses it), and a template that points every replica at the
same key hides that the second region's data would be under no key of ours. PITR and the presence
of a customer-managed key on every replica are judged by PCI-BAK-001 and ENC-002; this module
judges *where* each replica's key lives. The mapping to 3.5.1 and 3.6.1 is ours: the key that
protects stored account data must be one the replica's region can use and we manage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from governance.intrinsics import as_str, is_intrinsic, ref_target
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource, Template
from rules._support import as_list

_KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::Alias", "AWS::KMS::ReplicaKey")


def template_region(template: Template) -> str | None:
    """The region of the template's stack (``aws://account/region``), when the assembly says it."""
    env = getattr(template, "environment", None) or ""
    region = env.rpartition("/")[2] if env.startswith("aws://") else ""
    return region if region and region != "unknown-region" else None


def _read_region(target: Resource) -> str | None:
    """The region a CDK ``AwsCustomResource`` reads its value in (its ``Create`` call)."""
    call = target.prop("Create")
    if isinstance(call, str):
        try:
            call = json.loads(call)
        except ValueError:
            return None
    region = call.get("region") if isinstance(call, dict) else None
    return region if isinstance(region, str) else None


def _key_region(value: Any, template: Template) -> tuple[str | None, str]:
    """(region of the key ``value`` names, how we know), region None when it cannot be told."""
    target = ref_target(value)
    if target is not None and target in template.resources:
        res = template.resources[target]
        if res.type in _KEY_TYPES:
            return template_region(template) or "", f"key {target} of this stack"
        if res.type == "Custom::AWS" or res.type.startswith("Custom::"):
            region = _read_region(res)
            return region, f"a value read in {region} by {target}"
        return None, f"a value of {target}"
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return template_region(template) or "", "an export of this region"
    text = as_str(value, template)
    if isinstance(text, str) and text.startswith("arn:"):
        parts = text.split(":")
        return (parts[3] if len(parts) > 3 else None), text
    if isinstance(text, str):
        return template_region(template) or "", f"key {text} (resolved in this region)"
    return None, "a value the template cannot show" if is_intrinsic(value) else str(value)


@rule(
    id="REP-001",
    slug="replica-key-outside-its-region",
    title="Each global-table replica is encrypted with a key of its own region",
    severity=Severity.ERROR,
    resource_types=("AWS::DynamoDB::GlobalTable",),
    category=Category.ENCRYPTION,
    pci=("3.5.1", "3.6.1"),
)
def replica_key_outside_its_region(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every replica's `SSESpecification.KMSMasterKeyId` names a key in that replica's `Region`.

    Why:
        KMS keys are regional: DynamoDB can encrypt a replica only with a key of the replica's
        region, and a template that reuses the primary's key (a `Ref` to a key of this stack)
        for the replica either fails to deploy or was "fixed" by dropping the replica's key.

    Fix:
        Create the key in the replica's region (a stack there) and hand its ARN to the table's
        stack (an SSM parameter read in that region, or CDK's cross-region references);
        `TableEncryptionV2.customer_managed_key(key, replica_key_arns={region: arn})`.

    Example:
        dynamodb.TableV2(self, "T", encryption=dynamodb.TableEncryptionV2.customer_managed_key(primary_key, replica_key_arns={"us-west-2": replica_key_arn}), replicas=[dynamodb.ReplicaTableProps(region="us-west-2")], ...)
    """
    template = resource.template
    here = template_region(template)
    local: list[str] = []  # replica regions using a key of this stack's (unknown) region
    for i, replica in enumerate(as_list(resource.prop("Replicas"))):
        if not isinstance(replica, dict):
            continue
        sse = replica.get("SSESpecification")
        key = sse.get("KMSMasterKeyId") if isinstance(sse, dict) else None
        if key is None:
            continue  # no key at all: ENC-002's finding
        where = f"Properties/Replicas/{i}/SSESpecification/KMSMasterKeyId"
        region = as_str(replica.get("Region"), template)
        if not isinstance(region, str):
            yield undecidable("the replica's region cannot be read", f"Properties/Replicas/{i}")
            continue
        key_region, source = _key_region(key, template)
        if key_region == "":
            if here is None:  # without an assembly: only one region can be this stack's
                local.append(region)
                if len(set(local)) > 1:
                    yield violation(
                        f"the replicas in {' and '.join(sorted(set(local)))} all use {source}; "
                        "a stack's keys are in one region",
                        where,
                    )
                continue
            key_region = here
        if key_region is None:
            yield undecidable(f"the region of the replica's key cannot be told ({source})", where)
        elif key_region != region:
            yield violation(
                f"the replica in {region} is encrypted with {source}, which is in {key_region}",
                where,
            )
