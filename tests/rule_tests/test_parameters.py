"""PARAM-001 and PARAM-002: no secret in a plain String parameter, by name or by value."""

from helpers import failing, undecided


def _param(name: object, value: object = "x", kind: str = "String") -> dict:
    return {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": name, "Type": kind, "Value": value},
    }


RESOURCES = {
    "TableName": _param("/global-data/dev/table-name", "global-data-payments-dev"),
    "ApiKey": _param("/global-data/dev/api-key"),
    "DbPassword": _param("/app/dbPassword"),
    "SecretArn": _param("/app/api-key-secret-arn", "arn:aws:secretsmanager:us-east-1:1:secret:x"),
    "TokenName": _param("/app/token-name"),
    "SecretsMode": _param("/app/security/secrets-mode", "import"),  # a setting about secrets
    "AccessKey": _param("/app/user", "AKIAABCDEFGHIJKLMNOP"),
    "UrlPassword": _param("/app/db-url", "postgres://app:hunter2@db.example.com/app"),
    "PrivateKey": _param("/app/cert", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
    "NameFromParam": _param({"Ref": "P"}),
}  # fmt: skip
PARAMS = {"Parameters": {"P": {"Type": "String"}}}


def test_param_001_names_that_say_secret() -> None:
    assert failing("PARAM-001", RESOURCES, **PARAMS) == {"ApiKey", "DbPassword"}
    assert undecided("PARAM-001", RESOURCES, **PARAMS) == {"NameFromParam"}


def test_param_002_values_that_are_credentials() -> None:
    assert failing("PARAM-002", RESOURCES, **PARAMS) == {"AccessKey", "UrlPassword", "PrivateKey"}
