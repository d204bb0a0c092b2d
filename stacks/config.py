"""The platform's environment configuration: ``cdk.json`` context read into a frozen dataclass.

``app.py`` builds one :class:`EnvironmentConfig` for the environment named by ``-c env=...`` and
passes it to every stack as a keyword argument; no stack reads context on its own. A missing key,
an unknown environment or a value of the wrong type raises :class:`ConfigError` with one sentence
naming the key and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SUFFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,19}$")
ACCOUNT_PATTERN = re.compile(r"^\d{12}$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class ConfigError(ValueError):
    """The environment configuration in ``cdk.json`` is wrong; the message says which key."""


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything environment-specific the stacks need, read once in ``app.py``."""

    name: str
    suffix: str
    profile: str
    account: str
    region: str
    secondary_region: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def section(self, key: str) -> ConfigReader:
        """Typed reader over ``environments.<name>.<key>`` (after the profile's overrides)."""
        value = self.raw.get(key)
        if not isinstance(value, Mapping):
            raise ConfigError(f"missing key environments.{self.name}.{key} (an object)")
        return ConfigReader(value, f"environments.{self.name}.{key}")

    def physical_name(self, base: str) -> str:
        """``base`` with the environment suffix, e.g. ``payment-transactions-dev``."""
        return f"{base}-{self.suffix}"


class ConfigReader:
    """Typed access to one configuration mapping with error messages that name the key."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def _get(self, key: str) -> Any:
        if key not in self.raw:
            raise ConfigError(f"missing key {self.where}.{key}")
        return self.raw[key]

    def string(self, key: str, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        value = self._get(key)
        if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
            expected = what or "a string"
            raise ConfigError(f"{self.where}.{key} must be {expected}; got {value!r}")
        return value

    def integer(self, key: str, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._get(key)
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and minimum is not None and value < minimum:
            ok = False
        if ok and maximum is not None and value > maximum:
            ok = False
        if not ok:
            bounds = (
                f" between {minimum} and {maximum}"
                if minimum is not None and maximum is not None
                else (f" >= {minimum}" if minimum is not None else "")
            )
            raise ConfigError(f"{self.where}.{key} must be a whole number{bounds}; got {value!r}")
        return value

    def number(self, key: str, minimum: float | None = None, maximum: float | None = None) -> float:
        value = self._get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            raise ConfigError(
                f"{self.where}.{key} must be a number in [{minimum}, {maximum}]; got {value!r}"
            )
        return float(value)

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where}.{key} must be true or false; got {value!r}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self._get(key)
        if value not in allowed:
            raise ConfigError(
                f"{self.where}.{key} must be one of {', '.join(allowed)}; got {value!r}"
            )
        return value

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.where}.{key} must be a list of strings; got {value!r}")
        return tuple(value)

    def section(self, key: str) -> ConfigReader:
        value = self._get(key)
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.where}.{key} must be an object; got {value!r}")
        return ConfigReader(value, f"{self.where}.{key}")

    def optional(self, key: str) -> bool:
        return key in self.raw


def load_environment(
    context: Mapping[str, Any] | None,
    *,
    env: str | None,
    suffix: str | None = None,
    profile: str | None = None,
) -> EnvironmentConfig:
    """Build the configuration for ``env`` from the CDK context (``environments`` block).

    A profile (``-c profile=legacy``) overlays ``platform_profiles.<profile>.all`` and then
    ``platform_profiles.<profile>.<env>`` on the
    environment before it is read."""
    context = context or {}
    environments = context.get("environments")
    if not isinstance(environments, Mapping) or not environments:
        raise ConfigError(
            "missing context key 'environments' (an object keyed by environment name)"
        )
    if not env:
        raise ConfigError(
            f"no environment given: pass -c env=NAME (allowed: {', '.join(environments)})"
        )
    if env not in environments:
        raise ConfigError(f"unknown environment {env!r} (allowed: {', '.join(environments)})")
    raw = environments[env]
    if not isinstance(raw, Mapping):
        raise ConfigError(f"environments.{env} must be an object")
    profile = profile or "optimised"
    profile_layers = (context.get("platform_profiles") or {}).get(profile) or {}
    for layer_key in ("all", env):
        overlay = profile_layers.get(layer_key) or {}
        if not isinstance(overlay, Mapping):
            raise ConfigError(f"platform_profiles.{profile}.{layer_key} must be an object")
        raw = _deep_merged(raw, overlay)
    reader = ConfigReader(raw, f"environments.{env}")
    suffix = suffix or env
    if not SUFFIX_PATTERN.match(suffix):
        raise ConfigError(
            f"suffix {suffix!r} must be 1-20 lower-case letters, digits or hyphens, starting with a letter or digit"
        )
    profiles = (context.get("governance") or {}).get("profiles") or {"optimised": {}}
    if profile not in profiles:
        raise ConfigError(f"unknown profile {profile!r} (allowed: {', '.join(profiles)})")
    return EnvironmentConfig(
        name=env,
        suffix=suffix,
        profile=profile,
        account=reader.string("account", ACCOUNT_PATTERN, "a 12-digit account id"),
        region=reader.string("region", REGION_PATTERN, "an AWS region such as us-east-1"),
        secondary_region=reader.string(
            "secondary_region", REGION_PATTERN, "an AWS region such as us-west-2"
        ),
        raw=raw,
    )


def _deep_merged(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merged(out[key], value)
        else:
            out[key] = value
    return out
