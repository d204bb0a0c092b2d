"""The governance policy: the ``governance`` block of the CDK context, read into typed values.

Defaults live here and are documented in the README; an environment's overrides live beside the
defaults under ``governance.environments.<name>``, and a synthesis profile's (for example
``legacy``) under ``governance.profiles.<name>``. Bad values raise :class:`PolicyError` with one
sentence naming the key and what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.model import Severity

DEFAULT_MANDATORY_TAGS = ("Environment", "Owner", "CostCenter", "DataClassification")


class PolicyError(ValueError):
    """A policy value is missing, unknown or of the wrong type."""


@dataclass(frozen=True)
class Thresholds:
    """Numbers and names rules compare against; every field is overridable per environment."""

    lambda_memory_max_mb: int = 1024
    lambda_timeout_max_s: int = 30
    lambda_architectures: tuple[str, ...] = ("arm64",)
    app_log_retention_max_days: int = 30
    audit_log_retention_min_days: int = 365
    audit_log_hot_min_days: int = 90
    nat_gateways_max: int | None = None
    dynamodb_billing_mode: str = "any"  # "on_demand" | "provisioned" | "any"
    rest_apis_max: int | None = 1
    fargate_spot_min_share: float = 0.5
    cost_allocation_tags: tuple[str, ...] = ("CostCenter", "Environment")
    deprecated_runtimes: tuple[str, ...] = (
        "python2.7",
        "python3.6",
        "python3.7",
        "python3.8",
        "nodejs",
        "nodejs4.3",
        "nodejs6.10",
        "nodejs8.10",
        "nodejs10.x",
        "nodejs12.x",
        "nodejs14.x",
        "nodejs16.x",
        "java8",
        "dotnetcore2.1",
        "dotnetcore3.1",
        "dotnet6",
        "ruby2.5",
        "ruby2.7",
        "go1.x",
        # marked "no longer supported by AWS Lambda" in aws-cdk-lib 2.275's Runtime class
        "nodejs18.x",
        "python3.9",
        "provided",
        "dotnetcore1.0",
        "dotnetcore2.0",
    )
    previous_generation_instance_families: tuple[str, ...] = (
        "t1",
        "t2",
        "m1",
        "m2",
        "m3",
        "m4",
        "c1",
        "c3",
        "c4",
        "r3",
        "r4",
        "i2",
        "d2",
        "g2",
        "p2",
        "x1",
    )
    #: Security policies that allow nothing older than TLS 1.2: ELBv2 `SslPolicy`, CloudFront
    #: `MinimumProtocolVersion` and origin protocols, API Gateway `SecurityPolicy` (PCI DSS 4.2.1).
    tls_min_policies: tuple[str, ...] = (
        # ELBv2 (names as listed by aws-cdk-lib 2.275's SslPolicy; "-1-2-"/"-1-3-" = minimum)
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        "ELBSecurityPolicy-FS-1-2-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
        # CloudFront viewer minimum protocol, and origin SSL protocols
        "TLSv1.2_2021",
        "TLSv1.2_2025",
        "TLSv1.3_2025",
        "TLSv1.2",
        # API Gateway custom domains
        "TLS_1_2",
        "SecurityPolicy_TLS13_1_3_2025_09",
        "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
        "SecurityPolicy_TLS13_1_2_PQ_2025_09",
        "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
        "SecurityPolicy_TLS13_2025_EDGE",
        "SecurityPolicy_TLS12_PFS_2025_EDGE",
        "SecurityPolicy_TLS12_2018_EDGE",
    )
    #: IAM actions accepted on `Resource: "*"` without a condition: they have no resource-level
    #: permissions, or CDK's own handlers need them (log retention).
    wildcard_resource_actions: tuple[str, ...] = (
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "cloudwatch:PutMetricData",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "ec2:Describe*",
        "logs:DescribeLogGroups",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        # vended log delivery (Step Functions, API Gateway v2, Pipes logging): no resource ARNs
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "dynamodb:ListStreams",
        "secretsmanager:GetRandomPassword",
        "ecr:GetAuthorizationToken",
        "kms:ListAliases",
        "sts:GetCallerIdentity",
    )
    #: AWS managed policies that grant administrator-level access (PCI DSS 7.2.1, 7.2.2).
    admin_managed_policies: tuple[str, ...] = (
        "AdministratorAccess",
        "PowerUserAccess",
        "IAMFullAccess",
        "AdministratorAccess-Amplify",
        "AWSOrganizationsFullAccess",
    )
    #: TCP ports of remote administration that must never be open to the internet.
    admin_ports: tuple[int, ...] = (22, 3389)
    #: Words that mark a variable or parameter name as holding a secret.
    secret_name_markers: tuple[str, ...] = (
        "PASSWORD",
        "PASSWD",
        "PWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
        "CREDENTIALS",
    )
    #: Name endings that mark a variable as a *reference* to a secret, not the secret.
    secret_reference_suffixes: tuple[str, ...] = (
        "_ARN",
        "_NAME",
        "_ID",
        "_PARAM",
        "_PARAMETER",
        "_PATH",
        "_URL",
        "_ENDPOINT",
        "_TTL",
        "_HEADER",
    )
    secret_rotation_max_days: int = 90
    password_min_length: int = 12
    backup_retention_min_days: int = 7
    #: Words that mark a subnet as a data (non-public) tier.
    data_subnet_markers: tuple[str, ...] = ("isolated", "private", "data", "db", "database")


@dataclass(frozen=True)
class RuleOverride:
    enabled: bool = True
    severity: Severity | None = None


@dataclass(frozen=True)
class Policy:
    """What the rules and Aspects of one synthesis (or one ``govern check``) obey."""

    environment: str | None = None
    profile: str | None = None
    suffix: str | None = None
    mandatory_tags: tuple[str, ...] = DEFAULT_MANDATORY_TAGS
    tag_values: Mapping[str, str] = field(default_factory=dict)
    apply_tags: bool = True
    destroy_stateful: bool = False
    fail_on: Severity = Severity.ERROR
    undecidable_severity: Severity = Severity.WARNING
    cdk_nag_packs: tuple[str, ...] = ()
    rules: Mapping[str, RuleOverride] = field(default_factory=dict)
    category_severity: Mapping[str, Severity] = field(default_factory=dict)
    non_waivable: tuple[str, ...] = ()
    audit_log_markers: tuple[str, ...] = ("audit", "access-log", "accesslog", "flow", "trail")
    thresholds: Thresholds = field(default_factory=Thresholds)

    def severity_for(self, rule_id: str, category: str, default: Severity) -> Severity:
        override = self.rules.get(rule_id)
        if override is not None and override.severity is not None:
            return override.severity
        return self.category_severity.get(category, default)

    def enabled(self, rule_id: str) -> bool:
        override = self.rules.get(rule_id)
        return override.enabled if override is not None else True

    @classmethod
    def from_context(
        cls,
        governance: Mapping[str, Any] | None,
        *,
        environment: str | None = None,
        profile: str | None = None,
        suffix: str | None = None,
    ) -> Policy:
        """Build the policy for one environment and profile from the ``governance`` context."""
        raw = _merged(governance or {}, environment, profile)
        return _build(raw, environment=environment, profile=profile, suffix=suffix)


_TOP_KEYS = {
    "mandatory_tags",
    "tag_values",
    "apply_tags",
    "destroy_stateful",
    "fail_on",
    "undecidable_severity",
    "cdk_nag",
    "rules",
    "category_severity",
    "non_waivable",
    "audit_log_markers",
    "thresholds",
    "environments",
    "profiles",
}
_CDK_NAG_PACKS = ("aws_solutions", "pci_dss_321")


def _merged(governance: Mapping[str, Any], environment: str | None, profile: str | None) -> dict:
    if not isinstance(governance, Mapping):
        raise PolicyError("context key 'governance' must be an object")
    _check_keys(governance, _TOP_KEYS, "governance")
    base = {
        k: copy.deepcopy(v) for k, v in governance.items() if k not in ("environments", "profiles")
    }
    envs = governance.get("environments") or {}
    profiles = governance.get("profiles") or {}
    if not isinstance(envs, Mapping):
        raise PolicyError("governance.environments must be an object keyed by environment name")
    if not isinstance(profiles, Mapping):
        raise PolicyError("governance.profiles must be an object keyed by profile name")
    if environment is not None and envs and environment not in envs:
        allowed = ", ".join(sorted(envs))
        raise PolicyError(
            f"unknown environment {environment!r} in governance.environments (allowed: {allowed})"
        )
    if profile is not None and profile not in profiles:
        allowed = ", ".join(sorted(profiles)) or "none configured"
        raise PolicyError(
            f"unknown profile {profile!r} in governance.profiles (allowed: {allowed})"
        )
    for layer_name, layer in (
        (f"governance.environments.{environment}", envs.get(environment) if environment else None),
        (f"governance.profiles.{profile}", profiles.get(profile) if profile else None),
    ):
        if layer is None:
            continue
        if not isinstance(layer, Mapping):
            raise PolicyError(f"{layer_name} must be an object")
        _check_keys(layer, _TOP_KEYS - {"environments", "profiles"}, layer_name)
        _deep_merge(base, layer)
    return base


def _deep_merge(base: dict, layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def _check_keys(mapping: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise PolicyError(f"unknown key {where}.{key} (allowed: {', '.join(sorted(allowed))})")


def _severity(value: Any, key: str) -> Severity:
    if not isinstance(value, str):
        raise PolicyError(f"{key} must be one of info, warning, error; got {value!r}")
    try:
        return Severity.parse(value)
    except ValueError:
        raise PolicyError(f"{key} must be one of info, warning, error; got {value!r}") from None


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{key} must be true or false; got {value!r}")
    return value


def _str_list(value: Any, key: str, *, non_empty_items: bool = True) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and (v or not non_empty_items) for v in value
    ):
        raise PolicyError(f"{key} must be a list of non-empty strings; got {value!r}")
    return tuple(value)


def _build(
    raw: dict, *, environment: str | None, profile: str | None, suffix: str | None
) -> Policy:
    kwargs: dict[str, Any] = {"environment": environment, "profile": profile}
    kwargs["suffix"] = suffix if suffix is not None else environment
    if "mandatory_tags" in raw:
        tags = _str_list(raw["mandatory_tags"], "governance.mandatory_tags")
        kwargs["mandatory_tags"] = tags
    if "tag_values" in raw:
        values = raw["tag_values"]
        if not isinstance(values, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            raise PolicyError("governance.tag_values must map tag keys to string values")
        kwargs["tag_values"] = dict(values)
    for key in ("apply_tags", "destroy_stateful"):
        if key in raw:
            kwargs[key] = _bool(raw[key], f"governance.{key}")
    for key in ("fail_on", "undecidable_severity"):
        if key in raw:
            kwargs[key] = _severity(raw[key], f"governance.{key}")
    if "cdk_nag" in raw:
        nag = raw["cdk_nag"]
        if not isinstance(nag, Mapping):
            raise PolicyError("governance.cdk_nag must be an object of pack: true/false")
        _check_keys(nag, set(_CDK_NAG_PACKS), "governance.cdk_nag")
        kwargs["cdk_nag_packs"] = tuple(
            p for p in _CDK_NAG_PACKS if _bool(nag.get(p, False), f"governance.cdk_nag.{p}")
        )
    if "rules" in raw:
        rules = raw["rules"]
        if not isinstance(rules, Mapping):
            raise PolicyError("governance.rules must be an object keyed by rule id")
        overrides = {}
        for rule_id, spec in rules.items():
            where = f"governance.rules.{rule_id}"
            if not isinstance(spec, Mapping):
                raise PolicyError(f"{where} must be an object with 'enabled' and/or 'severity'")
            _check_keys(spec, {"enabled", "severity"}, where)
            overrides[rule_id] = RuleOverride(
                enabled=_bool(spec.get("enabled", True), f"{where}.enabled"),
                severity=_severity(spec["severity"], f"{where}.severity")
                if "severity" in spec
                else None,
            )
        kwargs["rules"] = overrides
    if "category_severity" in raw:
        cats = raw["category_severity"]
        if not isinstance(cats, Mapping):
            raise PolicyError("governance.category_severity must map a rule category to a severity")
        kwargs["category_severity"] = {
            c: _severity(s, f"governance.category_severity.{c}") for c, s in cats.items()
        }
    if "non_waivable" in raw:
        kwargs["non_waivable"] = _str_list(raw["non_waivable"], "governance.non_waivable")
    if "audit_log_markers" in raw:
        kwargs["audit_log_markers"] = tuple(
            m.lower() for m in _str_list(raw["audit_log_markers"], "governance.audit_log_markers")
        )
    if "thresholds" in raw:
        kwargs["thresholds"] = _thresholds(raw["thresholds"])
    return Policy(**kwargs)


def _thresholds(raw: Any) -> Thresholds:
    if not isinstance(raw, Mapping):
        raise PolicyError("governance.thresholds must be an object")
    fields = {f.name: f for f in dataclasses.fields(Thresholds)}
    _check_keys(raw, set(fields), "governance.thresholds")
    defaults = Thresholds()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"governance.thresholds.{key}"
        default = getattr(defaults, key)
        if isinstance(default, tuple) and default and isinstance(default[0], int):
            if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
            ):
                raise PolicyError(f"{where} must be a list of whole numbers; got {value!r}")
            values[key] = tuple(value)
        elif isinstance(default, tuple):
            values[key] = _str_list(value, where)
        elif key == "dynamodb_billing_mode":
            if value not in ("on_demand", "provisioned", "any"):
                raise PolicyError(
                    f"{where} must be one of on_demand, provisioned, any; got {value!r}"
                )
            values[key] = value
        elif isinstance(default, float):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 1
            ):
                raise PolicyError(f"{where} must be a number between 0 and 1; got {value!r}")
            values[key] = float(value)
        else:  # integers, some nullable
            nullable = key in ("nat_gateways_max", "rest_apis_max")
            if value is None and nullable:
                values[key] = None
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                extra = " or null" if nullable else ""
                raise PolicyError(f"{where} must be a whole number >= 0{extra}; got {value!r}")
            else:
                values[key] = value
    return dataclasses.replace(defaults, **values)
