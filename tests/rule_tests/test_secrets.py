"""PCI-SEC-001..006: no hard-coded secrets or passwords, rotation, password length."""

from helpers import failing, findings, undecided


def function(**variables):
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.13", "Environment": {"Variables": variables}},
    }


def test_sec_001_function_environment():
    resources = {
        "Clean": function(
            TABLE_NAME="payments-dev",
            DB_SECRET_ARN="arn:aws:secretsmanager:eu-west-1:111111111111:secret:db",
            PSP_API_KEY_PARAM="/payments/psp/key",
            TOKEN_TTL="300",
            ENABLE_SECRET_CACHE="true",
            API_TOKEN={"Ref": "TokenParam"},
            DB_PASSWORD="{{resolve:secretsmanager:db:SecretString:password}}",
        ),
        "Password": function(DB_PASSWORD="hunter2-prod"),
        "CamelToken": function(apiToken="abc123def456"),
        "AccessKey": function(AWS_KEY="AKIAABCDEFGHIJKLMNOP"),
        "UrlWithPassword": function(DATABASE="postgres://app:s3cret@db.internal:5432/pay"),
        "JoinedLiteral": function(PSP_SECRET={"Fn::Join": ["", ["sk_live_", "abcdef"]]}),
        "NoEnvironment": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.13"}},
    }
    assert failing("PCI-SEC-001", resources, Parameters={"TokenParam": {"Type": "String"}}) == {
        "Password",
        "CamelToken",
        "AccessKey",
        "UrlWithPassword",
        "JoinedLiteral",
    }


def test_sec_002_task_environment():
    def task(*env):
        return {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "ContainerDefinitions": [
                    {"Name": "app", "Image": "nginx", "Environment": list(env)},
                ]
            },
        }

    resources = {
        "Clean": task(
            {"Name": "LOG_LEVEL", "Value": "info"},
            {"Name": "DB_SECRET_NAME", "Value": "payments/db"},
        ),
        "Literal": task(
            {"Name": "LOG_LEVEL", "Value": "info"}, {"Name": "DB_PASSWORD", "Value": "p4ss"}
        ),
        "FromSecrets": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "ContainerDefinitions": [
                    {
                        "Name": "app",
                        "Secrets": [{"Name": "DB_PASSWORD", "ValueFrom": {"Ref": "DbSecret"}}],
                    }
                ]
            },
        },
    }
    assert failing("PCI-SEC-002", resources) == {"Literal"}


def test_sec_003_secret_parameters():
    params = {
        "DbPassword": {"Type": "String", "NoEcho": True, "Default": "changeme"},
        "PspApiKey": {"Type": "String"},
        "SigningSecret": {"Type": "String", "NoEcho": "true"},
        "TokenParamName": {"Type": "String", "Default": "/payments/token"},
        "StoredToken": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/psp/token"},
        "BucketName": {"Type": "String", "Default": "receipts"},
    }
    resources = {
        "UsesDefault": {
            "Type": "AWS::RDS::DBCluster",
            "Properties": {"MasterUserPassword": {"Ref": "DbPassword"}},
        },
        "UsesEcho": function(PSP={"Fn::Sub": "${PspApiKey}"}),
        "UsesNoEcho": function(SIGNING={"Ref": "SigningSecret"}),
        "UsesName": function(TOKEN_PARAM={"Ref": "TokenParamName"}),
        "UsesStored": function(PSP={"Ref": "StoredToken"}),
        "UsesBucket": function(BUCKET={"Ref": "BucketName"}),
        "UsesNothing": {"Type": "AWS::SQS::Queue"},
    }
    assert failing("PCI-SEC-003", resources, Parameters=params) == {"UsesDefault", "UsesEcho"}


def test_sec_004_rotation():
    def schedule(target, **rules):
        return {
            "Type": "AWS::SecretsManager::RotationSchedule",
            "Properties": {"SecretId": {"Ref": target}, "RotationRules": rules},
        }

    secret = {"Type": "AWS::SecretsManager::Secret", "Properties": {}}
    resources = {
        "Rotated": secret,
        "RotatedSchedule": schedule("Rotated", ScheduleExpression="rate(30 days)"),
        "ViaAttachment": secret,
        "Attachment": {
            "Type": "AWS::SecretsManager::SecretTargetAttachment",
            "Properties": {"SecretId": {"Ref": "ViaAttachment"}, "TargetId": {"Ref": "Db"}},
        },
        "AttachmentSchedule": schedule("Attachment", AutomaticallyAfterDays=30),
        "Monthly": secret,
        "MonthlySchedule": schedule("Monthly", ScheduleExpression="cron(0 4 1 * ? *)"),
        "Never": secret,
        "TooSlow": secret,
        "TooSlowSchedule": schedule("TooSlow", AutomaticallyAfterDays=180),
        "Unknown": secret,
        "UnknownSchedule": schedule("Unknown", AutomaticallyAfterDays={"Ref": "Days"}),
    }
    params = {"Days": {"Type": "Number"}}
    assert failing("PCI-SEC-004", resources, Parameters=params) == {"Never", "TooSlow"}
    assert undecided("PCI-SEC-004", resources, Parameters=params) == {"Unknown"}


def test_sec_005_generated_password_length():
    def secret(**generate):
        return {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {"GenerateSecretString": generate},
        }

    resources = {
        "Default": secret(),
        "Long": secret(PasswordLength=30),
        "Short": secret(PasswordLength=8),
        "Given": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": "{}"}},
        "Param": secret(PasswordLength={"Ref": "Len"}),
    }
    params = {"Len": {"Type": "Number"}}
    assert failing("PCI-SEC-005", resources, Parameters=params) == {"Short"}
    assert undecided("PCI-SEC-005", resources, Parameters=params) == {"Param"}


def test_sec_006_literal_password_properties():
    secret_ref = {
        "Fn::Join": [
            "",
            ["{{resolve:secretsmanager:", {"Ref": "DbSecret"}, ":SecretString:password::}}"],
        ]
    }

    def db(password, kind="AWS::RDS::DBInstance"):
        return {
            "Type": kind,
            "Properties": {"MasterUsername": "admin", "MasterUserPassword": password},
        }

    def domain(password):
        options = {"MasterUserOptions": {"MasterUserName": "admin", "MasterUserPassword": password}}
        return {
            "Type": "AWS::OpenSearchService::Domain",
            "Properties": {"AdvancedSecurityOptions": {"Enabled": True, **options}},
        }

    resources = {
        "DbDynamic": db(secret_ref),
        "DbResolveText": db("{{resolve:ssm-secure:/db/password:1}}"),
        "DbParam": db({"Ref": "DbPassword"}),
        "DbLiteral": db("hunter2hunter2"),
        "ClusterJoinedLiteral": db({"Fn::Join": ["", ["hunter", "2"]]}, "AWS::RDS::DBCluster"),
        "DocDbIf": db({"Fn::If": ["Prod", secret_ref, "dev-password"]}, "AWS::DocDB::DBCluster"),
        "RedshiftNoValueIf": db(
            {"Fn::If": ["Prod", secret_ref, {"Ref": "AWS::NoValue"}]}, "AWS::Redshift::Cluster"
        ),
        "NoPassword": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres"}},
        "SearchLiteral": domain("Admin#12345"),
        "SearchDynamic": domain(secret_ref),
        "BrokerUsers": {
            "Type": "AWS::AmazonMQ::Broker",
            "Properties": {
                "Users": [
                    {"Username": "app", "Password": secret_ref},
                    {"Username": "ops", "Password": "ops-password-1"},
                ]
            },
        },
        "CacheUser": {
            "Type": "AWS::ElastiCache::User",
            "Properties": {"UserName": "u", "Passwords": ["a-long-password-1"]},
        },
    }
    conditions = {"Prod": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
    params = {"DbPassword": {"Type": "String", "NoEcho": True}, "Env": {"Type": "String"}}
    assert failing("PCI-SEC-006", resources, Parameters=params, Conditions=conditions) == {
        "DbLiteral",
        "ClusterJoinedLiteral",
        "DocDbIf",
        "SearchLiteral",
        "BrokerUsers",
        "CacheUser",
    }
    found = findings("PCI-SEC-006", resources, Parameters=params, Conditions=conditions)
    paths = {f.logical_id: (f.property_path, f.message) for f in found}
    assert paths["BrokerUsers"] == (
        "Properties/Users/1/Password",
        "Password is a literal value written into the template",
    )
    assert paths["CacheUser"][0] == "Properties/Passwords/0"
