"""The base stack every platform stack derives from: typed configuration, environment, names."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stack
from constructs import Construct

from stacks.config import EnvironmentConfig


class BaseStack(Stack):
    """A stack bound to one :class:`EnvironmentConfig`, deployed to its account and region."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any
    ) -> None:
        kwargs.setdefault("env", Environment(account=config.account, region=config.region))
        kwargs.setdefault("stack_name", f"{construct_id}-{config.suffix}")
        super().__init__(scope, construct_id, **kwargs)
        self.config = config

    def name(self, base: str) -> str:
        """A physical name carrying the environment suffix."""
        return self.config.physical_name(base)
