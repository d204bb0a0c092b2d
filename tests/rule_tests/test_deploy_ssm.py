"""DEPLOY-SSM-001: SSM parameter types CloudFormation accepts."""

from helpers import failing, undecided


def param(**props):
    return {"Type": "AWS::SSM::Parameter", "Properties": {"Value": "v", **props}}


def test_ssm_001_parameter_types():
    resources = {
        "Plain": param(Type="String"),
        "List": param(Type="StringList", DataType="text"),
        "Image": param(Type="String", DataType="aws:ec2:image"),
        "Secure": param(Type="SecureString"),
        "BadData": param(Type="String", DataType="aws:kms:key"),
        "FromParam": param(Type={"Ref": "Kind"}),
        "FromDefault": param(Type={"Ref": "Secure"}),
    }
    params = {"Kind": {"Type": "String"}, "Secure": {"Type": "String", "Default": "SecureString"}}
    assert failing("DEPLOY-SSM-001", resources, Parameters=params) == {
        "Secure",
        "BadData",
        "FromDefault",
    }
    assert undecided("DEPLOY-SSM-001", resources, Parameters=params) == {"FromParam"}
