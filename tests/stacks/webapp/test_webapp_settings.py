"""The ``webapp`` section is read strictly: a wrong combination is one sentence naming the key."""

from __future__ import annotations

from typing import Any

import pytest
from webapp_support import cdk_context

from stacks.config import ConfigError, load_configuration


def _load(change: Any, env: str = "production", profile: str = "optimised") -> None:
    ctx = cdk_context()
    change(ctx)
    load_configuration({**ctx, "env": env, "profile": profile})


def _set(path: str, value: Any) -> Any:
    def change(ctx: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = ctx
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return change


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "defaults.webapp.service.architecture",
            "arm64",
            "defaults.webapp.service.architecture must be x86_64 while spot_weight > 0: Fargate "
            "Spot supports only Linux tasks on x86_64",
        ),
        (
            "environments.production.webapp.service.memory_mb",
            512,
            "environments.production.webapp.service.memory_mb must be between 2048 and 8192 for "
            "cpu 1024",
        ),
        (
            "defaults.webapp.service.user",
            "0:0",
            "defaults.webapp.service.user must be a numeric uid:gid other than 0 (root)",
        ),
        (
            "environments.production.webapp.database.backup_retention_days",
            3,
            "environments.production.webapp.database.backup_retention_days must be a whole "
            "number between 7 and 35",
        ),
        (
            "environments.production.webapp.edge.certificate_arn",
            "arn:aws:acm:us-east-2:333333333333:certificate/6f7a8b9c-0d1e-4f2a-9b3c-5d6e7f8a9b0c",
            "environments.production.webapp.edge.certificate_arn must be issued in us-east-1",
        ),
        (
            "defaults.webapp.alarms.subscriptions",
            ["nobody"],
            "defaults.webapp.alarms.subscriptions names 'nobody', which is not one of the contacts",
        ),
        (
            "defaults.webapp.validation.queue.visibility_timeout_s",
            60,
            "defaults.webapp.validation.queue.visibility_timeout_s must be at least 6 x "
            "function.timeout_s (180)",
        ),
    ],
)
def test_a_wrong_value_is_one_sentence_naming_the_key(path: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(_set(path, value))
    assert str(caught.value).startswith(message), str(caught.value)


def test_the_legacy_overlay_may_run_arm64_only_without_spot() -> None:
    def on_demand_arm(ctx: dict[str, Any]) -> None:
        ctx["platform_profiles"]["legacy"]["all"]["webapp"]["service"]["architecture"] = "arm64"

    def spot_arm(ctx: dict[str, Any]) -> None:
        on_demand_arm(ctx)
        ctx["platform_profiles"]["legacy"]["all"]["webapp"]["service"]["spot_weight"] = 1

    _load(on_demand_arm, profile="legacy")  # legacy is on demand only: arm64 is allowed
    with pytest.raises(ConfigError) as caught:
        _load(spot_arm, profile="optimised")  # every profile is checked on every run
    assert str(caught.value).startswith(
        "platform_profiles.legacy.all.webapp.service.architecture must be x86_64 while spot_weight"
    ), str(caught.value)
