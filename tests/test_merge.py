"""The shared deep merge of configuration overlays."""

from __future__ import annotations

from governance.merge import deep_merged


def test_objects_merge_key_by_key_and_scalars_replace() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    overlay = {"a": {"y": [3], "z": {"k": True}}, "b": {"now": "object"}}
    merged = deep_merged(base, overlay)
    assert merged == {"a": {"x": 1, "y": [3], "z": {"k": True}}, "b": {"now": "object"}}


def test_inputs_are_not_changed_and_result_shares_nothing() -> None:
    base = {"a": {"x": [1]}}
    overlay = {"b": {"y": [2]}}
    merged = deep_merged(base, overlay)
    merged["a"]["x"].append(9)
    merged["b"]["y"].append(9)
    assert base == {"a": {"x": [1]}} and overlay == {"b": {"y": [2]}}
