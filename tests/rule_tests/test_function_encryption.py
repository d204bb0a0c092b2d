"""ENC-LAMBDA-001: environment variables under a customer-managed key, when the policy asks."""

import dataclasses

from helpers import failing, undecided

from governance.policy import Policy, Thresholds

ASKS = Policy(
    thresholds=dataclasses.replace(Thresholds(), lambda_environment_key="customer_managed")
)


def _fn(**props: object) -> dict:
    return {"Type": "AWS::Lambda::Function", "Properties": props}


RESOURCES = {
    "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
    "WithKey": _fn(Environment={"Variables": {"A": "1"}}, KmsKeyArn={"Fn::GetAtt": ["Key", "Arn"]}),
    "NoKey": _fn(Environment={"Variables": {"A": "1"}}),
    "AwsKey": _fn(Environment={"Variables": {"A": "1"}}, KmsKeyArn="arn:aws:kms:us-east-1:1:alias/aws/lambda"),
    "NoVariables": _fn(),
    "EmptyVariables": _fn(Environment={"Variables": {}}),
    "Conditional": _fn(Environment={"Fn::If": ["C", {"Variables": {"A": "1"}}, {"Ref": "AWS::NoValue"}]}),
}  # fmt: skip


def test_enc_lambda_001_when_the_policy_asks() -> None:
    assert failing("ENC-LAMBDA-001", RESOURCES, ASKS) == {"NoKey", "AwsKey"}


def test_enc_lambda_001_is_silent_when_the_policy_does_not_ask() -> None:
    assert failing("ENC-LAMBDA-001", RESOURCES, Policy()) == set()
    assert undecided("ENC-LAMBDA-001", RESOURCES, Policy()) == set()


def test_the_platform_policy_asks_for_it() -> None:
    import json
    from pathlib import Path

    context = json.loads((Path(__file__).parents[2] / "cdk.json").read_text())["context"]
    policy = Policy.from_context(context["governance"], environment="dev", suffix="dev")
    assert policy.thresholds.lambda_environment_key == "customer_managed"
