"""PCI-IMDS-001: instances and launch templates require IMDSv2."""

from helpers import failing, undecided


def instance(**props):
    return {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", **props}}


def launch_template(options=None, name=None):
    data = {"MetadataOptions": options} if options is not None else {}
    props = {"LaunchTemplateData": data, **({"LaunchTemplateName": name} if name else {})}
    return {"Type": "AWS::EC2::LaunchTemplate", "Properties": props}


REQUIRED = {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}


def test_imds_001_imdsv2_required():
    resources = {
        "Required": instance(MetadataOptions=REQUIRED),
        "EndpointOff": instance(MetadataOptions={"HttpEndpoint": "disabled"}),
        "Optional": instance(MetadataOptions={"HttpTokens": "optional"}),
        "Unset": instance(),
        # CDK's require_imdsv2=True: a launch template named by the instance
        "ViaTemplate": instance(
            LaunchTemplate={"LaunchTemplateName": "BastionLaunchTemplate", "Version": "1"}
        ),
        "BastionLt": launch_template(REQUIRED, name="BastionLaunchTemplate"),
        "ViaOptionalTemplate": instance(LaunchTemplate={"LaunchTemplateId": {"Ref": "LooseLt"}}),
        "LooseLt": launch_template({"HttpTokens": "optional"}),
        "ViaBareTemplate": instance(LaunchTemplate={"LaunchTemplateId": {"Ref": "BareLt"}}),
        "BareLt": launch_template(),
        "ViaForeignTemplate": instance(LaunchTemplate={"LaunchTemplateId": "lt-0123"}),
        "LaunchConfig": {
            "Type": "AWS::AutoScaling::LaunchConfiguration",
            "Properties": {"ImageId": "ami-1", "MetadataOptions": {"HttpTokens": "optional"}},
        },
        "Param": instance(MetadataOptions={"HttpTokens": {"Ref": "Tokens"}}),
    }
    params = {"Tokens": {"Type": "String"}}
    assert failing("PCI-IMDS-001", resources, Parameters=params) == {
        "Optional",
        "Unset",
        "LooseLt",  # judged on the template itself; the instance naming it is not reported twice
        "ViaBareTemplate",
        "BareLt",
        "LaunchConfig",
    }
    assert undecided("PCI-IMDS-001", resources, Parameters=params) == {
        "ViaForeignTemplate",
        "Param",
    }
