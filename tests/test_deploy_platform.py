"""The deploy rules on our own platform: each fault of issue 12 on the templates as they were
(tests/data/deploy/, synthesized before the fixes), and none on today's synthesized templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.engine import evaluate
from governance.model import Category
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import load_cloud_assembly, load_inputs

BEFORE = Path(__file__).resolve().parent / "data" / "deploy"
REGIONS = {"dev": "us-east-1", "staging": "us-east-2", "production": "us-east-1"}


def deploy_findings(templates, environment: str, suffix: str) -> set[tuple[str, str, str]]:
    rules = [r for r in all_rules() if r.category == Category.DEPLOY]
    result = evaluate(templates, Policy(environment=environment, suffix=suffix), rules)
    return {
        (f.rule_id, f.stack, f.logical_id)
        for f in result.findings
        if not f.acknowledged and not f.undecidable
    }


def before(folder: str, environment: str) -> list:
    templates, errors = load_inputs([BEFORE / folder])
    assert errors == []
    for tpl in templates:  # bare template files: the region the assembly had
        tpl.environment = f"aws://000000000000/{REGIONS[environment]}"
    return templates


PAYMENT_ALARMS = (
    "ProcessPaymentErrorRate52CF9051",
    "ProcessAccountingErrorRate3A3A17AD",
    "NotifyFailuresErrorRateD66159F9",
    "Api5XXRateE7FED9BF",
    "Api4XXRateAD35B9CB",
    "DeadLetterMessages1E9611F4",
)


def test_the_faults_of_production_before_the_fixes():
    assert deploy_findings(before("production", "production"), "production", "production") == {
        ("DEPLOY-KMS-001", "PaymentsStorage", "Trail022F0CF2"),
        ("DEPLOY-LOG-001", "Payments", "AuditBucket7486E833"),
        *(("DEPLOY-ALARM-001", "Payments", alarm) for alarm in PAYMENT_ALARMS),
    }


def test_the_faults_of_dev_before_the_fixes():
    assert deploy_findings(before("dev", "dev"), "dev", "dev") == {
        ("DEPLOY-KMS-001", "PaymentsStorage", "Trail022F0CF2"),
        ("DEPLOY-LOG-001", "Payments", "AuditBucket7486E833"),
    }


def test_the_singletons_of_a_parallel_copy_before_the_fixes():
    assert deploy_findings(before("dev-pr42", "dev"), "dev", "pr42") == {
        ("DEPLOY-LOG-001", "Payments", "AuditBucket7486E833"),
        ("DEPLOY-SINGLE-001", "Payments", "ApiGatewayAccountLoggingAccountD34E564E"),
        ("DEPLOY-SINGLE-001", "PaymentsCostVisibility", "ServiceMonitor"),
        ("DEPLOY-SINGLE-001", "PaymentsEdgeSecurity", "Detector"),
    }


@pytest.mark.parametrize("profile", (None, "legacy"))
@pytest.mark.parametrize("environment", ("dev", "staging", "production"))
def test_today_the_platform_passes_the_deploy_rules(synth_platform, environment, profile):
    templates = load_cloud_assembly(synth_platform(environment, profile))
    assert deploy_findings(templates, environment, environment) == set()
