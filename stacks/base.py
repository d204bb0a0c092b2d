"""The base stack every platform stack derives from: where it deploys and how its names end."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stack
from constructs import Construct

from stacks.config import Deployment


class BaseStack(Stack):
    """A stack bound to one :class:`Deployment`, deployed to its account and region.

    The stack's name is ``<construct id>-<suffix>``; :meth:`name` gives physical names the
    same suffix. Settings come as further keyword-only arguments of each stack, typed.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, deployment: Deployment, **kwargs: Any
    ) -> None:
        kwargs.setdefault("env", Environment(account=deployment.account, region=deployment.region))
        kwargs.setdefault("stack_name", f"{construct_id}-{deployment.suffix}")
        super().__init__(scope, construct_id, **kwargs)
        self.deployment = deployment

    def name(self, base: str) -> str:
        """A physical name carrying the environment suffix."""
        return self.deployment.physical_name(base)
