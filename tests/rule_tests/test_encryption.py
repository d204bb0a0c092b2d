"""ENC rules: customer-managed keys at rest, key rotation, EFS and EBS volumes encrypted."""

from helpers import failing, undecided

KEY = {"Fn::GetAtt": ["Key", "Arn"]}


def test_enc_001_bucket():
    def enc(algorithm, key=None):
        default = {"SSEAlgorithm": algorithm, **({"KMSMasterKeyID": key} if key else {})}
        return {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": default}]
            }
        }

    resources = {
        "Cmk": {"Type": "AWS::S3::Bucket", "Properties": enc("aws:kms", KEY)},
        "S3Managed": {"Type": "AWS::S3::Bucket", "Properties": enc("AES256")},
        "AwsKey": {"Type": "AWS::S3::Bucket", "Properties": enc("aws:kms", "alias/aws/s3")},
        "KmsNoKey": {"Type": "AWS::S3::Bucket", "Properties": enc("aws:kms")},
        "None": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Unknown": {"Type": "AWS::S3::Bucket", "Properties": enc({"Ref": "Algo"})},
    }
    assert failing("ENC-001", resources) == {"S3Managed", "AwsKey", "KmsNoKey", "None"}
    assert undecided("ENC-001", resources, Parameters={"Algo": {"Type": "String"}}) == {"Unknown"}


def test_enc_002_table():
    resources = {
        "Cmk": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY}
            },
        },
        "AwsManaged": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"SSESpecification": {"SSEEnabled": True}},
        },
        "Owned": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "GlobalCmk": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
                "Replicas": [{"Region": "us-east-1", "SSESpecification": {"KMSMasterKeyId": KEY}}],
            },
        },
        "GlobalNoKey": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
                "Replicas": [{"Region": "us-east-1"}],
            },
        },
    }
    assert failing("ENC-002", resources) == {"AwsManaged", "Owned", "GlobalNoKey"}


def test_enc_003_to_005_and_007_key_properties():
    cases = {
        "ENC-003": ("AWS::SQS::Queue", "KmsMasterKeyId", "alias/aws/sqs"),
        "ENC-004": ("AWS::SNS::Topic", "KmsMasterKeyId", "alias/aws/sns"),
        "ENC-005": ("AWS::Logs::LogGroup", "KmsKeyId", None),
        "ENC-007": ("AWS::SecretsManager::Secret", "KmsKeyId", "alias/aws/secretsmanager"),
    }
    for rule_id, (rtype, prop, aws_alias) in cases.items():
        resources = {
            "Cmk": {"Type": rtype, "Properties": {prop: KEY}},
            "Missing": {"Type": rtype, "Properties": {}},
        }
        expected = {"Missing"}
        if aws_alias:
            resources["AwsAlias"] = {"Type": rtype, "Properties": {prop: aws_alias}}
            expected.add("AwsAlias")
        assert failing(rule_id, resources) == expected, rule_id


def test_enc_006_database():
    resources = {
        "Good": {
            "Type": "AWS::RDS::DBCluster",
            "Properties": {"StorageEncrypted": True, "KmsKeyId": KEY},
        },
        "Unencrypted": {"Type": "AWS::RDS::DBCluster", "Properties": {}},
        "AwsKey": {"Type": "AWS::RDS::DBInstance", "Properties": {"StorageEncrypted": True}},
        "ClusterMember": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBClusterIdentifier": {"Ref": "Good"}},
        },
    }
    assert failing("ENC-006", resources) == {"Unencrypted", "AwsKey"}


def test_enc_008_rotation():
    resources = {
        "Rotating": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
        "Static": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Asymmetric": {"Type": "AWS::KMS::Key", "Properties": {"KeySpec": "RSA_2048"}},
        "Conditional": {
            "Type": "AWS::KMS::Key",
            "Properties": {"EnableKeyRotation": {"Fn::If": ["C", True, False]}},
        },
    }
    assert failing("ENC-008", resources) == {"Static"}
    assert undecided(
        "ENC-008",
        resources,
        Conditions={"C": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}},
    ) == {"Conditional"}


def test_enc_010_file_system():
    def fs(**props):
        return {"Type": "AWS::EFS::FileSystem", "Properties": props}

    resources = {
        "Encrypted": fs(Encrypted=True, KmsKeyId=KEY),
        "EncryptedText": fs(Encrypted="true"),
        "Off": fs(Encrypted=False),
        "Absent": fs(),
        "Param": fs(Encrypted={"Ref": "Enc"}),
    }
    params = {"Enc": {"Type": "String"}}
    assert failing("ENC-010", resources, Parameters=params) == {"Off", "Absent"}
    assert undecided("ENC-010", resources, Parameters=params) == {"Param"}


def test_enc_011_ebs_volumes():
    def ebs(encrypted=None, device="/dev/xvda"):
        volume = {"VolumeSize": 8, **({"Encrypted": encrypted} if encrypted is not None else {})}
        return {"DeviceName": device, "Ebs": volume}

    def instance(*mappings, **props):
        if mappings:
            props["BlockDeviceMappings"] = list(mappings)
        return {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", **props}}

    def launch_template(*mappings, name=None):
        data = {"BlockDeviceMappings": list(mappings)} if mappings else {}
        props = {"LaunchTemplateData": data, **({"LaunchTemplateName": name} if name else {})}
        return {"Type": "AWS::EC2::LaunchTemplate", "Properties": props}

    resources = {
        "RootEncrypted": instance(ebs(True), {"DeviceName": "/dev/sdb", "VirtualName": "eph0"}),
        "RootPlain": instance(ebs(False)),
        "RootUnset": instance(ebs()),
        "DataPlain": instance(ebs(True), ebs(False, "/dev/sdf")),
        "NoMappings": instance(),
        "ViaTemplate": instance(LaunchTemplate={"LaunchTemplateId": {"Ref": "EncryptedLt"}}),
        "ViaTemplateName": instance(LaunchTemplate={"LaunchTemplateName": "named-lt"}),
        "ViaBareTemplate": instance(LaunchTemplate={"LaunchTemplateId": {"Ref": "BareLt"}}),
        "ViaForeignTemplate": instance(LaunchTemplate={"LaunchTemplateId": "lt-0123"}),
        "EncryptedLt": launch_template(ebs(True)),
        "NamedLt": launch_template(ebs(True), name="named-lt"),
        "PlainLt": launch_template(ebs(False)),
        "BareLt": launch_template(),  # declares no volume: its instances are judged
        "PlainLaunchConfig": {
            "Type": "AWS::AutoScaling::LaunchConfiguration",
            "Properties": {"ImageId": "ami-1", "BlockDeviceMappings": [ebs()]},
        },
        "Volume": {"Type": "AWS::EC2::Volume", "Properties": {"Size": 8, "Encrypted": True}},
        "PlainVolume": {"Type": "AWS::EC2::Volume", "Properties": {"Size": 8}},
        "ParamVolume": instance(ebs({"Ref": "Enc"})),
    }
    params = {"Enc": {"Type": "String"}}
    assert failing("ENC-011", resources, Parameters=params) == {
        "RootPlain",
        "RootUnset",
        "DataPlain",
        "NoMappings",
        "ViaBareTemplate",
        "PlainLt",
        "PlainLaunchConfig",
        "PlainVolume",
    }
    assert undecided("ENC-011", resources, Parameters=params) == {
        "ViaForeignTemplate",
        "ParamVolume",
    }
