"""The governance policy: the ``governance`` block of the CDK context, read into typed values.

Defaults live here and are documented in ``docs/governance.md``; an environment's overrides live
beside the defaults under ``governance.environments.<name>``, and a synthesis profile's (for
example ``legacy``) under ``governance.profiles.<name>``.

The reader is strict: every layer (the defaults, every environment, every profile - not only the
ones chosen) is checked, and an unknown key, rule id, category or severity, or a value of the
wrong type, raises :class:`PolicyError` with one sentence naming the key and, when there is a near
miss, what was meant (``unknown rule id governance.rules.ENC-01 (did you mean ENC-001?)``). Rule
ids are checked against the rule registry, which is imported only when the policy names rules.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from governance.identifiers import SUFFIX_RULE, is_suffix
from governance.merge import deep_merged
from governance.model import PLUGIN_NAME, Category, Severity

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
    #: Which key must encrypt Lambda environment variables (ENC-LAMBDA-001).
    lambda_environment_key: str = "any"  # "customer_managed" | "any"
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
        "_MODE",  # a setting about secrets (``secrets-mode: import``), not one
    )
    secret_rotation_max_days: int = 90
    password_min_length: int = 12
    backup_retention_min_days: int = 7
    #: Systems (values of the ``system_tag_key`` tag) whose roles take customer-managed
    #: policies only, never inline ones (PCI-IAM-006); empty: no system is asked.
    managed_policies_only_systems: tuple[str, ...] = ()
    #: The tag naming the system a resource belongs to.
    system_tag_key: str = "System"
    #: Words that mark a subnet as a data (non-public) tier.
    data_subnet_markers: tuple[str, ...] = ("isolated", "private", "data", "db", "database")


@dataclass(frozen=True)
class RuleOverride:
    """``governance.rules.<ID>``: switch one rule off, or give it another severity."""

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
    #: Keys of the cdk-nag packs switched on (``aws_solutions``, ``pci_dss_321``, ...).
    cdk_nag_packs: tuple[str, ...] = ()
    rules: Mapping[str, RuleOverride] = field(default_factory=dict)
    category_severity: Mapping[Category, Severity] = field(default_factory=dict)
    non_waivable: tuple[str, ...] = ()
    audit_log_markers: tuple[str, ...] = ("audit", "access-log", "accesslog", "flow", "trail")
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: ``governance.conflicts``: which side wins where a cdk-nag rule asks the opposite of ours.
    conflicts: Mapping[str, str] = field(default_factory=dict)
    #: Categories whose rules report at most a warning because the app has not configured what
    #: they compare against (see :func:`provisional_categories`); empty for ``Policy()``.
    provisional: tuple[Category, ...] = ()
    #: Adoption baseline file (``governance.baseline``), relative to the app's directory: its
    #: findings do not fail synth (see :mod:`governance.baseline`).
    baseline: str | None = None
    #: ``governance.limits``: what one input file may be (``max_file_size``, ``max_depth``,
    #: ``max_yaml_nodes``); a ``govern check`` flag overrides the key, the key the default.
    limits: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_conflicts(self)

    def severity_for(self, rule_id: str, category: str, default: Severity) -> Severity:
        """A rule's severity: its override, else its category's, else (for a category not yet
        configured) at most a warning, else the rule's own."""
        override = self.rules.get(rule_id)
        if override is not None and override.severity is not None:
            return override.severity
        if category in self.category_severity:
            return self.category_severity[category]  # type: ignore[index]
        if category in self.provisional:
            return min(default, Severity.WARNING)
        return default

    @property
    def default_suffix(self) -> str | None:
        """The suffix of the environment's own deployment: its name (``stacks.config`` agrees)."""
        return self.environment

    @property
    def parallel_copy(self) -> bool:
        """A second copy in the environment's account (``-c suffix=pr42``), not its own deployment.

        False when the environment is unknown (``govern check`` on a foreign template).
        """
        return self.environment is not None and self.suffix not in (None, self.default_suffix)

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
        """Build the policy for one environment and profile from the ``governance`` context.

        ``suffix=None`` means the environment's name; an empty or malformed suffix (see
        :func:`governance.identifiers.is_suffix`) is refused, so NAME-001 always has one to check.
        """
        env = _name(environment, "environment")
        prof = _name(profile, "profile")
        merged = _merged(governance, env, prof)
        kwargs = _read_layer(merged, "governance")
        kwargs["provisional"] = provisional_categories(governance, merged, explicit_suffix=suffix)
        return cls(environment=env, profile=prof, suffix=_suffix(suffix, env), **kwargs)


#: What configures each category whose rules compare against the app's own choices; until then
#: the category's rules report at most warnings (documented in docs/governance.md).
PROVISIONAL_UNTIL = {
    Category.COST: "governance.thresholds",
    Category.NAMING: "governance.environments or -c suffix=",
    Category.TAGGING: "governance.mandatory_tags or governance.tag_values",
}


def provisional_categories(
    governance: Mapping[str, Any] | None,
    merged: Mapping[str, Any],
    *,
    explicit_suffix: str | None = None,
) -> tuple[Category, ...]:
    """The categories an app has not configured yet (:data:`PROVISIONAL_UNTIL`).

    Cost rules judge against ceilings and tag keys that are one organisation's choice, naming
    rules against a suffix convention, tagging against a list of keys: on an app that has not
    said what it wants, their findings are advice (warnings), not a failed synth. Security and
    lifecycle rules keep their severities whatever is configured. An explicit
    ``category_severity`` or ``rules.<ID>.severity`` always wins (:meth:`Policy.severity_for`).
    """
    block = governance if isinstance(governance, Mapping) else {}
    out = []
    if "thresholds" not in merged:
        out.append(Category.COST)
    if not block.get("environments") and explicit_suffix is None:
        out.append(Category.NAMING)
    if "mandatory_tags" not in merged and "tag_values" not in merged:
        out.append(Category.TAGGING)
    return tuple(out)


# --- reading -----------------------------------------------------------------------------------

_LAYER_KEYS = frozenset(
    {
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
        "conflicts",
        "baseline",
        "limits",
    }
)
_TOP_KEYS = _LAYER_KEYS | {"environments", "profiles"}
_SEVERITIES = tuple(str(s) for s in Severity)
#: Values a threshold may take, where not every string is meaningful.
_CHOICES: dict[str, tuple[str, ...]] = {
    "dynamodb_billing_mode": ("on_demand", "provisioned", "any"),
    "lambda_architectures": ("arm64", "x86_64"),
    "lambda_environment_key": ("customer_managed", "any"),
}
#: Inclusive bounds of numeric thresholds (of each item, for lists); others are >= 0.
_BOUNDS: dict[str, tuple[float, float]] = {
    "fargate_spot_min_share": (0.0, 1.0),
    "admin_ports": (0, 65535),
}


def _did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` when it is a clear near miss (difflib), else ``None``.

    Case is ignored, and a tie between the closest candidates is no suggestion at all: ``pci``
    is as near ``pci-iam`` as ``pci-waf``.
    """
    import difflib  # only on the way to an error: kept out of start-up

    scored = []
    for candidate in candidates:
        matcher = difflib.SequenceMatcher(None, word.casefold(), candidate.casefold())
        if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6:
            scored.append((matcher.ratio(), candidate))
    scored.sort(reverse=True)
    if not scored or scored[0][0] < 0.6 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


def _hint(word: str, candidates: Iterable[str], *, fallback: str = "") -> str:
    pool = sorted(candidates)
    meant = _did_you_mean(word, pool)
    if meant is not None:
        return f" (did you mean {meant}?)"
    return fallback or f" (allowed: {', '.join(pool)})"


def _name(value: Any, what: str) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise PolicyError(f"the {what} name must be a non-empty string; got {value!r}")


def _suffix(value: Any, environment: str | None) -> str | None:
    if value is None:
        if environment is not None and not is_suffix(environment):
            raise PolicyError(
                f"environment name {environment!r} cannot be the naming suffix ({SUFFIX_RULE});"
                " give a suffix"
            )
        return environment
    if not is_suffix(value):
        raise PolicyError(f"suffix must be {SUFFIX_RULE}; got {value!r}")
    return value


def _merged(governance: Any, environment: str | None, profile: str | None) -> dict[str, Any]:
    """The defaults with the environment's and then the profile's overrides on top.

    Every environment and every profile is checked, whichever is chosen, so a typo in the
    production block fails on a developer's machine too.
    """
    if governance is None:
        governance = {}
    if not isinstance(governance, Mapping):
        raise PolicyError(
            f"context key 'governance' must be an object; got {type(governance).__name__}"
        )
    _check_keys(governance, _TOP_KEYS, "governance")
    base = {k: v for k, v in governance.items() if k not in ("environments", "profiles")}
    _read_layer(base, "governance")
    layers: dict[str, dict[str, Mapping[str, Any]]] = {}
    for group in ("environments", "profiles"):
        where = f"governance.{group}"
        entries = governance.get(group)
        if entries is None:
            entries = {}
        if not isinstance(entries, Mapping):
            raise PolicyError(f"{where} must be an object keyed by {group[:-1]} name")
        for name, layer in entries.items():
            layer_where = f"{where}.{name}"
            if not isinstance(layer, Mapping):
                raise PolicyError(f"{layer_where} must be an object")
            _check_keys(layer, _LAYER_KEYS, layer_where)
            _read_layer(layer, layer_where)
        layers[group] = dict(entries)
    envs, profiles = layers["environments"], layers["profiles"]
    if environment is not None and envs and environment not in envs:
        raise PolicyError(
            f"unknown environment {environment!r} in governance.environments"
            + _hint(environment, envs)
        )
    if profile is not None and profile not in profiles:
        raise PolicyError(
            f"unknown profile {profile!r} in governance.profiles"
            + _hint(profile, profiles, fallback="" if profiles else " (allowed: none configured)")
        )
    merged = base
    if environment is not None and environment in envs:
        merged = deep_merged(merged, envs[environment])
    if profile is not None:
        merged = deep_merged(merged, profiles[profile])
    return merged


def _check_keys(mapping: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    allowed = set(allowed)
    for key in mapping:
        if key not in allowed:
            raise PolicyError(f"unknown key {where}.{key}{_hint(str(key), allowed)}")


def _read_layer(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The :class:`Policy` keyword arguments one layer sets; every value is checked."""
    kwargs: dict[str, Any] = {}
    if "mandatory_tags" in raw:
        kwargs["mandatory_tags"] = _str_list(raw["mandatory_tags"], f"{where}.mandatory_tags")
    if "tag_values" in raw:
        values = raw["tag_values"]
        if not isinstance(values, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in values.items()
        ):
            raise PolicyError(f"{where}.tag_values must map tag keys to string values")
        kwargs["tag_values"] = dict(values)
    for key in ("apply_tags", "destroy_stateful"):
        if key in raw:
            kwargs[key] = _bool(raw[key], f"{where}.{key}")
    for key in ("fail_on", "undecidable_severity"):
        if key in raw:
            kwargs[key] = _severity(raw[key], f"{where}.{key}")
    if "cdk_nag" in raw:
        kwargs["cdk_nag_packs"] = _cdk_nag(raw["cdk_nag"], f"{where}.cdk_nag")
    if "rules" in raw:
        kwargs["rules"] = _rule_overrides(raw["rules"], f"{where}.rules")
    if "category_severity" in raw:
        cats = raw["category_severity"]
        if not isinstance(cats, Mapping):
            raise PolicyError(f"{where}.category_severity must map a rule category to a severity")
        known = {c.value for c in Category}
        out: dict[Category, Severity] = {}
        for name, sev in cats.items():
            key = f"{where}.category_severity.{name}"
            if name not in known:
                raise PolicyError(f"unknown category {key}{_hint(str(name), known)}")
            out[Category(name)] = _severity(sev, key)
        kwargs["category_severity"] = out
    if "non_waivable" in raw:
        kwargs["non_waivable"] = _non_waivable(raw["non_waivable"], f"{where}.non_waivable")
    if "audit_log_markers" in raw:
        markers = _str_list(raw["audit_log_markers"], f"{where}.audit_log_markers")
        kwargs["audit_log_markers"] = tuple(m.lower() for m in markers)
    if "thresholds" in raw:
        kwargs["thresholds"] = _thresholds(raw["thresholds"], f"{where}.thresholds")
    if "conflicts" in raw:
        kwargs["conflicts"] = _conflicts(raw["conflicts"], f"{where}.conflicts")
    if "baseline" in raw:
        value = raw["baseline"]
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise PolicyError(f"{where}.baseline must be a file path or null; got {value!r}")
        kwargs["baseline"] = value
    if "limits" in raw:
        kwargs["limits"] = _limits(raw["limits"], f"{where}.limits")
    return kwargs


#: The keys of ``governance.limits`` (the flags of ``govern check`` without ``--``).
LIMIT_KEYS = ("max_file_size", "max_depth", "max_yaml_nodes")


def _limits(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where} must be an object of {', '.join(LIMIT_KEYS)}")
    _check_keys(value, frozenset(LIMIT_KEYS), where)
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise PolicyError(f"{where}.{key} must be a positive whole number; got {number!r}")
    return dict(value)


def _severity(value: Any, key: str) -> Severity:
    allowed = ", ".join(_SEVERITIES)
    if isinstance(value, str):
        try:
            return Severity.parse(value)
        except ValueError:
            meant = _did_you_mean(value.strip().lower(), _SEVERITIES)
            hint = f" (did you mean {meant}?)" if meant else ""
            raise PolicyError(f"{key} must be one of {allowed}; got {value!r}{hint}") from None
    raise PolicyError(f"{key} must be one of {allowed}; got {value!r}")


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{key} must be true or false; got {value!r}")
    return value


def _str_list(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"{key} must be a list of non-empty strings; got {value!r}")
    return tuple(value)


def _cdk_nag(value: Any, where: str) -> tuple[str, ...]:
    from governance.cdknag import CDK_NAG_PACKS

    if not isinstance(value, Mapping):
        raise PolicyError(f"{where} must be an object of pack: true/false")
    keys = [p.policy_key for p in CDK_NAG_PACKS]
    _check_keys(value, keys, where)
    return tuple(k for k in keys if _bool(value.get(k, False), f"{where}.{k}"))


@cache
def _rule_ids() -> frozenset[str]:
    """Ids of the registered rules (imports the ``rules`` package on first call)."""
    from governance.registry import all_rules

    return frozenset(r.id for r in all_rules())


def _rule_overrides(value: Any, where: str) -> dict[str, RuleOverride]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where} must be an object keyed by rule id")
    overrides = {}
    for rule_id, spec in value.items():
        key = f"{where}.{rule_id}"
        if rule_id not in _rule_ids():
            raise PolicyError(f"unknown rule id {key}{_rule_hint(str(rule_id))}")
        if not isinstance(spec, Mapping):
            raise PolicyError(f"{key} must be an object with 'enabled' and/or 'severity'")
        _check_keys(spec, ("enabled", "severity"), key)
        overrides[rule_id] = RuleOverride(
            enabled=_bool(spec.get("enabled", True), f"{key}.enabled"),
            severity=_severity(spec["severity"], f"{key}.severity") if "severity" in spec else None,
        )
    return overrides


def _rule_hint(word: str, *, nag: bool = False) -> str:
    """``" (did you mean ENC-001?)"`` for a near miss of one of our ids (or a cdk-nag pack)."""
    known = _rule_ids()
    prefix, _, number = word.upper().rpartition("-")
    padded = f"{prefix}-{number.zfill(3)}" if number.isdigit() and len(number) < 3 else ""
    meant = padded if padded in known else _did_you_mean(word, known)
    if meant is None and nag and "-" in word:
        from governance.cdknag import CDK_NAG_PLUGINS

        pack, _, rest = word.partition("-")
        close = _did_you_mean(pack, CDK_NAG_PLUGINS)
        meant = f"{close}-{rest}" if close else None
    if meant is not None:
        return f" (did you mean {meant}?)"
    if nag:
        return " (allowed: our rule ids, listed by govern rules, or cdk-nag ids like AwsSolutions-IAM4)"
    return " (govern rules lists the rule ids)"


def _non_waivable(value: Any, where: str) -> tuple[str, ...]:
    """Our rule ids (optionally ``govern::``-prefixed) or cdk-nag rule ids of a known pack."""
    from governance.cdknag import is_nag_rule_id, nag_pack_of
    from governance.exceptions import split_id

    ids = _str_list(value, where)
    for item in ids:
        namespace, bare = split_id(item)
        if namespace in (None, PLUGIN_NAME) and bare in _rule_ids():
            continue
        if is_nag_rule_id(bare) and namespace in (None, nag_pack_of(bare)):
            continue
        raise PolicyError(f"unknown rule id {item!r} in {where}{_rule_hint(bare, nag=True)}")
    return ids


@cache
def _threshold_types() -> dict[str, Any]:
    return typing.get_type_hints(Thresholds)


def _thresholds(raw: Any, where: str) -> Thresholds:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where} must be an object")
    hints = _threshold_types()
    _check_keys(raw, hints, where)
    values = {
        key: _threshold(key, value, hints[key], f"{where}.{key}") for key, value in raw.items()
    }
    return dataclasses.replace(Thresholds(), **values)


def _threshold(name: str, value: Any, hint: Any, key: str) -> Any:
    """One threshold value, checked against its field's type (and choices or bounds)."""
    args = typing.get_args(hint)
    nullable = isinstance(hint, types.UnionType) and type(None) in args
    if nullable:
        if value is None:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        item_type = args[0]
        if not isinstance(value, list):
            raise PolicyError(
                f"{key} must be a list of {_describe(name, item_type, True)}; got {value!r}"
            )
        for item in value:
            if not _fits(name, item, item_type):
                raise PolicyError(
                    f"{key} must be a list of {_describe(name, item_type, True)}; got {value!r}"
                )
        return tuple(value)
    if not _fits(name, value, hint):
        extra = " or null" if nullable else ""
        raise PolicyError(f"{key} must be {_describe(name, hint, False)}{extra}; got {value!r}")
    return float(value) if hint is float else value


def _fits(name: str, value: Any, kind: Any) -> bool:
    if kind is str:
        choices = _CHOICES.get(name)
        return isinstance(value, str) and bool(value) and (choices is None or value in choices)
    if isinstance(value, bool) or not isinstance(value, int if kind is int else (int, float)):
        return False
    low, high = _BOUNDS.get(name, (0, float("inf")))
    return low <= value <= high


def _describe(name: str, kind: Any, plural: bool) -> str:
    if kind is str:
        choices = _CHOICES.get(name)
        if choices:
            return ("values from " if plural else "one of ") + ", ".join(choices)
        return "non-empty strings" if plural else "a non-empty string"
    low, high = _BOUNDS.get(name, (0, None))
    noun = ("whole numbers" if plural else "a whole number") if kind is int else "a number"
    if high is None:
        return f"{noun} >= {low}"
    return f"{noun} between {low:g} and {high:g}"


# --- conflicts with cdk-nag (governance.conflicts) ---------------------------------------------


def _conflicts(value: Any, where: str) -> dict[str, str]:
    """``{"deletion_protection": "govern" | "cdk-nag"}``; keys from ``governance.cdknag``."""
    from governance.cdknag import CONFLICT_KEYS, CONFLICT_WINNERS

    if not isinstance(value, Mapping):
        raise PolicyError(f"{where} must be an object of conflict: govern or cdk-nag")
    _check_keys(value, CONFLICT_KEYS, where)
    for key, winner in value.items():
        if winner not in CONFLICT_WINNERS:
            allowed = ", ".join(CONFLICT_WINNERS)
            raise PolicyError(f"{where}.{key} must be one of {allowed}; got {winner!r}")
    return dict(value)


def _check_conflicts(policy: Policy) -> None:
    """cdk-nag cannot win on deletion protection while the Aspect switches protection off."""
    if policy.destroy_stateful and policy.conflicts.get("deletion_protection") == "cdk-nag":
        raise PolicyError(
            "governance.conflicts.deletion_protection is cdk-nag, but destroy_stateful turns "
            "deletion protection off: set one of them differently"
        )
