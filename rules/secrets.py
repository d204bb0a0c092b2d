"""Secrets (PCI DSS 8.6.2, 8.3.9, 8.6.3): no passwords, keys or tokens written into templates, and
stored secrets rotate.

8.6.2 forbids hard-coded passwords of application and system accounts in scripts, configuration
and code; a literal in a Lambda or task-definition environment variable, or in a parameter's
default, is exactly that (Security Hub ECS.8 checks the task-definition case; the mapping to 8.6.2
is ours for Lambda and parameters, on the same reasoning). Names are matched with the policy's
``thresholds.secret_name_markers``, so those rules are warnings: a heuristic can misfire.
Rotation maps to 8.3.9 and 8.6.3 as AWS maps Security Hub SecretsManager.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from governance.intrinsics import Unresolved, as_bool, as_int, as_str, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource, Template
from rules._support import as_list, memo_for_policy, referrers_anywhere

_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
_NOT_SECRET_VALUE = re.compile(r"^(?:true|false|yes|no|on|off|none|null|\d+(?:\.\d+)?)$", re.I)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


_SEPARATORS = re.compile(r"[^A-Z0-9]+")


def _secret_name(name: str, policy: Policy) -> bool:
    """The name says "secret" (DB_PASSWORD, apiToken) and not "reference to a secret" (_ARN)."""
    thresholds = policy.thresholds
    return _names_a_secret(
        name, tuple(thresholds.secret_reference_suffixes), tuple(thresholds.secret_name_markers)
    )


@lru_cache(maxsize=4096)  # every parameter and variable name of a run, under one policy or two
def _names_a_secret(
    name: str, reference_suffixes: tuple[str, ...], markers: tuple[str, ...]
) -> bool:
    upper = _SEPARATORS.sub("_", _CAMEL.sub(r"\1_\2", name).upper())
    if upper.endswith(tuple(s.upper() for s in reference_suffixes)):
        return False
    return any(marker.upper() in upper for marker in markers)


def _literal_secret(name: str, value: Any, template: Template, policy: Policy) -> str | None:
    """Why a variable's value looks like a hard-coded secret, or ``None``."""
    text = resolve(value, template)
    if not isinstance(text, str) or not text.strip():
        return None  # a reference, a deploy-time value or empty
    if _ACCESS_KEY.search(text):
        return f"{name} holds an AWS access key id"
    if _URL_CREDENTIALS.search(text):
        return f"{name} holds a URL with a password in it"
    if not _secret_name(name, policy):
        return None
    if text.startswith(("arn:", "{{resolve:")) or _NOT_SECRET_VALUE.match(text.strip()):
        return None
    return f"{name} is set to a literal value"


@rule(
    id="PCI-SEC-001",
    slug="secret-in-function-environment",
    title="No secrets in Lambda environment variables",
    severity=Severity.WARNING,
    resource_types=("AWS::Lambda::Function",),
    category=Category.PCI_SECRETS,
    pci=("8.6.2", "8.3.2"),
    checkov=("CKV_AWS_45",),
)
def secret_in_function_environment(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No environment variable named like a secret (PASSWORD, TOKEN, API_KEY...) holds a literal.

    Why:
        Environment variables are shown in the console, returned by `GetFunctionConfiguration`
        and written into the template and the cloud assembly: a password there is hard-coded
        (PCI DSS 8.6.2) and readable by anyone who reads configuration (8.3.2).

    Fix:
        Keep the secret in Secrets Manager; pass its ARN (`DB_SECRET_ARN`) and read it at run
        time, with `secret.grant_read(fn)`.

    Example:
        lambda_.Function(..., environment={"PSP_SECRET_ARN": secret.secret_arn})
    """
    variables = resource.prop("Environment", "Variables")
    if not isinstance(variables, dict):
        return
    for name, value in variables.items():
        reason = _literal_secret(name, value, resource.template, policy)
        if reason:
            yield violation(reason, f"Properties/Environment/Variables/{name}")


@rule(
    id="PCI-SEC-002",
    slug="secret-in-task-environment",
    title="No secrets in ECS task-definition environment variables",
    severity=Severity.WARNING,
    resource_types=("AWS::ECS::TaskDefinition",),
    category=Category.PCI_SECRETS,
    pci=("8.6.2", "8.3.2"),
)
def secret_in_task_environment(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No container `Environment` entry named like a secret holds a literal value.

    Why:
        Task-definition environment values are plain text in the task definition, visible to
        anyone with `ecs:DescribeTaskDefinition` (PCI DSS 8.6.2; Security Hub ECS.8).

    Fix:
        Use the container's `secrets` (`ecs.Secret.from_secrets_manager(secret)`), which ECS
        injects at start without writing the value anywhere.

    Example:
        task.add_container("app", ..., secrets={"DB_PASSWORD": ecs.Secret.from_secrets_manager(db_secret, "password")})
    """
    template = resource.template
    for i, container in enumerate(as_list(resource.prop("ContainerDefinitions"))):
        if not isinstance(container, dict):
            continue
        for j, entry in enumerate(as_list(container.get("Environment"))):
            if not isinstance(entry, dict):
                continue
            name = as_str(entry.get("Name"), template)
            if not isinstance(name, str):
                continue
            reason = _literal_secret(name, entry.get("Value"), template, policy)
            if reason:
                yield violation(
                    reason, f"Properties/ContainerDefinitions/{i}/Environment/{j}/Value"
                )


def _secret_parameters(template: Template, policy: Policy) -> dict[str, list[str]]:
    """Logical id -> problems of the secret-named parameters the resource references."""
    by_resource: dict[str, list[str]] = {}
    for name, spec in template.parameters.items():
        if not isinstance(spec, dict) or not _secret_name(name, policy):
            continue
        if str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            continue  # the value comes from Parameter Store; the default is its name
        problems = []
        default = spec.get("Default")
        if isinstance(default, (str, int, float)) and str(default).strip():
            problems.append(f"parameter {name} has a default value")
        if as_bool(spec.get("NoEcho"), template) is not True:
            problems.append(f"parameter {name} is not NoEcho")
        if problems:
            for res in template.referrers(name):
                by_resource.setdefault(res.logical_id, []).extend(problems)
    return by_resource


@rule(
    id="PCI-SEC-003",
    slug="secret-parameter-exposed",
    title="Secret parameters are NoEcho and have no default",
    severity=Severity.WARNING,
    resource_types=("*",),
    category=Category.PCI_SECRETS,
    pci=("8.6.2", "8.3.2"),
)
def secret_parameter_exposed(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A resource uses no parameter named like a secret that has a default or lacks `NoEcho`.

    Why:
        A parameter default is a hard-coded secret in the template (PCI DSS 8.6.2); without
        `NoEcho` CloudFormation shows the value to anyone who can describe the stack (8.3.2).
        Reported on each resource that uses the parameter.

    Fix:
        Take secrets from Secrets Manager with a dynamic reference
        (`SecretValue.secrets_manager(...)`), or declare the parameter `no_echo=True` with no
        default.

    Example:
        CfnParameter(self, "PspApiKey", no_echo=True)  # no default
    """
    problems = memo_for_policy(resource.template, "secret-parameters", policy, _secret_parameters)
    for problem in problems.get(resource.logical_id, ()):
        yield violation(problem)


ROTATION = "AWS::SecretsManager::RotationSchedule"
_RATE = re.compile(r"^rate\((\d+)\s+(day|days|hour|hours)\)$")


def _interval_days(schedule: Resource) -> int | None | Unresolved:
    """Days between rotations, ``None`` when a cron expression runs at least monthly."""
    rules = schedule.prop("RotationRules")
    if not isinstance(rules, dict):
        return Unresolved("the rotation schedule has no RotationRules")
    if rules.get("AutomaticallyAfterDays") is not None:
        return as_int(rules["AutomaticallyAfterDays"], schedule.template)
    expression = as_str(rules.get("ScheduleExpression"), schedule.template)
    if not isinstance(expression, str):
        return expression or Unresolved("no schedule expression")
    match = _RATE.match(expression.strip())
    if match:
        number, unit = int(match.group(1)), match.group(2)
        return number if unit.startswith("day") else max(1, number // 24)
    fields = expression.strip().removeprefix("cron(").removesuffix(")").split()
    if expression.startswith("cron(") and len(fields) == 6 and fields[3] in ("*", "?"):
        return None  # every month (or more often)
    return Unresolved(f"schedule {expression} cannot be read as an interval")


@rule(
    id="PCI-SEC-004",
    slug="secret-without-rotation",
    title="Secrets Manager secrets rotate at least every 90 days",
    severity=Severity.ERROR,
    resource_types=("AWS::SecretsManager::Secret",),
    category=Category.PCI_SECRETS,
    pci=("8.3.9", "8.6.3"),
    cdk_nag=("AwsSolutions-SMG4",),
)
def secret_without_rotation(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A rotation schedule refers to the secret (directly or through its target attachment).

    Why:
        Application and system passwords must change periodically and when compromise is
        suspected (PCI DSS 8.6.3; 8.3.9 for single-factor passwords, every 90 days; AWS maps
        Security Hub SecretsManager.1 here). The limit is `thresholds.secret_rotation_max_days`.

    Fix:
        `secret.add_rotation_schedule("Rotation", rotation_lambda=fn,
        automatically_after=Duration.days(30))`, or `cluster.add_rotation_single_user()`.
        Keys from third parties that cannot rotate automatically need an acknowledged
        exception naming the manual procedure.

    Example:
        db.add_rotation_single_user(automatically_after=Duration.days(30))
    """
    schedules = referrers_anywhere(resource, ROTATION, "Properties/SecretId")
    for attachment in referrers_anywhere(
        resource, "AWS::SecretsManager::SecretTargetAttachment", "Properties/SecretId"
    ):
        schedules += referrers_anywhere(attachment, ROTATION, "Properties/SecretId")
    if not schedules:
        yield violation("no rotation schedule refers to the secret")
        return
    limit = policy.thresholds.secret_rotation_max_days
    for schedule in schedules:
        days = _interval_days(schedule)
        if isinstance(days, Unresolved):
            yield undecidable(
                f"rotation interval of {schedule.logical_id} cannot be read: {days.reason}"
            )
        elif days is not None and days > limit:
            yield violation(f"{schedule.logical_id} rotates every {days} days (limit {limit})")


@rule(
    id="PCI-SEC-005",
    slug="generated-password-too-short",
    title="Generated secrets are at least 12 characters long",
    severity=Severity.ERROR,
    resource_types=("AWS::SecretsManager::Secret",),
    category=Category.PCI_SECRETS,
    pci=("8.3.6", "8.6.3"),
)
def generated_password_too_short(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`GenerateSecretString.PasswordLength` (32 when absent) is at least `thresholds.password_min_length`.

    Why:
        PCI DSS 8.3.6 asks for passwords of at least 12 characters, and 8.6.3 that
        application and system account passwords resist guessing; a short generated password
        is weaker than the standard allows (our mapping: AWS gives none).

    Fix:
        Leave `password_length` at its default (32) or set it to 12 or more.

    Example:
        secretsmanager.Secret(self, "Db", generate_secret_string=secretsmanager.SecretStringGenerator(password_length=32))
    """
    generate = resource.prop("GenerateSecretString")
    if not isinstance(generate, dict) or generate.get("PasswordLength") is None:
        return
    where = "Properties/GenerateSecretString/PasswordLength"
    length = as_int(generate["PasswordLength"], resource.template)
    minimum = policy.thresholds.password_min_length
    if isinstance(length, Unresolved):
        yield undecidable(f"PasswordLength cannot be read: {length.reason}", where)
    elif length is not None and length < minimum:
        yield violation(f"generated password has {length} characters (minimum {minimum})", where)


#: Password properties by resource type; ``*`` stands for every item of a list.
PASSWORD_PROPERTIES: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::RDS::DBInstance": (("MasterUserPassword",),),
    "AWS::RDS::DBCluster": (("MasterUserPassword",),),
    "AWS::DocDB::DBCluster": (("MasterUserPassword",),),
    "AWS::DocDBElastic::Cluster": (("AdminUserPassword",),),
    "AWS::Redshift::Cluster": (("MasterUserPassword",),),
    "AWS::RedshiftServerless::Namespace": (("AdminUserPassword",),),
    "AWS::OpenSearchService::Domain": (
        ("AdvancedSecurityOptions", "MasterUserOptions", "MasterUserPassword"),
    ),
    "AWS::Elasticsearch::Domain": (
        ("AdvancedSecurityOptions", "MasterUserOptions", "MasterUserPassword"),
    ),
    "AWS::ElastiCache::ReplicationGroup": (("AuthToken",),),
    "AWS::ElastiCache::User": (("Passwords", "*"),),
    "AWS::MemoryDB::User": (("AuthenticationMode", "Passwords", "*"),),
    "AWS::AmazonMQ::Broker": (("Users", "*", "Password"),),
    "AWS::DMS::Endpoint": (("Password",),),
    "AWS::DirectoryService::MicrosoftAD": (("Password",),),
    "AWS::DirectoryService::SimpleAD": (("Password",),),
    "AWS::IAM::User": (("LoginProfile", "Password"),),
}
_DYNAMIC_REFERENCE = "{{resolve:"
_REFERENCES = ("Ref", "Fn::GetAtt", "Fn::ImportValue")


def _values_at(value: Any, steps: tuple[str, ...], where: str) -> Iterator[tuple[Any, str]]:
    if not steps:
        yield value, where
        return
    step, rest = steps[0], steps[1:]
    if step == "*":
        for i, item in enumerate(value if isinstance(value, list) else []):
            yield from _values_at(item, rest, f"{where}/{i}")
    elif isinstance(value, dict) and step in value:
        yield from _values_at(value[step], rest, f"{where}/{step}")


def _has_reference(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k in _REFERENCES or _has_reference(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_reference(v) for v in value)
    return isinstance(value, str) and _DYNAMIC_REFERENCE in value


def _is_literal(value: Any, template: Template) -> bool:
    """The value is written into the template: no reference, parameter or dynamic reference.

    Both branches of an `Fn::If` count, since the template carries both whatever the condition.
    """
    if isinstance(value, dict) and list(value) == ["Fn::If"]:
        branches = value["Fn::If"]
        return isinstance(branches, list) and any(_is_literal(b, template) for b in branches[1:])
    if _has_reference(value):
        return False
    text = resolve(value, template)
    return isinstance(text, str) and bool(text.strip())


@rule(
    id="PCI-SEC-006",
    slug="literal-password-property",
    title="No literal passwords in resource properties",
    severity=Severity.ERROR,
    resource_types=tuple(PASSWORD_PROPERTIES),
    category=Category.PCI_SECRETS,
    pci=("8.6.2", "8.3.2"),
)
def literal_password_property(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A password property (RDS `MasterUserPassword`, an OpenSearch master password...) is not a literal.

    Why:
        A password written into the template is in the cloud assembly, the repository and
        CloudFormation's stored template, readable by anyone who can read any of them
        (PCI DSS 8.6.2 forbids hard-coded application and system passwords; 8.3.2). A
        dynamic reference (`{{resolve:secretsmanager:...}}`), a `Ref` to a parameter or an
        attribute of a generated secret keeps the value out of the template ("Get values
        stored in other services using dynamic references", AWS CloudFormation User Guide,
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html).
        Parameters are judged by PCI-SEC-003.

    Fix:
        Generate the password in Secrets Manager and pass it as a dynamic reference:
        `credentials=rds.Credentials.from_generated_secret("admin")`, or
        `SecretValue.secrets_manager(secret.secret_arn, json_field="password")`.

    Example:
        opensearch.Domain(self, "Search", ..., fine_grained_access_control=opensearch.AdvancedSecurityOptions(master_user_name="admin", master_user_password=secret.secret_value_from_json("password")))
    """
    template = resource.template
    for steps in PASSWORD_PROPERTIES[resource.type]:
        for value, where in _values_at(resource.properties, steps, "Properties"):
            if _is_literal(value, template):
                name = next(step for step in reversed(steps) if step != "*")
                yield violation(f"{name} is a literal value written into the template", where)
