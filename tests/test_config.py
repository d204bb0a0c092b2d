"""The one configuration: read once, layered, strict, and the policy built from the same values.

Bad configurations are tried as a user meets them, through ``python app.py`` with the context
in ``CDK_CONTEXT_JSON`` (what the CDK CLI does): one line on stderr, exit code 2, no
traceback, and nothing built - the configuration is checked before the CDK is loaded.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from governance.engine import evaluate
from governance.registry import get_rule
from governance.template import Template as GovernedTemplate
from stacks.config import ConfigError, load_configuration

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = (ROOT / "cdk.json").read_text()
CONTEXT: dict[str, Any] = json.loads(CDK_JSON)["context"]
ENVIRONMENTS = ("dev", "staging", "production")


def _app_module() -> Any:
    spec = importlib.util.spec_from_file_location("platform_app", ROOT / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


APP = _app_module()


def context(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(CONTEXT), **changes}


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["optimised", "legacy"])
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_and_profile_loads(env: str, profile: str) -> None:
    config = load_configuration(context(env=env, profile=profile))
    assert (config.name, config.suffix, config.profile) == (env, env, profile)
    assert config.deployment.physical_name("payment-transactions") == f"payment-transactions-{env}"
    assert config.account == CONTEXT["environments"][env]["account"]


def test_the_default_profile_is_optimised() -> None:
    assert load_configuration(context(env="dev")).profile == "optimised"


def test_shared_values_are_written_once() -> None:
    for value in (
        '"CC-1001"',
        '"payments-platform"',
        '"payments-finops@example.com"',
        '"payments-security@example.com"',
        '"payments-oncall@example.com"',
        '"us-west-2"',
        '"AWSManagedRulesSQLiRuleSet"',
    ):
        assert CDK_JSON.count(value) == 1, value


def test_the_configuration_is_frozen() -> None:
    config = load_configuration(context(env="dev"))
    with pytest.raises(AttributeError):
        config.payments = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.contacts["finops"] = "someone@example.com"  # type: ignore[index]


# --- the policy and the stacks agree -----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "suffix", "profile"),
    [
        ({"env": "dev"}, "dev", "optimised"),
        ({"env": "staging", "suffix": "pr42"}, "pr42", "optimised"),
        ({"env": "production", "profile": "legacy"}, "production", "legacy"),
    ],
)
def test_policy_and_configuration_agree_on_suffix_and_profile(changes, suffix, profile) -> None:
    config, policy = APP.configure(context(**changes))
    assert (config.suffix, config.profile) == (policy.suffix, policy.profile) == (suffix, profile)
    assert policy.environment == config.name == changes["env"]


def test_the_stacks_are_named_by_the_policys_suffix_and_profile(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from stacks.assembly import build

    ctx = context(env="staging", suffix="pr42", profile="legacy")
    config, policy = APP.configure(ctx)
    app = cdk.App(context=ctx, outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    stacks = build(app, config, cost_center=policy.tag_values["CostCenter"])
    app.synth()
    assert {s.stack_name.rsplit("-", 1)[-1] for s in stacks.values()} == {policy.suffix}
    templates = [
        GovernedTemplate(
            name=s.stack_name,
            path=f"{s.artifact_id}.template.json",
            body=json.loads((tmp_path / f"{s.artifact_id}.template.json").read_text()),
        )
        for s in stacks.values()
    ]
    naming = evaluate(templates, policy, [get_rule("NAME-001")])
    assert naming.evaluated["NAME-001"] > 50 and naming.findings == []
    parameters = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for t in templates
        for r in t.body["Resources"].values()
        if r["Type"] == "AWS::SSM::Parameter"
    }
    assert parameters["/payments/pr42/platform/profile"] == policy.profile


# --- one line, exit 2, through app.py ---------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(ctx: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = ctx
        for part in parents:
            node = node[part]
        node[last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(ctx: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = ctx
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


SUFFIX_RULE = (
    "1-20 lower-case letters, digits or hyphens, starting and ending with a letter or digit"
)
BAD = [
    (
        "env-list",
        _set("env", ["dev"]),
        "env must be the name of an environment (dev, staging, production); got ['dev']",
    ),
    (
        "env-unknown",
        _set("env", "qa"),
        "unknown environment 'qa' (allowed: dev, staging, production)",
    ),
    ("env-missing", _drop("env"), "no environment given: pass -c env=NAME"),
    ("suffix-number", _set("suffix", 42), f"suffix must be {SUFFIX_RULE}; got 42"),
    ("suffix-empty", _set("suffix", ""), f"suffix must be {SUFFIX_RULE}; got ''"),
    ("suffix-newline", _set("suffix", "pr42\n"), f"suffix must be {SUFFIX_RULE}; got 'pr42\\n'"),
    (
        "suffix-upper",
        _set("suffix", "Bad_Suffix"),
        f"suffix must be {SUFFIX_RULE}; got 'Bad_Suffix'",
    ),
    ("suffix-typo", _set("sufix", "pr42"), "unknown context key 'sufix' (did you mean 'suffix'?)"),
    (
        "profile-unknown",
        _set("profile", "cheap"),
        "unknown profile 'cheap' in platform_profiles (allowed: legacy, optimised)",
    ),
    (
        "profile-list",
        _set("profile", ["legacy"]),
        "unknown profile ['legacy'] in platform_profiles",
    ),
    (
        "region-newline",
        _set("environments.dev.region", "us-east-1\n"),
        "environments.dev.region must be an AWS region such as us-east-1; got 'us-east-1\\n'",
    ),
    (
        "region-mars",
        _set("environments.dev.region", "xx-mars-1"),
        "environments.dev.region must be an AWS region such as us-east-1; got 'xx-mars-1'",
    ),
    (
        "secondary-region",
        _set("defaults.secondary_region", "us-west"),
        "defaults.secondary_region must be an AWS region",
    ),
    (
        "account-newline",
        _set("environments.dev.account", "111111111111\n"),
        "environments.dev.account must be a 12-digit AWS account id; got '111111111111\\n'",
    ),
    (
        "account-number",
        _set("environments.staging.account", 222222222222),
        "environments.staging.account must be a 12-digit AWS account id; got 222222222222",
    ),
    (
        "cidr-33",
        _set("environments.dev.platform.network.cidr", "10.10.0.0/33"),
        "environments.dev.platform.network.cidr must be an IPv4 CIDR block such as 10.10.0.0/16; got '10.10.0.0/33'",
    ),
    (
        "cidr-host-bits",
        _set("environments.dev.platform.network.cidr", "10.10.0.1/16"),
        "environments.dev.platform.network.cidr must be an IPv4 CIDR block",
    ),
    (
        "cidr-too-small",
        _set("environments.dev.platform.network.cidr", "10.10.0.0/29"),
        "environments.dev.platform.network.cidr must be an IPv4 CIDR block between /16 and /28",
    ),
    (
        "governance-string",
        _set("governance", "strict"),
        "context key 'governance' must be an object",
    ),
    (
        "cost-centre-missing",
        _drop("governance.tag_values.CostCenter"),
        "missing key governance.tag_values.CostCenter",
    ),
    ("environments-list", _set("environments", ["dev"]), "missing context key 'environments'"),
    ("defaults-list", _set("defaults", []), "defaults must be an object; got []"),
    (
        "section-string",
        _set("environments.dev.payments", "x"),
        "environments.dev.payments must be an object; got 'x'",
    ),
    (
        "unknown-key-defaults",
        _set("defaults.platform.compute.cpu_target", 50),
        "unknown key defaults.platform.compute.cpu_target (allowed: instance_type, ",
    ),
    (
        "unknown-section",
        _set("environments.production.webap", {}),
        "unknown key environments.production.webap (allowed: account, region, secondary_region, contacts, payments, platform, webapp, global_data)",
    ),
    (
        "unknown-overlay-key",
        _set("platform_profiles.legacy.all.payments.table.mode", "x"),
        "unknown key platform_profiles.legacy.all.payments.table.mode (allowed: billing_mode, ",
    ),
    (
        "unknown-overlay-env",
        _set("platform_profiles.legacy.qa", {}),
        "unknown key platform_profiles.legacy.qa (allowed: all, dev, staging, production)",
    ),
    (
        "bad-other-environment",
        _set("environments.production.platform.compute.min_capacity", "2"),
        "environments.production.platform.compute.min_capacity must be a whole number between 0 and 100; got '2'",
    ),
    (
        "string-for-number",
        _set("environments.dev.payments.functions.memory_mb", "lots"),
        "environments.dev.payments.functions.memory_mb must be a whole number between 128 and 10240; got 'lots'",
    ),
    (
        "float-for-number",
        _set("defaults.payments.functions.timeout_s", 30.0),
        "defaults.payments.functions.timeout_s must be a whole number between 1 and 900; got 30.0",
    ),
    (
        "number-for-bool",
        _set("defaults.platform.audit_trail", 1),
        "defaults.platform.audit_trail must be true or false; got 1",
    ),
    (
        "string-for-list",
        _set("defaults.payments.api.api_key_clients", "payment-provider"),
        "defaults.payments.api.api_key_clients must be a list of strings; got 'payment-provider'",
    ),
    (
        "choice",
        _set("defaults.platform.network.flow_log_traffic", "SOME"),
        "defaults.platform.network.flow_log_traffic must be one of ALL, ACCEPT, REJECT; got 'SOME'",
    ),
    (
        "instance-type",
        _set("environments.dev.platform.compute.instance_type", "t4g micro"),
        "environments.dev.platform.compute.instance_type must be an EC2 instance type; got 't4g micro'",
    ),
    (
        "retention",
        _set("defaults.payments.api.access_log_retention_days", 366),
        'defaults.payments.api.access_log_retention_days must be "never" (never expire) or one of 1, 3, ',
    ),
    (
        "percent",
        _set("defaults.platform.alerts.ec2_cpu_percent", 101),
        "defaults.platform.alerts.ec2_cpu_percent must be a number between 0 and 100; got 101",
    ),
    (
        "contact",
        _set("defaults.contacts.soc", "soc at example.com"),
        "defaults.contacts.soc must be an e-mail address; got 'soc at example.com'",
    ),
    (
        "subscription",
        _set(
            "environments.production.platform.alerts.subscriptions.security", ["security", "sock"]
        ),
        "environments.production.platform.alerts.subscriptions.security names 'sock', which is not one of the contacts",
    ),
    (
        "detector-id",
        _set("environments.production.platform.security.guardduty.detector_id", "abc"),
        "environments.production.platform.security.guardduty.detector_id must be a 32-character GuardDuty detector id; got 'abc'",
    ),
    (
        "edge-region",
        _set("environments.production.region", "eu-west-1"),
        "environments.production.platform.edge.region is us-east-1, where CloudFront-scope resources (the WAF web ACL, the viewer certificate) must be created, but the platform is deployed to eu-west-1",
    ),
    (
        "edge-certificate",
        _set(
            "environments.production.platform.edge.certificate_arn",
            "arn:aws:acm:eu-west-1:333333333333:certificate/0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        ),
        "environments.production.platform.edge.certificate_arn is in eu-west-1; CloudFront only uses certificates issued in us-east-1",
    ),
    (
        "edge-missing-key",
        _drop("environments.production.platform.edge.price_class"),
        "missing key environments.production.platform.edge.price_class (required when enabled is true)",
    ),
    (
        "billing-region",
        _set("defaults.platform.cost.billing_metrics_region", "us-east-1 "),
        "defaults.platform.cost.billing_metrics_region must be an AWS region such as us-east-1; got 'us-east-1 '",
    ),
    (
        "cross-field",
        _set("environments.production.payments.table.max_read_capacity", 1),
        "environments.production.payments.table.max_read_capacity must be >= read_capacity; got 1",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_configuration_is_one_line_and_exit_2(mutate: Mutation, message: str) -> None:
    ctx = context(env="dev")
    mutate(ctx)
    proc = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={"CDK_CONTEXT_JSON": json.dumps(ctx), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()  # one line: no traceback, no "layer up to date"
    assert line.startswith(f"configuration error: {message}"), line


def test_the_configuration_is_checked_before_the_cdk_is_loaded() -> None:
    ctx = context(env="dev", suffix="")
    script = (
        "import runpy, sys\n"
        "try:\n"
        "    runpy.run_path('app.py', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, 'aws_cdk' in sys.modules, 'jsii' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"CDK_CONTEXT_JSON": json.dumps(ctx), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.split() == ["2", "False", "False"], proc.stderr


def test_the_context_overflow_file_is_read_like_the_cdk_reads_it(tmp_path: Path) -> None:
    """The CLI moves a large context into a file; ``cli_context`` reads both, as ``App`` does."""
    from stacks.config import cli_context

    overflow = tmp_path / "context.json"
    overflow.write_text(json.dumps({"suffix": "pr7"}))
    got = cli_context(
        {
            "CDK_CONTEXT_JSON": json.dumps({"env": "dev"}),
            "CONTEXT_OVERFLOW_LOCATION_ENV": str(overflow),
        }
    )
    assert got == {"env": "dev", "suffix": "pr7"}
    with pytest.raises(ConfigError, match="cannot read the CDK context"):
        cli_context({"CDK_CONTEXT_JSON": "{not json"})


# --- docs/configuration.md --------------------------------------------------------------------


def test_the_key_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("config_doc", ROOT / "scripts" / "config_doc.py")
    assert spec and spec.loader
    config_doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config_doc)
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert config_doc.rendered(page) == page, "run python scripts/config_doc.py"


def test_every_key_says_what_it_means() -> None:
    from stacks.config import EnvironmentSettings
    from stacks.validation import reference

    rows = reference(EnvironmentSettings)
    assert len(rows) > 100
    assert [key for key, _, meaning in rows if not meaning] == []
    assert [key for key, expected, _ in rows if expected == "a valid value"] == []


def test_cdk_builtin_validation_is_off_in_cdk_json_and_read_strictly() -> None:
    assert load_configuration(context(env="dev")).cdk_builtin_validation is False
    assert load_configuration(
        context(env="dev", cdk_builtin_validation="true")
    ).cdk_builtin_validation
    without = context(env="dev")
    del without["cdk_builtin_validation"]
    assert load_configuration(without).cdk_builtin_validation is True  # aws-cdk-lib's default
    with pytest.raises(ConfigError, match="cdk_builtin_validation must be true or false; got 'no'"):
        load_configuration(context(env="dev", cdk_builtin_validation="no"))
