"""A seeded generator of hostile CloudFormation templates for the fuzz tests.

Starting from small valid templates (one resource of every type a rule judges), a mutation puts
a hostile value at a random place of the structure - every level, keys included - or damages the
text itself (truncation, stray bytes, YAML tags that do not fit, aliases, deep nesting). The same
seed gives the same templates, so a failure names its seed and can be replayed.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import yaml

from governance.registry import all_rules

HOSTILE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    10**400,
    1e308,
    float("inf"),
    float("-inf"),
    "",
    " ",
    "x",
    "0.0.0.0/0",
    "::/0",
    "alias/aws/s3",
    "=1+1",
    "a\r=1+1",
    "<script>alert(1)</script>",
    "\x00\x01",
    "é😀",
    [],
    [None],
    [1, "a", {}],
    {},
    {"a": None},
    {"Ref": 5},
    {"Ref": []},
    {"Ref": "AWS::Region"},
    {"Ref": "Missing"},
    {"Fn::Sub": []},
    {"Fn::Sub": [1, 2, 3]},
    {"Fn::Sub": "${Missing}-${AWS::Region}"},
    {"Fn::Join": 5},
    {"Fn::Join": ["", 5]},
    {"Fn::If": [1]},
    {"Fn::If": ["Cond", 1, 2]},
    {"Fn::Select": ["x", []]},
    {"Fn::Select": [99, [1]]},
    {"Fn::GetAtt": 5},
    {"Fn::GetAtt": []},
    {"Fn::ImportValue": {"Fn::Sub": []}},
    {"Fn::FindInMap": [1]},
    {"Condition": {}},
]

TEXT_DAMAGE = [
    "!!int lots",
    "!!float x",
    "!!bool maybe",
    "!Sub []",
    "!GetAtt",
    "!Ref [a, b]",
    "*undefined_alias",
    "&a [*a]",
    ".inf",
    "-.inf",
    ".nan",
    "9" * 450,
    "[" * 120 + "]" * 120,
    "{a: 1, a: 2}",
    '"\\ud800"',
]


def rule_types() -> list[str]:
    return sorted({t for r in all_rules() for t in r.resource_types if t != "*"})


def base_template(rng: random.Random, types: list[str]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for i, rtype in enumerate(rng.sample(types, k=min(len(types), rng.randint(1, 6)))):
        resources[f"R{i}"] = {
            "Type": rtype,
            "Properties": {
                "Name": f"n-{i}",
                "Tags": [{"Key": "Environment", "Value": "dev"}],
                "Nested": {"List": [{"Key": "k", "Value": {"Ref": "Param"}}]},
            },
            "Metadata": {"aws:cdk:path": f"Fuzz/R{i}/Resource"},
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Param": {"Type": "String", "Default": "p"}},
        "Conditions": {"Cond": {"Fn::Equals": [{"Ref": "Param"}, "p"]}},
        "Resources": resources,
        "Outputs": {"Out": {"Value": {"Ref": "R0"}}},
    }


def _places(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_places(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_places(v, (*path, i)))
    return out


def _set(root: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node = root
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return root


def mutate(body: dict[str, Any], rng: random.Random, types: list[str]) -> Any:
    """``body`` with one to four hostile changes, at any level."""
    body = copy.deepcopy(body)
    for _ in range(rng.randint(1, 4)):
        places = _places(body)
        path = rng.choice(places)
        roll = rng.random()
        if roll < 0.6:
            body = _set(body, path, copy.deepcopy(rng.choice(HOSTILE_VALUES)))
        elif roll < 0.75 and path:
            parent = body
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, list) and parent:
                parent.pop()
        elif roll < 0.9:
            # a property every rule might read, set on a resource to a hostile value
            resources = body.get("Resources") if isinstance(body, dict) else None
            if isinstance(resources, dict) and resources:
                res = rng.choice(list(resources.values()))
                if isinstance(res, dict):
                    res["Type"] = rng.choice(types)
                    props = res.setdefault("Properties", {})
                    if isinstance(props, dict):
                        key = rng.choice(PROPERTY_NAMES)
                        props[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
        else:
            deep: Any = rng.choice(HOSTILE_VALUES)
            for _ in range(rng.randint(5, 60)):
                deep = {"k": deep} if rng.random() < 0.5 else [deep]
            body = _set(body, path, deep)
    return body


#: Property names rules read (a sample, so a mutation reaches the code that reads them).
PROPERTY_NAMES = [
    "BucketEncryption",
    "KmsMasterKeyId",
    "KmsKeyId",
    "SSESpecification",
    "Replicas",
    "GlobalSecondaryIndexes",
    "ProvisionedThroughput",
    "BillingMode",
    "MemorySize",
    "Timeout",
    "RetentionInDays",
    "SecurityGroupIngress",
    "CidrIp",
    "CidrIpv6",
    "CidrBlock",
    "PortRange",
    "Policies",
    "PolicyDocument",
    "AssumeRolePolicyDocument",
    "LoggingConfiguration",
    "LifecycleConfiguration",
    "VersioningConfiguration",
    "PublicAccessBlockConfiguration",
    "DistributionConfig",
    "DeletionProtection",
    "DeletionProtectionEnabled",
    "LoadBalancerAttributes",
    "BackupRetentionPeriod",
    "StorageEncrypted",
    "GenerateSecretString",
    "RotationRules",
    "Runtime",
    "TracingConfig",
    "Tags",
    "ResourceId",
    "ScalableDimension",
    "ServiceNamespace",
    "WebACLArn",
    "Listeners",
    "DefaultActions",
    "ViewerCertificate",
    "EnableKeyRotation",
    "KeySpec",
    "Name",
]


def render(body: Any, rng: random.Random) -> tuple[str, str]:
    """(suffix, text): JSON or YAML, sometimes with damaged text."""
    if rng.random() < 0.5:
        try:
            return ".json", json.dumps(body, allow_nan=True)
        except (ValueError, TypeError):
            pass
    try:
        text = yaml.safe_dump(body, sort_keys=False, allow_unicode=rng.random() < 0.5)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return ".json", "{}"
    if rng.random() < 0.35:
        lines = text.splitlines()
        candidates = [i for i, line in enumerate(lines) if line.rstrip().endswith(":") is False]
        if candidates:
            i = rng.choice(candidates)
            key, sep, _ = lines[i].partition(": ")
            if sep:
                lines[i] = f"{key}: {rng.choice(TEXT_DAMAGE)}"
        text = "\n".join(lines) + "\n"
    if rng.random() < 0.1:
        text = text[: rng.randint(0, len(text))]
    if rng.random() < 0.05:
        text = text.replace("Resources", "Resources", 1) + rng.choice(["\x00", "\ufeff", "\t"])
    return ".yaml", text
