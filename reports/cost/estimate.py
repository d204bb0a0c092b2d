"""Pricing templates: every resource of every stack becomes a :class:`LineItem`.

A priced type runs its pricer; a free type (``free.py``) gives a free line with the reason; any
other type gives a *not priced* line, listed on the report and never counted as $0 silently.
Volume tiers are shared per account and region across one side of the report, and
organisation-wide fees (Shield Advanced) are charged once per side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from governance.template import Resource, Template
from reports.cost.catalogue import Catalogue
from reports.cost.free import free_reason
from reports.cost.model import Estimate, LineItem, Status
from reports.cost.resources import Context, all_pricers
from reports.cost.resources.base import EnvironmentView, SideState
from reports.cost.systems import system_of
from reports.cost.usage import UsageProfile

DEFAULT_REGION = "us-east-1"

#: Cost Explorer's service names for free types, by CloudFormation namespace (display only).
NAMESPACE_SERVICE = {
    "IAM": "AWS Identity and Access Management",
    "Lambda": "AWS Lambda",
    "Logs": "AmazonCloudWatch",
    "CloudWatch": "AmazonCloudWatch",
    "ApiGateway": "Amazon API Gateway",
    "ApiGatewayV2": "Amazon API Gateway",
    "EC2": "Amazon Virtual Private Cloud",
    "AutoScaling": "Amazon Elastic Compute Cloud - Compute",
    "ApplicationAutoScaling": "Application Auto Scaling",
    "S3": "Amazon Simple Storage Service",
    "SQS": "Amazon Simple Queue Service",
    "SNS": "Amazon Simple Notification Service",
    "KMS": "AWS Key Management Service",
    "Events": "Amazon EventBridge",
    "WAFv2": "AWS WAF",
    "SecretsManager": "AWS Secrets Manager",
    "CDK": "AWS CloudFormation",
    "CloudFormation": "AWS CloudFormation",
    "CE": "AWS Cost Explorer",
    "Budgets": "AWS Budgets",
}


@dataclass(frozen=True)
class Assembly:
    """The templates of one environment on one side of the report."""

    environment: str
    templates: list[Template]
    paths: tuple[str, ...] = ()
    #: template file path → the stack's tags from the cloud assembly's manifest
    stack_tags: dict[str, dict[str, str]] = field(default_factory=dict)


def parse_environment(
    env: str | None, default_region: str, fallback_account: str
) -> tuple[str, str]:
    """(region, account) from a cloud assembly's ``aws://account/region``."""
    region, account = default_region, fallback_account
    if env and env.startswith("aws://"):
        parts = env[len("aws://") :].split("/")
        if len(parts) == 2:
            if parts[0] and not parts[0].startswith("unknown"):
                account = parts[0]
            if parts[1] and not parts[1].startswith("unknown"):
                region = parts[1]
    return region, account


def display_name(res: Resource) -> str:
    path = res.construct_path
    if path:
        for tail in ("/Resource", "/Default"):
            if path.endswith(tail):
                path = path[: -len(tail)]
        return path
    return f"{res.stack}/{res.logical_id}"


def service_for(resource_type: str) -> str:
    spec = all_pricers().get(resource_type)
    if spec is not None:
        return spec.service
    parts = resource_type.split("::")
    namespace = parts[1] if len(parts) > 2 else resource_type
    return NAMESPACE_SERVICE.get(namespace, f"AWS {namespace}")


def price_resource(
    res: Resource,
    view: EnvironmentView,
    region: str,
    account: str,
    catalogue: Catalogue,
    profile: UsageProfile,
    side: SideState,
    stack_label: str | None = None,
) -> LineItem:
    name = display_name(res)
    if stack_label is not None and stack_label != res.stack:
        name = (
            f"{stack_label}/{res.logical_id}" if not res.construct_path else f"{stack_label}:{name}"
        )
    item = LineItem(
        environment=view.name,
        region=region,
        stack=stack_label or res.stack,
        logical_id=res.logical_id,
        resource_type=res.type,
        name=name,
        service=service_for(res.type),
        status=Status.PRICED,
        resource=res,
    )
    spec = all_pricers().get(res.type)
    if spec is None:
        reason = free_reason(res.type)
        if reason is not None:
            item.status = Status.FREE
            item.notes.append(reason)
        else:
            item.status = Status.NOT_PRICED
            if res.type.startswith("AWS::Serverless::"):
                item.notes.append(
                    "an AWS SAM resource: SAM turns it into other resources when the stack is"
                    " deployed; price the transformed template (`sam build` then `sam package`, or"
                    " CloudFormation's processed template) to see them"
                )
            else:
                item.notes.append("the cost model has no price for this resource type")
        return item
    ctx = Context(
        resource=res,
        environment=view,
        region=region,
        account=account,
        catalogue=catalogue,
        profile=profile,
        usage=profile.for_resource(res, view.name, view.count_sharing(res.type, profile)),
        side=side,
    )
    try:
        item.components = list(spec.func(res, ctx))
    except Exception as exc:  # a pricer bug must not hide the rest of the report
        item.status = Status.NOT_PRICED
        item.notes.append(f"pricing failed: {type(exc).__name__}: {exc}")
        return item
    item.attributes = ctx.attributes
    item.notes.extend(ctx.notes)
    item.warnings.extend(ctx.warnings)
    if res.condition:
        item.notes.append(f"created only when condition {res.condition} holds")
    if not item.components and ctx.free_reason:
        item.status = Status.FREE
        item.notes.append(ctx.free_reason)
    elif item.unpriced_components:
        item.status = Status.PARTIAL
    return item


def estimate(
    assemblies: Iterable[Assembly],
    *,
    label: str,
    catalogue: Catalogue,
    profile: UsageProfile,
    default_region: str = DEFAULT_REGION,
) -> Estimate:
    """Price every resource of every assembly; one shared tier pool for the side."""
    side = SideState()
    result = Estimate(label=label)
    for assembly in assemblies:
        view = EnvironmentView(assembly.environment, assembly.templates)
        result.sources.setdefault(assembly.environment, []).extend(assembly.paths)
        labels = stack_labels(assembly.templates)
        for tpl in assembly.templates:
            region, account = parse_environment(
                tpl.environment, default_region, assembly.environment
            )
            system = system_of(tpl, assembly.stack_tags)
            for res in tpl.resources.values():
                item = price_resource(
                    res, view, region, account, catalogue, profile, side, labels[id(tpl)]
                )
                item.system = system
                result.items.append(item)
    return result


def stack_labels(templates: list[Template]) -> dict[int, str]:
    """A unique label per template: its name, or its path when several share the name
    (``a/template.yaml`` and ``b/template.yaml`` are two stacks, not one)."""
    counts = Counter(t.name for t in templates)
    return {id(t): t.name if counts[t.name] == 1 else t.path for t in templates}


def environment_of(templates: list[Template]) -> str | None:
    """The most common value of the ``Environment`` tag on the templates' resources."""
    counts: Counter[str] = Counter()
    for tpl in templates:
        for res in tpl.resources.values():
            tags = res.properties.get("Tags")
            if isinstance(tags, list):
                for tag in tags:
                    if isinstance(tag, dict) and tag.get("Key") == "Environment":
                        value = tag.get("Value")
                        if isinstance(value, str):
                            counts[value] += 1
            elif isinstance(tags, dict) and isinstance(tags.get("Environment"), str):
                counts[tags["Environment"]] += 1
    return counts.most_common(1)[0][0] if counts else None
