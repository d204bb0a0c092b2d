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
    from datetime import date
    from pathlib import Path

    from aws_cdk import App
    from constructs import IConstruct

    from governance.plugin import GovernancePlugin
    from governance.policy import Policy

MIN_REASON_LENGTH = 10


def data_file(name: str) -> Path:
    """A file of the package's ``data`` folder, installed beside the modules as package data.

    Read by path rather than through ``importlib.resources``, whose import (with ``zipfile`` and
    ``tempfile``) was a twentieth of ``govern check``'s start-up."""
    from pathlib import Path

    return Path(__file__).parent / "data" / name


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


def apply_aspects(app: App, policy: Policy) -> None:
    """Add the mutating Aspects the policy asks for (tags, destroyable resources), nothing else."""
    from aws_cdk import AspectPriority, Aspects, Tag

    from governance.aspects import DestroyableAspect, RawResourceTagAspect, tag_values_to_apply

    if policy.apply_tags:
        values = tag_values_to_apply(policy)
        for key, value in values.items():
            Aspects.of(app).add(Tag(key, value), priority=AspectPriority.MUTATING)
        if values:
            Aspects.of(app).add(RawResourceTagAspect(values), priority=AspectPriority.MUTATING)
    if policy.destroy_stateful:
        Aspects.of(app).add(DestroyableAspect(), priority=AspectPriority.MUTATING)


#: Exit status of an app whose ``governance`` configuration is refused (as ``govern``'s usage error).
CONFIG_ERROR_EXIT = 2


def apply(
    app: App, policy: Policy | None = None, *, exit_on_error: bool = True
) -> GovernancePlugin:
    """Attach governance to ``app``: mutating Aspects first, then the validation plugins.

    The policy is read from the app's context unless given. A bad ``governance`` block (unknown
    key, rule id or environment, a value of the wrong type) is a :class:`PolicyError` whose
    message is one sentence naming the key. By default ``apply`` prints it as one line on
    standard error (``governance: configuration error: ...``) and ends the app with exit status
    2, so ``cdk synth`` shows that line and fails without a traceback through this package. With
    ``exit_on_error=False`` the :class:`PolicyError` is raised instead, for apps and tests that
    handle it themselves.
    """
    from aws_cdk import Validations

    from governance.plugin import GovernancePlugin
    from governance.policy import PolicyError

    if policy is None:
        try:
            policy = policy_from_app(app)
        except PolicyError as exc:
            if not exit_on_error:
                raise
            import sys

            print(f"governance: configuration error: {exc}", file=sys.stderr)
            raise SystemExit(CONFIG_ERROR_EXIT) from None
    apply_aspects(app, policy)
    plugin = GovernancePlugin(policy)
    plugins: list = [plugin]
    if policy.cdk_nag_packs:
        import cdk_nag

        from governance.cdknag import CDK_NAG_PACKS, acknowledge_conflicts

        plugins.extend(
            getattr(cdk_nag, pack.checks_class)(app)
            for pack in CDK_NAG_PACKS
            if pack.policy_key in policy.cdk_nag_packs
        )
        acknowledge_conflicts(app, policy)  # governance.conflicts: where ours wins
    Validations.of(app).add_plugins(*plugins)
    return plugin


def acknowledge(
    scope: IConstruct,
    rule_id: str,
    reason: str,
    *,
    plugin: str | None = "govern",
    ticket: str | None = None,
    approver: str | None = None,
    expires: date | str | None = None,
) -> None:
    """Acknowledge a finding on ``scope`` (and everything below it) as a governed exception.

    Makes CDK's acknowledgement (``Validations.of(scope).acknowledge``), which suppresses the
    violation and writes it with its reason to ``validation-report.json``, and records the
    exception - reason, ``ticket``, ``approver``, ``expires`` (a date or ``"YYYY-MM-DD"``) - in
    the ``Metadata`` of every resource under ``scope``, so it reaches the template and the
    compliance report. Once ``expires`` has passed, synthesis fails again (``GOV-EXC-001``);
    acknowledging a rule listed in ``governance.non_waivable`` fails it (``GOV-EXC-002``).

    ``plugin`` prefixes the id (``govern::ENC-001``). For cdk-nag use the pack's name
    (``plugin="AwsSolutions"`` with ``"AwsSolutions-IAM4"``), or ``plugin=None`` with a full id
    (``"AwsSolutions::AwsSolutions-IAM4"``); a bare cdk-nag id gets its pack's name added, since
    CDK records only namespaced acknowledgements in its report. A reason shorter than ten
    characters is refused: the auditor reads it.
    """
    from aws_cdk import Acknowledgment, Validations

    from governance.cdknag import nag_pack_of
    from governance.exceptions import (
        UNWAIVABLE_RULES,
        ExceptionRecord,
        parse_expires,
        record_exception,
        split_id,
    )

    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"acknowledging {rule_id} needs a reason of at least {MIN_REASON_LENGTH} characters"
        )
    if plugin is None and split_id(rule_id)[0] is None:
        plugin = nag_pack_of(rule_id)
    ack_id = f"{plugin}::{rule_id}" if plugin else rule_id
    namespace, bare_rule = split_id(ack_id)
    if bare_rule in UNWAIVABLE_RULES:
        raise ValueError(f"{bare_rule} is about exceptions themselves and cannot be acknowledged")
    record = ExceptionRecord(
        rule=bare_rule,
        reason=reason.strip(),
        plugin=namespace,
        ticket=ticket,
        approver=approver,
        expires=parse_expires(expires),
        scope=scope.node.path,
    )
    Validations.of(scope).acknowledge(Acknowledgment(id=ack_id, reason=record.reason))
    record_exception(scope, record)
