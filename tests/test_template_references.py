"""The reference index finds every Ref, GetAtt and ${...} of a resource, where it is, in order.

``governance.template._references`` walks every property of every resource, so it is written for
speed; these tests hold it to the plain definition below on generated property trees.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.intrinsics import ref_target
from governance.template import Template, _references

SUB = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")


def spec(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """The definition: depth first, in document order; a reference is not looked into."""
    if isinstance(value, dict):
        target = ref_target(value)
        if target is not None:
            yield target, path
            return
        if len(value) == 1 and "Fn::Sub" in value:
            arg = value["Fn::Sub"]
            text = (
                arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg else "")
            )
            if isinstance(text, str):
                for name in SUB.findall(text):
                    yield name, path
            if isinstance(arg, list) and len(arg) == 2:
                yield from spec(arg[1], path)
            return
        for key, sub in value.items():
            yield from spec(sub, f"{path}/{key}")
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from spec(sub, f"{path}/{i}")


IDS = st.sampled_from(["A", "B", "Bucket1", "AWS::Region"])
LEAVES = st.one_of(
    st.sampled_from(["x", "${A}", "arn:${B.Arn}/${AWS::Region}", 1, None, True]),
    st.builds(lambda i: {"Ref": i}, IDS),
    st.builds(lambda i: {"Fn::GetAtt": [i, "Arn"]}, IDS),
    st.builds(lambda i: {"Fn::GetAtt": f"{i}.Arn"}, IDS),
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["Ref", "Name", "Fn::Sub", "Fn::Join", "K"]), inner),
        st.builds(lambda t, v: {"Fn::Sub": [t, v]}, st.sampled_from(["${A}-${B}", "x"]), inner),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_references_are_the_definitions(tree: Any) -> None:
    assert _references(tree, "Properties") == list(spec(tree, "Properties"))


def test_referrers_and_their_paths() -> None:
    body = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Policy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": {
                        "Statement": [{"Resource": {"Fn::Sub": "${Bucket.Arn}/*"}}],
                    },
                },
            },
        }
    }
    template = Template(name="T", path="T.json", body=body)
    assert [r.logical_id for r in template.referrers("Bucket")] == ["Policy"]
    paths = template.referrers_at("Bucket", "AWS::S3::BucketPolicy", "Properties/PolicyDocument")
    assert [r.logical_id for r in paths] == ["Policy"]
    assert template.referrers_at("Bucket", "AWS::S3::BucketPolicy", "Properties/Other") == []


TYPES = ["AWS::S3::Bucket", "AWS::Logs::LogGroup", "Custom::Thing"]
NAMES = ["A", "B", "Bucket1", "C", "D", "E"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TYPES), TREES), min_size=1, max_size=6))
def test_a_question_about_one_type_answers_as_the_whole_index(resources: list) -> None:
    """Rules ask about one type (built on first use) or about all: the answers agree."""
    body = {
        "Resources": {
            name: {"Type": rtype, "Properties": {"P": tree}}
            for name, (rtype, tree) in zip(NAMES, resources, strict=False)
        }
    }
    typed = Template(name="T", path="T.json", body=body)
    whole = Template(name="T", path="T.json", body=body)
    for target in ["A", "B", "Bucket1", "AWS::Region"]:
        every = whole.referrers(target)
        for rtype in TYPES:
            assert typed.referrers(target, rtype) == [r for r in every if r.type == rtype]
            assert typed.referrers_at(target, rtype, "Properties/P") == typed.referrers(
                target, rtype
            )
