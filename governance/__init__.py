"""Governance for AWS CDK apps: one call attaches tagging, removal-policy and rule enforcement.

    import governance
    governance.apply(app)          # before app.synth()

With no ``governance`` block in the app's context the documented defaults apply, so any CDK app
can use it. Findings are acknowledged in code with :func:`acknowledge` (or CDK's own
``Validations.of(scope).acknowledge(Acknowledgment(id="govern::RULE-ID", reason=...))``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from aws_cdk import App
    from constructs import IConstruct

    from governance.plugin import GovernancePlugin
    from governance.policy import Policy

MIN_REASON_LENGTH = 10


def policy_from_app(app: App) -> Policy:
    """Read the policy for the environment and profile named by ``-c env=`` / ``-c profile=``."""
    from governance.policy import Policy

    ctx = app.node.try_get_context
    return Policy.from_context(
        ctx("governance"),
        environment=ctx("env"),
        profile=ctx("profile"),
        suffix=ctx("suffix"),
    )


def apply(app: App, policy: Policy | None = None) -> GovernancePlugin:
    """Attach governance to ``app``: mutating Aspects first, then the validation plugins."""
    from aws_cdk import AspectPriority, Aspects, Tag, Validations

    from governance.aspects import DestroyableAspect, tag_values_to_apply
    from governance.plugin import GovernancePlugin

    policy = policy or policy_from_app(app)
    if policy.apply_tags:
        for key, value in tag_values_to_apply(policy).items():
            Aspects.of(app).add(Tag(key, value), priority=AspectPriority.MUTATING)
    if policy.destroy_stateful:
        Aspects.of(app).add(DestroyableAspect(), priority=AspectPriority.MUTATING)
    plugin = GovernancePlugin(policy)
    plugins: list = [plugin]
    if policy.cdk_nag_packs:
        import cdk_nag

        packs = {
            "aws_solutions": cdk_nag.AwsSolutionsChecks,
            "pci_dss_321": cdk_nag.PCIDSS321Checks,
        }
        plugins.extend(packs[name](app) for name in policy.cdk_nag_packs)
    Validations.of(app).add_plugins(*plugins)
    return plugin


def acknowledge(
    scope: IConstruct, rule_id: str, reason: str, *, plugin: str | None = "govern"
) -> None:
    """Acknowledge a finding on ``scope`` (and everything below it) with a reason.

    ``plugin`` prefixes the id (``govern::ENC-001``); pass ``plugin=None`` for an id that is
    already complete (cdk-nag's ``AwsSolutions-IAM4``). A reason shorter than ten characters is
    refused: the auditor reads it.
    """
    from aws_cdk import Acknowledgment, Validations

    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"acknowledging {rule_id} needs a reason of at least {MIN_REASON_LENGTH} characters"
        )
    ack_id = f"{plugin}::{rule_id}" if plugin else rule_id
    Validations.of(scope).acknowledge(Acknowledgment(id=ack_id, reason=reason.strip()))
