"""DEPLOY-LOG-001..003: log destinations the delivering service can write to."""

from deploy_support import export, key, run, stack


def bucket(sse=None, key_ref=None, ownership=None, **props):
    if sse:
        default = {"SSEAlgorithm": sse, **({"KMSMasterKeyID": key_ref} if key_ref else {})}
        props["BucketEncryption"] = {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": default}]
        }
    if ownership:
        props["OwnershipControls"] = {"Rules": [{"ObjectOwnership": ownership}]}
    return {"Type": "AWS::S3::Bucket", "Properties": props}


def logging_policy(bucket_id, service="logging.s3.amazonaws.com"):
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "s3:PutObject",
                        "Resource": "*",
                    }
                ]
            },
        },
    }


def logs_to(dest, **extra):
    return bucket(LoggingConfiguration={"DestinationBucketName": dest, **extra})


def test_log_001_server_access_log_destination():
    resources = {
        "SseS3": bucket("AES256"),
        "SseS3Policy": logging_policy("SseS3"),
        "Kms": bucket("aws:kms"),
        "KmsPolicy": logging_policy("Kms"),
        "NoPolicy": bucket("AES256"),
        "AclWrite": bucket(ownership="BucketOwnerPreferred", AccessControl="LogDeliveryWrite"),
        "ToSseS3": logs_to({"Ref": "SseS3"}),
        "ToKms": logs_to({"Ref": "Kms"}),
        "ToNoPolicy": logs_to({"Ref": "NoPolicy"}),
        "ToAcl": logs_to({"Ref": "AclWrite"}),
        "GrantsEnforced": logs_to({"Ref": "SseS3"}, TargetGrants=[{"Permission": "READ"}]),
        "ByName": logs_to("named-logs"),
        "Named": bucket("aws:kms:dsse", BucketName="named-logs"),
        "NamedPolicy": logging_policy("Named"),
        "Unknown": logs_to("someone-elses-bucket"),
    }
    failing, undecided = run("DEPLOY-LOG-001", [stack("S", resources)])
    assert failing == {"ToKms", "ToNoPolicy", "GrantsEnforced", "ByName"}
    assert undecided == {"Unknown"}


def test_log_001_destination_in_another_stack():
    logs = stack(
        "Logs", {"L": bucket("aws:kms"), "P": logging_policy("L")}, **export("L", "logs", None)
    )
    data = stack("Data", {"D": logs_to({"Fn::ImportValue": "logs"})})
    assert run("DEPLOY-LOG-001", [logs, data]) == ({"D"}, set())


def alb(dest, kind=None):
    attrs = [
        {"Key": "access_logs.s3.enabled", "Value": "true"},
        {"Key": "access_logs.s3.bucket", "Value": dest},
    ]
    props = {"LoadBalancerAttributes": attrs, **({"Type": kind} if kind else {})}
    return {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": props}


def test_log_002_load_balancer_log_destination():
    resources = {
        "K": key(("delivery.logs.amazonaws.com", ["kms:GenerateDataKey*", "kms:Decrypt"])),
        "S3": bucket("AES256"),
        "Kms": bucket("aws:kms", {"Ref": "K"}),
        "ManagedKms": bucket("aws:kms"),
        "AlbS3": alb({"Ref": "S3"}),
        "AlbKms": alb({"Ref": "Kms"}),
        "NlbKms": alb({"Ref": "Kms"}, "network"),
        "NlbManaged": alb({"Ref": "ManagedKms"}, "network"),
        "Classic": {
            "Type": "AWS::ElasticLoadBalancing::LoadBalancer",
            "Properties": {
                "AccessLoggingPolicy": {"Enabled": True, "S3BucketName": {"Ref": "Kms"}}
            },
        },
        "NoLogs": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
    }
    failing, undecided = run("DEPLOY-LOG-002", [stack("S", resources)])
    assert failing == {"AlbKms", "NlbManaged", "Classic"}
    assert undecided == set()


def distribution(bucket_id):
    logging = {"Bucket": {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}, "Prefix": "cf/"}
    return {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {"DistributionConfig": {"Logging": logging}},
    }


def test_log_003_cloudfront_log_destination():
    resources = {
        "K": key(("delivery.logs.amazonaws.com", ["kms:GenerateDataKey*"])),
        "Other": key(("cloudfront.amazonaws.com", ["kms:*"])),
        "Good": bucket("aws:kms", {"Ref": "K"}, "BucketOwnerPreferred"),
        "Enforced": bucket("AES256", ownership="BucketOwnerEnforced"),
        "Default": bucket("AES256"),
        "WrongKey": bucket("aws:kms", {"Ref": "Other"}, "ObjectWriter"),
        "ManagedKey": bucket("aws:kms", None, "BucketOwnerPreferred"),
        "ToGood": distribution("Good"),
        "ToEnforced": distribution("Enforced"),
        "ToDefault": distribution("Default"),
        "ToWrongKey": distribution("WrongKey"),
        "ToManagedKey": distribution("ManagedKey"),
        "NoLogging": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {"DistributionConfig": {}},
        },
    }
    failing, undecided = run("DEPLOY-LOG-003", [stack("S", resources)])
    assert failing == {"ToEnforced", "ToDefault", "ToWrongKey", "ToManagedKey"}
    assert undecided == set()
