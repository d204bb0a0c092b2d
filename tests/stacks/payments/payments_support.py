"""Support for the payment-platform stack tests: each environment synthesized once, in process.

``payments_app(env)`` builds the environment's ``SecurityStack`` and ``PaymentsStack`` from the
real ``cdk.json`` context (feature flags included) without governance, and caches the result
for the whole test session (synthesis costs seconds). ``build_payments_app`` builds an uncached
one into a given directory.

This is a plain module, not a ``conftest.py``: the test tree has no packages, so a second
``conftest`` module would shadow ``tests/conftest.py`` for ``from conftest import ...``.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.config import Configuration, load_configuration
from stacks.payments.payments import PaymentsStack
from stacks.platform.security import SecurityStack

ROOT = Path(__file__).resolve().parents[3]
ENVIRONMENTS = ("dev", "staging", "production")


def cdk_context() -> dict[str, Any]:
    """The ``context`` block of the repository's ``cdk.json`` (a fresh copy)."""
    return copy.deepcopy(json.loads((ROOT / "cdk.json").read_text())["context"])


@dataclass(frozen=True)
class PaymentsApp:
    """One environment's synthesized payment stacks and their templates."""

    env: str
    config: Configuration
    security: SecurityStack
    payments: PaymentsStack
    template: Template
    security_template: Template

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.to_json()["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}


def build_payments_app(
    env: str,
    outdir: Path,
    *,
    context: Mapping[str, Any] | None = None,
    profile: str | None = None,
) -> PaymentsApp:
    """Synthesize the security and payment stacks of ``env`` (no governance plugins)."""
    ctx = dict(context if context is not None else cdk_context())
    ctx["env"] = env
    if profile is not None:
        ctx["profile"] = profile
    app = cdk.App(context=ctx, outdir=str(outdir))
    config = load_configuration(ctx)
    security = SecurityStack(app, "PaymentsSecurity", deployment=config.deployment)
    payments = PaymentsStack(
        app, "Payments", deployment=config.deployment, settings=config.payments, key=security.key
    )
    return PaymentsApp(
        env=env,
        config=config,
        security=security,
        payments=payments,
        template=Template.from_stack(payments),
        security_template=Template.from_stack(security),
    )


@functools.cache
def payments_app(env: str) -> PaymentsApp:
    """The environment's stacks, built once per test session."""
    return build_payments_app(env, Path(tempfile.mkdtemp(prefix=f"payments-{env}-")))
