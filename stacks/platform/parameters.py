"""The ``PaymentsParameters`` stack: configuration parameters in SSM Parameter Store: ``/payments/<suffix>/<group>/<name>``.

Runtime components and operators read the platform's configuration from one place instead of
CloudFormation outputs: resource names and ARNs the other stacks created, and the sizing
choices of the active profile (so a look at Parameter Store tells which profile is deployed).
Standard-tier String parameters only (free); nothing secret is stored here - secrets live in
Secrets Manager and only their ARNs appear.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stacks.base import BaseStack
from stacks.platform.settings import PlatformSettings


def profile_parameters(profile: str, settings: PlatformSettings) -> dict[str, str]:
    """The sizing choices of the active profile, as parameter values."""
    return {
        "platform/profile": profile,
        "network/nat-mode": settings.network.nat.mode,
        "network/nat-count": str(settings.network.nat.gateways),
        "compute/instance-type": settings.compute.instance_type,
        "compute/capacity": f"{settings.compute.min_capacity}-{settings.compute.max_capacity}",
        "functions/memory-mb": str(settings.functions.memory_mb),
        "functions/architecture": settings.functions.architecture,
        "api/consolidated": str(settings.consolidated_api).lower(),
        "logs/app-retention-days": str(settings.functions.log_retention_days or "never-expire"),
        "security/shield-advanced": str(settings.security.shield_advanced).lower(),
        "edge/enabled": str(settings.edge.enabled).lower(),
        "security/guardduty-mode": settings.security.guardduty.mode,
        "security/secrets-mode": settings.security.secrets,
    }


class ParametersStack(BaseStack):
    """One String parameter per entry of ``values`` (``group/name`` -> value)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        values: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.parameters: dict[str, ssm.StringParameter] = {}
        for key, value in sorted(values.items()):
            construct_id = "".join(part.capitalize() for part in key.replace("/", "-").split("-"))
            self.parameters[key] = ssm.StringParameter(
                self,
                construct_id,
                parameter_name=self.path(key),
                string_value=value,
                description=f"Payment platform configuration: {key}",
                tier=ssm.ParameterTier.STANDARD,
            )

    def path(self, key: str) -> str:
        return f"/payments/{self.deployment.suffix}/{key}"
