"""PCI-RT-001: supported Lambda runtimes."""

import dataclasses

from helpers import failing, undecided

from governance.policy import Policy, Thresholds


def fn(runtime=None, **props):
    if runtime is not None:
        props["Runtime"] = runtime
    return {"Type": "AWS::Lambda::Function", "Properties": props}


def test_rt_001_deprecated_runtime():
    resources = {
        "Current": fn("python3.13"),
        "Node": fn("nodejs22.x"),
        "Python38": fn("python3.8"),
        "Node18": fn("nodejs18.x"),
        "Image": fn(PackageType="Image", Code={"ImageUri": "repo:tag"}),
        "Param": fn({"Ref": "Runtime"}),
        "ParamDefault": fn({"Ref": "OldRuntime"}),
    }
    params = {
        "Runtime": {"Type": "String"},
        "OldRuntime": {"Type": "String", "Default": "python3.7"},
    }
    assert failing("PCI-RT-001", resources, Parameters=params) == {
        "Python38",
        "Node18",
        "ParamDefault",
    }
    assert undecided("PCI-RT-001", resources, Parameters=params) == {"Param"}


def test_rt_001_list_comes_from_the_policy():
    resources = {"Current": fn("python3.13"), "Node18": fn("nodejs18.x")}
    policy = Policy(
        thresholds=dataclasses.replace(Thresholds(), deprecated_runtimes=("python3.13",))
    )
    assert failing("PCI-RT-001", resources, policy) == {"Current"}
