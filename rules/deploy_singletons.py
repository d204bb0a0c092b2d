"""Account- and region-level singletons (deploy): only the environment's own deployment has them.

Some resources exist once per account (or per account and region). A second copy of an
environment in the same account (``-c suffix=pr42``, the naming suffix the policy knows) that
brings one along fails to deploy, or silently takes over the first copy's setting and breaks it
when deleted. The rule judges only when the policy knows the environment and the suffix is not
the environment's default (:attr:`governance.policy.Policy.parallel_copy`).
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import as_str
from governance.model import Category, Issue, Severity, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource

#: Resource type -> what AWS allows (the reason the second copy breaks).
SINGLETONS: dict[str, str] = {
    "AWS::GuardDuty::Detector": "one GuardDuty detector per account and region",
    "AWS::CE::AnomalyMonitor": "one AWS services (DIMENSIONAL SERVICE) anomaly monitor per account",
    "AWS::ApiGateway::Account": (
        "one API Gateway CloudWatch role setting per account and region (the last deployment "
        "wins; deleting either copy unsets it for both)"
    ),
    "AWS::SecurityHub::Hub": "one Security Hub per account and region",
    "AWS::Config::ConfigurationRecorder": "one customer managed configuration recorder per region",
    "AWS::Config::DeliveryChannel": "one AWS Config delivery channel per region",
    "AWS::Macie::Session": "one Macie session per account and region",
    "AWS::Detective::Graph": "one Detective behaviour graph per account and region",
    "AWS::Shield::DRTAccess": "one Shield Response Team access setting per account",
    "AWS::Shield::ProactiveEngagement": "one Shield proactive engagement setting per account",
    "AWS::EC2::SnapshotBlockPublicAccess": "one snapshot block-public-access setting per region",
    "AWS::EC2::VPCBlockPublicAccessOptions": "one VPC block-public-access setting per region",
    "AWS::ResourceExplorer2::Index": "one Resource Explorer index per account and region",
}


@rule(
    id="DEPLOY-SINGLE-001",
    slug="singleton-in-parallel-copy",
    title="Account-level singletons belong only to the environment's own deployment",
    severity=Severity.ERROR,
    resource_types=tuple(SINGLETONS),
    category=Category.DEPLOY,
)
def singleton_in_parallel_copy(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No account- or region-level singleton in an assembly whose suffix is not the default.

    Why:
        AWS allows one GuardDuty detector per account and region (CreateDetector fails with
        "The request is rejected because a detector already exists for the current account"),
        one AWS services anomaly monitor per account, one API Gateway account setting per
        region, and so on (the module's `SINGLETONS`). A parallel copy (`-c suffix=pr42`) in
        the environment's account collides with the environment's own one. AWS: "Amazon
        GuardDuty quotas", https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_limits.html,
        and "Cost Anomaly Detection quotas" (one AWS services monitor),
        https://docs.aws.amazon.com/cost-management/latest/userguide/management-limits.html

    Fix:
        Create singletons only when the suffix is the environment's default, or look the
        existing one up (a custom resource) instead of creating it.

    Example:
        if deployment.owns_account_singletons:
            guardduty.CfnDetector(self, "Detector", enable=True)
    """
    if not policy.parallel_copy:
        return
    if resource.type == "AWS::CE::AnomalyMonitor":
        kind = as_str(resource.prop("MonitorType"), resource.template)
        dimension = as_str(resource.prop("MonitorDimension"), resource.template)
        if (kind, dimension) != ("DIMENSIONAL", "SERVICE"):
            return
    yield violation(
        f"AWS allows {SINGLETONS[resource.type]}; this assembly's suffix {policy.suffix!r} is not "
        f"the default {policy.default_suffix!r} of environment {policy.environment!r}",
        "Type",
    )
