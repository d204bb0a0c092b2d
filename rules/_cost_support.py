"""Shared readers for the FinOps rules (``cost_*`` modules); defines no rule itself.

* :func:`is_deploy_time_handler` tells a function that only backs a CloudFormation custom
  resource (CDK's own providers: ``Custom::S3AutoDeleteObjects``, ``Custom::LogRetention``,
  bucket notifications, the ``AwsCustomResource`` singleton, ``Custom::VpcRestrictDefaultSG``,
  the ``Provider`` framework) from application code.
* :func:`ranked_in_run` ranks the resources of one type across every template of a run, for the
  "at most N per environment" rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from governance.intrinsics import evaluate_condition, ref_target
from governance.template import Resource, Template

#: Construct-path segments of the Lambda handlers CDK itself adds to a stack. The hex ids are
#: the fixed UUIDs of CDK's singleton functions (LogRetention, S3 bucket notifications,
#: AwsCustomResource); ``Custom::<Name>CustomResourceProvider/Handler`` is the shape of every
#: handler built with ``CustomResourceProvider`` (auto-delete objects, restrict default SG, ...).
_CDK_HANDLER_SEGMENT = re.compile(
    r"(?:^|/)(?:Custom::[A-Za-z0-9]+CustomResourceProvider/Handler"
    r"|LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a"
    r"|BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
    r"|AWS679f53fac002430cb0da5b7982bd2287)(?:/|$)"
)
#: The same handlers recognised by logical id alone (templates synthesized without path metadata).
_CDK_HANDLER_LOGICAL_ID = re.compile(
    r"^(?:Custom[A-Za-z0-9]+CustomResourceProviderHandler"
    r"|LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a"
    r"|BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
    r"|AWS679f53fac002430cb0da5b7982bd2287)[0-9A-F]{8}$"
)
_HANDLER_METADATA_PREFIX = "aws:cdk:is-custom-resource-handler"


def _is_custom_type(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type in (
        "AWS::CloudFormation::CustomResource",
    )


def is_deploy_time_handler(resource: Resource) -> bool:
    """True for a Lambda function that only runs while CloudFormation deploys the stack.

    That is: its ARN is the ``ServiceToken`` of a custom resource in the same template, or it is
    one of CDK's own handlers (by construct path, logical id or CDK's
    ``aws:cdk:is-custom-resource-handler-*`` metadata).
    """
    if resource.type != "AWS::Lambda::Function":
        return False
    if any(str(key).startswith(_HANDLER_METADATA_PREFIX) for key in resource.metadata):
        return True
    path = resource.construct_path
    if path and _CDK_HANDLER_SEGMENT.search(path):
        return True
    if _CDK_HANDLER_LOGICAL_ID.match(resource.logical_id):
        return True
    template = resource.template
    for resource_type in template.by_type:  # asked of the custom resources' types only
        if not _is_custom_type(resource_type):
            continue
        for user in template.referrers(resource.logical_id, resource_type):
            if ref_target(user.prop("ServiceToken")) == resource.logical_id:
                return True
    return False


def _targets(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        target = ref_target(value)
        if target is not None:
            yield target
            return
        for sub in value.values():
            yield from _targets(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _targets(sub)


def belongs_to_deploy_time_handler(resource: Resource, name_property: str) -> bool:
    """True for a log group (or ``Custom::LogRetention``) of a deploy-time handler function.

    Recognised by its construct path (CDK puts the log group under the handler's construct) or by
    its name referring to a handler function of the same template (``/aws/lambda/${Handler}``).
    """
    path = resource.construct_path
    if path and _CDK_HANDLER_SEGMENT.search(path):
        return True
    for target in _targets(resource.prop(name_property)):
        fn = resource.template.resources.get(target)
        if fn is not None and is_deploy_time_handler(fn):
            return True
    return False


def run_templates(resource: Resource) -> list[Template]:
    """Every template judged in the same run (the engine sets ``siblings``), else just this one."""
    siblings = getattr(resource.template, "siblings", None)
    return list(siblings) if siblings else [resource.template]


def ranked_in_run(resource: Resource) -> tuple[int, int, bool] | None:
    """Where ``resource`` ranks among the resources of its type in the whole run.

    Resources are ordered by (stack name, template path, logical id), so the answer does not
    depend on the order templates were loaded in. Resources whose ``Condition`` is false are not
    counted. Returns ``(index, total, uncertain)``: ``uncertain`` is true when the resource's own
    condition, or that of one ranked before it, cannot be evaluated; ``None`` when the
    resource's own condition is false (it will not be created).
    """
    entries: list[tuple[tuple[str, str, str], bool]] = []
    for template in run_templates(resource):
        for other in template.of_type(resource.type):
            certain = True
            if other.condition:
                decided = evaluate_condition(other.condition, template)
                if decided is False:
                    continue
                certain = decided is True
            entries.append(((template.name, template.path, other.logical_id), certain))
    entries.sort(key=lambda e: e[0])
    key = (resource.template.name, resource.template.path, resource.logical_id)
    uncertain = False
    for index, (entry_key, certain) in enumerate(entries):
        uncertain = uncertain or not certain
        if entry_key == key:
            return index, len(entries), uncertain
    return None
