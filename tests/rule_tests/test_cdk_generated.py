"""No PCI rule fires on what CDK itself generates (handlers, providers, grants)."""

from collections import Counter
from pathlib import Path

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import load_template_file

FIXTURE = Path(__file__).parent / "data" / "cdk_generated.json"


def test_no_pci_finding_on_cdk_generated_resources():
    template = load_template_file(FIXTURE)
    kinds = Counter(r.type for r in template.resources.values())
    assert kinds["AWS::Lambda::Function"] >= 6 and kinds["AWS::IAM::Policy"] >= 5
    assert kinds["AWS::Lambda::Permission"] >= 5 and kinds["AWS::S3::BucketPolicy"] >= 3
    rules = [r for r in all_rules() if r.id.startswith("PCI-")]
    result = evaluate([template], Policy(environment="dev", suffix="dev"), rules)
    # CDK's NAT instance (NatProvider.instance_v2) leaves IMDSv1 on: a real finding, not CDK
    # plumbing; the platform closes it with a launch template (stacks/platform/network.py)
    assert [(f.rule_id, f.logical_id) for f in result.findings] == [
        ("PCI-IMDS-001", "VpcPublicSubnet1NatInstance57B636B8")
    ]
    assert sum(result.evaluated.values()) > 50  # the rules did look at these resources


def test_the_same_resources_fail_when_cdk_defaults_are_overridden_badly():
    """The fixture is not trivially clean: widen the log-retention grant and a rule fires."""
    template = load_template_file(FIXTURE)
    policy_id = next(
        k for k in template.resources if k.startswith("LogRetention") and "Policy" in k
    )
    statement = template.body["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"][
        0
    ]
    statement["Action"] = ["logs:*"]
    rules = [r for r in all_rules() if r.id in ("PCI-IAM-001", "PCI-IAM-002")]
    result = evaluate([load_template_file(FIXTURE)], Policy(), rules)
    assert result.findings == []
    result = evaluate([template], Policy(), rules)
    assert {(f.rule_id, f.logical_id) for f in result.findings} == {
        ("PCI-IAM-001", policy_id),
        ("PCI-IAM-002", policy_id),
    }
