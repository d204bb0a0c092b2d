"""The one configuration of a run: ``cdk.json`` context read once into a typed, frozen value.

``app.py`` calls :func:`load_configuration` once; the result, a :class:`Configuration`, names the
environment (``-c env=``), the profile (``-c profile=``, default ``optimised``), the naming
suffix (``-c suffix=``, default the environment's name), the account and regions, and holds one
typed section per system (``payments``, ``platform``). The governance policy is built from the
*same* environment, profile and suffix; stacks are handed typed sections, never the context.

An environment's values are layered, later layers winning, merged with
:func:`governance.merge.deep_merged`:

1. ``defaults`` - what every environment shares, written once;
2. ``environments.<env>`` - what this environment changes;
3. ``platform_profiles.<profile>.all`` and ``platform_profiles.<profile>.<env>`` - the overlay of
   the profile (``legacy`` is the cost report's "before").

Every environment under every profile is checked, not only the one synthesized, so a typo in
``production`` or in the ``legacy`` overlay fails ``-c env=dev`` too (a few milliseconds each). Anything wrong - a missing or unknown key, a value of the wrong type or
shape - raises :class:`ConfigError` with one sentence naming the key in the layer it came from.
This module imports no CDK.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from governance.identifiers import SUFFIX_RULE, is_suffix
from governance.merge import deep_merged
from stacks.global_data.settings import GlobalDataSettings
from stacks.payments.settings import PaymentsSettings
from stacks.platform.settings import TOPICS, PlatformSettings
from stacks.validation import (
    Account,
    ConfigError,
    Email,
    Invalid,
    Layer,
    Region,
    read,
    settings,
)
from stacks.webapp.settings import WebAppSettings

if TYPE_CHECKING:
    from governance.policy import Policy

__all__ = ["ConfigError", "Configuration", "Deployment", "cli_context", "load_configuration"]

#: The context keys this configuration reads (CDK's own keys contain ':' or start with '@').
CONTEXT_KEYS = ("env", "suffix", "profile", "defaults", "environments", "platform_profiles", "governance", "cdk_builtin_validation")  # fmt: skip
DEFAULT_PROFILE = "optimised"
#: Where the CDK CLI hands an app its context (aws-cdk-lib's App reads the same two).
CONTEXT_ENV = "CDK_CONTEXT_JSON"
CONTEXT_OVERFLOW_ENV = "CONTEXT_OVERFLOW_LOCATION_ENV"


@settings
class EnvironmentSettings:
    """One environment after its layers are merged: where it deploys and each system's section."""

    #: AWS account the environment deploys to
    account: Account
    #: AWS region the environment deploys to
    region: Region
    #: the second region (for multi-region systems)
    secondary_region: Region
    #: e-mail address by contact name, referenced by alerts.subscriptions
    contacts: dict[str, Email]
    #: the payment pipeline (seed 001/002)
    payments: PaymentsSettings
    #: the hardened platform (seed 000)
    platform: PlatformSettings
    #: the highly available web application (seed 003)
    webapp: WebAppSettings
    #: multi-region payment data (seed 004)
    global_data: GlobalDataSettings

    def __post_init__(self) -> None:
        edge = self.platform.edge
        if edge.enabled and edge.region != self.region:
            raise Invalid(
                f"is {edge.region}, where CloudFront-scope resources (the WAF web ACL, the "
                f"viewer certificate) must be created, but the platform is deployed to "
                f"{self.region}: deploy the environment to {edge.region} or disable "
                "platform.edge.enabled",
                key="platform.edge.region",
                show_value=False,
            )
        for topic in TOPICS:
            self._check_contacts(
                f"platform.alerts.subscriptions.{topic}",
                getattr(self.platform.alerts.subscriptions, topic),
            )
        for key, names in (
            ("webapp.alarms.subscriptions", self.webapp.alarms.subscriptions),
            ("global_data.alarms.subscriptions", self.global_data.alarms.subscriptions),
        ):
            self._check_contacts(key, names)
        self.global_data.check_regions(self.region, self.secondary_region)

    def _check_contacts(self, key: str, names: tuple[str, ...]) -> None:
        """Each name in ``names`` (the value of ``key``) is one of the environment's contacts."""
        for name in names:
            if name not in self.contacts:
                known = ", ".join(sorted(self.contacts)) or "none"
                raise Invalid(
                    f"names {name!r}, which is not one of the contacts ({known})",
                    key=key,
                    show_value=False,
                )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Deployment:
    """Where a stack goes and how its physical names end: what every stack is handed."""

    environment: str
    suffix: str
    account: str
    region: str

    @property
    def owns_account_singletons(self) -> bool:
        """The environment's own deployment (suffix = its name), not a parallel copy.

        Account- and region-level singletons (GuardDuty detector, the AWS services anomaly
        monitor, API Gateway's account role) are created only then; the governance policy
        judges the same thing (``Policy.parallel_copy``, rule DEPLOY-SINGLE-001).
        """
        return self.suffix == self.environment

    def physical_name(self, base: str) -> str:
        """``base`` with the environment suffix, e.g. ``payment-transactions-dev``."""
        return f"{base}-{self.suffix}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Configuration:
    """Everything one synthesis needs, read once in ``app.py``.

    Room for more systems: a system adds its section as a field here and on
    :class:`EnvironmentSettings` (see docs/configuration.md).
    """

    deployment: Deployment
    profile: str
    secondary_region: str
    contacts: Mapping[str, str]
    payments: PaymentsSettings
    platform: PlatformSettings
    webapp: WebAppSettings
    global_data: GlobalDataSettings
    #: run aws-cdk-lib's own CloudFormation validation on synth (``cdk_builtin_validation``;
    #: off in ``cdk.json``: the cfn-lint test judges every template instead, docs/deploy.md)
    cdk_builtin_validation: bool = True

    @property
    def name(self) -> str:
        """The environment's name (``dev``, ``staging``, ``production``)."""
        return self.deployment.environment

    @property
    def suffix(self) -> str:
        return self.deployment.suffix

    @property
    def account(self) -> str:
        return self.deployment.account

    @property
    def region(self) -> str:
        return self.deployment.region

    def addresses(self, names: Iterable[str]) -> tuple[str, ...]:
        """The e-mail addresses of ``names`` (contacts, checked when the configuration was read)."""
        return tuple(self.contacts[name] for name in names)


def cli_context(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The context the CDK CLI hands the app, read as aws-cdk-lib's ``App`` reads it.

    Reading it here lets ``app.py`` check the configuration before the CDK (and its jsii
    runtime) is loaded; ``App`` then reads the same two sources itself."""
    context: dict[str, Any] = {}
    try:
        if environ.get(CONTEXT_ENV):
            context.update(json.loads(environ[CONTEXT_ENV]))
        if environ.get(CONTEXT_OVERFLOW_ENV):
            context.update(json.loads(Path(environ[CONTEXT_OVERFLOW_ENV]).read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read the CDK context: {exc}") from None
    if not isinstance(context, dict):
        raise ConfigError("the CDK context must be a JSON object")
    return context


def load_configuration(context: Mapping[str, Any]) -> Configuration:
    """Read ``context`` (``env``, ``suffix``, ``profile`` and the configuration blocks)."""
    _refuse_near_misses(context)
    environments = context.get("environments")
    if not isinstance(environments, Mapping) or not environments:
        raise ConfigError(
            "missing context key 'environments' (an object keyed by environment name)"
        )
    names = ", ".join(environments)
    env = context.get("env")
    if env is None:
        raise ConfigError(f"no environment given: pass -c env=NAME (allowed: {names})")
    if not isinstance(env, str):
        raise ConfigError(f"env must be the name of an environment ({names}); got {env!r}")
    if env not in environments:
        raise ConfigError(f"unknown environment {env!r} (allowed: {names})")
    suffix = context.get("suffix", env)
    if not is_suffix(suffix):
        if "suffix" in context:
            raise ConfigError(f"suffix must be {SUFFIX_RULE}; got {suffix!r}")
        raise ConfigError(
            f"environment name {env!r} cannot be the default suffix, which must be "
            f"{SUFFIX_RULE}: pass -c suffix=..."
        )
    profile = context.get("profile", DEFAULT_PROFILE)
    profiles = _mapping(context, "platform_profiles", {DEFAULT_PROFILE: {}})
    if not isinstance(profile, str) or profile not in profiles:
        allowed = ", ".join(profiles)
        raise ConfigError(f"unknown profile {profile!r} in platform_profiles (allowed: {allowed})")
    defaults = _mapping(context, "defaults", {})
    checked: dict[tuple[str, str], EnvironmentSettings] = {}
    for each_profile in (profile, *(p for p in profiles if p != profile)):
        where = f"platform_profiles.{each_profile}"
        overlays = _mapping(profiles, each_profile, {}, "platform_profiles")
        for key in overlays:
            if key != "all" and key not in environments:
                raise ConfigError(f"unknown key {where}.{key} (allowed: all, {names})")
        for name in (env, *(n for n in environments if n != env)):
            layers: list[Layer] = [
                ("defaults", defaults),
                (f"environments.{name}", _mapping(environments, name, None, "environments")),
                (f"{where}.all", _mapping(overlays, "all", {}, where)),
                (f"{where}.{name}", _mapping(overlays, name, {}, where)),
            ]
            merged: dict[str, Any] = {}
            for _, layer in layers:
                merged = deep_merged(merged, layer)
            checked[each_profile, name] = read(
                EnvironmentSettings, merged, layers, f"environments.{name}"
            )
    chosen = checked[profile, env]
    validation = context.get("cdk_builtin_validation", True)
    if isinstance(validation, str) and validation.lower() in ("true", "false"):
        validation = validation.lower() == "true"  # -c cdk_builtin_validation=true
    if not isinstance(validation, bool):
        raise ConfigError(f"cdk_builtin_validation must be true or false; got {validation!r}")
    return Configuration(
        cdk_builtin_validation=validation,
        deployment=Deployment(
            environment=env, suffix=suffix, account=chosen.account, region=chosen.region
        ),
        profile=profile,
        secondary_region=chosen.secondary_region,
        contacts=MappingProxyType(dict(chosen.contacts)),
        payments=chosen.payments,
        platform=chosen.platform,
        webapp=chosen.webapp,
        global_data=chosen.global_data,
    )


def tag_value(policy: Policy, key: str, why: str) -> str:
    """The policy's value of tag ``key``, which the platform also needs (``why``)."""
    value = policy.tag_values.get(key)
    if not value:
        raise ConfigError(f"missing key governance.tag_values.{key}: {why}")
    return value


def _mapping(
    parent: Mapping[str, Any], key: str, default: Any, where: str | None = None
) -> Mapping[str, Any]:
    value = parent.get(key, default)
    path = f"{where}.{key}" if where else key
    if value is None and default is None:
        raise ConfigError(f"missing key {path}")
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path} must be an object; got {value!r}")
    return value


def _refuse_near_misses(context: Mapping[str, Any]) -> None:
    """A context key one typo away from a known one (``sufix``) is refused, not ignored."""
    for key in context:
        if key in CONTEXT_KEYS or ":" in key or key.startswith("@"):
            continue
        close = difflib.get_close_matches(key, CONTEXT_KEYS, n=1, cutoff=0.8)
        if close:
            raise ConfigError(f"unknown context key {key!r} (did you mean {close[0]!r}?)")


def key_reference() -> str:
    """The Markdown table of every key of an environment (docs/configuration.md)."""
    from stacks.validation import reference

    lines = ["| key | must be | meaning |", "| --- | --- | --- |"]
    for key, expected, meaning in reference(EnvironmentSettings):
        cells = (f"`{key}`", expected.replace("|", "\\|"), meaning.replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
