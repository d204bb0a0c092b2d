"""NAME-001: physical names carry the environment suffix."""

from helpers import failing, undecided

from governance.policy import Policy


def test_name_001_exact_sets():
    resources = {
        "Good": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": "payment-transactions-dev"},
        },
        "Bad": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": "payment-transactions"},
        },
        "Substring": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "devices-queue"}},
        "Generated": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "JoinLiteral": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": {"Fn::Join": ["-", ["audit", {"Ref": "AWS::AccountId"}, "dev"]]}
            },
        },
        "SubUnknown": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"FunctionName": {"Fn::Sub": "process-${AWS::Region}"}},
        },
        "Nested": {
            "Type": "AWS::Budgets::Budget",
            "Properties": {"Budget": {"BudgetName": "monthly"}},
        },
    }
    assert failing("NAME-001", resources) == {"Bad", "Substring", "Nested"}
    assert undecided("NAME-001", resources) == {"SubUnknown"}


def test_name_001_suffix_override_and_absent():
    resources = {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts-pr42"}}}
    assert failing("NAME-001", resources, Policy(environment="dev", suffix="pr42")) == set()
    assert failing("NAME-001", resources, Policy(environment="dev", suffix="dev")) == {"T"}
    assert failing("NAME-001", resources, Policy()) == set()  # no suffix known: not applicable
