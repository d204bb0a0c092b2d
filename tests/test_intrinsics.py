"""The intrinsic-function helpers: values they decide and values they cannot."""

from governance.intrinsics import (
    Unresolved,
    as_bool,
    as_int,
    as_str,
    literal_text,
    ref_target,
    resolve,
)
from governance.template import Template


def tpl(**body) -> Template:
    return Template(
        name="T", path="T.json", body={"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, **body}
    )


def test_ref_to_parameter_default_and_resource_and_pseudo():
    t = tpl(
        Parameters={"Env": {"Type": "String", "Default": "dev"}, "NoDefault": {"Type": "String"}}
    )
    assert resolve({"Ref": "Env"}, t) == "dev"
    assert isinstance(resolve({"Ref": "NoDefault"}, t), Unresolved)
    assert isinstance(resolve({"Ref": "Q"}, t), Unresolved)
    unresolved = resolve({"Ref": "AWS::Region"}, t)
    assert isinstance(unresolved, Unresolved) and "AWS::Region" in unresolved.reason


def test_getatt_is_unresolved_but_target_is_known():
    assert isinstance(resolve({"Fn::GetAtt": ["Q", "Arn"]}), Unresolved)
    assert ref_target({"Fn::GetAtt": ["Q", "Arn"]}) == "Q"
    assert ref_target({"Fn::GetAtt": "Q.Arn"}) == "Q"
    assert ref_target({"Ref": "Q"}) == "Q"
    assert ref_target("Q") is None


def test_sub_literal_with_variables_and_unknown():
    t = tpl(Parameters={"Env": {"Type": "String", "Default": "prod"}})
    assert resolve({"Fn::Sub": "table-${Env}"}, t) == "table-prod"
    assert resolve({"Fn::Sub": ["a-${X}", {"X": "b"}]}, t) == "a-b"
    assert resolve({"Fn::Sub": "literal-${!Escaped}"}, t) == "literal-${Escaped}"
    assert isinstance(resolve({"Fn::Sub": "arn:${AWS::Partition}:s3"}, t), Unresolved)


def test_join_decided_and_undecided():
    assert resolve({"Fn::Join": ["-", ["a", "b", "c"]]}) == "a-b-c"
    assert isinstance(resolve({"Fn::Join": ["-", ["a", {"Ref": "AWS::AccountId"}]]}), Unresolved)
    assert isinstance(resolve({"Fn::Join": "bad"}), Unresolved)  # malformed: reported, no crash


def test_if_with_decidable_and_undecidable_conditions():
    t = tpl(
        Parameters={"Env": {"Type": "String", "Default": "prod"}},
        Conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "InUsEast": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "InUsEast"}]},
            "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "InUsEast"}]},
        },
    )
    assert resolve({"Fn::If": ["IsProd", 5, 1]}, t) == 5
    assert resolve({"Fn::If": ["NotProd", 5, 1]}, t) == 1
    assert resolve({"Fn::If": ["Either", "x", "y"]}, t) == "x"
    assert isinstance(resolve({"Fn::If": ["InUsEast", "a", "b"]}, t), Unresolved)
    assert isinstance(resolve({"Fn::If": ["Both", "a", "b"]}, t), Unresolved)
    assert resolve({"Fn::If": ["InUsEast", "same", "same"]}, t) == "same"
    assert isinstance(resolve({"Fn::If": ["Missing", "a", "b"]}, t), Unresolved)


def test_typed_readers():
    assert as_bool("true") is True and as_bool("False") is False and as_bool(None) is None
    assert isinstance(as_bool("yes"), Unresolved)
    assert as_int("512") == 512 and as_int(30) == 30
    assert isinstance(as_int("abc"), Unresolved)
    assert isinstance(as_int(True), Unresolved)
    assert as_str(7) == "7"
    assert isinstance(as_str({"Ref": "AWS::StackName"}), Unresolved)


def test_literal_text_keeps_token_boundaries():
    value = {"Fn::Join": ["", ["payments-", {"Ref": "AWS::Region"}, "-dev"]]}
    assert "dev" in literal_text(value).split("-")
    assert literal_text({"Fn::Sub": "x-${AWS::Region}-prod"}).endswith("-prod")


def test_deep_nesting_does_not_crash():
    value: object = "x"
    for _ in range(50):
        value = {"Fn::Join": ["", [value]]}
    assert isinstance(resolve(value), Unresolved)
