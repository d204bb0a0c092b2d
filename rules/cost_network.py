"""FinOps rules that count across the whole deployment: NAT Gateways and REST APIs.

A run judges one environment (one ``cdk synth -c env=...`` or one ``govern check --env ...``), so
the counts are over every template of the run (``template.siblings``, set by the engine). The
resources are ranked by (stack name, template path, logical id); the ones ranked beyond the
environment's allowance are reported, so the same resources are reported whatever order the
templates were loaded in. Resources whose ``Condition`` is false are not counted; one whose
condition (or an earlier-ranked one's) cannot be evaluated is reported as undecidable.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._cost_support import ranked_in_run


def _beyond_allowance(
    resource: Resource, allowed: int | None, what: str, policy: Policy
) -> Iterator[Issue]:
    if allowed is None:
        return
    ranked = ranked_in_run(resource)
    if ranked is None:
        return
    index, total, uncertain = ranked
    if index < allowed:
        return
    env = f"environment {policy.environment!r}" if policy.environment else "the policy"
    message = f"{what} {index + 1} of {total} in this deployment; {env} allows {allowed}"
    if uncertain:
        yield undecidable(f"{message}, but a Condition decides whether some exist", "Condition")
    else:
        yield violation(message, "Properties")


@rule(
    id="COST-NAT-001",
    slug="nat-gateways-above-environment-limit",
    title="No more NAT Gateways than the environment allows",
    severity=Severity.ERROR,
    resource_types=("AWS::EC2::NatGateway",),
    category=Category.COST,
)
def nat_gateways_above_environment_limit(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The deployment has at most `thresholds.nat_gateways_max` NAT Gateways (null: no limit).

    Why:
        A NAT Gateway bills $0.045 an hour (about $33 a month) before $0.045 per GB processed,
        whether traffic flows or not; one per AZ in every environment is the largest fixed cost
        of an idle VPC. Development can use a NAT instance (a t4g.nano is about a tenth of the
        price) and gateway endpoints for S3 and DynamoDB; staging can share one gateway;
        production chooses one per AZ only where the availability is worth it. The gateways
        ranked beyond the allowance (by stack and logical id) are reported.

    Fix:
        Set the VPC's `nat_gateways` (or a NAT instance provider) from the environment's
        configuration, and keep `governance.thresholds.nat_gateways_max` in step.

    Example:
        ec2.Vpc(self, "Vpc", max_azs=3, nat_gateways=1)  # staging
    """
    yield from _beyond_allowance(
        resource, policy.thresholds.nat_gateways_max, "NAT Gateway", policy
    )


@rule(
    id="COST-API-001",
    slug="rest-apis-above-environment-limit",
    title="No more REST APIs than the environment allows",
    severity=Severity.ERROR,
    resource_types=("AWS::ApiGateway::RestApi",),
    category=Category.COST,
)
def rest_apis_above_environment_limit(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The deployment has at most `thresholds.rest_apis_max` REST APIs (null: no limit).

    Why:
        Each REST API brings its own stages, WAF association, access logs, alarms, custom
        domain and (if enabled) cache, each billed or operated separately; one API organised by
        resource shares them all. Request prices are tiered per account and region, so
        merging APIs does not lower them by itself. The APIs ranked beyond the allowance (by
        stack and logical id) are reported.

    Fix:
        Serve every endpoint from one `apigateway.RestApi`, organised by resource
        (`/payments`, `/webhooks`, ...), and pass it to the stacks that add methods.

    Example:
        api = apigateway.RestApi(self, "PaymentsApi"); api.root.add_resource("webhooks")
    """
    yield from _beyond_allowance(resource, policy.thresholds.rest_apis_max, "REST API", policy)
