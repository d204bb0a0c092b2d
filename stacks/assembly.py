"""Assembles the platform's stacks for one environment."""

from __future__ import annotations

from aws_cdk import App

from stacks.config import EnvironmentConfig
from stacks.hardened import build_hardened_platform
from stacks.payments import PaymentsStack
from stacks.security import SecurityStack


def build_platform(app: App, config: EnvironmentConfig) -> dict[str, object]:
    """Create every stack of the platform for ``config``; returns them by short name."""
    security = SecurityStack(app, "PaymentsSecurity", config=config)
    payments = PaymentsStack(app, "Payments", config=config, key=security.key)
    hardened = build_hardened_platform(app, config, security=security, payments=payments)
    return {"security": security, "payments": payments, **hardened}
