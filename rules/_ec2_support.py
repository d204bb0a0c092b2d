"""Readers for EC2 instances and launch templates, shared by rule modules; registers no rule.

An instance's settings may live on the instance or on the launch template it names (CDK's
`require_imdsv2=True` adds such a template); :func:`launch_template_of` finds that template in
the same template file, by `LaunchTemplateId` reference or by `LaunchTemplateName`.
"""

from __future__ import annotations

from typing import Any

from governance.intrinsics import Unresolved, as_str
from governance.template import Resource

LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"


def launch_template_of(instance: Resource) -> Resource | Unresolved | None:
    """The launch template an instance names: ``None`` when it names none, ``Unresolved`` when
    it names one that is not in this template (made elsewhere, or a parameter)."""
    spec = instance.prop("LaunchTemplate")
    if not isinstance(spec, dict):
        return None
    template = instance.template
    for key in ("LaunchTemplateId", "LaunchTemplateName"):
        value = spec.get(key)
        if value is None:
            continue
        target = template.get(value)
        if target is not None and target.type == LAUNCH_TEMPLATE:
            return target
        name = as_str(value, template)
        if isinstance(name, str):
            for candidate in template.of_type(LAUNCH_TEMPLATE):
                if as_str(candidate.prop("LaunchTemplateName"), template) == name:
                    return candidate
        return Unresolved(f"the launch template {key} is not declared in this template")
    return None


def launch_template_data(resource: Resource) -> dict[str, Any]:
    """A launch template's `LaunchTemplateData` (empty when absent or not a mapping)."""
    data = resource.prop("LaunchTemplateData")
    return data if isinstance(data, dict) else {}
