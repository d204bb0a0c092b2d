"""The platform's environment configuration: typed values, one-sentence errors, profiles."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.config import ConfigError, load_environment

ROOT = Path(__file__).resolve().parent.parent
CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_every_environment_loads(env):
    config = load_environment(CONTEXT, env=env)
    assert config.name == env and config.suffix == env and config.profile == "optimised"
    assert config.physical_name("payment-transactions") == f"payment-transactions-{env}"


def test_suffix_override():
    assert load_environment(CONTEXT, env="dev", suffix="pr42").physical_name("q") == "q-pr42"


@pytest.mark.parametrize(
    ("mutate", "kwargs", "message"),
    [
        (None, {"env": "qa"}, "unknown environment 'qa' (allowed: dev, staging, production)"),
        (None, {"env": None}, "no environment given: pass -c env=NAME"),
        (None, {"env": "dev", "suffix": "Bad_Suffix"}, "suffix 'Bad_Suffix' must be"),
        (None, {"env": "dev", "profile": "cheap"}, "unknown profile 'cheap'"),
        (
            lambda c: c["environments"]["dev"].pop("region"),
            {"env": "dev"},
            "missing key environments.dev.region",
        ),
        (
            lambda c: c["environments"]["dev"].update(account=1234),
            {"env": "dev"},
            "environments.dev.account must be a 12-digit account id; got 1234",
        ),
        (lambda c: c.pop("environments"), {"env": "dev"}, "missing context key 'environments'"),
    ],
)
def test_errors_name_the_key(mutate, kwargs, message):
    context = json.loads(json.dumps(CONTEXT))
    if mutate:
        mutate(context)
    with pytest.raises(ConfigError) as info:
        load_environment(context, **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_profile_overlay_is_applied_before_reading():
    context = json.loads(json.dumps(CONTEXT))
    context["platform_profiles"] = {
        "legacy": {"all": {"region": "eu-west-1"}, "dev": {"region": "eu-west-2"}}
    }
    context["governance"]["profiles"]["legacy"] = {}
    assert load_environment(context, env="dev", profile="legacy").region == "eu-west-2"
    assert load_environment(context, env="staging", profile="legacy").region == "eu-west-1"
    assert (
        load_environment(context, env="staging").region
        == CONTEXT["environments"]["staging"]["region"]
    )


def test_app_reports_bad_environment_in_one_line():
    proc = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={"CDK_CONTEXT_JSON": json.dumps({**CONTEXT, "env": "qa"}), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "configuration error: unknown environment 'qa' (allowed: dev, staging, production)"
    )
    assert "Traceback" not in proc.stderr


def test_app_reports_bad_platform_setting_in_one_line():
    context = json.loads(json.dumps(CONTEXT))
    context["environments"]["dev"]["payments"]["functions"]["memory_mb"] = "lots"
    proc = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={"CDK_CONTEXT_JSON": json.dumps({**context, "env": "dev"}), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("configuration error: environments.dev.payments.functions.memory_mb")
    assert "Traceback" not in proc.stderr
