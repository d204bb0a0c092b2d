"""DEPLOY-SINGLE-001: account-level singletons only in the environment's own deployment."""

from deploy_support import run, stack

from governance.policy import Policy

RESOURCES = {
    "Detector": {"Type": "AWS::GuardDuty::Detector", "Properties": {"Enable": True}},
    "Services": {
        "Type": "AWS::CE::AnomalyMonitor",
        "Properties": {"MonitorType": "DIMENSIONAL", "MonitorDimension": "SERVICE"},
    },
    "Custom": {"Type": "AWS::CE::AnomalyMonitor", "Properties": {"MonitorType": "CUSTOM"}},
    "ApiAccount": {"Type": "AWS::ApiGateway::Account", "Properties": {}},
    "Hub": {"Type": "AWS::SecurityHub::Hub", "Properties": {}},
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
}


def test_single_001_parallel_copy_brings_no_singleton():
    copy = Policy(environment="dev", suffix="pr42")
    assert run("DEPLOY-SINGLE-001", [stack("S", RESOURCES)], copy) == (
        {"Detector", "Services", "ApiAccount", "Hub"},
        set(),
    )


def test_single_001_default_suffix_and_unknown_environment_are_fine():
    for policy in (Policy(environment="dev", suffix="dev"), Policy(suffix="pr42"), Policy()):
        assert run("DEPLOY-SINGLE-001", [stack("S", RESOURCES)], policy) == (set(), set())


def test_parallel_copy_is_known_by_the_policy():
    assert Policy(environment="staging", suffix="pr7").parallel_copy
    assert not Policy.from_context({}, environment="staging").parallel_copy
    assert Policy.from_context({}, environment="staging", suffix="pr7").parallel_copy
